"""The public entry to live producer data: :class:`AsyncConsumer` and :class:`Consumer`.

``AsyncConsumer`` runs one connection task per producer on the running asyncio loop.
``Consumer`` is the blocking facade for scripts and notebooks over an ``AsyncConsumer`` on the
process-wide background loop thread (:mod:`._loop`): each blocking method runs its async twin
there and waits for the result in the calling thread, so data stays live while cells block, and
no event loop is ever nested. Reads (:meth:`~Consumer.get_producer_df`,
:meth:`~Consumer.get_producer_pairs`) go straight to the thread-safe store.

Events (declared in :class:`~.events.ConsumerEvents`; handlers run on the loop thread; connect
with ``consumer.updated += handler``):

* ``updated(update: FrameUpdate)``: an ``analyzed_df`` message was applied (or skipped: see
  ``update.action``);
* ``whitelist_changed(producer: str, pairs: list[str])``;
* ``new_candle(producer: str, key: FrameKey)``;
* ``status_changed(status: ProducerStatus)``;
* ``message_received(producer: str, message)``: any other producer message (typed);
* ``producer_message(producer: str, message)``: every message but ``analyzed_df``, typed
  (:data:`~.wire.rpc.RpcMessage`; unknown types as :class:`~.wire.rpc.RawRpcMessage`);
* ``trade_event(producer: str, event)``: a producer trade message (subscribe with the
  producer's ``topics``), after :meth:`~.store.ProducerData.producer_trades` took it in;
* ``bad_message(producer: str, reason: str)``: a malformed message, counted and ignored;
* ``lagging(producer: str, key: FrameKey, lag: float)``: a live candle arrived more than the
  producer's ``max_lag`` seconds after its close;
* ``raw_received(producer: str, text: str, received: float)``: every raw message.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any, Self

from . import _loop
from .config import ConsumerConfig, load_config
from .connection import ProducerConnection, ProducerStatus
from .errors import AuthenticationError, ProducerError, ReadyTimeout
from .events import ConsumerEvents
from .live import display_bundle
from .snapshot import Snapshot
from .store import FrameStore, FrameUpdate, ProducerData
from .waiting import timed_out, until, wait_event
from .wire import messages as wire

if TYPE_CHECKING:
    from .replay import Recorder

__all__ = ["AsyncConsumer", "Consumer"]

log = logging.getLogger(__name__)

ConfigSource = ConsumerConfig | Mapping[str, Any] | str | os.PathLike[str]
STOP_TIMEOUT = 5.0
RECENT_UPDATES = 4096
#: Waits re-check their predicate at least this often (seconds), for predicates on state the
#: consumer does not signal (a user's own variables).
POLL = 0.25


class AsyncConsumer(ConsumerEvents, ProducerData):
    """Consume Freqtrade producers on the running asyncio loop.

    >>> async with AsyncConsumer(config) as consumer:       # doctest: +SKIP
    ...     await consumer.wait_ready()
    ...     frame, last_analyzed = consumer.get_producer_df("BTC/USDT")
    """

    def __init__(self, config: ConfigSource, ssl: ssl.SSLContext | None = None) -> None:
        # ssl: the TLS context for secure producers that have no ca_file of their own.
        super().__init__()
        self.config = load_config(config)
        self.store = FrameStore(self.config.remove_entry_exit_signals)
        self.connections: dict[str, ProducerConnection] = {
            producer.name: ProducerConnection(
                producer, self.config, self.store, self, self._wake, ssl_context=ssl
            )
            for producer in self.config.producers
        }
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._changed: asyncio.Event | None = None  # this consumer's signal to its waiters
        self._recent: deque[tuple[int, FrameUpdate]] = deque(maxlen=RECENT_UPDATES)
        self._seq = 0
        self._stopping = False
        self.updated.connect(self._remember)  # first, so waiters see what handlers see

    # --- lifecycle

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not self._stopping

    async def start(self) -> None:
        """Start one connection task per producer; returns at once."""
        if self.running:
            return
        if not self.config.enabled:
            log.warning(
                "external_message_consumer.enabled is false: a Freqtrade bot with this config "
                "would not consume; connecting anyway"
            )
        self._stopping = False
        self._changed = asyncio.Event()
        for name, connection in self.connections.items():
            self._spawn(name, connection)

    def _spawn(self, name: str, connection: ProducerConnection) -> None:
        task = asyncio.get_running_loop().create_task(connection.run(), name=f"pc-producer-{name}")
        self._tasks[name] = task

        def done(task: asyncio.Task[None]) -> None:
            self._task_done(name, connection, task)

        task.add_done_callback(done)

    def _task_done(
        self, name: str, connection: ProducerConnection, task: asyncio.Task[None]
    ) -> None:
        # The loop must never die silently: a crashed connection task is logged and restarted.
        if self._stopping or task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            self._wake()  # gave up for good (fatal failure): waiters raise it now
            return
        log.error("connection task of producer %r crashed; restarting it", name, exc_info=exc)
        connection.recent_errors.append(f"internal error: {type(exc).__name__}: {exc}")
        asyncio.get_running_loop().call_later(
            max(1.0, float(self.config.sleep_time)), self._respawn, name, connection
        )

    def _respawn(self, name: str, connection: ProducerConnection) -> None:
        if not self._stopping:
            self._spawn(name, connection)

    async def stop(self) -> None:
        """Cancel every connection and wait (at most a few seconds) for them to close."""
        self._stopping = True
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
            if pending:
                log.warning("%d producer connection(s) did not stop in time", len(pending))
        self._wake()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- waiting

    async def wait_ready(self, timeout: float | None = 30.0, progress: bool | None = False) -> None:
        """Wait until every producer sent its whitelist and a frame for each whitelisted pair.

        Raises :class:`AuthenticationError` as soon as a producer refuses the token,
        :class:`ProducerError` if a producer cannot be used at all, and :class:`ReadyTimeout`
        (naming what each producer is missing) after ``timeout`` seconds. ``progress`` shows the
        sync's progress with ``tqdm.auto`` where output is interactive (``None``: only once a
        sync has taken more than 2 s; ``False``: never).
        """
        self._require_running()
        show = _Progress(self, progress)

        def ready() -> bool:
            self._raise_fatal()
            if self.is_ready():
                return True
            show.update()
            return False

        try:
            await self._wait(ready, timeout, self._ready_timeout)
        finally:
            show.done()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float | None = 30.0) -> None:
        """Wait until ``predicate()`` is true; it is checked after every received message
        and at least every 0.25 s."""
        self._require_running()
        await self._wait(predicate, timeout, lambda: timed_out(timeout))

    async def wait_for_update(
        self,
        pair: str | None = None,
        producer_name: str | None = None,
        timeout: float | None = 30.0,
    ) -> FrameUpdate:
        """The next stored update (for ``pair`` / ``producer_name`` if given) after this call.

        An update that arrived before the call does not count; to wait for the effect of
        something you triggered yourself, :meth:`wait_until` a condition on the data instead.
        """
        start = self._seq
        found: list[FrameUpdate] = []

        def arrived() -> bool:
            found[:] = _matching(self._recent, start, pair, producer_name)[:1]
            return bool(found)

        await self.wait_until(arrived, timeout)
        return found[0]

    async def _wait(
        self,
        predicate: Callable[[], bool],
        timeout: float | None,
        on_timeout: Callable[[], Exception],
    ) -> None:
        changed = self._changed
        assert changed is not None
        for remaining in until(predicate, timeout, on_timeout, POLL):
            await wait_event(changed, remaining)

    # --- data

    @property
    def producers(self) -> list[str]:
        """The configured producers' names, in configuration order."""
        return list(self.connections)

    def status(self) -> dict[str, ProducerStatus]:
        """Per producer: state, readiness, counts, last message, errors."""
        return {name: connection.status() for name, connection in self.connections.items()}

    def is_ready(self) -> bool:
        return all(connection.ready for connection in self.connections.values())

    async def ping(self, producer_name: str = "default", timeout: float = 10.0) -> float:
        """Ping a connected producer now; the round trip in milliseconds."""
        connection = self.connections.get(producer_name)
        if connection is None:
            raise KeyError(f"no producer named {producer_name!r}; configured: {self.producers}")
        return await connection.ping(timeout) * 1000

    def _producer_connections(self) -> Mapping[str, ProducerConnection]:
        return self.connections

    def snapshot(self) -> Snapshot:
        """An immutable copy of every frame and whitelist, taken atomically (and cheaply)."""
        return Snapshot(self.store.copy())

    def record(self, path: str | os.PathLike[str]) -> Recorder:
        """Start recording every producer message to ``path`` (see :mod:`.replay`).

        The recording begins with what the consumer already holds (whitelists and frames, as
        the messages a producer would send for them), so it replays on its own. Call from the
        consumer's loop; ``Consumer.record`` does that for you.
        """
        from .replay import Recorder

        recorder = Recorder(path, self.config.producers)
        now = time.time()
        for name in self.store.producers():
            if self.store.has_whitelist(name):
                recorder.write(name, wire.whitelist_message(self.store.pairs(name)), now, True)
            for key in self.store.keys(name):
                stored = self.store.entry(name, key)
                if stored is not None:
                    text = wire.analyzed_df_message(key, stored.frame, stored.last_analyzed)
                    recorder.write(name, text, now, True)
        recorder.attach(self.raw_received)
        return recorder

    # --- internals

    def _require_running(self) -> None:
        if not self._tasks and self._changed is None:
            raise RuntimeError(
                "the consumer is not started: call start() (or use it as a context manager)"
            )

    def _raise_fatal(self) -> None:
        for connection in self.connections.values():
            failure = connection.fatal
            if failure is None:
                continue
            if failure.kind == "auth":
                raise AuthenticationError(connection.name, failure.message)
            raise ProducerError(connection.name, failure.message)

    def _ready_timeout(self) -> ReadyTimeout:
        waiting = [c for c in self.connections.values() if not c.ready]
        lines = [_describe_missing(c) for c in waiting]
        names = ", ".join(c.name for c in waiting) or "?"
        return ReadyTimeout(names, "not ready in time:\n  " + "\n  ".join(lines))

    def _remember(self, update: FrameUpdate) -> None:
        self._seq += 1
        self._recent.append((self._seq, update))

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {_summary(self)}>"


