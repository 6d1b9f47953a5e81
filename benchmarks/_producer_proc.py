"""A benchmark producer in its own process: Freqtrade's message websocket over PRE-ENCODED frames.

Started by ``benchmarks/live.py`` (``python benchmarks/_producer_proc.py --pairs 100 ...``). Every
message it can send is encoded once at start-up with :mod:`producerconsumer.wire`, so serving
costs only the socket writes; ``ProducerServer`` (the demo's) encodes each reply on request,
which would put the producer's encoding on the clock of whoever is measured.

Protocol towards consumers (Freqtrade 2026.9's ``/api/v1/message/ws``, see the protocol reference):
token in the ``token`` query parameter (HTTP 403 otherwise), ``subscribe`` replaces the
subscriptions if every topic is known, ``whitelist`` and ``analyzed_df`` requests are answered,
broadcasts go only to clients subscribed to their type. The data: ``--pairs`` pairs of the demo's
synthetic market analyzed by the docs' ``ProducerStrategy`` (15 columns), the first ``--candles``
candles served as the history, and ``--rounds`` further candles kept as one-row ``analyzed_df``
messages (as a Freqtrade producer broadcasts after each analysis) for the ``broadcast`` command.

Protocol towards ``live.py``: stdout lines ``@@ {json}`` (the ``listening`` event, then one reply
per command), commands as JSON lines on stdin; end of stdin means quit. Times are
``time.perf_counter()``, which on Linux is ``CLOCK_MONOTONIC``: one clock for every process of the
machine, so ``live.py`` compares them with its own.

* ``clock``: ``{"now": perf_counter}``.
* ``conns``: every connection so far: open time, first ``whitelist``/``analyzed_df`` request,
  when the last reply to the first all-pairs ``analyzed_df`` request was written, close time.
* ``broadcast {"round": r, "gap_ms": g}``: the one-row ``analyzed_df`` (then ``new_candle``, to
  clients subscribed to it) of round ``r`` for every pair, in whitelist order, ``g`` ms apart;
  replies the time taken just before each pair's first write, and the candle's date.
* ``send {"round": r, "pair": i}``: the same for the ``i``-th pair only.
* ``quit``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
import pandas as pd
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from producerconsumer.demo import ProducerStrategy, SyntheticMarket
from producerconsumer.server import WS_PATH
from producerconsumer.wire import messages as wire

PREFIX = "@@ "
TIMEFRAME = "5m"
CANDLE_TYPE = "spot"
MAX = wire.MAX_CANDLES


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(PREFIX + orjson.dumps(obj).decode() + "\n")
    sys.stdout.flush()


@dataclass
class Data:
    """Every message this producer sends, encoded once."""

    pairs: list[str]
    candles: int
    frames: dict[str, pd.DataFrame]  # the served history (for requests with a smaller limit)
    last_analyzed: datetime
    whitelist: str
    full: dict[str, str]  # pair -> analyzed_df reply of the whole history
    rounds: list[dict[str, str]]  # round -> pair -> one-row analyzed_df broadcast
    new_candle: dict[str, str]
    round_dates_ms: list[int]
    build_seconds: float
    encode_seconds: float

    @property
    def full_bytes(self) -> int:
        return sum(len(text) for text in self.full.values())


def build(pairs: int, candles: int, rounds: int, seed: int) -> Data:
    started = time.perf_counter()
    names = [f"P{i:03d}/USDT" for i in range(pairs)]
    market = SyntheticMarket(seed, TIMEFRAME)
    strategy = ProducerStrategy()
    step = pd.Timedelta(seconds=market.seconds)
    # The last broadcast candle is the market's last closed one: every date is in the past.
    first = market.last_closed() - step * (candles + rounds - 1)
    analyzed = {
        name: strategy.analyze(market.candles(name, first, candles + rounds)) for name in names
    }
    built = time.perf_counter()

    def analysed_at(candle_open: pd.Timestamp) -> datetime:
        # A producer analyses a candle right after it closes.
        return (candle_open + step).to_pydatetime() + timedelta(seconds=2)

    frames = {name: frame.iloc[:candles] for name, frame in analyzed.items()}
    last_analyzed = analysed_at(frames[names[0]]["date"].iloc[-1])
    full = {
        name: wire.analyzed_df_message([name, TIMEFRAME, CANDLE_TYPE], frame, last_analyzed)
        for name, frame in frames.items()
    }
    broadcasts: list[dict[str, str]] = []
    dates: list[int] = []
    for r in range(rounds):
        position = candles + r
        messages = {}
        for name, frame in analyzed.items():
            row = frame.iloc[[position]]  # index label as in the producer's growing frame
            messages[name] = wire.analyzed_df_message(
                [name, TIMEFRAME, CANDLE_TYPE], row, analysed_at(row["date"].iloc[0])
            )
        broadcasts.append(messages)
        dates.append(int(analyzed[names[0]]["date"].iloc[position].value // 1_000_000))
    new_candle = {name: wire.new_candle_message([name, TIMEFRAME, CANDLE_TYPE]) for name in names}
    return Data(
        pairs=names,
        candles=candles,
        frames=frames,
        last_analyzed=last_analyzed,
        whitelist=wire.whitelist_message(names),
        full=full,
        rounds=broadcasts,
        new_candle=new_candle,
        round_dates_ms=dates,
        build_seconds=built - started,
        encode_seconds=time.perf_counter() - built,
    )


@dataclass(eq=False)
class Client:
    number: int
    connection: ServerConnection
    opened: float
    subscriptions: frozenset[str] = frozenset()
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    whitelist_request: float | None = None
    analyzed_request: float | None = None
    analyzed_done: float | None = None
    closed: float | None = None

    def record(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "opened": self.opened,
            "subscriptions": sorted(self.subscriptions),
            "whitelist_request": self.whitelist_request,
            "analyzed_request": self.analyzed_request,
            "analyzed_done": self.analyzed_done,
            "closed": self.closed,
        }

    async def send(self, text: str) -> None:
        async with self.send_lock:
            await self.connection.send(text)


class Producer:
    def __init__(self, data: Data, token: str) -> None:
        self.data = data
        self.token = token
        self.clients: list[Client] = []  # every connection so far, in order

    def check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        if url.path != WS_PATH:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        if dict(parse_qsl(url.query, keep_blank_values=True)).get("token") != self.token:
            return connection.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
        return None

    async def handle(self, connection: ServerConnection) -> None:
        client = Client(len(self.clients), connection, time.perf_counter())
        self.clients.append(client)
        try:
            async for text in connection:
                if not await self.process(client, text):
                    await connection.close(1000)
                    break
        except ConnectionClosed:
            pass
        finally:
            client.closed = time.perf_counter()

    async def process(self, client: Client, text: str | bytes) -> bool:
        try:
            request = orjson.loads(text)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(request, dict):
            return False
        kind, data = request.get("type"), request.get("data")
        if kind == "subscribe":
            if isinstance(data, list) and data and all(t in wire.RPC_MESSAGE_TYPES for t in data):
                client.subscriptions = frozenset(data)
        elif kind == "whitelist":
            if client.whitelist_request is None:
                client.whitelist_request = time.perf_counter()
            await client.send(self.data.whitelist)
        elif kind == "analyzed_df":
            first = client.analyzed_request is None
            if first:
                client.analyzed_request = time.perf_counter()
            limit = (
                int(min(data.get("limit", wire.MAX_CANDLES), wire.MAX_CANDLES)) if data else None
            )
            pair = data.get("pair") if data else None
            for name in [pair] if pair else self.data.pairs:
                await client.send(self.reply(name, limit))
            if first:
                client.analyzed_done = time.perf_counter()
        else:
            await client.send(wire.exception_message(f"Invalid request type: {kind}"))
        return True

    def reply(self, pair: str, limit: int | None) -> str:
        key = [pair, TIMEFRAME, CANDLE_TYPE]
        frame = self.data.frames.get(pair)
        if frame is None:
            return wire.analyzed_df_message(key, pd.DataFrame(), wire.EPOCH)
        if not limit or limit >= len(frame):
            return self.data.full[pair]  # the pre-encoded reply
        # A gap re-request (not expected in the benchmarks): encoded on demand.
        return wire.analyzed_df_message(key, frame.iloc[-limit:], self.data.last_analyzed)

    async def write(self, round_number: int, pair: str) -> float:
        """Write ``pair``'s row of round ``round_number`` to every subscribed client; returns
        the time taken just before the first write."""
        sent = time.perf_counter()
        for client in list(self.clients):
            if client.closed is not None:
                continue
            try:
                if "analyzed_df" in client.subscriptions:
                    await client.send(self.data.rounds[round_number][pair])
                if "new_candle" in client.subscriptions:
                    await client.send(self.data.new_candle[pair])
            except ConnectionClosed:
                pass
        return sent

    def receivers(self) -> int:
        return sum(c.closed is None and "analyzed_df" in c.subscriptions for c in self.clients)

    async def broadcast(self, round_number: int, gap_ms: float) -> dict[str, Any]:
        sent: list[float] = []
        for i, pair in enumerate(self.data.pairs):
            if i and gap_ms:
                await asyncio.sleep(gap_ms / 1000)
            sent.append(await self.write(round_number, pair))
        date_ms = self.data.round_dates_ms[round_number]
        return {"sent": sent, "date_ms": date_ms, "clients": self.receivers()}

    async def send_one(self, round_number: int, index: int) -> dict[str, Any]:
        sent = await self.write(round_number, self.data.pairs[index])
        date_ms = self.data.round_dates_ms[round_number]
        return {"sent": sent, "date_ms": date_ms, "clients": self.receivers()}


async def serve_commands(producer: Producer, deflate: bool) -> None:
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    async with serve(
        producer.handle,
        "127.0.0.1",
        0,
        process_request=producer.check_request,
        ping_interval=None,
        max_size=16 * 2**20,
        compression="deflate" if deflate else None,
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        data = producer.data
        emit(
            {
                "event": "listening",
                "port": port,
                "pid": os.getpid(),
                "pairs": data.pairs,
                "candles": data.candles,
                "rounds": len(data.rounds),
                "round_dates_ms": data.round_dates_ms,
                "full_bytes": data.full_bytes,
                "build_seconds": data.build_seconds,
                "encode_seconds": data.encode_seconds,
            }
        )
        threading.Thread(target=read_stdin, name="stdin", daemon=True).start()
        while (line := await lines.get()) is not None:
            if not line.strip():
                continue
            command = orjson.loads(line)
            name = command.get("cmd")
            try:
                if name == "clock":
                    result: dict[str, Any] = {"now": time.perf_counter()}
                elif name == "conns":
                    result = {"conns": [c.record() for c in producer.clients]}
                elif name == "broadcast":
                    result = await producer.broadcast(
                        int(command["round"]), float(command.get("gap_ms", 0))
                    )
                elif name == "send":
                    result = await producer.send_one(int(command["round"]), int(command["pair"]))
                elif name == "quit":
                    emit({"reply": name, "ok": True})
                    break
                else:
                    raise ValueError(f"unknown cmd {name!r}")
            except Exception as exc:
                emit({"reply": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
                continue
            emit({"reply": name, "ok": True, **result})


async def serve_demo(pairs: int, candles: int, token: str) -> None:
    """``--demo``: this package's own ``DemoProducer`` (whole bot, reply cache) instead of the
    pre-encoding server above; ``conns`` records when each connection's first request and first
    ``analyzed_df`` request arrived (its open time is its first request's)."""
    from producerconsumer.demo import DemoProducer

    started = time.perf_counter()
    names = [f"P{i:03d}/USDT" for i in range(pairs)]
    producer = DemoProducer(names, TIMEFRAME, candles, ws_token=token, tick=None)
    built = time.perf_counter()
    records: dict[int, dict[str, Any]] = {}
    async with producer:
        server = producer._server
        assert server is not None
        await server.warm()
        encoded = time.perf_counter()
        full_bytes = sum(len(server.analyzed_reply(name, MAX)) for name in names)
        original = server._process

        async def process(client: Any, text: str) -> bool:
            now = time.perf_counter()
            record = records.setdefault(
                id(client),
                {
                    "number": len(records),
                    "opened": now,
                    "whitelist_request": None,
                    "analyzed_request": None,
                    "analyzed_done": None,
                    "closed": None,
                },
            )
            try:
                kind = orjson.loads(text).get("type")
            except (orjson.JSONDecodeError, AttributeError):
                kind = None
            if kind == "analyzed_df" and record["analyzed_request"] is None:
                record["analyzed_request"] = now
            return await original(client, text)

        server._process = process  # type: ignore[method-assign]
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()

        def read_stdin() -> None:
            for line in sys.stdin:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, None)

        emit(
            {
                "event": "listening",
                "port": producer.port,
                "pid": os.getpid(),
                "pairs": names,
                "candles": candles,
                "rounds": 0,
                "round_dates_ms": [],
                "full_bytes": full_bytes,
                "build_seconds": built - started,
                "encode_seconds": encoded - built,
            }
        )
        threading.Thread(target=read_stdin, name="stdin", daemon=True).start()
        while (line := await lines.get()) is not None:
            if not line.strip():
                continue
            name = orjson.loads(line).get("cmd")
            if name == "clock":
                emit({"reply": name, "ok": True, "now": time.perf_counter()})
            elif name == "conns":
                emit({"reply": name, "ok": True, "conns": list(records.values())})
            elif name == "quit":
                emit({"reply": name, "ok": True})
                break
            else:
                emit({"reply": name, "ok": False, "error": f"--demo has no {name!r}"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--candles", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--token", required=True)
    parser.add_argument("--deflate", action="store_true", help="accept permessage-deflate")
    parser.add_argument("--demo", action="store_true", help="serve pc.DemoProducer instead")
    args = parser.parse_args()
    if args.demo:
        asyncio.run(serve_demo(args.pairs, args.candles, args.token))
        os._exit(0)
    data = build(args.pairs, args.candles, args.rounds, args.seed)
    asyncio.run(serve_commands(Producer(data, args.token), args.deflate))
    os._exit(0)  # the stdin thread may still be blocked in a read


if __name__ == "__main__":
    main()
