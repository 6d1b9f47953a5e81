"""Diagnostics against the demo producer over real loopback sockets: every case of explain(),
the once-per-lookup warning of an empty get_producer_df, freshness(), max_lag, connection
hints, and signal expiry."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from websockets.asyncio.server import ServerConnection, serve

import producerconsumer as pc
from producerconsumer.connection import classify
from producerconsumer.store import FrameStore
from producerconsumer.strategy import IStrategy
from producerconsumer.wire import messages as wire

PAIRS = ["BTC/USDT", "ETH/USDT"]
TOKEN = "diag-token"
WAIT = 30.0


@pytest.fixture(scope="module")
def producer() -> Iterator[pc.DemoProducer]:
    with pc.DemoProducer(pairs=PAIRS, candles=200, ws_token=TOKEN, tick=None) as producer:
        yield producer


@pytest.fixture(scope="module")
def consumer(producer: pc.DemoProducer) -> Iterator[pc.Consumer]:
    with pc.Consumer({"producers": [producer.producer_config(name="default")]}) as consumer:
        consumer.wait_ready(timeout=WAIT)
        yield consumer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- explain: the cases, and their messages


def test_found(consumer: pc.Consumer) -> None:
    text = consumer.explain("BTC/USDT")
    assert text.startswith("found: BTC/USDT 5m spot from 'default', 200 rows, newest candle ")
    assert "out of date" not in text


def test_unknown_producer_name_with_close_matches(consumer: pc.Consumer) -> None:
    assert consumer.explain("BTC/USDT", producer_name="defualt") == (
        "no producer named 'defualt': the config has 'default'; did you mean 'default'? "
        "(producer_name= is a producers[].name of the consumer's config)"
    )
    assert "did you mean" not in consumer.explain("BTC/USDT", producer_name="zzz")


def test_pair_not_in_whitelist_with_close_matches(consumer: pc.Consumer) -> None:
    assert consumer.explain("BTC/USTD") == (
        "'BTC/USTD' is not in the whitelist of 'default' (2 pairs: 'BTC/USDT', 'ETH/USDT'); "
        "did you mean 'BTC/USDT'?"
    )
    assert consumer.explain("btc/usdt").endswith("did you mean 'BTC/USDT'?")


def test_futures_pair_name_against_a_spot_producer(consumer: pc.Consumer) -> None:
    assert consumer.explain("BTC/USDT:USDT") == (
        "'BTC/USDT:USDT' is not in the whitelist of 'default', which sends spot pairs: use "
        "'BTC/USDT' (spot pairs are BASE/QUOTE, futures pairs BASE/QUOTE:SETTLE; the producer "
        "sends 5m spot (2 pairs))"
    )


def test_spot_pair_name_against_a_futures_producer() -> None:
    pairs = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    with (
        pc.DemoProducer(pairs=pairs, candles=120, tick=None, candle_type="futures") as producer,
        pc.Consumer({"producers": [producer.producer_config()]}) as consumer,
    ):
        consumer.wait_ready(timeout=WAIT)
        text = consumer.explain("BTC/USDT")
        assert text.startswith(
            "'BTC/USDT' is not in the whitelist of 'default', which sends futures pairs: use "
            "'BTC/USDT:USDT'"
        )
        assert consumer.explain("BTC/USDT:USDT", candle_type="spot") == (
            "'default' does not send candle_type 'spot' for 'BTC/USDT:USDT': it sends "
            "5m futures (1 pair); ask for candle_type='futures'"
        )


def test_timeframe_not_sent_lists_what_is(consumer: pc.Consumer) -> None:
    assert consumer.explain("BTC/USDT", timeframe="1h") == (
        "'default' does not send timeframe '1h' for 'BTC/USDT': it sends 5m spot (1 pair); ask "
        "for timeframe='5m' (in a Freqtrade strategy, timeframe=None means the strategy's own "
        "timeframe, not the producer's: pass the producer's timeframe explicitly)"
    )


def test_candle_type_not_sent(consumer: pc.Consumer) -> None:
    assert consumer.explain("ETH/USDT", "5m", "futures") == (
        "'default' does not send candle_type 'futures' for 'ETH/USDT': it sends 5m spot "
        "(1 pair); ask for candle_type='spot'"
    )


@pytest.fixture
async def half_producer() -> AsyncIterator[int]:
    """A producer that sends its whitelist and an empty frame for ETH/USDT, then nothing."""

    async def handler(ws: ServerConnection) -> None:
        await ws.send(wire.whitelist_message(PAIRS))
        key = ("ETH/USDT", "5m", "spot")
        await ws.send(wire.analyzed_df_message(key, pd.DataFrame(), wire.EPOCH))
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        yield server.sockets[0].getsockname()[1]


async def test_whitelist_known_frame_not_received_and_empty_frame(half_producer: int) -> None:
    config = {"producers": [{"name": "default", "host": "127.0.0.1", "port": half_producer,
                             "ws_token": TOKEN}]}  # fmt: skip
    async with pc.AsyncConsumer(config) as consumer:
        await consumer.wait_until(
            lambda: "ETH/USDT" in consumer.connections["default"].answered, WAIT
        )
        assert consumer.explain("BTC/USDT") == (
            "'BTC/USDT' is in the whitelist of 'default', but its frame has not arrived yet "
            "(0 of 2 whitelisted pairs received so far): consumer.wait_ready() waits for every "
            "pair"
        )
        assert consumer.explain("ETH/USDT") == (
            "'ETH/USDT' is in the whitelist of 'default', but the producer answered with an "
            "empty frame: it has not analyzed the pair yet (Freqtrade sends an empty dataframe "
            "until its strategy has run on the pair); wait for its next candle"
        )


async def test_connected_but_no_whitelist_yet() -> None:
    async def silent(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async with serve(silent, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        config = {"producers": [{"name": "p1", "host": "127.0.0.1", "port": port,
                                 "ws_token": TOKEN}]}  # fmt: skip
        async with pc.AsyncConsumer(config) as consumer:
            await consumer.wait_until(lambda: consumer.status()["p1"].connected, WAIT)
            assert consumer.explain("BTC/USDT", producer_name="p1") == (
                "connected to 'p1', but its whitelist has not arrived yet: consumer.wait_ready() "
                "waits for it and every pair's frame"
            )


def test_producer_down_with_the_docker_hint() -> None:
    port = free_port()
    config = {"producers": [{"name": "default", "host": "127.0.0.1", "port": port,
                             "ws_token": TOKEN}]}  # fmt: skip
    with pc.Consumer(config) as consumer:
        consumer.wait_until(lambda: consumer.status()["default"].error_kind == "refused", WAIT)
        text = consumer.explain("BTC/USDT")
        assert text.startswith(
            f"nothing received from 'default' yet: producer 'default' is disconnected: "
            f"connection refused by 127.0.0.1:{port}; is the producer running, and is "
            "api_server.listen_port right? If this consumer runs in a Docker container, "
            "127.0.0.1 is that container itself"
        )
        assert "producer container's name" in consumer.status()["default"].last_error


def test_producer_refusing_the_token(producer: pc.DemoProducer) -> None:
    config = producer.producer_config(name="default") | {"ws_token": "not-the-token"}
    with pc.Consumer({"producers": [config]}) as consumer:
        consumer.wait_until(lambda: consumer.status()["default"].error_kind == "auth", WAIT)
        assert consumer.explain("BTC/USDT") == (
            "nothing received from 'default' yet: producer 'default' refuses the token: "
            "authentication failed: the producer refused the ws_token (HTTP 403). Check "
            "producers[].ws_token against the producer's api_server.ws_token."
        )
        with pytest.raises(pc.AuthenticationError, match=r"api_server\.ws_token"):
            consumer.wait_ready(timeout=WAIT)
        assert "not-the-token" not in consumer.explain("BTC/USDT")


def test_frames_held_from_a_producer_that_went_down() -> None:
    demo = pc.DemoProducer(pairs=["BTC/USDT"], candles=120, tick=None)
    with demo, pc.Consumer({"producers": [demo.producer_config()]}) as consumer:
        consumer.wait_ready(timeout=WAIT)
        demo.stop()
        consumer.wait_until(lambda: not consumer.status()["default"].connected, WAIT)
        text = consumer.explain("BTC/USDT")
        assert text.startswith("found: BTC/USDT 5m spot from 'default', 120 rows")
        assert "producer 'default' is " in text and "the data may be out of date" in text


def test_not_started() -> None:
    consumer = pc.Consumer({"producers": [{"name": "default", "host": "127.0.0.1",
                                           "ws_token": TOKEN}]})  # fmt: skip
    assert consumer.explain("BTC/USDT") == (
        "nothing received from 'default' yet: the consumer is not started (producer 'default' "
        "is idle): call start() first"
    )


def test_snapshot_explains_too(consumer: pc.Consumer) -> None:
    snapshot = consumer.snapshot()
    assert snapshot.explain("BTC/USDT").startswith("found: BTC/USDT 5m spot")
    assert snapshot.explain("BTC/USDT", timeframe="1h").startswith(
        "'default' does not send timeframe '1h'"
    )
    assert snapshot.explain("X", producer_name="defualt").startswith(
        "no producer named 'defualt': this snapshot holds 'default'; did you mean 'default'?"
    )
    store = FrameStore()
    store.set_pairs("default", ["BTC/USDT"])
    assert pc.Snapshot(store).explain("BTC/USDT") == (
        "'BTC/USDT' is in the whitelist of 'default', but the snapshot was taken before its "
        "frame arrived (0 of 1 whitelisted pairs received so far)"
    )


# --- the empty lookup's warning


def test_empty_lookup_keeps_freqtrades_result_and_warns_once_per_lookup(
    producer: pc.DemoProducer, caplog: pytest.LogCaptureFixture
) -> None:
    with pc.Consumer({"producers": [producer.producer_config()]}) as consumer:
        consumer.wait_ready(timeout=WAIT)
        with caplog.at_level(logging.WARNING, logger="producerconsumer"):
            for _ in range(100):  # a strategy's loop: one warning, not one per call
                frame, last_analyzed = consumer.get_producer_df("BTC/USDT", timeframe="1h")
                assert frame.empty and last_analyzed == datetime(1970, 1, 1, tzinfo=UTC)
            consumer.get_producer_df("BTC/USDT:USDT")
            consumer.get_producer_df("BTC/USDT")  # found: no warning
    warnings = [r.getMessage() for r in caplog.records if "get_producer_df" in r.getMessage()]
    assert len(warnings) == 2
    assert warnings[0].startswith(
        "get_producer_df('BTC/USDT' 1h, producer_name='default') is empty: 'default' does not "
        "send timeframe '1h'"
    )
    assert "use 'BTC/USDT'" in warnings[1]


# --- freshness and max_lag


def test_freshness_one_row_per_frame(producer: pc.DemoProducer, consumer: pc.Consumer) -> None:
    table = consumer.freshness()
    assert list(table.columns) == list(pc.diagnostics.FRESHNESS_COLUMNS)
    assert sorted(table["pair"]) == PAIRS and set(table["timeframe"]) == {"5m"}
    before = dict(zip(table["pair"], table["messages"], strict=True))
    assert all(count >= 1 for count in before.values())
    assert (table["gap_requests"] == 0).all() and not table["lagging"].any()
    row = table[table["pair"] == "BTC/USDT"].iloc[0]
    frame, last_analyzed = consumer.get_producer_df("BTC/USDT")
    assert row["last_candle"] == frame["date"].iloc[-1]
    close = row["last_candle"] + pd.Timedelta(minutes=5)
    assert row["lag_seconds"] == pytest.approx((row["received"] - close).total_seconds())
    assert row["last_analyzed"] == last_analyzed and row["analyzed_age_seconds"] >= 0
    newest = producer.last_candle
    producer.advance(1)
    consumer.wait_until(
        lambda: consumer.get_producer_df("ETH/USDT")[0]["date"].iloc[-1] > newest, WAIT
    )
    after = consumer.freshness().set_index("pair")["messages"]
    assert after["ETH/USDT"] == before["ETH/USDT"] + 1
    snap = consumer.snapshot().freshness()  # no connection: no counts
    assert len(snap) == 2 and (snap["messages"] == 0).all()


def test_max_lag_flags_lagging_pairs_and_emits_an_event(caplog: pytest.LogCaptureFixture) -> None:
    end = datetime.now(UTC) - timedelta(days=1)  # a producer a day behind
    demo = pc.DemoProducer(pairs=PAIRS, candles=120, tick=None, end=end)
    events: list[tuple[str, pc.FrameKey, float]] = []
    done = threading.Event()
    with demo:
        config = {"producers": [demo.producer_config() | {"max_lag": 60}]}
        with pc.Consumer(config) as consumer:
            consumer.lagging += lambda name, key, lag: (events.append((name, key, lag)),
                                                        done.set())  # fmt: skip
            consumer.wait_ready(timeout=WAIT)
            # the next candle is a day overdue: lagging at once, before any live candle
            assert consumer.status()["default"].lagging == tuple(PAIRS)
            assert "lagging=['BTC/USDT', 'ETH/USDT']" in repr(consumer.status()["default"])
            demo.advance(1)  # arrives a day after its candle closed
            assert done.wait(WAIT)
            name, key, lag = events[0]
            assert name == "default" and key.timeframe == "5m" and lag > 86_000
            assert consumer.freshness()["lagging"].all()
            from producerconsumer.widgets import status_line

            assert "lagging: BTC/USDT, ETH/USDT" in status_line(consumer.status()["default"])


def test_max_lag_is_validated() -> None:
    base = {"name": "a", "host": "h", "ws_token": "t"}
    for bad in (0, -1, "5", True):
        with pytest.raises(pc.ConfigError, match="max_lag: must be a number of seconds > 0"):
            pc.load_config({"producers": [base | {"max_lag": bad}]})
    assert pc.load_config({"producers": [base | {"max_lag": 30}]}).producers[0].max_lag == 30.0


# --- connection hints


def test_hints_in_failure_messages() -> None:
    config = pc.load_config({"producers": [{"name": "p", "host": "localhost",
                                            "ws_token": "t", "secure": True}]})  # fmt: skip
    producer = config.producers[0]
    refused = classify(ConnectionRefusedError(111, "refused"), producer, config)
    assert "Docker container" in refused.message and "container's name" in refused.message
    remote = pc.load_config({"producers": [{"name": "p", "host": "10.1.2.3", "ws_token": "t"}]})
    far = classify(ConnectionRefusedError(111, "refused"), remote.producers[0], remote)
    assert "Docker" not in far.message
    tls = classify(ssl.SSLError(1, "[SSL: SOMETHING] something"), producer, config)
    assert tls.kind == "tls" and "secure" in tls.message and "ca_file" in tls.message


# --- signal expiry


class AlwaysEnter(IStrategy):
    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe["enter_long"] = 1
        return dataframe


def test_runner_reports_signals_on_old_data_as_expired() -> None:
    end = datetime.now(UTC) - timedelta(hours=2)
    with (
        pc.DemoProducer(pairs=["BTC/USDT"], candles=120, tick=None, end=end) as demo,
        pc.Consumer({"producers": [demo.producer_config()]}) as consumer,
    ):
        consumer.wait_ready(timeout=WAIT)
        fresh = pc.StrategyRunner(AlwaysEnter, consumer)  # no limit
        evaluation = fresh.evaluation("BTC/USDT", fresh.run("BTC/USDT"))
        assert not evaluation.expired and evaluation.fired == ["enter_long"]
        assert evaluation.age is not None and 7190 < evaluation.age < 7520  # 2 h + up to 1 candle
        for limit in ("3 candles", 3600, timedelta(hours=1)):
            runner = pc.StrategyRunner(AlwaysEnter, consumer, max_signal_age=limit)
            evaluation = runner.evaluation("BTC/USDT", runner.run("BTC/USDT"))
            assert evaluation.expired and evaluation.fired == []
            assert evaluation.expired_signals == ["enter_long"]
        assert (
            not pc.StrategyRunner(AlwaysEnter, consumer, max_signal_age="30 candles")
            .evaluation("BTC/USDT", fresh.run("BTC/USDT"))
            .expired
        )
        expired: list[str] = []
        signals: list[str] = []
        with pc.StrategyRunner(AlwaysEnter, consumer, max_signal_age="1 candle") as runner:
            runner.expired += lambda pair, row: expired.append(pair)
            runner.signal += lambda pair, row: signals.append(pair)
            runner.wait_until(lambda: "BTC/USDT" in runner.latest, WAIT)
            assert runner.latest["BTC/USDT"].expired
            assert runner.summary().loc["BTC/USDT", "expired"]
            assert "signals=0" in repr(runner)
        assert expired == ["BTC/USDT"] and signals == []


@pytest.mark.parametrize("bad", ["3 hours", -5, 0, [1]])
def test_max_signal_age_is_checked(consumer: pc.Consumer, bad: object) -> None:
    with pytest.raises((ValueError, TypeError), match="max_signal_age"):
        pc.StrategyRunner(AlwaysEnter, consumer, max_signal_age=bad)  # type: ignore[arg-type]


def test_compare_signals_takes_max_signal_age() -> None:
    dates = pd.date_range("2026-01-01", periods=6, freq="5min", tz="UTC")
    frame = pd.DataFrame(
        {
            "date": dates,
            "enter_long": [0, 1, 1, 0, 0, 1],
            "enter_long_default": [0, 1, 1, 1, 1, 1],  # forward-filled from an old candle
            "date_default": [dates[0], dates[1], dates[1], dates[1], dates[1], dates[5]],
        }
    )
    plain = pc.compare_signals(frame, signals=["enter_long"])
    assert plain.counts.loc["enter_long", "producer_only"] == 2 and "expired" not in plain.counts
    for limit in ("1 candle", 300):
        counts = pc.compare_signals(frame, signals=["enter_long"], max_signal_age=limit).counts
        row = counts.loc["enter_long"]
        assert (row["both"], row["producer_only"], row["expired"]) == (3, 0, 2)
        assert row["agreement"] == 1.0
    with pytest.raises(ValueError, match="date_default"):
        pc.compare_signals(frame.drop(columns="date_default"), max_signal_age=60)


# --- inspect


def test_inspect_json_report(producer: pc.DemoProducer, tmp_path) -> None:
    from producerconsumer.inspection import inspect_producers

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"producers": [producer.producer_config() | {"max_lag": 600}]}))
    out = io.StringIO()
    stop = threading.Event()
    stop.set()  # the report only, no live updates
    assert inspect_producers(str(config), 0, WAIT, True, out, stop) == 0
    report = json.loads(out.getvalue().splitlines()[0])
    default = report["producers"]["default"]
    assert default["state"] == "connected" and default["whitelist"] == PAIRS
    assert default["ping_ms"] is not None and default["ping_ms"] >= 0
    assert default["traffic"]["messages"] >= 3 and default["traffic"]["size_max"] > 1000
    assert default["traffic"]["interval_median_seconds"] is not None
    assert {f["pair"] for f in default["frames"]} == set(PAIRS)
    assert "rsi" in default["columns"] and default["explanations"] == {}
    assert all(f["analyzed_after_candle_seconds"] is not None for f in default["frames"])
    assert default["lagging"] == []


async def test_inspect_explains_pairs_without_a_frame(half_producer: int, tmp_path) -> None:
    from producerconsumer.inspection import inspect_producers

    config = tmp_path / "config.json"
    producer = {"name": "default", "host": "127.0.0.1", "port": half_producer, "ws_token": "t"}
    config.write_text(json.dumps({"producers": [producer]}))
    out = io.StringIO()
    code = await asyncio.to_thread(
        inspect_producers, str(config), 0, 1.0, False, out, threading.Event()
    )
    text = out.getvalue()
    assert code == 1 and "error: producer 'default': not ready in time" in text
    assert "  BTC/USDT: 'BTC/USDT' is in the whitelist of 'default', but its frame" in text
    assert (
        "  ETH/USDT: 'ETH/USDT' is in the whitelist of 'default', but the producer answered" in text
    )


def test_readme_diagnostics_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("### Diagnostics", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md (Diagnostics)", "exec"), {})
    out = capsys.readouterr().out
    assert "'default' does not send timeframe '1h' for 'BTC/USDT'" in out
    assert "use 'BTC/USDT'" in out and "did you mean 'default'?" in out
    assert "lag_seconds" in out and out.rstrip().endswith("False")
