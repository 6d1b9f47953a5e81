"""What a view of live producer data reads: the :class:`LiveData` protocol, and the display hook.

The notebook widgets (:mod:`.widgets`) depend on this protocol, not on the consumer classes, so
neither imports the other: :class:`~.consumer.Consumer` and :class:`~.consumer.AsyncConsumer`
satisfy it, and ``display(consumer)`` asks :func:`display_bundle`, for which the widgets
module registers its self-updating status panel when it is imported (the package imports it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

    from .connection import ProducerStatus
    from .events import Event
    from .store import FrameUpdate

__all__ = ["DisplayHook", "LiveData", "display_bundle", "set_display_hook"]


class LiveData(Protocol):
    """Producers, their pairs and frames, their status, and the events that say what changed.

    Events fire on the consumer's loop thread.
    """

    updated: Event[[FrameUpdate]]
    whitelist_changed: Event[[str, list[str]]]
    status_changed: Event[[ProducerStatus]]

    @property
    def producers(self) -> list[str]:
        """The configured producers' names, in configuration order."""
        ...

    def get_producer_pairs(self, producer_name: str = "default") -> list[str]: ...

    def get_producer_df(
        self,
        pair: str,
        timeframe: str | None = None,
        candle_type: str | None = None,
        producer_name: str = "default",
    ) -> tuple[pd.DataFrame, datetime]: ...

    def status(self) -> dict[str, ProducerStatus]: ...


#: Makes the rich display (a Jupyter mime bundle) of live data, or None for the plain one.
DisplayHook = Callable[[LiveData], "dict[str, Any] | None"]

_display_hook: DisplayHook | None = None


def set_display_hook(hook: DisplayHook | None) -> None:
    """Register the function that makes ``display(consumer)``'s rich view (one at a time)."""
    global _display_hook
    _display_hook = hook


def display_bundle(data: LiveData) -> dict[str, Any] | None:
    """The rich display of ``data`` by the registered hook, or None if there is none or it has
    nothing to show (the caller then falls back to its HTML table)."""
    hook = _display_hook
    return hook(data) if hook is not None else None
