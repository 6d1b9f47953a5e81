"""Consumer strategies without Freqtrade: the docs' ConsumerStrategy, StrategyRunner (one-off and
live), parameters, errors and compare_signals, against the demo producer over loopback."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

import producerconsumer as pc
from producerconsumer.demo.strategy import ProducerStrategy
from producerconsumer.strategy import (
    BooleanParameter,
    CategoricalParameter,
    DataProvider,
    DecimalParameter,
    IStrategy,
    RunMode,
    StrategyError,
    StrategyRunner,
    compare_signals,
)

# --- the consumer strategy of Freqtrade's producer/consumer docs; only this import line changed
# isort: split
from producerconsumer.strategy import DataFrame, IntParameter, merge_informative_pair, qtpylib


class ConsumerStrategy(IStrategy):
    timeframe = "5m"
    process_only_new_candles = False  # required for consumers

    _columns_to_expect = ["rsi_default", "tema_default", "bb_middleband_default"]  # noqa: RUF012

    buy_rsi = IntParameter(1, 50, default=30, space="buy")

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """
        Use the websocket api to get pre-populated indicators from another freqtrade instance.
        Use `self.dp.get_producer_df(pair)` to get the dataframe
        """
        pair = metadata["pair"]
        timeframe = self.timeframe

        producer_pairs = self.dp.get_producer_pairs()  # noqa: F841  (as in the docs)
        # You can specify which producer to get pairs from via:
        # self.dp.get_producer_pairs("my_other_producer")

        # This func returns the analyzed dataframe, and when it was analyzed
        producer_dataframe, _ = self.dp.get_producer_df(pair)
        # You can get other data if the producer makes it available:
        # self.dp.get_producer_df(
        #   pair,
        #   timeframe="1h",
        #   candle_type=CandleType.SPOT,
        #   producer_name="my_other_producer"
        # )

        if not producer_dataframe.empty:
            # If you plan on passing the producer's entry/exit signal directly,
            # specify ffill=False or it will have unintended results
            merged_dataframe = merge_informative_pair(
                dataframe,
                producer_dataframe,
                timeframe,
                timeframe,
                append_timeframe=False,
                suffix="default",
            )
            return merged_dataframe
        else:
            dataframe[self._columns_to_expect] = 0

        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        # Use the dataframe columns as if we calculated them ourselves
        dataframe.loc[
            (qtpylib.crossed_above(dataframe["rsi_default"], self.buy_rsi.value))
            & (dataframe["tema_default"] <= dataframe["bb_middleband_default"])
            & (dataframe["tema_default"] > dataframe["tema_default"].shift(1))
            & (dataframe["volume"] > 0),
            "enter_long",
        ] = 1

        return dataframe


# ---

PAIRS = ["BTC/USDT", "ETH/USDT", "XRP/USDT"]
OHLCV = ["date", "open", "high", "low", "close", "volume"]
WAIT = 15.0


@pytest.fixture(scope="module")
def producer():
    with pc.DemoProducer(pairs=PAIRS, timeframe="5m", candles=500, ws_token="t", tick=None) as p:
        yield p


@pytest.fixture
def consumer(producer):
    with pc.Consumer({"producers": [producer.producer_config()]}) as consumer:
        consumer.wait_ready(timeout=30)
        yield consumer


def signals(series: pd.Series) -> np.ndarray:
    """A signal column as 0/1 (NaN is no signal)."""
    return series.fillna(0).to_numpy(dtype=float)


def expected_entries(consumer: pc.Consumer, pair: str, buy_rsi: float = 30) -> pd.DataFrame:
    """The docs' ProducerStrategy on the consumer's candles (the producer's own computation)."""
    frame, _ = consumer.get_producer_df(pair)
    return ProducerStrategy(buy_rsi=buy_rsi).analyze(frame[OHLCV])


def synced(consumer: pc.Consumer, producer: pc.DemoProducer) -> bool:
    return all(
        consumer.get_producer_df(pair)[0]["date"].iloc[-1] == producer.last_candle for pair in PAIRS
    )


# --- one-off runs


def test_docs_consumer_strategy_reproduces_the_producers_entries(producer, consumer):
    runner = StrategyRunner(ConsumerStrategy, consumer)
    frames = runner.run_all()
    assert list(frames) == PAIRS
    total = 0
    for pair, frame in frames.items():
        producer_frame, _ = consumer.get_producer_df(pair)
        assert len(frame) == len(producer_frame) == 500
        assert (frame["date"].to_numpy() == producer_frame["date"].to_numpy()).all()
        # The consumer's own signal equals the producer's, sent over the wire ...
        np.testing.assert_array_equal(
            signals(frame["enter_long"]), signals(producer_frame["enter_long"])
        )
        np.testing.assert_array_equal(
            signals(frame["enter_long"]), signals(frame["enter_long_default"])
        )
        # ... and the producer's source of truth (the demo producer's own frame).
        np.testing.assert_array_equal(
            signals(frame["enter_long"]), signals(producer.frame(pair)["enter_long"])
        )
        # Freqtrade's column bookkeeping: tags initialised to "", no exit column invented.
        assert (frame["enter_tag"] == "").all() and (frame["exit_tag"] == "").all()
        assert "exit_long" not in frame.columns
        total += int(signals(frame["enter_long"]).sum())
    assert total >= 5, "too few entries for the comparison to mean anything"
    comparison = compare_signals(frames, signals=("enter_long",))
    assert comparison.agree and comparison.counts.loc["enter_long", "both"] == total


def test_empty_producer_frame_takes_the_docs_fallback(consumer):
    candles = consumer.get_producer_df("BTC/USDT")[0][OHLCV]
    runner = StrategyRunner(ConsumerStrategy, consumer, candles=lambda pair: candles)
    frame = runner.run("NOT/LISTED")  # the producer has no frame for it
    assert (frame[ConsumerStrategy._columns_to_expect] == 0).all().all()
    assert frame["enter_long"].isna().all()


def test_custom_candles_and_metadata(consumer):
    seen: list[dict] = []

    class Recorder(IStrategy):
        def populate_indicators(self, dataframe, metadata):
            seen.append(metadata)
            dataframe["pair_rows"] = len(dataframe)
            return dataframe

    candles = consumer.get_producer_df("ETH/USDT")[0][OHLCV].tail(50)
    runner = StrategyRunner(Recorder(), consumer, candles=lambda pair: candles)
    frame = runner.run("ETH/USDT")
    assert seen == [{"pair": "ETH/USDT"}]
    assert len(frame) == 50 and (frame["pair_rows"] == 50).all()
    assert len(candles.columns) == 6  # the supplier's frame is not modified


def test_missing_data_says_what_to_do(consumer):
    runner = StrategyRunner(ConsumerStrategy, consumer)
    with pytest.raises(LookupError, match="wait_ready"):
        runner.run("NOT/LISTED")


def test_data_provider_shim(consumer):
    runner = StrategyRunner(ConsumerStrategy, consumer)
    dp = runner.strategy.dp
    assert isinstance(dp, DataProvider) and dp.runmode is RunMode.OTHER
    assert dp.get_producer_pairs() == PAIRS and dp.current_whitelist() == PAIRS
    frame, last_analyzed = dp.get_producer_df("BTC/USDT", "5m", "spot", "default")
    pd.testing.assert_frame_equal(frame, consumer.get_producer_df("BTC/USDT")[0])
    assert last_analyzed > datetime(2020, 1, 1, tzinfo=UTC)
    assert (
        dp.get_producer_pairs("other") == []
        and dp.get_producer_df("BTC/USDT", producer_name="x")[0].empty
    )


def test_works_on_any_source_with_the_two_calls(consumer):
    class Snapshot:  # e.g. a recorded snapshot: no events, no loop
        def __init__(self, frames):
            self.frames = frames

        def get_producer_pairs(self, producer_name="default"):
            return list(self.frames) if producer_name == "default" else []

        def get_producer_df(self, pair, timeframe=None, candle_type=None, producer_name="default"):
            frame = self.frames.get(pair) if producer_name == "default" else None
            if frame is None:
                return pd.DataFrame(), datetime(1970, 1, 1, tzinfo=UTC)
            return frame.copy(), datetime(2026, 1, 1, tzinfo=UTC)

    snapshot = Snapshot({pair: consumer.get_producer_df(pair)[0] for pair in PAIRS})
    runner = StrategyRunner(ConsumerStrategy, snapshot)
    assert compare_signals(runner.run_all(), signals=("enter_long",)).agree
    with pytest.raises(TypeError, match="updated"):
        runner.start()


# --- parameters


def test_params_override_per_instance(consumer):
    default = StrategyRunner(ConsumerStrategy, consumer)
    tuned = StrategyRunner(ConsumerStrategy, consumer, params={"buy_rsi": 45})
    assert tuned.strategy.buy_rsi.value == 45
    assert default.strategy.buy_rsi.value == 30 and ConsumerStrategy.buy_rsi.value == 30
    assert tuned.strategy.buy_rsi is not default.strategy.buy_rsi
    default.strategy.buy_rsi.value = 35
    assert ConsumerStrategy().buy_rsi.value == 30 and tuned.strategy.buy_rsi.value == 45
    changed = 0
    for pair in PAIRS:
        frame = tuned.run(pair)
        want = expected_entries(consumer, pair, buy_rsi=45)
        np.testing.assert_array_equal(signals(frame["enter_long"]), signals(want["enter_long"]))
        changed += int((signals(frame["enter_long"]) != signals(frame["enter_long_default"])).sum())
    assert changed > 0, "buy_rsi=45 should move some entries away from the producer's (30)"
    assert not compare_signals(tuned.run_all(), signals=("enter_long",)).agree


def test_params_of_an_instance_and_unknown_names(consumer):
    strategy = ConsumerStrategy(params={"buy_rsi": 20})
    StrategyRunner(strategy, consumer, params={"buy_rsi": 25})
    assert strategy.buy_rsi.value == 25
    with pytest.raises(ValueError, match=r"no parameter 'sell_rsi'.*\['buy_rsi'\]"):
        StrategyRunner(ConsumerStrategy, consumer, params={"sell_rsi": 70})


def test_parameter_types():
    class Params(IStrategy):
        buy_params = {"buy_level": 0.333333, "buy_kind": "sma"}  # noqa: RUF012
        buy_level = DecimalParameter(0.1, 0.9, default=0.5, decimals=2)
        buy_kind = CategoricalParameter(["ema", "sma"], default="ema", space="buy")
        sell_on = BooleanParameter(default=True)
        window = IntParameter([5, 50], default=20, space="buy", optimize=False)
        fixed = IntParameter(1, 10, default=3, space="buy", load=False)

    strategy = Params()
    assert strategy.buy_level.value == 0.33  # loaded from buy_params, rounded to 2 decimals
    assert strategy.buy_kind.value == "sma"
    assert strategy.sell_on.value is True and strategy.sell_on.opt_range == [True, False]
    assert (strategy.window.low, strategy.window.high, strategy.window.value) == (5, 50, 20)
    assert list(strategy.window.range) == [20]  # one value outside hyperopt, as Freqtrade
    assert strategy.buy_level.space == "buy" and strategy.sell_on.space == "sell"
    assert strategy.buy_level.name == "buy_level"
    strategy.buy_level.value = 0.4567
    assert strategy.buy_level.value == 0.46 and Params().buy_level.value == 0.33
    assert "buy_level=0.46" in repr(strategy)
    with pytest.raises(ValueError, match="two categories"):
        CategoricalParameter(["only"])
    with pytest.raises(ValueError, match="space"):
        IntParameter(1, default=1)


# --- analysis rules (Freqtrade's analyze_ticker)


def test_legacy_buy_sell_names_are_renamed(consumer):
    class Legacy(IStrategy):
        def populate_buy_trend(self, dataframe, metadata):
            dataframe.loc[dataframe["close"] > 0, ["buy", "buy_tag"]] = (1, "all")
            return dataframe

        def populate_sell_trend(self, dataframe, metadata):
            dataframe["sell"] = 0
            return dataframe

    frame = StrategyRunner(Legacy, consumer).run("BTC/USDT")
    assert (frame["enter_long"] == 1).all() and (frame["enter_tag"] == "all").all()
    assert (frame["exit_long"] == 0).all() and "buy" not in frame.columns


def test_a_strategy_that_changes_the_rows_is_refused(consumer):
    class Shrinks(IStrategy):
        def populate_indicators(self, dataframe, metadata):
            return dataframe.iloc[:-1].copy()

    with pytest.raises(StrategyError, match="different length"):
        StrategyRunner(Shrinks, consumer).run("BTC/USDT")


# --- live mode


def test_live_mode_reevaluates_after_a_new_candle(producer, consumer):
    evaluated: list[tuple[str, pd.Timestamp]] = []
    with StrategyRunner(ConsumerStrategy, consumer) as runner:
        runner.evaluated += lambda pair, frame: evaluated.append((pair, frame["date"].iloc[-1]))
        runner.wait_until(lambda: set(runner.latest) == set(PAIRS), WAIT)
        assert "live" in repr(runner) and "evaluated=3" in repr(runner)
        for _ in range(3):
            producer.advance(1)
            last = producer.last_candle
            runner.wait_until(
                lambda last=last: all(e.date == last for e in runner.latest.values()), WAIT
            )
        assert runner.errors == {}
        for pair in PAIRS:
            assert (pair, producer.last_candle) in evaluated
            latest = runner.latest[pair]
            assert latest.evaluated_at <= datetime.now(UTC) and latest.duration >= 0
            want = expected_entries(consumer, pair)
            assert latest.signals == {"enter_long": bool(want["enter_long"].iloc[-1] == 1)}
            assert latest.rows == len(consumer.get_producer_df(pair)[0])
        assert compare_signals(runner.run_all(), signals=("enter_long",)).agree
        assert "error" in runner.summary().columns and len(runner.summary()) == 3
        assert "<table" in runner._repr_html_()
    assert not runner.running and "stopped" in repr(runner)


def test_signal_event_on_the_newest_candle(producer, consumer):
    class AlwaysEnter(IStrategy):
        def populate_entry_trend(self, dataframe, metadata):
            dataframe["enter_long"] = 1
            dataframe["enter_tag"] = "always"
            return dataframe

    fired: list[tuple[str, pd.Timestamp, str]] = []
    lock = threading.Lock()

    def on_signal(pair: str, row: pd.Series) -> None:
        with lock:
            fired.append((pair, row["date"], row["enter_tag"]))

    with StrategyRunner(AlwaysEnter, consumer) as runner:
        runner.signal += on_signal
        runner.wait_until(lambda: set(runner.latest) == set(PAIRS), WAIT)
        producer.advance(1)
        last = producer.last_candle
        runner.wait_until(lambda: all(e.date == last for e in runner.latest.values()), WAIT)
        assert runner.latest["BTC/USDT"].fired == ["enter_long"]
        assert runner.latest["BTC/USDT"].enter_tag == "always"
    with lock:
        for pair in PAIRS:
            assert fired.count((pair, last, "always")) == 1


def test_strategy_errors_are_captured_and_logged_once(producer, consumer, caplog):
    class FailsOnEth(ConsumerStrategy):
        def populate_entry_trend(self, dataframe, metadata):
            if metadata["pair"] == "ETH/USDT":
                raise RuntimeError("boom on purpose")
            return super().populate_entry_trend(dataframe, metadata)

    failures: list[str] = []
    caplog.set_level(logging.ERROR, logger="producerconsumer.strategy")
    with StrategyRunner(FailsOnEth, consumer) as runner:
        runner.failed += lambda pair, error: failures.append(pair)
        runner.wait_until(lambda: "ETH/USDT" in runner.errors and len(runner.latest) == 2, WAIT)
        producer.advance(1)
        last = producer.last_candle
        runner.wait_until(
            lambda: (
                runner.latest["BTC/USDT"].date == last
                and runner.latest["XRP/USDT"].date == last
                and failures.count("ETH/USDT") >= 2
            ),
            WAIT,
        )
        assert runner.running  # the worker survived
        error = runner.errors["ETH/USDT"]
        assert isinstance(error, RuntimeError) and str(error) == "boom on purpose"
        assert "ETH/USDT" not in runner.latest and "errors=1" in repr(runner)
        assert "RuntimeError: boom on purpose" in runner.summary().loc["ETH/USDT", "error"]
    logged = [r for r in caplog.records if "ETH/USDT" in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
    with pytest.raises(RuntimeError, match="boom"):  # one-off runs raise as usual
        StrategyRunner(FailsOnEth, consumer).run("ETH/USDT")


def test_updates_are_coalesced_and_the_consumer_loop_is_not_blocked(producer, consumer):
    release = threading.Event()
    started = threading.Event()

    class Slow(IStrategy):
        def populate_indicators(self, dataframe, metadata):
            started.set()
            release.wait(WAIT)
            return dataframe

    try:
        with StrategyRunner(Slow, consumer) as runner:
            assert started.wait(WAIT)  # the worker is stuck in the first evaluation
            producer.advance(3)
            # All 9 updates are stored while the strategy blocks: the loop is not held up.
            consumer.wait_until(lambda: synced(consumer, producer), WAIT)
            release.set()
            last = producer.last_candle
            runner.wait_until(
                lambda: (
                    len(runner.latest) == 3 and all(e.date == last for e in runner.latest.values())
                ),
                WAIT,
            )
            # The 3 initial evaluations, then BTC/USDT once more (it was being evaluated when
            # its updates came); ETH and XRP were still queued, so their updates coalesced.
            assert runner.evaluations == 4
    finally:
        release.set()


def test_restart_and_stop_from_a_handler(producer, consumer):
    runner = StrategyRunner(ConsumerStrategy, consumer)
    for _ in range(2):  # start / stop / start again
        with runner:
            runner.wait_until(lambda: runner.evaluations >= 3, WAIT)
        assert not runner.running
        runner.evaluations = 0
    stopped = threading.Event()

    def stop_now(pair: str, frame: pd.DataFrame) -> None:
        runner.stop()
        stopped.set()

    runner.evaluated += stop_now
    runner.start()
    assert stopped.wait(WAIT)
    runner.stop()  # idempotent
    assert not runner.running


def test_a_class_that_needs_arguments_asks_for_an_instance(consumer):
    class NeedsConfig(IStrategy):
        def __init__(self, config):
            super().__init__(config)

    with pytest.raises(TypeError, match=r"pass an instance.*NeedsConfig\(config\)"):
        StrategyRunner(NeedsConfig, consumer)
    assert StrategyRunner(NeedsConfig({"x": 1}), consumer).strategy.config == {"x": 1}


def test_whitelist_removal_drops_the_pair(producer, consumer):
    with StrategyRunner(ConsumerStrategy, consumer) as runner:
        runner.wait_until(lambda: set(runner.latest) == set(PAIRS), WAIT)
        try:
            producer.set_whitelist(PAIRS[:2])
            consumer.wait_until(lambda: consumer.get_producer_pairs() == PAIRS[:2], WAIT)
            assert set(runner.latest) == set(PAIRS[:2])
        finally:
            producer.set_whitelist(PAIRS)
            consumer.wait_until(lambda: consumer.get_producer_pairs() == PAIRS, WAIT)


async def test_async_consumer_live(producer):
    config = {"producers": [producer.producer_config()]}
    async with pc.AsyncConsumer(config) as consumer:
        await consumer.wait_ready(timeout=30)
        runner = StrategyRunner(ConsumerStrategy, consumer)
        assert compare_signals(runner.run_all(), signals=("enter_long",)).agree
        with runner:
            # The runner's waits block a thread: keep them off this loop, which feeds it.
            await asyncio.to_thread(
                runner.wait_until, lambda: set(runner.latest) == set(PAIRS), WAIT
            )
            await producer.advance_async(1)
            last = producer.last_candle
            await asyncio.to_thread(
                runner.wait_until,
                lambda: all(e.date == last for e in runner.latest.values()),
                WAIT,
            )


# --- compare_signals on hand-made frames


def hand_made() -> pd.DataFrame:
    dates = pd.date_range("2026-01-01", periods=6, freq="5min", tz="UTC")
    return pd.DataFrame(
        {
            "date": dates,
            "enter_long": [1, np.nan, 1, 0, np.nan, 1],
            "enter_long_default": [1, 1, np.nan, 0, np.nan, 1.0],
            "exit_long": [np.nan] * 6,
            "exit_long_default": [np.nan, np.nan, np.nan, np.nan, 1, np.nan],
        }
    )


def test_compare_counts_and_divergent_candles():
    comparison = compare_signals(hand_made(), pair="BTC/USDT")
    counts = comparison.counts
    assert counts.loc[
        "enter_long", ["both", "producer_only", "consumer_only", "neither"]
    ].tolist() == [2, 1, 1, 2]
    assert counts.loc[
        "exit_long", ["both", "producer_only", "consumer_only", "neither"]
    ].tolist() == [0, 1, 0, 5]
    assert counts.loc["enter_long", "candles"] == 6
    assert counts.loc["enter_long", "agreement"] == pytest.approx(4 / 6)
    assert "enter_short" not in counts.index  # neither side has it
    assert not comparison.agree and comparison.missing == {}
    divergent = comparison.divergent
    assert divergent.columns.tolist() == ["date", "pair", "signal", "producer", "consumer"]
    assert divergent[["signal", "producer", "consumer"]].values.tolist() == [
        ["enter_long", 1, 0],
        ["enter_long", 0, 1],
        ["exit_long", 1, 0],
    ]
    assert (divergent["pair"] == "BTC/USDT").all()
    assert divergent["date"].tolist() == [hand_made()["date"][i] for i in (1, 2, 4)]
    confusion = comparison.confusion.loc["enter_long"]
    assert confusion.loc["producer 1"].tolist() == [1, 2]
    assert confusion.loc["producer 0"].tolist() == [2, 1]
    text = repr(comparison)
    assert "3 divergent" in text and "producer_only" in text
    assert "<table" in comparison._repr_html_()


def test_compare_mapping_missing_columns_and_agreement():
    frame = hand_made()
    frame["enter_long"] = frame["enter_long_default"]
    frame = frame.drop(columns="exit_long")
    comparison = compare_signals({"A/B": frame, "C/D": frame}, signals=("enter_long", "exit_long"))
    assert comparison.missing == {"exit_long": ["consumer"]}
    assert comparison.counts.loc["enter_long", "candles"] == 12
    assert comparison.divergent["pair"].tolist() == ["A/B", "C/D"]
    only_entries = compare_signals(frame, signals=("enter_long",))
    assert only_entries.agree and "all agree" in repr(only_entries)
    assert only_entries.divergent.empty and "pair" not in only_entries.divergent.columns
    with pytest.raises(ValueError, match="producer_suffix"):
        compare_signals(frame, producer_suffix="other", signals=("exit_short",))
