"""Concurrency: readers on several threads while 100 pairs update, stop() during a sync, and a
process with a running consumer exits cleanly (also after Ctrl-C in the main thread)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time

import pandas as pd
import pytest

import producerconsumer as pc

PAIRS = [f"C{i:03d}/USDT" for i in range(100)]


@pytest.mark.slow
def test_readers_never_see_a_torn_frame_while_100_pairs_update():
    problems: list[str] = []
    reads = [0]
    stop = threading.Event()
    with pc.DemoProducer(pairs=PAIRS, candles=120, ws_token="t", tick=None) as producer:
        with pc.Consumer({"producers": [producer.producer_config()]}) as consumer:
            consumer.wait_ready(timeout=60)

            def read(offset: int) -> None:
                last: dict[str, pd.Timestamp] = {}
                columns = None
                try:
                    while not stop.is_set():
                        for pair in PAIRS[offset::3]:
                            frame, _ = consumer.get_producer_df(pair)
                            dates = frame["date"]
                            if dates.isna().any() or not (
                                dates.is_monotonic_increasing and dates.is_unique
                            ):
                                problems.append(f"{pair}: bad dates")
                            if len(frame) < 120 or frame.isna().all(axis=1).any():
                                problems.append(f"{pair}: {len(frame)} rows or an empty row")
                            if columns is not None and list(frame.columns) != columns:
                                problems.append(f"{pair}: columns changed")
                            columns = list(frame.columns)
                            if pair in last and dates.iloc[-1] < last[pair]:
                                problems.append(f"{pair}: went back in time")
                            last[pair] = dates.iloc[-1]
                            reads[0] += 1
                        # Leave the GIL to the loop thread between passes: three threads that
                        # never pause starve it (and the demo producer, which shares this
                        # process) roughly 15-fold.
                        time.sleep(0.01)
                except Exception as exc:  # any exception in a reader is a failure
                    problems.append(f"{type(exc).__name__}: {exc}")

            threads = [threading.Thread(target=read, args=(i,)) for i in range(3)]
            for thread in threads:
                thread.start()
            try:
                for _ in range(3):
                    producer.advance(1)
                    consumer.wait_until(
                        lambda: all(
                            consumer.get_producer_df(p)[0]["date"].iloc[-1] == producer.last_candle
                            for p in PAIRS
                        ),
                        30,
                    )
            finally:
                stop.set()
                for thread in threads:
                    thread.join(10)
            assert consumer.status()["default"].bad_messages == 0
    print(f"\nconcurrency: {reads[0]} reads on 3 threads during 3 x 100 updates")
    assert problems == []
    assert reads[0] > 100


def test_stop_during_a_sync_is_prompt():
    with pc.DemoProducer(pairs=PAIRS, candles=1500, ws_token="t", tick=None) as producer:
        consumer = pc.Consumer({"producers": [producer.producer_config()]}).start()
        connection = consumer.connections["default"]
        consumer.wait_until(lambda: len(connection.answered) > 0, 30)
        syncing = not consumer.is_ready()
        started = time.monotonic()
        consumer.stop()
        latency = time.monotonic() - started
        status = consumer.status()["default"]
    print(f"\nstop during a sync ({len(connection.answered)}/100 pairs): {latency:.3f} s")
    assert syncing and latency < 2 and status.state == "stopped" and not consumer.running


SCRIPT = textwrap.dedent(
    """
    import sys, time
    import producerconsumer as pc
    producer = pc.DemoProducer(pairs=["BTC/USDT"], candles=200, ws_token="t", tick=0.05)
    producer.start()
    consumer = pc.Consumer({"producers": [producer.producer_config()]}).start()
    consumer.wait_ready(timeout=30)
    if sys.argv[1] == "interrupt":
        try:
            print("ready", flush=True)
            consumer.wait_until(lambda: False, timeout=None)  # blocks until Ctrl-C
        except KeyboardInterrupt:
            print("interrupted", flush=True)
    else:
        print("ready", flush=True)
    # neither the consumer nor the producer is stopped: the interpreter just exits
    """
)


def run_until_exit(mode: str) -> tuple[float, int, str]:
    child = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # blocks until the child is synced
        assert line == "ready\n", line + child.stderr.read() if child.stderr else ""
        started = time.monotonic()
        if mode == "interrupt":
            child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
        return time.monotonic() - started, child.returncode, out + err
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_process_with_a_running_consumer_exits_cleanly():
    exit_time, code, output = run_until_exit("exit")
    print(f"\nexit with a running consumer: {exit_time:.2f} s")
    assert code == 0, output
    assert exit_time < 5
    assert "Traceback" not in output


def test_process_exits_cleanly_after_ctrl_c():
    exit_time, code, output = run_until_exit("interrupt")
    print(f"\nexit after Ctrl-C: {exit_time:.2f} s")
    assert code == 0, output
    assert "interrupted" in output and "Traceback" not in output
    assert exit_time < 5
