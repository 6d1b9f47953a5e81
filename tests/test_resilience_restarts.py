"""Restarts: the producer is killed and restarted at random moments, the network resets
connections mid-message, and the consumer reconnects, re-syncs and never corrupts a frame.

Everything runs on real loopback sockets: consumer -> :class:`TcpProxy` -> producer port, where
the producer port is served in turn by a real :class:`DemoProducer` (stopped and started on the
same port) and by a scripted server that writes half of a large frame and resets the connection.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from scripted import TcpProxy, free_port, half_frame_server

import producerconsumer as pc
from producerconsumer import wire
from producerconsumer.store import StoredFrame

PAIRS = ["BTC/USDT", "ETH/USDT", "XRP/USDT", "ADA/USDT"]
PRODUCER_KILLS = 20
NETWORK_RESETS = 6
SEED = 20260601


def as_consumer_sees(frame: pd.DataFrame) -> pd.DataFrame:
    return wire.decode_dataframe(wire.encode_dataframe(frame))


class Invariants:
    """Checks every stored update as it happens (the ``updated`` event, on the loop) and keeps
    every stored frame seen, to compare with the producer's history at the end."""

    def __init__(self, consumer: pc.AsyncConsumer) -> None:
        self.consumer = consumer
        self.problems: list[str] = []
        self.last_date: dict[str, pd.Timestamp] = {}
        self.seen: dict[str, list[StoredFrame]] = defaultdict(list)
        self.updates = 0

    def __call__(self, update: pc.FrameUpdate) -> None:
        if not update.stored:
            return
        self.updates += 1
        stored = self.consumer.store.entry(update.producer, update.key)
        if stored is None:
            self.problems.append(f"{update.key}: stored update but no entry")
            return
        self.check(update.key.pair, stored.frame, "update")
        self.seen[update.key.pair].append(stored)

    def check(self, pair: str, frame: pd.DataFrame, where: str) -> None:
        dates = frame["date"]
        if frame.empty or dates.isna().any():
            self.problems.append(f"{where} {pair}: empty frame or missing dates")
            return
        if not (dates.is_monotonic_increasing and dates.is_unique):
            self.problems.append(f"{where} {pair}: dates not strictly increasing")
        last = dates.iloc[-1]
        previous = self.last_date.get(pair)
        if previous is not None and last < previous:
            self.problems.append(f"{where} {pair}: went back in time from {previous} to {last}")
        self.last_date[pair] = max(last, previous) if previous is not None else last


async def wait_disconnected(consumer: pc.AsyncConsumer, sessions: int) -> None:
    """Until the session that was current when ``sessions`` were counted has ended."""
    connection = consumer.connections["default"]
    await consumer.wait_until(
        lambda: connection.status().sessions > sessions or connection.state != "connected", 15
    )


