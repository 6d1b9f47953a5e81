"""A scripted producer for tests: a real websocket server on loopback whose replies the test
controls, for behaviour a well-behaved producer never shows (gaps, oversized or malformed messages,
silence). It records every request the consumer sends."""

from __future__ import annotations

import asyncio
import base64
import hashlib
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


async def silent_server(accepted: asyncio.Event) -> asyncio.Server:
    """Completes the websocket handshake, then never reads or writes again (a half-open peer)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(
            hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
        )
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        await writer.drain()
        accepted.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            writer.transport.abort()

    return await asyncio.start_server(handle, "127.0.0.1", 0)