def _matching(
    recent: deque[tuple[int, FrameUpdate]], after: int, pair: str | None, producer: str | None
) -> list[FrameUpdate]:
    return [
        update
        for seq, update in list(recent)
        if seq > after
        and update.stored
        and (pair is None or update.key.pair == pair)
        and (producer is None or update.producer == producer)
    ]


def _describe_missing(connection: ProducerConnection) -> str:
    store, name = connection.store, connection.name
    error = f"; last error: {connection.failure.message}" if connection.failure else ""
    if not store.has_whitelist(name):
        return f"{name}: {connection.state}, no whitelist received yet{error}"
    pairs = store.pairs(name)
    missing = [pair for pair in pairs if pair not in connection.answered]
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return (
        f"{name}: {connection.state}, {len(pairs) - len(missing)} of {len(pairs)} pairs synced, "
        f"missing {shown}{error}"
    )


def _summary(consumer: AsyncConsumer) -> str:
    parts = []
    for connection in consumer.connections.values():
        status = connection.status()
        parts.append(
            f"{status.name}@{connection.producer.host}:{connection.producer.port} {status.state}"
            f"{' ready' if status.ready else ''} pairs={status.pairs} frames={status.frames}"
        )
    return "; ".join(parts)


class Consumer(ConsumerEvents, ProducerData):
    """Blocking consumer for scripts and notebooks; data stays live in a background thread.

    >>> with Consumer("config.json") as consumer:          # doctest: +SKIP
    ...     consumer.wait_ready(timeout=30)
    ...     frame, last_analyzed = consumer.get_producer_df("BTC/USDT")

    A thin facade over an :class:`AsyncConsumer` (:attr:`core`) run on the background loop:
    each blocking method runs its async twin there. Its events are the core's (``updated``,
    ``whitelist_changed``, ``new_candle``, ``status_changed``, ``message_received``,
    ``producer_message``, ``trade_event``, ``bad_message``, ``lagging``, ``raw_received``);
    handlers run on the background thread. ``producer_trades()`` is the producer bot's trades
    table.
    """

    def __init__(self, config: ConfigSource, ssl: ssl.SSLContext | None = None) -> None:
        # ssl: the TLS context for secure producers that have no ca_file of their own.
        core = AsyncConsumer(config, ssl=ssl)
        super().__init__(share=core)
        self.core = core
        self.config = core.config
        self.store = core.store
        self._started = False
        self._owned: list[Any] = []

    def start(self) -> Self:
        """Connect in the background; returns at once."""
        _loop.run_sync(self.core.start(), timeout=10)
        self._started = True
        return self

    def stop(self) -> None:
        """Disconnect from every producer (idempotent, bounded in time), then stop the
        producers this consumer :meth:`owns`."""
        if self._started:
            self._started = False
            _loop.run_sync(self.core.stop(), timeout=STOP_TIMEOUT + 2)
        owned, self._owned = self._owned, []
        for producer in owned:
            producer.stop()

    def owns(self, producer: Any) -> None:
        """Stop ``producer`` (anything with ``stop()``) when this consumer stops."""
        self._owned.append(producer)

    @property
    def owned(self) -> list[Any]:
        """The producers this consumer stops when it stops (e.g. the one ``open_source``
        started for ``"demo"``)."""
        return list(self._owned)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.core.running

    def wait_ready(self, timeout: float | None = 30.0, progress: bool | None = None) -> None:
        """Block until every producer sent its whitelist and a frame for each pair.

        Raises :class:`AuthenticationError` at once on a refused token, :class:`ProducerError`
        if a producer cannot be used, :class:`ReadyTimeout` after ``timeout`` seconds.
        ``progress`` shows the sync's progress (``tqdm.auto``: a bar in notebooks, a line in
        terminals, nothing where output is not interactive; default: once a sync has taken
        more than 2 s).
        """
        _loop.run_sync(self._started_core().wait_ready(timeout, progress))

    def wait_until(self, predicate: Callable[[], bool], timeout: float | None = 30.0) -> None:
        """Block until ``predicate()`` is true; it is checked after every received message
        and at least every 0.25 s, on the background thread (so keep it quick)."""
        _loop.run_sync(self._started_core().wait_until(predicate, timeout))

    def wait_for_update(
        self,
        pair: str | None = None,
        producer_name: str | None = None,
        timeout: float | None = 30.0,
    ) -> FrameUpdate:
        """Block until the next stored update (for ``pair`` / ``producer_name`` if given).

        An update that arrived before the call does not count; to wait for the effect of
        something you triggered yourself, :meth:`wait_until` a condition on the data instead.
        """
        core = self._started_core()
        return _loop.run_sync(core.wait_for_update(pair, producer_name, timeout))

    @property
    def producers(self) -> list[str]:
        """The configured producers' names, in configuration order."""
        return self.core.producers

    def status(self) -> dict[str, ProducerStatus]:
        """Per producer: state, readiness, counts, last message time, errors."""
        return self.core.status()

    def is_ready(self) -> bool:
        return self.core.is_ready()

    def ping(self, producer_name: str = "default", timeout: float = 10.0) -> float:
        """Ping a connected producer now; the round trip in milliseconds."""
        return _loop.run_sync(self._started_core().ping(producer_name, timeout))

    def _producer_connections(self) -> Mapping[str, ProducerConnection]:
        return self.core.connections

    def snapshot(self) -> Snapshot:
        """An immutable copy of every frame and whitelist, taken atomically (and cheaply)."""
        return self.core.snapshot()

    def record(self, path: str | os.PathLike[str]) -> Recorder:
        """Record every producer message to ``path`` until the returned recorder is closed::

        with consumer.record("session.pcrec"):
            ...
        replay = pc.ReplayProducer("session.pcrec")
        """
        return _loop.call_sync(self.core.record, path, timeout=60)

    @property
    def connections(self) -> dict[str, ProducerConnection]:
        return self.core.connections

    def _started_core(self) -> AsyncConsumer:
        if not self._started:
            raise RuntimeError(
                "the consumer is not started: call start() or use `with Consumer(...)`"
            )
        return self.core

    def __repr__(self) -> str:
        return f"<Consumer {_summary(self.core)}>"

    def _repr_html_(self) -> str:
        rows = []
        now = datetime.now(UTC)
        for status in self.status().values():
            last = (
                f"{(now - status.last_message).total_seconds():.0f} s ago"
                if status.last_message
                else "never"
            )
            state = status.state + (" (stale)" if status.stale else "")
            error = escape(status.last_error or "") if not status.connected else ""
            cells = (
                escape(status.name),
                escape(status.url),
                escape(state),
                "yes" if status.ready else "no",
                status.pairs,
                status.frames,
                status.messages,
                last,
                error,
            )
            rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
        head = "".join(
            f"<th>{h}</th>"
            for h in (
                "producer",
                "url",
                "state",
                "ready",
                "pairs",
                "frames",
                "messages",
                "last message",
                "error",
            )
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any] | None:
        # In a kernel with ipywidgets: a self-updating StatusPanel (the hook registered by
        # .widgets); IPython adds the _repr_html_ table to the bundle, the fallback for
        # frontends without widgets.
        return display_bundle(self)


