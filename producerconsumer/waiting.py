"""The one deadline loop behind every wait of the package.

A wait is "until ``predicate()`` is true, for at most ``timeout`` seconds, blocking on something
that is signalled when the predicate may have changed". The blocking differs (a thread
condition, an asyncio event), the deadline arithmetic does not, so it lives here once::

    with condition:
        for remaining in until(predicate, timeout):
            condition.wait(remaining)

    for remaining in until(predicate, timeout):      # in a coroutine
        await wait_event(event, remaining)

``until`` checks the predicate first, then yields how long to block for (``None``: no limit),
and raises :class:`TimeoutError` (or ``on_timeout()``) once the deadline has passed with the
predicate still false. ``poll`` caps each block, for predicates that may turn true without a
signal (a user's condition on outside state).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator

__all__ = ["timed_out", "until", "wait_event"]


def timed_out(timeout: float | None) -> TimeoutError:
    """The default error of a wait that ran out of time."""
    return TimeoutError(f"condition not met within {timeout} s")


def until(
    predicate: Callable[[], bool],
    timeout: float | None,
    on_timeout: Callable[[], Exception] | None = None,
    poll: float | None = None,
) -> Iterator[float | None]:
    """Yield the time to block for until ``predicate()`` is true; raise when time is up.

    ``timeout=None`` waits without limit. The predicate is checked before every block and once
    more at the deadline, so a wait that is already satisfied never blocks.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while not predicate():
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise on_timeout() if on_timeout is not None else timed_out(timeout)
        if poll is not None:
            remaining = poll if remaining is None else min(remaining, poll)
        yield remaining


async def wait_event(event: asyncio.Event, timeout: float | None) -> None:
    """Clear ``event`` and wait for it to be set, for at most ``timeout`` seconds; never raises
    on time out (the caller's :func:`until` decides what a timeout means). Call it right after
    checking the predicate, with no ``await`` between, so no signal can be missed."""
    event.clear()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await event.wait()
