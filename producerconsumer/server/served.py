"""The serving lifecycle shared by every producer this package runs (demo and replay).

A subclass is a :class:`~.websocket.FrameSource` (whitelist, analyzed frames); this base serves it
with :class:`~.websocket.ProducerServer` on the package's background loop (``with``) or on the
running loop (``async with``), and runs the subclass's optional background coroutine (new
candles, a replay timeline) beside the server.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import pandas as pd

from .. import _loop
from ..endpoint import build_url
from .rest import Credentials, RestApp
from .websocket import ProducerServer

__all__ = ["ServedProducer"]

T = TypeVar("T")

CALL_TIMEOUT = 60.0
_WILDCARD_HOSTS = {"", "0.0.0.0", "::"}


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class ServedProducer:
    """Base of the demo and replay producers: tokens, address, start/stop, thread hand-off."""

    def __init__(self, ws_token: str | Sequence[str] | None, host: str, port: int) -> None:
        tokens = [secrets.token_urlsafe(24)] if ws_token is None else ws_token
        tokens = [tokens] if isinstance(tokens, str) else list(tokens)
        if not tokens or not all(isinstance(t, str) and t for t in tokens):
            raise ValueError("ws_token must be a non-empty string or a list of them")
        self._tokens: list[str] = tokens
        self.host = host
        self._requested_port = port
        self._server: ProducerServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._background_task: asyncio.Task[None] | None = None
        self._warm_task: asyncio.Task[None] | None = None
        #: The REST API's credentials (None: no REST API on this producer's port).
        self._credentials: Credentials | None = None
        self.strategy_name = "ProducerStrategy"

    # --- FrameSource, provided by subclasses

    @property
    def timeframe(self) -> str:
        raise NotImplementedError

    @property
    def candle_type(self) -> str:
        raise NotImplementedError

    def current_whitelist(self) -> list[str]:
        raise NotImplementedError

    def analyzed(self, pair: str) -> tuple[pd.DataFrame, datetime] | None:
        raise NotImplementedError

    def _background(self) -> Coroutine[Any, Any, None] | None:
        """A coroutine to run beside the server while it serves (None: nothing)."""
        return None

    def _started(self, server: ProducerServer) -> None:
        """Called on the server's loop once it listens (before the background coroutine)."""

    # --- public

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    @property
    def port(self) -> int | None:
        """The bound port (``port=0`` picks a free one), or None when not running."""
        return self._server.port if self._server is not None else None

    @property
    def url(self) -> str:
        """The websocket URL a consumer connects to. It contains the (first) token."""
        return build_url(self._connect_host(), self._bound_port(), False, self._tokens[0])

    @property
    def api_url(self) -> str:
        """The REST API's base URL (``http://host:port``; the same port as the websocket)."""
        host = self._connect_host()
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self._bound_port()}"

    def producer_config(self, name: str = "default") -> dict[str, Any]:
        """An entry for a consumer's ``external_message_consumer.producers`` list; with the
        REST API's ``api_username`` / ``api_password`` (extension keys) when it serves one,
        so ``ProducerAPI(producer.producer_config())`` logs in."""
        entry: dict[str, Any] = {
            "name": name,
            "host": self._connect_host(),
            "port": self._bound_port(),
            "secure": False,
            "ws_token": self._tokens[0],
        }
        if self._credentials is not None:
            entry["api_username"] = self._credentials.username
            entry["api_password"] = self._credentials.password
        return entry

    def start(self) -> None:
        """Serve on the package's background loop (returns once listening). Idempotent."""
        if self._loop is not None:
            return
        _loop.run_sync(self._start_here(), CALL_TIMEOUT)

    def stop(self) -> None:
        """Stop serving and close every client connection. Idempotent."""
        loop = self._loop
        if loop is None:
            return
        if _running_loop() is loop:
            raise RuntimeError("this producer runs on the current event loop: await stop_async()")
        asyncio.run_coroutine_threadsafe(self._stop_here(), loop).result(CALL_TIMEOUT)

    async def start_async(self) -> None:
        """Serve on the running event loop (returns once listening). Idempotent."""
        if self._loop is None:
            await self._start_here()

    async def stop_async(self) -> None:
        """:meth:`stop` for coroutines."""
        loop = self._loop
        if loop is None:
            return
        if _running_loop() is loop:
            await self._stop_here()
        else:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._stop_here(), loop))

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await self.start_async()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop_async()

    # --- running on the server's loop

    async def _start_here(self) -> None:
        if self._loop is not None:
            return
        rest = (
            RestApp(self, self._credentials, self.strategy_name)
            if self._credentials is not None
            else None
        )
        server = ProducerServer(self, self._tokens, self.host, self._requested_port, rest=rest)
        await server.start()
        self._server, self._loop = server, asyncio.get_running_loop()
        # Encode the initial-sync replies now, so the first consumer does not wait for it.
        self._warm_task = asyncio.create_task(server.warm())
        self._started(server)
        background = self._background()
        if background is not None:
            self._background_task = asyncio.create_task(background)

    async def _stop_here(self) -> None:
        tasks = [t for t in (self._background_task, self._warm_task) if t is not None]
        self._background_task = self._warm_task = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        server = self._server
        if server is not None:
            await server.stop()
        self._server, self._loop = None, None

    def _dispatch(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` where the server runs: inline when not serving or already on its loop,
        else on its loop while this thread waits."""
        loop = self._loop
        if loop is None or _running_loop() is loop:
            return fn(*args)

        async def call() -> T:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(call(), loop).result(CALL_TIMEOUT)

    async def _dispatch_async(self, fn: Callable[..., T], *args: Any) -> T:
        loop = self._loop
        if loop is None or _running_loop() is loop:
            return fn(*args)

        async def call() -> T:
            return fn(*args)

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call(), loop))

    def _connect_host(self) -> str:
        return "127.0.0.1" if self.host in _WILDCARD_HOSTS else self.host

    def _bound_port(self) -> int:
        port = self.port
        if port is None:
            if not self._requested_port:
                raise RuntimeError("the producer is not running: its port is not known yet")
            return self._requested_port
        return port