def _interactive() -> bool:
    """True in a Jupyter kernel or with stderr on a terminal: where progress is worth showing."""
    shell = sys.modules.get("IPython")
    if shell is not None:
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None and type(ip).__name__ == "ZMQInteractiveShell":
            return True
    return sys.stderr.isatty()


class _Progress:
    """Sync progress through ``tqdm.auto``: a bar in notebooks, a line in terminals, nothing
    where output is not interactive (a log file, a pipe, CI)."""

    DELAY = 2.0

    def __init__(self, consumer: AsyncConsumer, enabled: bool | None) -> None:
        self.consumer = consumer
        self.enabled = enabled is not False and _interactive()
        # tqdm's own ``delay`` is ignored by its notebook bar: the delay is applied here.
        self.show_from = time.monotonic() + (0.0 if enabled else self.DELAY)
        self.bar: Any = None

    def update(self) -> None:
        if not self.enabled or (self.bar is None and time.monotonic() < self.show_from):
            return
        synced = total = 0
        for connection in self.consumer.connections.values():
            pairs = self.consumer.store.pairs(connection.name)
            synced += sum(pair in connection.answered for pair in pairs)
            total += len(pairs)
        if self.bar is None:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="pair", desc="syncing")
        if self.bar.total != total:
            self.bar.total = total
            self.bar.refresh()
        if synced != self.bar.n:
            self.bar.update(synced - self.bar.n)

    def done(self) -> None:
        if self.bar is not None:
            self.update()  # the final count: the sync may have ended between two checks
            self.bar.close()
