"""A minimal event: a list of handlers called with the event's payload.

``consumer.updated += handler`` connects, ``-=`` disconnects. Handlers run on the thread that
emits (the consumer's loop thread); an exception in one handler is logged and never reaches the
loop or the other handlers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["Event"]

log = logging.getLogger(__name__)


class Event:
    """Named list of handlers."""

    __slots__ = ("_handlers", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Callable[..., Any]] = []

    def connect(self, handler: Callable[..., Any]) -> None:
        if handler not in self._handlers:
            self._handlers.append(handler)

    def disconnect(self, handler: Callable[..., Any]) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    def __iadd__(self, handler: Callable[..., Any]) -> Event:
        self.connect(handler)
        return self

    def __isub__(self, handler: Callable[..., Any]) -> Event:
        self.disconnect(handler)
        return self

    def __len__(self) -> int:
        return len(self._handlers)

    def emit(self, *args: Any) -> None:
        for handler in list(self._handlers):
            try:
                handler(*args)
            except Exception:
                log.exception("handler %r of event %r failed", handler, self.name)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, handlers={len(self._handlers)})"
