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
from .store import FrameUpdate
from .wire import FrameKey, ProtocolError

if TYPE_CHECKING:
    from .demo import DemoProducer

__all__ = [
    "AsyncConsumer",
    "AuthenticationError",
    "ConfigError",
    "Consumer",
    "ConsumerConfig",
    "DemoProducer",
    "FrameKey",
    "FrameUpdate",
    "ProducerConfig",
    "ProducerError",
    "ProducerStatus",
    "ProtocolError",
    "ReadyTimeout",
    "load_config",
    "timeframes",
    "wire",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The demo producer (a websocket server and a synthetic market) loads on first use.
    if name == "DemoProducer":
        from .demo import DemoProducer

        return DemoProducer
    raise AttributeError(f"module 'producerconsumer' has no attribute {name!r}")
