"""A Freqtrade-compatible message websocket server over a pluggable source of analyzed frames.

It behaves like the ``/api/v1/message/ws`` endpoint of a Freqtrade 2026.9 producer (see the
protocol reference, sections 1, 2 and 5): token in the ``token`` query parameter checked at the
handshake (HTTP 403 otherwise), ``subscribe``/``whitelist``/``analyzed_df`` requests, and
broadcasts only to clients subscribed to the message type. Where the data comes from is a
:class:`FrameSource`, so the demo producer and a replay can share this server.

Each client has one writer task draining one queue, so replies and broadcasts reach a client in
the order they were produced (Freqtrade sends them from two tasks, which can reorder them).
Broadcasting only enqueues, so a slow or dead client never holds up the others; like Freqtrade,
a client whose socket does not take a broadcast within ``send_timeout`` is disconnected. The
queue has a hard cap (``max_queue``) as a memory safety net, and replies to a client's own
requests wait while its queue is longer than ``reply_backlog``.

An ``analyzed_df`` reply is encoded once per frame and size, not once per request: the encoded
text is cached per pair for as long as the source returns the same frame object (a new candle
replaces it), so an initial sync of many consumers costs socket writes only. :meth:`warm`
fills the cache ahead of the first request.

With ``rest`` (a :class:`~.rest.RestApp`), the same port also serves Freqtrade's REST subset
(see :mod:`.front`), and a valid JWT access token of that API is accepted as a websocket token,
as Freqtrade accepts one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Protocol, cast
from urllib.parse import parse_qsl, urlsplit

import orjson
import pandas as pd
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ..endpoint import WS_PATH, websockets_logger
from ..wire.messages import (
    EPOCH,
    MAX_CANDLES,
    RPC_MESSAGE_TYPES,
    ProtocolError,
    analyzed_df_message,
    exception_message,
    new_candle_message,
    parse_request,
    whitelist_message,
)
from .front import FrontProtocol, FrontTracker
from .rest import RestApp

__all__ = ["WS_PATH", "FrameSource", "ProducerServer"]

log = logging.getLogger(__name__)


#: The logger handed to websockets for our connections: it masks tokens.
_ws_log = websockets_logger(__name__ + ".websockets")


class FrameSource(Protocol):
    """What :class:`ProducerServer` serves: a producer's whitelist and analyzed frames."""

    @property
    def timeframe(self) -> str:
        """The producer's timeframe (second element of every key)."""
        ...

    @property
    def candle_type(self) -> str:
        """The producer's ``candle_type_def`` (third element of every key)."""
        ...

    def current_whitelist(self) -> list[str]:
        """The active pair whitelist, in order."""
        ...

    def analyzed(self, pair: str) -> tuple[pd.DataFrame, datetime] | None:
        """The cached analyzed frame of ``pair`` and when it was analysed, or None if never.

        The frame is treated as read-only; the server slices it but never modifies it.
        """
        ...


@dataclass(eq=False)
class _Client:
    """One connected consumer: its subscriptions and its outgoing queue."""

    connection: ServerConnection
    queue: asyncio.Queue[tuple[str, float | None]]
    subscriptions: frozenset[str] = field(default_factory=frozenset)
    #: Set while the queue is short enough to accept more replies.
    room: asyncio.Event = field(default_factory=asyncio.Event)
    writer_done: bool = False


@dataclass(eq=False)
class _Encoded:
    """The encoded ``analyzed_df`` replies of one frame object, by number of rows."""

    frame: pd.DataFrame  # held so its id cannot be reused while cached
    last_analyzed: datetime
    replies: dict[int, str] = field(default_factory=dict)


