"""A Freqtrade-compatible producer: the message websocket server and its serving lifecycle.

Generic over where the frames come from: the demo producer (:mod:`producerconsumer.demo`, a
synthetic market) and the replay producer (:mod:`producerconsumer.replay`, a recording) are
both a :class:`FrameSource` served by :class:`ProducerServer` through :class:`ServedProducer`.
"""

from ..endpoint import WS_PATH
from .served import ServedProducer
from .websocket import FrameSource, ProducerServer

__all__ = ["WS_PATH", "FrameSource", "ProducerServer", "ServedProducer"]