def synced(consumer: pc.AsyncConsumer, producer: pc.DemoProducer) -> bool:
    if not consumer.status()["default"].connected:
        return False
    for pair in PAIRS:
        frame, _ = consumer.get_producer_df(pair)
        if frame.empty or frame["date"].iloc[-1] != producer.last_candle:
            return False
    return True


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_producer_killed_and_restarted_at_random_moments():
    rng = random.Random(SEED)
    port = free_port()
    producer = pc.DemoProducer(pairs=PAIRS, candles=1000, ws_token="t", port=port, tick=None)
    # A large message to cut in half: a real full-history reply.
    big = wire.analyzed_df_message(
        ("BTC/USDT", "5m", "spot"), producer.frame("BTC/USDT"), producer.last_candle.to_pydatetime()
    )
    events = ["restart"] * (PRODUCER_KILLS - 6) + ["half_frame"] * 6 + ["reset"] * NETWORK_RESETS
    rng.shuffle(events)
    counts: dict[str, int] = defaultdict(int)
    stale_checks = resyncs = 0
    await producer.start_async()
    try:
        async with TcpProxy(port) as proxy:
            config = {
                "producers": [
                    {"name": "default", "host": "127.0.0.1", "port": proxy.port, "ws_token": "t"}
                ],
                "sleep_time": 0,
            }
            async with pc.AsyncConsumer(config) as consumer:
                invariants = Invariants(consumer)
                consumer.updated += invariants
                connection = consumer.connections["default"]
                await consumer.wait_ready(timeout=30)
                await consumer.wait_until(lambda: synced(consumer, producer), 30)
                moments = [rng.choice(["syncing", "idle", "broadcasting"]) for _ in events]
                for i, (event, moment) in enumerate(zip(events, moments, strict=True)):
                    sessions = connection.status().sessions
                    if moment == "broadcasting":
                        await producer.advance_async(rng.randint(1, 3))
                    if moment != "idle":
                        # A random kill moment: a time window, not synchronisation.
                        await asyncio.sleep(rng.uniform(0, 0.03))
                    if event == "reset":
                        proxy.reset()  # the network drops it, possibly mid-frame
                        await wait_disconnected(consumer, sessions)
                    else:
                        await producer.stop_async()
                        await wait_disconnected(consumer, sessions)
                        # Down: the last frames stay readable, flagged stale, unchanged.
                        status = consumer.status()["default"]
                        assert status.stale and status.frames == len(PAIRS), status
                        held = {p: consumer.get_producer_df(p)[0] for p in PAIRS}
                        for pair, frame in held.items():
                            invariants.check(pair, frame, "down")
                        if rng.random() < 0.5:
                            await producer.advance_async(rng.randint(1, 5))  # it moves on
                        if event == "half_frame":
                            aborted = asyncio.Event()
                            server = await half_frame_server(port, big, aborted)
                            try:
                                await asyncio.wait_for(aborted.wait(), 15)
                            finally:
                                server.close()
                                await server.wait_closed()
                            # Connected to it for a moment: a producer, just a bad one.
                            await consumer.wait_until(lambda: connection.state != "connected", 15)
                        for pair, frame in held.items():
                            assert_frame_equal(consumer.get_producer_df(pair)[0], frame)
                        assert consumer.status()["default"].stale
                        stale_checks += 1
                        await producer.start_async()
                    counts[event] += 1
                    if i + 1 < len(events) and moments[i + 1] == "syncing":
                        # The next kill hits the re-sync that has just started.
                        await consumer.wait_until(
                            lambda s=sessions: connection.status().sessions > s, 30
                        )
                        continue
                    # Reconnects and re-syncs (catching up on what it missed while down).
                    await consumer.wait_until(lambda: synced(consumer, producer), 30)
                    assert connection.status().sessions > sessions
                    await consumer.wait_ready(timeout=5)
                    resyncs += 1
                await consumer.wait_until(lambda: synced(consumer, producer), 30)
                final = {p: consumer.get_producer_df(p)[0] for p in PAIRS}
                status = consumer.status()["default"]
    finally:
        await producer.stop_async()

    assert invariants.problems == []
    assert status.bad_messages == 0 and status.reconnects >= len(events)
    # No stored frame, at any moment, differs from the producer's history at its dates.
    checked = 0
    for pair in PAIRS:
        truth = as_consumer_sees(producer.frame(pair)).set_index("date")
        for frame in [*(stored.frame for stored in invariants.seen[pair]), final[pair]]:
            observed = frame.set_index("date")
            assert_frame_equal(
                observed, truth.loc[observed.index], check_dtype=False, check_exact=True
            )
            checked += 1
    print(
        f"\nrestarts: {counts['restart']} producer restarts, {counts['half_frame']} kills "
        f"mid-frame, {counts['reset']} network resets survived; {resyncs} full re-syncs checked, "
        f"{len(events) - resyncs} kills during a re-sync; {stale_checks} stale checks; "
        f"{invariants.updates} updates and {checked} stored frames checked"
    )
