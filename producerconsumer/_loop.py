"""The process-wide background event loop: one asyncio loop on one daemon thread.

Everything live (consumer connections, the demo producer) runs here, so it keeps working while a
notebook cell blocks, and it works the same in a plain script and in a Jupyter kernel (whose own
loop is already running and must not be blocked or nested). The thread is started lazily, is a
daemon, and is stopped at interpreter exit with a bounded wait: it can never hang a kernel's
shutdown.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["call_sync", "get_loop", "in_loop_thread", "run_sync", "submit"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_SHUTDOWN_WAIT = 2.0


def get_loop() -> asyncio.AbstractEventLoop:
    """The background loop, started on first use."""
    global _loop, _thread
    with _lock:
        if _loop is not None and _thread is not None and _thread.is_alive():
            return _loop
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            try:
                loop.run_forever()
            finally:
                try:
                    loop.run_until_complete(loop.shutdown_asyncgens())
                finally:
                    loop.close()

        thread = threading.Thread(target=run, name="producerconsumer-loop", daemon=True)
        thread.start()
        ready.wait()
        _loop, _thread = loop, thread
        return loop


def in_loop_thread() -> bool:
    """True when called from the background loop's own thread."""
    return _thread is not None and threading.current_thread() is _thread


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Schedule ``coro`` on the background loop; returns a thread-safe future."""
    return asyncio.run_coroutine_threadsafe(coro, get_loop())


def run_sync(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the background loop and block the calling thread for its result.

    On timeout the coroutine is cancelled and :class:`TimeoutError` raised. Calling this from
    the loop thread itself would deadlock, so that raises :class:`RuntimeError` instead.
    """
    if in_loop_thread():
        coro.close()
        raise RuntimeError(
            "blocking call made from the producerconsumer loop thread; await the async API instead"
        )
    future = submit(coro)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        if future.done():
            raise  # the coroutine's own TimeoutError (a wait that ran out of time)
        future.cancel()
        raise TimeoutError(f"operation did not finish within {timeout} s") from None
    except BaseException:
        future.cancel()
        raise


def call_sync(fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
    """Call the plain function ``fn(*args)`` on the background loop's thread (for code that
    must not race with the loop) and block for its result, as :func:`run_sync`."""

    async def call() -> T:
        return fn(*args)

    return run_sync(call(), timeout)


def _shutdown() -> None:
    loop, thread = _loop, _thread
    if loop is None or thread is None or not thread.is_alive():
        return

    async def cancel_all() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_SHUTDOWN_WAIT / 2)

    try:
        asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(_SHUTDOWN_WAIT)
    except Exception:
        log.debug("background loop did not cancel cleanly at exit", exc_info=True)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(_SHUTDOWN_WAIT)


atexit.register(_shutdown)
