"""producerconsumer: Freqtrade's producer/consumer mode, from Jupyter.

Live producer frames as pandas DataFrames (:class:`Consumer`, :class:`AsyncConsumer`), a
Freqtrade-compatible demo producer (:class:`DemoProducer`), and the wire codec (:mod:`.wire`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import timeframes, wire

# The subpackage ``producerconsumer.backtest`` is shadowed by its function on purpose:
# ``pc.backtest(...)`` is the API; the modules stay importable by their full names.
from .backtest import BacktestResult, backtest, repaint_report
from .config import ConsumerConfig, ProducerConfig, load_config
from .connection import ProducerStatus
from .consumer import AsyncConsumer, Consumer
from .errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConfigError,
    ProducerError,
    ReadyTimeout,
)
from .merge import merge_informative_pair
from .snapshot import Snapshot, load_snapshot
from .sources import open_source
from .store import FrameUpdate
from .strategy import IStrategy, StrategyRunner, compare_signals
from .widgets import Dashboard
from .wire import FrameKey, ProtocolError

if TYPE_CHECKING:
    from .api import ProducerAPI
    from .demo import DemoProducer
    from .hyperopt import hyperopt
    from .plotting import plot_pair
    from .replay import ReplayProducer, read_recording

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncConsumer",
    "AuthenticationError",
    "BacktestResult",
    "ConfigError",
    "Consumer",
    "ConsumerConfig",
    "Dashboard",
    "DemoProducer",
    "FrameKey",
    "FrameUpdate",
    "IStrategy",
    "ProducerAPI",
    "ProducerConfig",
    "ProducerError",
    "ProducerStatus",
    "ProtocolError",
    "ReadyTimeout",
    "ReplayProducer",
    "Snapshot",
    "StrategyRunner",
    "backtest",
    "compare_signals",
    "hyperopt",
    "load_config",
    "load_snapshot",
    "merge_informative_pair",
    "open_source",
    "plot_pair",
    "read_recording",
    "repaint_report",
    "timeframes",
    "wire",
]
__version__ = "0.1.0"


_LAZY = {
    "DemoProducer": ".demo",
    "ProducerAPI": ".api",
    "ReplayProducer": ".replay",
    "plot_pair": ".plotting",
    "read_recording": ".replay",
}


def __getattr__(name: str) -> Any:
    # Producers (websocket servers), the REST client (httpx) and plotting (matplotlib) load on
    # first use; the widgets module is imported (it registers the consumer's rich display) but
    # loads ipywidgets and matplotlib only when a widget is made.
    if name == "hyperopt":  # the package itself, callable as pc.hyperopt(...)
        import importlib

        return importlib.import_module(".hyperopt", __name__)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'producerconsumer' has no attribute {name!r}")
