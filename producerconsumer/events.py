"""Typed events, and the events of a consumer, each declared once.

``consumer.updated += handler`` connects, ``-=`` disconnects. Handlers run on the thread that
emits (the consumer's loop thread); an exception in one handler is logged and never reaches the
loop or the other handlers. An :class:`Event` is typed by its handlers' parameters
(``Event[[FrameUpdate]]``), so a handler of the wrong shape is a type error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, ParamSpec

if TYPE_CHECKING:
    from .connection import ProducerStatus
    from .store import FrameUpdate
    from .wire.messages import FrameKey
    from .wire.rpc import RpcMessage, TradeMessage

__all__ = ["ConsumerEvents", "Event"]

log = logging.getLogger(__name__)

P = ParamSpec("P")


class Event(Generic[P]):
    """Named list of handlers, each called with the event's payload."""

    __slots__ = ("_handlers", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Callable[P, Any]] = []

    def connect(self, handler: Callable[P, Any]) -> None:
        if handler not in self._handlers:
            self._handlers.append(handler)

    def disconnect(self, handler: Callable[P, Any]) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    def __iadd__(self, handler: Callable[P, Any]) -> Event[P]:
        self.connect(handler)
        return self

    def __isub__(self, handler: Callable[P, Any]) -> Event[P]:
        self.disconnect(handler)
        return self

    def __len__(self) -> int:
        return len(self._handlers)

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for handler in list(self._handlers):
            try:
                handler(*args, **kwargs)
            except Exception:
                log.exception("handler %r of event %r failed", handler, self.name)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, handlers={len(self._handlers)})"


class ConsumerEvents:
    """The events of a consumer, emitted by its producer connections on the loop thread.

    The annotations below are the one declaration of each event and its payload; the
    constructor makes them, or shares ``share``'s (a blocking facade's events are those of the
    consumer it wraps).
    """

    #: An ``analyzed_df`` message was applied, or skipped: see ``update.action``.
    updated: Event[[FrameUpdate]]
    #: ``(producer, pairs)``: a producer's whitelist changed.
    whitelist_changed: Event[[str, list[str]]]
    #: ``(producer, key)``: a producer announced a new candle for ``key``.
    new_candle: Event[[str, FrameKey]]
    #: A producer connection changed state (connecting, connected, disconnected, ...).
    status_changed: Event[[ProducerStatus]]
    #: ``(producer, message)``: any other producer message (trade events, exceptions, ...), as
    #: the typed value of :mod:`~producerconsumer.wire.rpc`.
    message_received: Event[[str, RpcMessage]]
    #: ``(producer, message)``: every producer message but ``analyzed_df`` (which goes to
    #: ``updated``), typed (:data:`~producerconsumer.wire.rpc.RpcMessage`); a type this package
    #: does not know arrives as a :class:`~producerconsumer.wire.rpc.RawRpcMessage`.
    producer_message: Event[[str, RpcMessage]]
    #: ``(producer, event)``: a trade message (``entry``, ``entry_fill``, ``exit_fill``, ...),
    #: emitted after ``producer_trades()`` took it in.
    trade_event: Event[[str, TradeMessage]]
    #: ``(producer, reason)``: a malformed message was counted and ignored.
    bad_message: Event[[str, str]]
    #: ``(producer, key, lag)``: a frame arrived ``lag`` seconds after its newest candle closed,
    #: more than the producer's ``max_lag``; once per key until it arrives in time again.
    lagging: Event[[str, FrameKey, float]]
    #: ``(producer, text, arrival time)``: every raw message; emitted only while something is
    #: connected to it (a recorder), as the connection skips the work otherwise.
    raw_received: Event[[str, str, float]]

    def __init__(self, share: ConsumerEvents | None = None) -> None:
        for name in ConsumerEvents.__annotations__:
            setattr(self, name, Event(name) if share is None else getattr(share, name))
