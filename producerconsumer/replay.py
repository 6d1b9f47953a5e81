"""Record producer messages, and replay them as a Freqtrade-compatible producer.

A recording (``.pcrec``) is a gzip stream of JSON lines: a header (producers by name and
address, never their tokens), then one line per message as it arrived
(``{"t": unix time, "p": producer, "m": raw text}``). Every line is flushed to disk with a
zlib sync flush, so a recording killed at any moment keeps everything written before, and
:func:`read_recording` reads such a truncated file up to its last whole line.

:class:`ReplayProducer` serves a recording with the package's producer server (:mod:`.server`):
any consumer, this package's or Freqtrade's own, connects to it as to the live producer. It
rebuilds the producer's frames with the consumer's storage rules, serves full frames on request,
and re-broadcasts the recorded broadcasts byte for byte at the recorded pace (scaled by
``speed``): frames, and the bot's own messages (trades, status, ...) that the recording consumer
subscribed to, each to the clients subscribed to its type. With ``api_password`` it also serves
the REST subset it has data for (``ping``, ``version``, ``show_config``, ``whitelist``,
``pair_candles``) on the same port.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
import time
import zlib
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import orjson
import pandas as pd

from .server import ServedProducer
from .server.rest import Credentials
from .store import FrameStore
from .wire import messages as wire

if TYPE_CHECKING:
    from .config import ProducerConfig
    from .events import Event

__all__ = ["RecordedMessage", "Recorder", "ReplayProducer", "read_recording"]

log = logging.getLogger(__name__)

FORMAT = "producerconsumer-recording"
VERSION = 1


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    """One recorded producer message. ``state`` marks messages that re-state what the consumer
    already held when the recording started (they were not received at time ``t``)."""

    t: float
    producer: str
    text: str
    state: bool = False


class Recorder:
    """Appends producer messages to a recording; made by ``consumer.record(path)``.

    Use it as a context manager, or call :meth:`close`. Thread-safe.
    """

    def __init__(self, path: str | os.PathLike[str], producers: Sequence[ProducerConfig]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._file = self.path.open("wb")
        self._zip = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
        self.messages = 0
        self.closed = False
        self._sources: list[Event[[str, str, float]]] = []
        self._line(
            {
                "format": FORMAT,
                "version": VERSION,
                "created": datetime.now(UTC).isoformat(),
                "producers": [
                    {"name": p.name, "host": p.host, "port": p.port, "secure": p.secure}
                    for p in producers
                ],
            }
        )

    def write(self, producer: str, text: str, received: float, state: bool = False) -> None:
        """Append one message (a no-op once closed)."""
        record: dict[str, Any] = {"t": received, "p": producer, "m": text}
        if state:
            record["s"] = 1
        with self._lock:
            if self.closed:
                return
            self._line(record)
            self.messages += 1

    def attach(self, source: Event[[str, str, float]]) -> None:
        """Write every message ``source`` emits (a consumer's ``raw_received``) until closed."""
        self._sources.append(source)
        source.connect(self.write)

    def _line(self, record: dict[str, Any]) -> None:
        data = orjson.dumps(record) + b"\n"
        # A sync flush per line: whatever was written can be read back after a crash.
        self._file.write(self._zip.compress(data) + self._zip.flush(zlib.Z_SYNC_FLUSH))
        self._file.flush()

    def close(self) -> None:
        """Stop recording and finish the file (a valid gzip file from then on)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self._file.write(self._zip.flush(zlib.Z_FINISH))
            self._file.close()
        for source in self._sources:
            source.disconnect(self.write)

    stop = close

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "recording"
        return f"<Recorder {str(self.path)!r} {state}, {self.messages} messages>"


def read_recording(path: str | Path) -> tuple[dict[str, Any], Iterator[RecordedMessage]]:
    """``(header, messages)`` of a recording; a truncated file reads up to its last whole line."""
    lines = _lines(Path(path))
    try:
        header = orjson.loads(next(lines))
    except (StopIteration, orjson.JSONDecodeError):
        raise ValueError(f"{path}: not a producerconsumer recording (no header)") from None
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise ValueError(f"{path}: not a {FORMAT} version {VERSION} file")

    def messages() -> Iterator[RecordedMessage]:
        for number, line in enumerate(lines, start=2):
            try:
                record = orjson.loads(line)
                yield RecordedMessage(record["t"], record["p"], record["m"], bool(record.get("s")))
            except (orjson.JSONDecodeError, KeyError, TypeError):
                log.warning("%s: line %d is not a recorded message; skipped", path, number)

    return header, messages()


def _lines(path: Path) -> Iterator[bytes]:
    unzip = zlib.decompressobj(31)
    pending = b""
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            try:
                pending += unzip.decompress(chunk)
            except zlib.error as exc:
                log.warning(
                    "%s: damaged after this point (%s); reading what came before", path, exc
                )
                break
            *whole, pending = pending.split(b"\n")
            yield from whole
    # A last line without its newline was cut off mid-write: it is dropped.


class ReplayProducer(ServedProducer):
    """Serve a recording as a Freqtrade-compatible producer.

    ``speed`` scales the recorded pace (2.0 = twice as fast); ``None`` replays as fast as
    possible. ``loop=True`` starts over at the end. ``producer`` picks one producer of a
    recording that holds several (default: the first). The replay starts from the state a
    consumer had once it was synced (whitelist and a frame for every pair); the messages after
    that are broadcast on the recorded timeline once serving starts. ``api_password`` (with
    ``api_username``, ``jwt_secret``) serves the REST subset it has data for on the same port.
    """

    def __init__(
        self,
        path: str | Path,
        speed: float | None = 1.0,
        *,
        loop: bool = False,
        producer: str | None = None,
        ws_token: str | Sequence[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        api_username: str = "freqtrader",
        api_password: str | None = None,
        jwt_secret: str | None = None,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError(f"speed must be > 0 or None (as fast as possible), got {speed}")
        super().__init__(ws_token, host, port)
        if api_password is not None:
            self._credentials = Credentials(
                api_username, api_password, jwt_secret or secrets.token_hex(32)
            )
        self.path = Path(path)
        self.speed = speed
        self.loop = loop
        header, messages = read_recording(self.path)
        names = [p["name"] for p in header["producers"]]
        self.producer = producer or (names[0] if names else "default")
        self._records = [m for m in messages if m.producer == self.producer]
        if not self._records:
            raise ValueError(
                f"{self.path}: no messages of producer {self.producer!r} (has {names})"
            )
        self._timeframe, self._candle_type = self._first_key()
        self._state = FrameStore()
        self._start = self._sync(self._state)
        self.position = self._start  # index of the next record to play
        self._finished = threading.Event()

    # --- FrameSource

    @property
    def timeframe(self) -> str:
        return self._timeframe

    @property
    def candle_type(self) -> str:
        return self._candle_type

    def current_whitelist(self) -> list[str]:
        return self._state.pairs(self.producer)

    def analyzed(self, pair: str) -> tuple[pd.DataFrame, datetime] | None:
        key = wire.FrameKey(pair, self._timeframe, self._candle_type)
        stored = self._state.entry(self.producer, key)
        return None if stored is None else (stored.frame, stored.last_analyzed)

    # --- public

    @property
    def remaining(self) -> int:
        """Recorded messages not played yet."""
        return len(self._records) - self.position

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Block until the whole recording was played (never with ``loop=True``)."""
        return self._finished.wait(timeout)

    def __repr__(self) -> str:
        where = f"{self.host}:{self.port}" if self.running else f"{self.host} (stopped)"
        return (
            f"ReplayProducer({where}, {str(self.path)!r}, producer={self.producer!r}, "
            f"speed={self.speed}, played={self.position}/{len(self._records)})"
        )

    # --- replay

    def _first_key(self) -> tuple[str, str]:
        for record in self._records:
            if '"analyzed_df"' in record.text or '"new_candle"' in record.text:
                message = _parse(record)
                if isinstance(message, wire.AnalyzedFrame | wire.NewCandle):
                    return message.key.timeframe, message.key.candle_type
        raise ValueError(f"{self.path}: no analyzed_df message of producer {self.producer!r}")

    def _sync(self, state: FrameStore) -> int:
        """Apply records until a consumer would have been ready; index of the first not applied."""
        answered: set[str] = set()
        for index, record in enumerate(self._records):
            message = _parse(record)
            if isinstance(message, wire.Whitelist):
                state.set_pairs(self.producer, list(message.pairs))
            elif isinstance(message, wire.AnalyzedFrame):
                state.apply(self.producer, message)
                answered.add(message.key.pair)
            pairs = state.pairs(self.producer)
            if state.has_whitelist(self.producer) and all(p in answered for p in pairs):
                return index + 1
        return len(self._records)

    def _background(self) -> Coroutine[Any, Any, None] | None:
        return self._play()

    async def _play(self) -> None:
        while True:
            await self._play_once()
            if not self.loop:
                self._finished.set()
                return
            self._state = FrameStore()
            self.position = self._start = self._sync(self._state)
            server = self._server
            if server is not None:
                # Back to the start: full frames make every consumer replace what it holds.
                server.broadcast_whitelist(self.current_whitelist())
                for pair in self.current_whitelist():
                    server.broadcast_candle(pair, self._state.get(self.producer, pair)[0])

    async def _play_once(self) -> None:
        origin = self._records[self._start - 1].t if self._start else self._records[0].t
        started = time.monotonic()
        while self.position < len(self._records):
            record = self._records[self.position]
            if self.speed is not None:
                due = started + (record.t - origin) / self.speed
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                await asyncio.sleep(0)  # let clients be served between messages
            self.position += 1
            self._play_record(record)

    def _play_record(self, record: RecordedMessage) -> None:
        message = _parse(record)
        if isinstance(message, wire.Whitelist):
            self._state.set_pairs(self.producer, list(message.pairs))
            kind = "whitelist"
        elif isinstance(message, wire.AnalyzedFrame):
            self._state.apply(self.producer, message)
            kind = "analyzed_df"
        elif isinstance(message, wire.NewCandle):
            kind = "new_candle"
        elif isinstance(message, wire.OtherMessage):
            kind = message.type  # the bot's own messages: trades, status, protections, ...
        elif isinstance(message, wire.ProducerException) and '"status"' in record.text:
            kind = "exception"  # the bot's exception notice (a reply to a request has "data")
        else:
            return  # replies to requests are not broadcasts
        server = self._server
        if server is not None:
            # The recorded text, byte for byte, to the clients subscribed to its type.
            server.broadcast(kind, record.text)


def _parse(record: RecordedMessage) -> wire.Message | None:
    try:
        return wire.parse_message(record.text, received=datetime.fromtimestamp(record.t, UTC))
    except wire.ProtocolError:
        return None  # a bad message was recorded as received; a replay skips it