class ProducerServer:
    """Freqtrade's producer message websocket, serving a :class:`FrameSource`.

    ``tokens`` are the accepted ``ws_token`` values (Freqtrade's ``api_server.ws_token``: one
    string or several). ``compression="deflate"`` accepts permessage-deflate when a client
    offers it, as uvicorn does; the default (None) never compresses: on loopback compressing
    megabytes of frames per connection costs far more than it saves (several times the whole
    sync, on both ends), and every consumer takes either. Start with :meth:`start` on the loop
    that should run it; every other method must then be called on that loop.
    """

    def __init__(
        self,
        source: FrameSource,
        tokens: str | Sequence[str],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        send_timeout: float = 3.0,
        max_queue: int = 100_000,
        reply_backlog: int = 100,
        close_timeout: float = 1.0,
        rest: RestApp | None = None,
        compression: str | None = None,
    ) -> None:
        candidates = [tokens] if isinstance(tokens, str) else list(tokens)
        if not all(isinstance(t, str) for t in candidates):
            raise TypeError("ws_token must be a string or a list of strings")
        # Empty tokens never authenticate (as in Freqtrade); keep the rest as bytes for
        # compare_digest, which rejects non-ASCII str.
        self._tokens = [t.encode() for t in candidates if t]
        if not self._tokens:
            raise ValueError("at least one non-empty ws_token is required")
        self.source = source
        self.host = host
        self._requested_port = port
        self.send_timeout = send_timeout
        self.max_queue = max_queue
        self.reply_backlog = reply_backlog
        self.close_timeout = close_timeout
        self.rest = rest
        self.compression = compression
        self._server: Server | None = None
        self._clients: set[_Client] = set()
        self._fronts = FrontTracker()
        self._encoded: dict[str, _Encoded] = {}

    def __repr__(self) -> str:
        state = f"port={self.port}" if self.running else "stopped"
        return f"ProducerServer({self.host!r}, {state}, clients={self.client_count})"

    # --- lifecycle

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int | None:
        """The bound port (the first socket's), or None when not running."""
        if self._server is None or not self._server.sockets:
            return None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def client_count(self) -> int:
        return len(self._clients)

    async def start(self) -> None:
        """Bind and start serving on the running loop. Idempotent."""
        if self._server is not None:
            return
        self._server = await serve(
            self._handle,
            self.host,
            self._requested_port,
            process_request=self._check_request,
            ping_interval=None,  # like Freqtrade's uvicorn; pings from clients are answered
            close_timeout=self.close_timeout,
            max_size=16 * 2**20,  # uvicorn's default limit for incoming frames
            logger=_ws_log,
            compression=self.compression,
            # Not a ServerConnection subclass but a factory of a wrapper around one (see
            # .front): REST requests are answered before websockets sees the connection.
            create_connection=cast(Any, self._front),
        )

    def _front(self, protocol: Any, server: Server, **kwargs: Any) -> FrontProtocol:
        connection = ServerConnection(protocol, server, **kwargs)
        return FrontProtocol(connection, self.rest, self._fronts)

    async def stop(self) -> None:
        """Stop accepting, close every client connection, and wait. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        # Close every connection with 1001 (going away), as websockets does, but bounded: a
        # close frame cannot reach a peer that stopped reading, so such sockets are aborted.
        await asyncio.gather(*(self._close(c.connection, 1001) for c in list(self._clients)))
        self._fronts.close_all()
        server.close()
        await server.wait_closed()

    # --- broadcasting

    def broadcast(self, message_type: str, text: str) -> None:
        """Queue ``text`` for every client subscribed to ``message_type``. Never blocks."""
        for client in list(self._clients):
            if message_type not in client.subscriptions:
                continue
            try:
                client.queue.put_nowait((text, self.send_timeout))
            except asyncio.QueueFull:
                log.warning("consumer %s is too far behind, disconnecting", _peer(client))
                self._drop(client)

    def broadcast_whitelist(self, pairs: Sequence[str]) -> None:
        """Broadcast a ``whitelist`` message."""
        self.broadcast("whitelist", whitelist_message(pairs))

    def broadcast_candle(self, pair: str, frame: pd.DataFrame | None = None) -> None:
        """Broadcast a new candle of ``pair`` as Freqtrade does: ``analyzed_df`` with the last row
        of the analyzed frame (``la`` = now), then ``new_candle`` with the key."""
        if frame is None:
            cached = self.source.analyzed(pair)
            if cached is None:
                return
            frame = cached[0]
        key = self._key(pair)
        now = datetime.now(UTC)
        self.broadcast("analyzed_df", analyzed_df_message(key, frame.tail(1), now))
        self.broadcast("new_candle", new_candle_message(key))

    # --- connection handling

    def _key(self, pair: Any) -> list[Any]:
        return [pair, self.source.timeframe, self.source.candle_type]

    def _authorized(self, token: str | None) -> bool:
        if not token:
            return False
        given = token.encode()
        # Compare against every token (no early exit) so timing does not tell which matched.
        matches = [secrets.compare_digest(given, allowed) for allowed in self._tokens]
        if any(matches):
            return True
        # Freqtrade also accepts a JWT access token of its REST API (FreqUI connects so).
        return self.rest is not None and self.rest.jwt.verify(token, "access") is not None

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Handshake gate: 404 for other paths, 403 for a bad token (before the upgrade)."""
        url = urlsplit(request.path)
        if url.path != WS_PATH:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        # Starlette reads query strings with parse_qsl ("+" is a space) and the last value wins.
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if not self._authorized(params.get("token")):
            return connection.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        client = _Client(connection, asyncio.Queue(self.max_queue))
        client.room.set()
        self._clients.add(client)
        writer = asyncio.create_task(self._write(client))
        try:
            async for text in connection:
                if not isinstance(text, str) or not await self._process(client, text):
                    # Freqtrade's reader only takes text; anything it cannot process ends the
                    # connection, closed normally (1000).
                    await connection.close(1000)
                    break
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _write(self, client: _Client) -> None:
        """Send the client's queued messages in order; drop the client if a send stalls."""
        try:
            while True:
                text, timeout = await client.queue.get()
                if client.queue.qsize() < self.reply_backlog:
                    client.room.set()
                try:
                    # asyncio.timeout, not wait_for: 3.11's wait_for can swallow cancellation.
                    async with asyncio.timeout(timeout):
                        await client.connection.send(text)
                except TimeoutError:
                    log.warning("consumer %s timed out, disconnecting", _peer(client))
                    self._drop(client)
                    return
                except ConnectionClosed:
                    return
        finally:
            client.writer_done = True
            client.room.set()  # never leave the reader waiting for a writer that is gone

    def _drop(self, client: _Client) -> None:
        """Disconnect a client without waiting (its handler cleans up)."""
        self._clients.discard(client)
        task = asyncio.ensure_future(self._close(client.connection, 1000))
        task.add_done_callback(_ignore_result)

    async def _close(self, connection: ServerConnection, code: int) -> None:
        """Close with ``code``; abort the TCP connection if that takes over ``close_timeout``.

        websockets' own close can wait forever to write the close frame when the peer does not
        read, so it is bounded here.
        """
        try:
            async with asyncio.timeout(self.close_timeout):
                await connection.close(code)
        except (TimeoutError, ConnectionClosed):
            pass
        finally:
            if connection.transport is not None and not connection.transport.is_closing():
                connection.transport.abort()

    async def _reply(self, client: _Client, text: str) -> None:
        # Replies wait while the queue is long (back-pressure on this client's own requests
        # only) and have no send timeout, as in Freqtrade.
        while client.queue.qsize() >= self.reply_backlog and not client.writer_done:
            client.room.clear()
            await client.room.wait()
        await client.queue.put((text, None))

    async def _process(self, client: _Client, text: str) -> bool:
        """Handle one request; False means: close the connection."""
        try:
            request = parse_request(text)
        except ProtocolError as exc:
            if not _is_json_object(text):
                return False
            # A JSON object with a missing or unknown type: Freqtrade 2026.6+ answers this.
            await self._reply(client, exception_message(str(exc)))
            return True
        try:
            if request.type == "subscribe":
                self._subscribe(client, request.data)
            elif request.type == "whitelist":
                await self._reply(client, whitelist_message(self.source.current_whitelist()))
            else:
                for message in self._analyzed_replies(request.data):
                    await self._reply(client, message)
        except (AttributeError, TypeError, ValueError, KeyError, OverflowError):
            # Freqtrade's reader task dies on these (e.g. string data for analyzed_df, a
            # non-numeric limit), which closes the connection.
            log.debug("closing consumer %s after an unprocessable request", _peer(client))
            return False
        return True

    @staticmethod
    def _subscribe(client: _Client, data: Any) -> None:
        # Replace only if every topic is known; otherwise keep the old list, silently.
        if isinstance(data, list) and data and all(_known_type(t) for t in data):
            client.subscriptions = frozenset(data)

    def _analyzed_replies(self, data: Any) -> Iterable[str]:
        """The ``analyzed_df`` replies, computed exactly as Freqtrade's producer does."""
        limit = int(min(data.get("limit", MAX_CANDLES), MAX_CANDLES)) if data else None
        pair = data.get("pair") if data else None
        pairs = [pair] if pair else self.source.current_whitelist()
        return [self.analyzed_reply(name, limit) for name in pairs]

    def analyzed_reply(self, pair: Any, limit: int | None) -> str:
        """The ``analyzed_df`` reply for ``pair``'s last ``limit`` rows (all: None or 0),
        encoded once per frame object and size."""
        cached = self.source.analyzed(pair)
        if cached is None:
            self._encoded.pop(pair, None)
            return analyzed_df_message(self._key(pair), pd.DataFrame(), EPOCH)
        frame, last_analyzed = cached
        rows = min(limit, len(frame)) if limit else len(frame)
        entry = self._encoded.get(pair)
        if entry is None or entry.frame is not frame or entry.last_analyzed != last_analyzed:
            entry = self._encoded[pair] = _Encoded(frame, last_analyzed)
        text = entry.replies.get(rows)
        if text is None:
            if len(entry.replies) >= 4:  # a few sizes per frame; gap re-requests vary
                entry.replies.pop(next(iter(entry.replies)))
            part = frame.iloc[-rows:] if rows < len(frame) else frame
            text = entry.replies[rows] = analyzed_df_message(self._key(pair), part, last_analyzed)
        return text

    async def warm(self, limit: int = MAX_CANDLES) -> None:
        """Encode every whitelisted pair's reply to an initial ``analyzed_df`` request now, one
        pair at a time so the loop keeps serving meanwhile."""
        for pair in self.source.current_whitelist():
            if self._server is None:
                return
            self.analyzed_reply(pair, limit)
            await asyncio.sleep(0)


def _known_type(topic: Any) -> bool:
    return isinstance(topic, str) and topic in RPC_MESSAGE_TYPES


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(orjson.loads(text), dict)
    except orjson.JSONDecodeError:
        return False


def _peer(client: _Client) -> str:
    try:
        host, port = client.connection.remote_address[:2]
    except (TypeError, ValueError, AttributeError):
        return "?"
    return f"{host}:{port}"


def _ignore_result(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
