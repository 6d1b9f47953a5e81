"""A Freqtrade-compatible producer: the message websocket server, its REST API and its serving
lifecycle.

Generic over where the frames come from: the demo producer (:mod:`producerconsumer.demo`, a
synthetic market and a simulated bot) and the replay producer (:mod:`producerconsumer.replay`, a
recording) are both a :class:`FrameSource` served by :class:`ProducerServer` through
:class:`ServedProducer`; :mod:`.rest` serves Freqtrade's REST subset on the same port
(:mod:`.front` tells the two kinds of connection apart).
"""

from ..endpoint import WS_PATH
from .rest import Credentials, RestApp
from .served import ServedProducer
from .websocket import FrameSource, ProducerServer

__all__ = ["WS_PATH", "Credentials", "FrameSource", "ProducerServer", "RestApp", "ServedProducer"]
