"""One producer's websocket session: connect, request, receive, keep alive, reconnect.

Moves bytes and time only: parsing is :mod:`.wire`, storage is :mod:`.store`. Runs as one asyncio
task per producer (:meth:`ProducerConnection.run`) and never raises out of it except on
cancellation; everything that goes wrong is classified in one place (:func:`classify`) and shown
in :meth:`ProducerConnection.status`.

What it receives it reports on typed events (:class:`~.events.ConsumerEvents`, shared by every
connection of a consumer) and, after each message or state change, through one ``changed()``
callback, which the consumer uses to wake its waiters. :meth:`ProducerConnection.handle` is the
synchronous handler of one received message: tests drive it directly, without a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI

from .config import ConsumerConfig, ProducerConfig
from .endpoint import WS_PATH, build_url, redact_url, websockets_logger
from .events import ConsumerEvents
from .store import FrameStore
from .wire import messages as wire
from .wire import rpc

__all__ = ["Failure", "ProducerConnection", "ProducerStatus", "classify", "retry_delay"]

log = logging.getLogger(__name__)


#: The logger handed to websockets for our connections: it masks tokens.
_ws_log = websockets_logger(__name__ + ".websockets")

State = Literal["idle", "connecting", "connected", "disconnected", "failed", "stopped"]
MIN_RETRY_DELAY = 0.1  # floor for sleep_time=0: retry fast, but never spin
MAX_RETRY_DELAY = 120.0
REQUEST_TIMEOUT = 30.0  # a request not answered by then may be sent again
RECENT_ERRORS = 20
GOODBYE_TIMEOUT = 0.25  # for the producer's close frame when stopping


class PingTimeout(Exception):
    """No pong within ``ping_timeout`` after ``wait_timeout`` of silence."""


@dataclass(frozen=True, slots=True)
class Failure:
    """A classified connection problem: ``kind`` is stable, ``message`` is for people."""

    kind: Literal[
        "auth",
        "handshake",
        "refused",
        "dns",
        "timeout",
        "tls",
        "too_big",
        "closed",
        "silent",
        "network",
        "invalid_url",
    ]
    message: str
    fatal: bool = False  # retrying cannot help (a bad URL): the producer is given up


def classify(exc: BaseException, producer: ProducerConfig, config: ConsumerConfig) -> Failure:
    """The one place that decides what an exception means and whether to retry.

    Messages never include the URL's token (``InvalidURI`` would): they are built here.
    """
    where = f"{producer.host}:{producer.port}"
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        if status == 403:
            return Failure(
                "auth",
                "authentication failed: the producer refused the ws_token (HTTP 403). Check "
                "producers[].ws_token against the producer's api_server.ws_token.",
            )
        return Failure(
            "handshake",
            f"websocket handshake rejected with HTTP {status} by {where}; is it a Freqtrade "
            "api_server (api_server.enabled: true, a trade or dry-run bot)?",
        )
    if isinstance(exc, InvalidURI) or (isinstance(exc, ValueError) and "URI" in str(exc)):
        return Failure(
            "invalid_url",
            f"cannot build a websocket URL from host {producer.host!r} and port {producer.port}",
            fatal=True,
        )
    if isinstance(exc, ConnectionClosed):
        sent = exc.sent
        if sent is not None and sent.code == 1009:
            return Failure(
                "too_big",
                f"a message exceeded message_size_limit={config.message_size_limit} MiB and was "
                "refused (close code 1009); raise message_size_limit (at most 20) or lower "
                "initial_candle_limit",
            )
        rcvd = exc.rcvd
        if rcvd is not None:
            reason = f" ({rcvd.reason})" if rcvd.reason else ""
            return Failure(
                "closed", f"the producer closed the connection: code {rcvd.code}{reason}"
            )
        return Failure("closed", "the connection was lost without a close frame")
    if isinstance(exc, PingTimeout):
        return Failure("silent", str(exc))
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Failure(
            "tls",
            f"the TLS certificate of {where} is not trusted ({exc.verify_message or exc.reason}). "
            f"If producer {producer.name!r} sits behind a reverse proxy with a private or "
            "self-signed certificate, set producers[].ca_file to its CA certificate (PEM) or "
            "pass ssl=<ssl.SSLContext> to Consumer(...); check that host matches the certificate "
            "(and set secure: false if the producer serves plain ws://)",
        )
    if isinstance(exc, ssl.SSLError):
        tls_reason = getattr(exc, "reason", None)  # set by OpenSSL, absent on a hand-made error
        hint = (
            "; is it serving TLS? secure: true needs a TLS reverse proxy in front of the "
            "producer's api_server"
            if tls_reason == "WRONG_VERSION_NUMBER"
            else "; check producers[].secure (true only behind a TLS proxy) and ca_file (the CA "
            "of a private certificate)"
        )
        return Failure("tls", f"TLS failure with {where}: {tls_reason or exc}{hint}")
    if isinstance(exc, socket.gaierror):
        return Failure("dns", f"cannot resolve host {producer.host!r}: {exc.strerror or exc}")
    if isinstance(exc, ConnectionRefusedError):
        return Failure(
            "refused",
            f"connection refused by {where}; is the producer running, and is "
            f"api_server.listen_port right?{_loopback_hint(producer.host)}",
        )
    if isinstance(exc, TimeoutError):
        return Failure("timeout", f"no websocket handshake with {where} within the open timeout")
    if isinstance(exc, ConnectionResetError) and producer.secure:
        # Out of connect() a reset can only come from the opening handshakes; a plain HTTP
        # server resets a TLS ClientHello this way.
        return Failure(
            "network",
            f"{where} reset the connection during the handshake; secure is true: does it serve "
            "TLS (a reverse proxy in front of the producer's api_server)?",
        )
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        return Failure("network", f"network error with {where}: {reason}")
    return Failure("network", f"{type(exc).__name__}: {exc}")


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0")


def _loopback_hint(host: str) -> str:
    """The Docker case: inside a container, 127.0.0.1 is the container itself."""
    if host.lower() not in LOOPBACK_HOSTS and not host.startswith("127."):
        return ""
    return (
        f" If this consumer runs in a Docker container, {host} is that container itself, not "
        "the producer's: use the producer container's name (e.g. host: freqtrade_producer, with "
        "both on one Docker network) or host.docker.internal for a producer on the host"
    )


@dataclass(frozen=True, slots=True)
class ProducerStatus:
    """A snapshot of one producer connection, as shown by ``Consumer.status()``."""

    name: str
    url: str  # token masked
    state: State
    ready: bool
    pairs: int
    frames: int
    messages: int
    bad_messages: int
    sessions: int  # connections opened so far (each successful handshake)
    reconnects: int
    connected_since: datetime | None
    last_message: datetime | None
    latency_ms: float | None
    last_error: str | None
    error_kind: str | None
    recent_errors: tuple[str, ...]
    #: Pairs whose data lags more than the producer's ``max_lag`` (see ``freshness()``).
    lagging: tuple[str, ...] = ()

    @property
    def connected(self) -> bool:
        return self.state == "connected"

    @property
    def stale(self) -> bool:
        """Frames are held but the producer is not connected: they may be out of date."""
        return self.frames > 0 and not self.connected

    def __repr__(self) -> str:
        last = (
            f"{(datetime.now(UTC) - self.last_message).total_seconds():.1f}s ago"
            if self.last_message
            else "never"
        )
        error = (
            f", last_error={self.last_error!r}" if self.last_error and not self.connected else ""
        )
        return (
            f"<ProducerStatus {self.name!r} {self.state}{' (stale)' if self.stale else ''} "
            f"ready={self.ready} pairs={self.pairs} frames={self.frames} "
            f"messages={self.messages} bad={self.bad_messages} last_message={last}"
            f"{f', lagging={list(self.lagging)}' if self.lagging else ''}{error}>"
        )


def retry_delay(failures: int, sleep_time: float) -> float:
    """Seconds to wait before connecting again after ``failures`` failures in a row:
    exponential from ``sleep_time`` (at least :data:`MIN_RETRY_DELAY`), capped at
    :data:`MAX_RETRY_DELAY` (or ``sleep_time`` if longer), with +-20 % jitter; 0 after none."""
    if failures == 0:
        return 0.0
    base = max(float(sleep_time), MIN_RETRY_DELAY)
    cap = max(base, MAX_RETRY_DELAY)
    delay = min(cap, base * 2 ** min(failures - 1, 64))
    return delay * random.uniform(0.8, 1.2)


def _nothing() -> None:
    pass


class ProducerConnection:
    """Keeps one producer's frames live in a :class:`FrameStore`.

    Reports on ``events`` (on the loop: ``updated``, ``whitelist_changed``, ``new_candle``,
    ``message_received``, ``bad_message``, ``status_changed``, and ``raw_received`` while
    something is connected to it), then calls ``changed()``.
    """

    def __init__(
        self,
        producer: ProducerConfig,
        config: ConsumerConfig,
        store: FrameStore,
        events: ConsumerEvents | None = None,
        changed: Callable[[], None] = _nothing,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.producer = producer
        self.ssl_context = ssl_context  # for secure producers without their own ca_file
        self.config = config
        self.store = store
        self.events = events if events is not None else ConsumerEvents()
        self._changed = changed
        self.state: State = "idle"
        self.failure: Failure | None = None
        try:
            self.url = build_url(producer.host, producer.port, producer.secure, producer.ws_token)
        except ValueError as exc:
            # Retrying cannot help: the connection is failed from the start (run() returns).
            self.url = ""
            self.failure = Failure(
                "invalid_url",
                f"cannot build a websocket URL: {exc}; set producers[].host to a host name or "
                "address",
                fatal=True,
            )
            self.state = "failed"
        scheme = "wss" if producer.secure else "ws"
        where = f"{scheme}://{producer.host}:{producer.port}{WS_PATH}?token=***"
        self.safe_url = redact_url(self.url) if self.url else where
        self.messages = 0
        self.bad_messages = 0
        self.reconnects = 0
        self.connected_since: datetime | None = None
        self.last_message: datetime | None = None
        self.latency: float | None = None
        self.recent_errors: deque[str] = deque(maxlen=RECENT_ERRORS)
        self.answered: set[str] = set()  # pairs that got an analyzed_df reply (even empty)
        # Per key, for freshness(): analyzed_df messages received, gap re-requests made, and
        # the arrival lag of keys lagging more than max_lag.
        self.key_messages: dict[wire.FrameKey, int] = {}
        self.gap_requests: dict[wire.FrameKey, int] = {}
        self.lagging: dict[wire.FrameKey, float] = {}
        self._ws: ClientConnection | None = None
        self._failures = 0
        self._sessions = 0
        self._requests: asyncio.Queue[tuple[int | None, str | None]] | None = None
        self._pending: dict[str, tuple[int, float]] = {}
        self._initial_deadline = 0.0
        self._replied: set[str] = set()

    # --- public

    @property
    def name(self) -> str:
        return self.producer.name

    @property
    def fatal(self) -> Failure | None:
        """The failure that makes waiting pointless (bad token, untrusted certificate or no TLS
        where secure is set, unusable URL), if any. Connecting is still retried unless
        :attr:`Failure.fatal`."""
        if self.failure and (self.failure.fatal or self.failure.kind in ("auth", "tls")):
            return self.failure
        return None

    @property
    def ready(self) -> bool:
        """The whitelist arrived and every whitelisted pair got a frame."""
        if not self.store.has_whitelist(self.name):
            return False
        return all(pair in self.answered for pair in self.store.pairs(self.name))

    def status(self) -> ProducerStatus:
        return ProducerStatus(
            name=self.name,
            url=self.safe_url,
            state=self.state,
            ready=self.ready,
            pairs=len(self.store.pairs(self.name)),
            frames=len(self.store.keys(self.name)),
            messages=self.messages,
            bad_messages=self.bad_messages,
            sessions=self._sessions,
            reconnects=self.reconnects,
            connected_since=self.connected_since,
            last_message=self.last_message,
            latency_ms=None if self.latency is None else self.latency * 1000,
            last_error=self.failure.message if self.failure else None,
            error_kind=self.failure.kind if self.failure else None,
            recent_errors=tuple(self.recent_errors),
            lagging=self._lagging_pairs(),
        )

    def _lagging_pairs(self) -> tuple[str, ...]:
        if self.producer.max_lag is None:
            return ()
        from .diagnostics import overdue_keys

        keys = set(self.lagging) | set(overdue_keys(self.store, self.name, self.producer.max_lag))
        return tuple(sorted({key.pair for key in keys}))

    def request(self, limit: int | None, pair: str | None) -> None:
        """Queue an ``analyzed_df`` request (sent once connected; never dropped before that)."""
        if self._requests is not None:
            self._requests.put_nowait((limit, pair))

    async def run(self) -> None:
        """Connect and stay connected until cancelled (or a fatal failure)."""
        if self.failure is not None and self.failure.fatal:
            self._set_state("failed")
            return
        try:
            while True:
                delay = self._retry_delay()
                if delay:
                    await asyncio.sleep(delay)
                try:
                    await self._session()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if self.state != "disconnected":  # not yet reported by the session
                        self._failed(classify(exc, self.producer, self.config))
                    if self.failure and self.failure.fatal:
                        self._set_state("failed")
                        return
        finally:
            if self.state != "failed":
                self._set_state("stopped")

    # --- session

    async def _session(self) -> None:
        self._set_state("connecting")
        options: dict[str, Any] = {}
        if self.producer.secure:
            options["ssl"] = self._tls_context()
        async with connect(
            self.url,
            max_size=self.config.max_message_bytes,
            ping_interval=None,  # keepalive is ours: ping only after wait_timeout of silence
            open_timeout=10,
            close_timeout=2,
            logger=_ws_log,
            **options,
        ) as ws:
            self._on_connected()
            self._ws = ws
            sender = asyncio.create_task(self._send_loop(ws), name=f"pc-send-{self.name}")
            try:
                await self._receive_loop(ws)
            except asyncio.CancelledError:
                # Stopping: say goodbye with a normal close (1000), not 1011, but do not wait
                # for the producer's answer for long: mid-sync it is queued behind megabytes of
                # frames, and stop() would take the whole close_timeout.
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(GOODBYE_TIMEOUT):
                        await ws.close()
                ws.transport.abort()
                raise
            except Exception as exc:
                # Report at once: the closing handshake below may take close_timeout.
                self._failed(classify(exc, self.producer, self.config))
                if isinstance(exc, PingTimeout):
                    ws.transport.abort()  # a silent peer will not answer a close either
                raise
            finally:
                self._ws = None
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)

    def _tls_context(self) -> ssl.SSLContext:
        """Certificate verification is always on: the producer's ``ca_file`` if set, else the
        consumer's ``ssl`` context, else the system's trusted CAs."""
        if self.producer.ca_file is not None:
            return ssl.create_default_context(cafile=self.producer.ca_file)
        return self.ssl_context or ssl.create_default_context()

    def _on_connected(self) -> None:
        if self._sessions:
            self.reconnects += 1
        self._sessions += 1
        self.connected_since = datetime.now(UTC)
        self._requests = asyncio.Queue()
        self._pending.clear()
        self._replied.clear()
        # Every (re)connect re-sends the initial requests, which re-sync every pair.
        self._initial_deadline = time.monotonic() + REQUEST_TIMEOUT
        self._set_state("connected")
        log.info("connected to producer %r at %s", self.name, self.safe_url)

    async def _send_loop(self, ws: ClientConnection) -> None:
        for request in wire.initial_requests(
            self.config.initial_candle_limit, self.producer.topics
        ):
            await ws.send(request)
        assert self._requests is not None
        while True:
            limit, pair = await self._requests.get()
            await ws.send(wire.analyzed_df_request(limit, pair))
            log.info("requested %s candles of %s from %r", limit, pair or "every pair", self.name)

    async def _receive_loop(self, ws: ClientConnection) -> None:
        wait = self.config.wait_timeout or None  # 0 disables the silence ping
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that races with an arriving message, and stop() would then hang.
            try:
                async with asyncio.timeout(wait):
                    text = await ws.recv()
            except TimeoutError:
                await self._ping(ws)
                continue
            self.handle(text)

    async def ping(self, timeout: float = 10.0) -> float:
        """Ping the producer now; the round trip in seconds (also kept as the latency)."""
        ws = self._ws
        if ws is None:
            raise ConnectionError(f"producer {self.name!r} is not connected ({self.state})")
        started = time.monotonic()
        pong = await ws.ping()
        async with asyncio.timeout(timeout):
            await pong
        self.latency = time.monotonic() - started
        return self.latency

    async def _ping(self, ws: ClientConnection) -> None:
        started = time.monotonic()
        pong = await ws.ping()
        try:
            async with asyncio.timeout(self.config.ping_timeout or None):
                await pong
        except TimeoutError:
            raise PingTimeout(
                f"the producer was silent for {self.config.wait_timeout} s and did not answer a "
                f"ping within {self.config.ping_timeout} s"
            ) from None
        self.latency = time.monotonic() - started

    # --- messages

    def handle(self, text: str | bytes) -> None:
        """Handle one received message: count it, parse it, store or report it. Synchronous
        and never raises for a bad message (it is counted, logged and reported instead)."""
        self.messages += 1
        self.last_message = datetime.now(UTC)
        events = self.events
        if events.raw_received and isinstance(text, str):
            events.raw_received.emit(self.name, text, self.last_message.timestamp())
        try:
            message = rpc.parse_rpc_text(text, received=self.last_message)
            if isinstance(message, wire.AnalyzedFrame):
                self._on_frame(message)
            elif isinstance(message, wire.Whitelist):
                pairs = list(message.pairs)
                if self.store.set_pairs(self.name, pairs):
                    events.whitelist_changed.emit(self.name, pairs)
            elif isinstance(message, wire.NewCandle):
                events.new_candle.emit(self.name, message.key)
            else:
                if isinstance(message, wire.ProducerException):
                    log.warning("producer %r answered: %s", self.name, message.text)
                    self.recent_errors.append(f"producer exception: {message.text}")
                elif isinstance(message, rpc.TradeMessage):
                    self.store.apply_trade(self.name, message)
                    events.trade_event.emit(self.name, message)
                events.message_received.emit(self.name, message)
            if not isinstance(message, wire.AnalyzedFrame):
                events.producer_message.emit(self.name, message)
        except (wire.ProtocolError, ValueError, TypeError, KeyError, OverflowError) as exc:
            self.bad_messages += 1
            reason = (
                str(exc) if isinstance(exc, wire.ProtocolError) else f"{type(exc).__name__}: {exc}"
            )
            self.recent_errors.append(f"bad message: {reason}")
            log.warning("bad message from producer %r ignored: %s", self.name, reason)
            events.bad_message.emit(self.name, reason)
        self._changed()

    def _on_frame(self, message: wire.AnalyzedFrame) -> None:
        key = message.key
        pair = key.pair
        update = self.store.apply(self.name, message)
        self.answered.add(pair)
        counts = self.key_messages
        counts[key] = counts.get(key, 0) + 1
        if update.rows > 1:
            self._replied.add(pair)
            self._pending.pop(pair, None)
        if update.request_limit is not None:
            self._want(pair, update.request_limit)
        if self.producer.max_lag is not None:
            # Live candles only: a sync reply arrives when asked for, not when produced.
            if update.action == "append":
                self._check_lag(key)
            elif update.action == "replace":
                self.lagging.pop(key, None)
        if update.action == "gap":
            self.gap_requests[key] = self.gap_requests.get(key, 0) + 1
            log.warning(
                "gap in %s from %r: requesting %d candles",
                message.key,
                self.name,
                update.request_limit,
            )
        self.events.updated.emit(update)

    def _check_lag(self, key: wire.FrameKey) -> None:
        from .diagnostics import arrival_lag

        max_lag = self.producer.max_lag
        stored = self.store.entry(self.name, key)
        lag = None if stored is None else arrival_lag(stored, key.timeframe)
        if lag is None or max_lag is None or lag <= max_lag:
            self.lagging.pop(key, None)
            return
        new = key not in self.lagging
        self.lagging[key] = lag
        if new:
            log.warning(
                "%s %s %s from %r arrived %.1f s after its candle closed (max_lag %s s)",
                *key,
                self.name,
                lag,
                max_lag,
            )
            self.events.lagging.emit(self.name, key, lag)

    def _want(self, pair: str, limit: int) -> None:
        now = time.monotonic()
        if pair not in self._replied and now < self._initial_deadline:
            return  # the initial full request will answer this pair
        pending = self._pending.get(pair)
        if pending and pending[0] >= limit and now < pending[1]:
            return
        self._pending[pair] = (limit, now + REQUEST_TIMEOUT)
        self.request(limit, pair)

    # --- state

    def _failed(self, failure: Failure) -> None:
        healthy = self.state == "connected" and self.store.has_whitelist(self.name)
        self._failures = 0 if healthy and failure.kind not in ("too_big",) else self._failures + 1
        self.failure = failure
        self.recent_errors.append(failure.message)
        level = (
            logging.ERROR if failure.kind in ("auth", "invalid_url", "too_big") else logging.WARNING
        )
        log.log(level, "producer %r (%s): %s", self.name, self.safe_url, failure.message)
        self._set_state("disconnected")

    def _retry_delay(self) -> float:
        return retry_delay(self._failures, self.config.sleep_time)

    def _set_state(self, state: State) -> None:
        if state == "connected":
            self.failure = None
        else:
            self.connected_since = None
        self.state = state
        self.events.status_changed.emit(self.status())
        self._changed()
