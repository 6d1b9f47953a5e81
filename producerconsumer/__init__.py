"""producerconsumer: Freqtrade's producer/consumer mode, from Jupyter.

Live producer frames as pandas DataFrames (:class:`Consumer`, :class:`AsyncConsumer`), a
Freqtrade-compatible demo producer (:class:`DemoProducer`), and the wire codec (:mod:`.wire`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import timeframes, wire
from .config import ConsumerConfig, ProducerConfig, load_config
from .connection import ProducerStatus
from .consumer import AsyncConsumer, Consumer
from .errors import AuthenticationError, ConfigError, ProducerError, ReadyTimeout
from .merge import merge_informative_pair
from .snapshot import Snapshot, load_snapshot
from .sources import open_source
from .store import FrameUpdate
from .strategy import IStrategy, StrategyRunner, compare_signals
from .wire import FrameKey, ProtocolError

if TYPE_CHECKING:
    from .demo import DemoProducer
    from .hyperopt import hyperopt
    from .plotting import plot_pair
    from .replay import ReplayProducer, read_recording
    from .widgets import Dashboard

__all__ = [
    "AsyncConsumer",
    "AuthenticationError",
    "ConfigError",
    "Consumer",
    "ConsumerConfig",
    "Dashboard",
    "DemoProducer",
    "FrameKey",
    "FrameUpdate",
    "IStrategy",
    "ProducerConfig",
    "ProducerError",
    "ProducerStatus",
    "ProtocolError",
    "ReadyTimeout",
    "ReplayProducer",
    "Snapshot",
    "StrategyRunner",
    "compare_signals",
    "hyperopt",
    "load_config",
    "load_snapshot",
    "merge_informative_pair",
    "open_source",
    "plot_pair",
    "read_recording",
    "timeframes",
    "wire",
]
__version__ = "0.1.0"


_LAZY = {
    "Dashboard": ".widgets",
    "DemoProducer": ".demo",
    "ReplayProducer": ".replay",
    "plot_pair": ".plotting",
    "read_recording": ".replay",
}


def __getattr__(name: str) -> Any:
    # Producers (websocket servers) and the matplotlib / ipywidgets parts load on first use.
    if name == "hyperopt":  # the package itself, callable as pc.hyperopt(...)
        import importlib

        return importlib.import_module(".hyperopt", __name__)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'producerconsumer' has no attribute {name!r}")
