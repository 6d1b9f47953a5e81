"""REST and the message websocket on one port, as Freqtrade's API server has them.

Design: the websockets library's server stays in charge of the port and of every websocket
connection; only the asyncio protocol it creates per accepted connection is wrapped (through
its documented ``create_connection`` hook). The wrapper, :class:`FrontProtocol`, buffers the
first bytes until the HTTP request head is complete and looks at it once:

* a websocket upgrade (``Upgrade: websocket``) goes to websockets untouched: the wrapper hands
  the transport to the real ``ServerConnection`` (``transport.set_protocol``,
  ``connection_made``, then the buffered bytes through ``data_received``), so the handshake,
  the token check (``process_request``) and every frame after it are websockets' own code;
* anything else is plain HTTP/1.1, parsed with h11 (keep-alive, bodies, pipelining) and
  answered by :class:`~.rest.RestApp` synchronously on the loop (its answers are small, and
  the frames it serialises are already in memory).

websockets' HTTP parser only accepts bodiless GET requests, which is why a POST ``/token/login``
cannot be served through its ``process_request`` hook. A separate port (or a proxy in front)
would change the address a consumer's ``producers`` entry names; this way both live where
Freqtrade serves them. REST connections are tracked so :meth:`FrontTracker.close_all` can close
them when the server stops.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import h11

from .rest import MAX_BODY, RestApp

__all__ = ["FrontProtocol", "FrontTracker"]

log = logging.getLogger(__name__)

#: Longest accepted request head; bigger is answered 431 and closed.
MAX_HEAD: Final = 64 * 1024
#: A connection that has not sent a whole request head by then is closed.
HEAD_TIMEOUT: Final = 10.0
_SERVER: Final = b"uvicorn"


class FrontTracker:
    """The front protocols of one server not handed to websockets (to close them at stop)."""

    def __init__(self) -> None:
        self.open: set[FrontProtocol] = set()

    def close_all(self) -> None:
        for front in list(self.open):
            front.abort()


def _may_be_http(start: bytearray) -> bool:
    """Whether the first bytes can begin an HTTP request line (``METHOD SP ...``)."""
    method = bytes(start[:16]).split(b" ", 1)
    if len(method) == 1:
        return method[0].isalpha() and method[0].isupper() and len(method[0]) < 16
    return bool(method[0]) and method[0].isalpha() and method[0].isupper()


def _is_upgrade(head: bytes) -> bool:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"upgrade" and b"websocket" in value.lower():
            return True
    return False


class FrontProtocol(asyncio.Protocol):
    """One accepted connection until it is known to be REST or a websocket (module docstring)."""

    def __init__(
        self, connection: asyncio.Protocol, rest: RestApp | None, tracker: FrontTracker
    ) -> None:
        self._connection = connection
        self._rest = rest
        self._tracker = tracker
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._h11: h11.Connection | None = None
        self._request: h11.Request | None = None
        self._body = bytearray()
        self._timer: asyncio.TimerHandle | None = None
        self._handed_over = False

    # --- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._tracker.open.add(self)
        self._timer = asyncio.get_running_loop().call_later(HEAD_TIMEOUT, self.abort)

    def data_received(self, data: bytes) -> None:
        if self._h11 is not None:
            self._feed(data)
            return
        self._buffer += data
        if not _may_be_http(self._buffer):
            # Not HTTP at all (a TLS hello on a plain port, garbage): websockets answers it
            # as it always did, at once, instead of waiting for a head that never comes.
            self._cancel_timer()
            self._hand_over()
            return
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD:
                self._plain_reply(b"431 Request Header Fields Too Large")
            return
        self._cancel_timer()
        if self._rest is None or _is_upgrade(bytes(self._buffer[:end])):
            self._hand_over()
        else:
            self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
            data, self._buffer = bytes(self._buffer), bytearray()
            self._feed(data)

    def eof_received(self) -> bool | None:
        if self._h11 is not None:
            self._feed(b"")
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        self._tracker.open.discard(self)

    # --- helpers

    def abort(self) -> None:
        if self._transport is not None and not self._handed_over:
            self._transport.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _hand_over(self) -> None:
        transport = self._transport
        assert transport is not None
        self._handed_over = True
        self._tracker.open.discard(self)
        data, self._buffer = bytes(self._buffer), bytearray()
        transport.set_protocol(self._connection)
        self._connection.connection_made(transport)
        self._connection.data_received(data)

    def _plain_reply(self, status: bytes) -> None:
        assert self._transport is not None
        self._transport.write(
            b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
        self._transport.close()

    def _feed(self, data: bytes) -> None:
        connection, transport = self._h11, self._transport
        assert connection is not None and transport is not None
        connection.receive_data(data)
        while True:
            try:
                event = connection.next_event()
            except h11.RemoteProtocolError as exc:
                self._error(exc.error_status_hint)
                return
            if event is h11.NEED_DATA:
                return
            if event is h11.PAUSED:
                # The next request arrived before this one's response was sent (pipelining).
                if connection.our_state is not h11.DONE:
                    return
                self._next_cycle()
                if transport.is_closing() or connection.their_state is not h11.IDLE:
                    return
                continue
            if isinstance(event, h11.Request):
                self._request, self._body = event, bytearray()
                if _content_length(event) > MAX_BODY:
                    self._error(413)
                    return
            elif isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) > MAX_BODY:
                    self._error(413)
                    return
            elif isinstance(event, h11.EndOfMessage):
                self._respond()
                if transport.is_closing():
                    return
                self._next_cycle()
            elif isinstance(event, h11.ConnectionClosed):
                transport.close()
                return

    def _next_cycle(self) -> None:
        connection, transport = self._h11, self._transport
        assert connection is not None and transport is not None
        if connection.our_state is h11.MUST_CLOSE or connection.their_state is h11.MUST_CLOSE:
            transport.close()
            return
        if connection.our_state is h11.DONE and connection.their_state is h11.DONE:
            connection.start_next_cycle()

    def _respond(self) -> None:
        request, rest = self._request, self._rest
        assert request is not None and rest is not None
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in request.headers
        }
        method = request.method.decode("ascii", "replace")
        target = request.target.decode("latin-1")
        try:
            response = rest.handle(method, target, headers, bytes(self._body))
        except Exception:
            log.exception("REST %s %s failed", method, target.split("?")[0])
            self._send(500, b'{"detail":"Internal Server Error"}', (), method)
            return
        self._send(response.status, response.body, response.headers, method)

    def _send(
        self, status: int, body: bytes, extra: tuple[tuple[str, str], ...], method: str
    ) -> None:
        connection, transport = self._h11, self._transport
        assert connection is not None and transport is not None
        headers = [
            (b"server", _SERVER),
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            *((name.encode(), value.encode()) for name, value in extra),
        ]
        try:
            out = connection.send(h11.Response(status_code=status, headers=headers))
            if method != "HEAD":
                out = (out or b"") + (connection.send(h11.Data(data=body)) or b"")
            out = (out or b"") + (connection.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError:
            transport.close()
            return
        transport.write(out)

    def _error(self, status: int) -> None:
        connection, transport = self._h11, self._transport
        assert connection is not None and transport is not None
        if connection.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            body = b'{"detail":"Bad Request"}' if status == 400 else b""
            try:
                head = connection.send(
                    h11.Response(
                        status_code=status,
                        headers=[
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    )
                )
                transport.write((head or b"") + body)
            except h11.LocalProtocolError:
                pass
        transport.close()


def _content_length(request: h11.Request) -> int:
    for name, value in request.headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0
