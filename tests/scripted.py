"""A scripted producer for tests: a real websocket server on loopback whose replies the test
controls, for behaviour a well-behaved producer never shows (gaps, oversized or malformed messages,
silence). It records every request the consumer sends.

Also bad networks and bad producers of other kinds: :func:`silent_server` (half-open after the
handshake), :func:`half_frame_server` (writes half of a large frame, then resets the connection),
and :class:`TcpProxy` (a loopback TCP proxy that can drop idle connections, freeze or reset the
ones it carries, and terminate TLS like a reverse proxy in front of a Freqtrade api_server)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import socket
import ssl
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

Handler = Callable[["ScriptedProducer", ServerConnection, dict[str, Any]], Awaitable[None]]


class ScriptedProducer:
    def __init__(self, on_request: Handler | None = None, status: int | None = None) -> None:
        self.on_request = on_request
        self.status = status  # reject every handshake with this HTTP status
        self.requests: list[str] = []
        self.connections: list[ServerConnection] = []
        self.handshakes = 0
        self.handshake_times: list[float] = []  # time.monotonic() of each handshake
        self.request_event = asyncio.Event()
        self.server: Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    def config(self, **section: Any) -> dict[str, Any]:
        producer = {
            "name": "default",
            "host": "127.0.0.1",
            "port": self.port,
            "ws_token": "scripted-secret-9f3",
        }
        return {"producers": [producer], **section}

    async def __aenter__(self) -> ScriptedProducer:
        self.server = await serve(
            self._handle, "127.0.0.1", 0, process_request=self._process, max_size=None
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    def _process(self, connection: ServerConnection, request: Request) -> Response | None:
        self.handshakes += 1
        self.handshake_times.append(time.monotonic())
        if self.status is not None:
            return connection.respond(self.status, "refused\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        async for text in ws:
            self.requests.append(text)
            self.request_event.set()
            if self.on_request is not None:
                await self.on_request(self, ws, orjson.loads(text))

    async def wait_requests(self, count: int, timeout: float = 10) -> list[str]:
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                self.request_event.clear()
                await self.request_event.wait()
        return self.requests


async def _accept_websocket(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer a websocket upgrade by hand (no extensions), so the test owns every byte after."""
    head = await reader.readuntil(b"\r\n\r\n")
    key = next(
        line.split(b":", 1)[1].strip()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    writer.write(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )
    await writer.drain()


async def silent_server(accepted: asyncio.Event) -> asyncio.Server:
    """Completes the websocket handshake, then never reads or writes again (a half-open peer)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _accept_websocket(reader, writer)
        accepted.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            writer.transport.abort()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def free_port() -> int:
    """A loopback port that was free a moment ago (for a producer restarted on the same port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def half_frame_server(port: int, message: str, aborted: asyncio.Event) -> asyncio.Server:
    """On ``port``: accept the websocket handshake, wait for the first request, write the header
    and the first half of ``message`` as one text frame, then reset the TCP connection (a
    producer killed in the middle of a large message). Sets ``aborted`` after each reset."""
    payload = message.encode()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _accept_websocket(reader, writer)
            await reader.read(1)  # the consumer's first request has started to arrive
            header = b"\x81" + (
                bytes([126]) + struct.pack("!H", len(payload))
                if len(payload) < 1 << 16
                else bytes([127]) + struct.pack("!Q", len(payload))
            )
            writer.write(header + payload[: len(payload) // 2])
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()
            aborted.set()

    return await asyncio.start_server(handle, "127.0.0.1", port, reuse_address=True)


class _Pipe:
    """One proxied connection: both ends, and when a byte last went through."""

    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream = upstream
        self.last_activity = time.monotonic()
        self.frozen = False

    def abort(self) -> None:
        self.client.transport.abort()
        self.upstream.transport.abort()

    def close(self) -> None:
        self.client.close()
        self.upstream.close()


class TcpProxy:
    """A loopback TCP proxy to ``127.0.0.1:upstream_port`` (which may change between
    connections), for network behaviour a test cannot get from loopback itself:

    * ``idle_timeout``: a connection with no byte in either direction for that long is closed
      (FIN, no websocket close frame), as nginx's ``proxy_read_timeout`` or a NAT would;
    * :meth:`freeze`: the current connections go half-open (bytes are swallowed, nothing is
      closed), while new connections work;
    * :meth:`reset`: the current connections are reset, wherever their bytes are;
    * ``ssl``: terminate TLS on the listening side (a reverse proxy in front of a producer).

    Counters: ``accepted``, ``idle_closed``; ``changed`` is set on every event.
    """

    def __init__(
        self,
        upstream_port: int,
        *,
        idle_timeout: float | None = None,
        ssl: ssl.SSLContext | None = None,
    ) -> None:
        self.upstream_port = upstream_port
        self.idle_timeout = idle_timeout
        self.ssl = ssl
        self.accepted = 0
        self.idle_closed = 0
        self.changed = asyncio.Event()
        self._pipes: set[_Pipe] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    @property
    def open_connections(self) -> int:
        return len(self._pipes)

    async def __aenter__(self) -> TcpProxy:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.ssl)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        self.reset()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.wait_closed()

    def freeze(self) -> None:
        for pipe in self._pipes:
            pipe.frozen = True

    def reset(self) -> None:
        for pipe in list(self._pipes):
            pipe.abort()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    def _event(self) -> None:
        self.changed.set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.accepted += 1
        self._event()
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    "127.0.0.1", self.upstream_port
                )
            except OSError:
                writer.transport.abort()  # upstream down: the consumer sees a failed handshake
                return
            pipe = _Pipe(writer, up_writer)
            self._pipes.add(pipe)
            pumps = [
                asyncio.create_task(self._pump(pipe, reader, up_writer)),
                asyncio.create_task(self._pump(pipe, up_reader, writer)),
            ]
            if self.idle_timeout is not None:
                pumps.append(asyncio.create_task(self._watch_idle(pipe, self.idle_timeout)))
            try:
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in pumps:
                    pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
                self._pipes.discard(pipe)
                pipe.close()
        finally:
            self._tasks.discard(task)
            self._event()

    async def _pump(
        self, pipe: _Pipe, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            while data := await reader.read(1 << 16):
                if pipe.frozen:
                    continue  # half-open: swallowed, never delivered, nothing closed
                pipe.last_activity = time.monotonic()
                writer.write(data)
                await writer.drain()

    async def _watch_idle(self, pipe: _Pipe, timeout: float) -> None:
        while True:
            # A timer, not synchronisation: this is the proxy's own idle clock.
            idle = time.monotonic() - pipe.last_activity
            if idle >= timeout and not pipe.frozen:
                self.idle_closed += 1
                return
            await asyncio.sleep(max(timeout - idle, 0.01))


async def seconds_to_detect_silence(wait_timeout: int, ping_timeout: int, timeout: float) -> float:
    """Seconds from a half-open handshake until the consumer reports the producer ``silent``."""
    import producerconsumer as pc

    accepted = asyncio.Event()
    server = await silent_server(accepted)
    port = server.sockets[0].getsockname()[1]
    config = {
        "producers": [{"name": "default", "host": "127.0.0.1", "port": port, "ws_token": "t"}],
        "wait_timeout": wait_timeout,
        "ping_timeout": ping_timeout,
        "sleep_time": 60,
    }
    try:
        async with pc.AsyncConsumer(config) as consumer:
            await asyncio.wait_for(accepted.wait(), 10)
            started = time.monotonic()
            await consumer.wait_until(
                lambda: consumer.status()["default"].error_kind == "silent", timeout
            )
            return time.monotonic() - started
    finally:
        server.close()
