"""Run a consumer strategy against live producer data: :class:`StrategyRunner`.

One-off::

    runner = StrategyRunner(ConsumerStrategy, consumer, params={"buy_rsi": 35})
    frame = runner.run("BTC/USDT")       # the populated dataframe
    frames = runner.run_all()            # every producer pair

Live: re-evaluate a pair whenever the producer sends data for it::

    with StrategyRunner(ConsumerStrategy, consumer) as runner:
        runner.signal += lambda pair, row: print(pair, row["date"], "signal")
        ...
        runner.latest["BTC/USDT"]        # newest candle's signals, date, evaluation time

Threading: the consumer's ``updated`` handler (on the consumer's loop thread) only notes the pair
and queues it, so the loop never waits for a strategy. One worker thread per runner evaluates
queued pairs in arrival order; a pair already waiting is not queued again, so a burst of updates
costs one evaluation, which reads the newest data. Strategy code therefore never runs on the
loop thread, and never on two threads at once (``run`` from another thread waits for the
worker's evaluation to finish).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html import escape
from typing import Any, Self

import pandas as pd

from ..columns import OHLCV_COLUMNS, SIGNAL_COLUMNS
from ..events import Event
from ..timeframes import timeframe_to_seconds
from ..waiting import until
from .expiry import SignalAge, check_signal_age, frame_timeframe_seconds, max_age_seconds
from .interface import DataProvider, ProducerSource, analyze
from .parameters import apply_params

__all__ = ["OHLCV_COLUMNS", "SIGNAL_COLUMNS", "Evaluation", "NoCandles", "StrategyRunner"]

log = logging.getLogger(__name__)

STOP_TIMEOUT = 10.0
_STOP = object()

CandleSource = Callable[[str], pd.DataFrame]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The newest candle of one evaluation of a pair.

    ``signals``: each signal column present, True where it is 1 on the newest candle (NaN and 0
    are no signal). ``date``: that candle's open date. ``evaluated_at``: when (UTC) the
    evaluation finished; ``duration``: how long it took in seconds. ``age``: seconds from the
    candle's close to the evaluation; ``expired``: True when the runner has a
    ``max_signal_age`` and ``age`` exceeds it, and then :attr:`fired` is empty (what would
    have fired is in :attr:`expired_signals`).
    """

    pair: str
    date: pd.Timestamp | None
    signals: dict[str, bool]
    enter_tag: str | None
    exit_tag: str | None
    evaluated_at: datetime
    duration: float
    rows: int
    row: pd.Series = field(repr=False)
    age: float | None = None
    expired: bool = False

    @property
    def fired(self) -> list[str]:
        """The signal columns that are set on the newest candle (none once expired)."""
        return [] if self.expired else self.expired_signals

    @property
    def expired_signals(self) -> list[str]:
        """The signal columns set on the newest candle, expired or not."""
        return [name for name, on in self.signals.items() if on]


class NoCandles(LookupError):
    """No candles for the pair (yet): the producer has not sent its frame."""


class StrategyRunner:
    """Evaluate a Freqtrade-style strategy on the consumer's data, once or live.

    ``strategy``: a strategy class (instantiated without arguments) or instance, ours or a
    real Freqtrade ``IStrategy``: only its ``populate_*`` methods and a settable ``dp`` are
    used. ``source``: a :class:`~producerconsumer.Consumer`, an
    :class:`~producerconsumer.AsyncConsumer` or anything with ``get_producer_df`` /
    ``get_producer_pairs`` (live mode also needs its ``updated`` event). ``producer_name``:
    the producer whose pairs are evaluated and whose updates trigger evaluations.
    ``params``: parameter values for this strategy instance only. ``candles``: the consumer's
    own candles, ``candles(pair) -> DataFrame``; by default the producer frame's
    ``date, open, high, low, close, volume``. ``max_signal_age``: seconds (a number or a
    ``timedelta``) or ``"N candles"``: a signal whose candle closed longer ago than that is
    reported as expired (``Evaluation.expired``, the ``expired`` event), not as a signal
    (see :mod:`.expiry`).

    Events (handlers run on the runner's worker thread; ``runner.evaluated += handler``):

    * ``evaluated(pair: str, frame: DataFrame)``: a live evaluation finished;
    * ``signal(pair: str, row: Series)``: an entry or exit signal is set on the newest candle
      (once per candle and set of signals);
    * ``expired(pair: str, row: Series)``: signals are set on the newest candle, but it is
      older than ``max_signal_age`` (once per candle and set of signals);
    * ``failed(pair: str, error: Exception)``: the strategy raised (also in ``errors[pair]``).
    """

    def __init__(
        self,
        strategy: Any,
        source: ProducerSource,
        producer_name: str = "default",
        params: Mapping[str, Any] | None = None,
        candles: CandleSource | None = None,
        max_signal_age: SignalAge | None = None,
    ) -> None:
        check_signal_age(max_signal_age)
        self.max_signal_age = max_signal_age
        self.strategy = _instantiate(strategy) if isinstance(strategy, type) else strategy
        self.source = source
        self.producer_name = producer_name
        self.candles = candles
        if params:
            apply_params(self.strategy, params)
        self.strategy.dp = DataProvider(source, producer_name, self.pairs)
        self.evaluated: Event[[str, pd.DataFrame]] = Event("evaluated")
        self.signal: Event[[str, pd.Series]] = Event("signal")
        self.expired: Event[[str, pd.Series]] = Event("expired")
        self.failed: Event[[str, Exception]] = Event("failed")
        self._latest: dict[str, Evaluation] = {}
        self._errors: dict[str, Exception] = {}
        self._logged: dict[str, str] = {}  # last failure text logged, per pair
        self._fired: dict[str, tuple[Any, tuple[str, ...]]] = {}
        self._analysis = threading.RLock()  # strategy code runs on one thread at a time
        self._changed = threading.Condition()
        self._pending: set[str] = set()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self.evaluations = 0
        bot_start = getattr(self.strategy, "bot_start", None)
        if callable(bot_start):
            bot_start()

    # --- one-off evaluation

    def pairs(self) -> list[str]:
        """The producer's pairs (what :meth:`run_all` and live mode evaluate)."""
        return self.source.get_producer_pairs(self.producer_name)

    def run(self, pair: str) -> pd.DataFrame:
        """The strategy's populated dataframe for ``pair`` (exceptions propagate)."""
        candles = self._candles(pair)
        with self._analysis:
            return analyze(self.strategy, candles, pair)

    def run_all(self) -> dict[str, pd.DataFrame]:
        """:meth:`run` for every producer pair."""
        return {pair: self.run(pair) for pair in self.pairs()}

    def _candles(self, pair: str) -> pd.DataFrame:
        if self.candles is not None:
            frame = self.candles(pair)
            if not isinstance(frame, pd.DataFrame) or frame.empty:
                raise ValueError(f"candles({pair!r}) returned no candles")
            return frame.copy()
        frame, _ = self.source.get_producer_df(pair, producer_name=self.producer_name)
        if frame.empty:
            raise NoCandles(
                f"producer {self.producer_name!r} has no frame for {pair!r} (yet); its pairs: "
                f"{self.pairs()} (call consumer.wait_ready() first, or pass candles=)"
            )
        missing = [c for c in OHLCV_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(
                f"the producer's frame of {pair!r} lacks {missing}: pass candles= to supply "
                "the consumer's own candles"
            )
        # A fresh 0..n-1 index, like the candle frames Freqtrade hands to a strategy.
        return frame.loc[:, list(OHLCV_COLUMNS)].reset_index(drop=True)

    # --- live mode

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def start(self) -> Self:
        """Evaluate every pair now and each pair again when the producer updates it.

        Returns at once; evaluations run on a worker thread (see :meth:`wait_until`).
        """
        if self._worker is not None:
            return self
        updated = getattr(self.source, "updated", None)
        if not isinstance(updated, Event):
            raise TypeError(
                f"live mode needs a source with an `updated` event (a Consumer or AsyncConsumer), "
                f"not {type(self.source).__name__}; use run() / run_all() instead"
            )
        self._queue = queue.SimpleQueue()
        self._pending.clear()
        worker = threading.Thread(
            target=self._work,
            args=(self._queue,),
            name=f"pc-strategy-{type(self.strategy).__name__}",
            daemon=True,
        )
        self._worker = worker
        updated.connect(self._on_update)
        whitelist_changed = getattr(self.source, "whitelist_changed", None)
        if isinstance(whitelist_changed, Event):
            whitelist_changed.connect(self._on_whitelist)
        worker.start()
        for pair in self.pairs():
            self._enqueue(pair)
        return self

    def stop(self) -> None:
        """Stop live mode (idempotent); waits up to 10 s for a running evaluation."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        for name, handler in (
            ("updated", self._on_update),
            ("whitelist_changed", self._on_whitelist),
        ):
            event = getattr(self.source, name, None)
            if isinstance(event, Event):
                event.disconnect(handler)
        self._queue.put(_STOP)
        if worker is threading.current_thread():
            return  # stopped from an event handler: the worker ends after this evaluation
        worker.join(STOP_TIMEOUT)
        if worker.is_alive():
            log.warning("strategy runner: an evaluation still runs after %s s", STOP_TIMEOUT)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def latest(self) -> dict[str, Evaluation]:
        """Per pair, the newest successful evaluation (a copy of the mapping)."""
        with self._changed:
            return dict(self._latest)

    @property
    def errors(self) -> dict[str, Exception]:
        """Per pair, the exception of its last evaluation, if that one failed."""
        with self._changed:
            return dict(self._errors)

    def wait_until(self, predicate: Callable[[], bool], timeout: float | None = 30.0) -> None:
        """Block until ``predicate()`` is true; checked after every live evaluation.

        Raises ``TimeoutError`` after ``timeout`` seconds.
        """
        with self._changed:
            for remaining in until(predicate, timeout):
                self._changed.wait(remaining)

    def summary(self) -> pd.DataFrame:
        """One row per pair: newest candle date, its signals and tags, evaluation time, error."""
        latest, errors = self.latest, self.errors
        rows = []
        for pair in dict.fromkeys([*latest, *errors]):
            evaluation = latest.get(pair)
            error = errors.get(pair)
            row: dict[str, Any] = {"pair": pair}
            if evaluation is not None:
                row |= {"date": evaluation.date, **evaluation.signals}
                if self.max_signal_age is not None:
                    row |= {"age": evaluation.age, "expired": evaluation.expired}
                row |= {"enter_tag": evaluation.enter_tag, "exit_tag": evaluation.exit_tag}
                row |= {"evaluated_at": evaluation.evaluated_at}
            row["error"] = f"{type(error).__name__}: {error}" if error is not None else None
            rows.append(row)
        return pd.DataFrame(rows).set_index("pair") if rows else pd.DataFrame()

    # --- internals (the first two run on the consumer's thread: keep them short)

    def _on_update(self, update: Any) -> None:
        if getattr(update, "producer", self.producer_name) != self.producer_name:
            return
        if not getattr(update, "stored", True):
            return  # a gap or an empty frame: nothing new to evaluate
        self._enqueue(update.key.pair)

    def _on_whitelist(self, producer: str, pairs: list[str]) -> None:
        if producer != self.producer_name:
            return
        with self._changed:
            for pair in set(self._latest) - set(pairs):
                del self._latest[pair]
            for pair in set(self._errors) - set(pairs):
                del self._errors[pair]

    def _enqueue(self, pair: str) -> None:
        with self._changed:
            if pair in self._pending:
                return
            self._pending.add(pair)
        self._queue.put(pair)

    def _work(self, pairs: queue.SimpleQueue[Any]) -> None:
        # Its own queue, so a worker outliving stop() (a long evaluation) never takes pairs
        # meant for the next start()'s worker.
        while True:
            pair = pairs.get()
            if pair is _STOP or self._worker is not threading.current_thread():
                return
            with self._changed:
                # Cleared before evaluating, so an update arriving meanwhile queues it again.
                self._pending.discard(pair)
            try:
                self._evaluate(pair)
            except Exception:  # a bug of ours must not end live mode either
                log.exception("strategy runner: internal error evaluating %s", pair)

    def _evaluate(self, pair: str) -> None:
        started = time.perf_counter()
        try:
            frame = self.run(pair)
        except NoCandles:
            return  # the pair left the whitelist or has no data yet: nothing to evaluate
        except Exception as exc:
            self._failed(pair, exc)
            return
        evaluation = self.evaluation(pair, frame, time.perf_counter() - started)
        with self._changed:
            self._latest[pair] = evaluation
            self._errors.pop(pair, None)
            self._logged.pop(pair, None)
            self.evaluations += 1
            self._changed.notify_all()
        self.evaluated.emit(pair, frame)
        fired = (evaluation.date, tuple(evaluation.expired_signals))
        if evaluation.expired_signals and self._fired.get(pair) != fired:
            self._fired[pair] = fired
            event = self.expired if evaluation.expired else self.signal
            event.emit(pair, evaluation.row)

    def evaluation(self, pair: str, frame: pd.DataFrame, duration: float = 0.0) -> Evaluation:
        """The :class:`Evaluation` of a populated frame's newest candle, with its age and
        expiry by ``max_signal_age``."""
        evaluation = _evaluation(pair, frame, duration)
        if evaluation.date is None:
            return evaluation
        step = frame_timeframe_seconds(frame["date"]) if "date" in frame.columns else None
        if step is None:
            timeframe = getattr(self.strategy, "timeframe", None)
            step = float(timeframe_to_seconds(timeframe)) if isinstance(timeframe, str) else None
        date = evaluation.date if evaluation.date.tzinfo else evaluation.date.tz_localize("UTC")
        age = (evaluation.evaluated_at - date).total_seconds() - (step or 0.0)
        limit = max_age_seconds(self.max_signal_age, step)
        expired = limit is not None and age > limit
        return replace(evaluation, age=age, expired=expired)

    def _failed(self, pair: str, exc: Exception) -> None:
        text = "".join(traceback.format_exception_only(exc)).strip()
        with self._changed:
            self._errors[pair] = exc
            repeated = self._logged.get(pair) == text
            self._logged[pair] = text
            self._changed.notify_all()
        # Logged once per pair until it succeeds again or fails differently: a broken strategy
        # would otherwise log a traceback on every candle of every pair.
        if not repeated:
            log.error(
                "strategy %s failed on %s (runner.errors[%r] keeps it)",
                type(self.strategy).__name__,
                pair,
                pair,
                exc_info=exc,
            )
        self.failed.emit(pair, exc)

    def __repr__(self) -> str:
        latest, errors = self.latest, self.errors
        state = "live" if self.running else "stopped"
        newest = max((e.date for e in latest.values() if e.date is not None), default=None)
        signals = sum(bool(e.fired) for e in latest.values())
        return (
            f"<StrategyRunner {type(self.strategy).__name__}"
            f"({getattr(self.strategy, 'timeframe', '?')}) producer={self.producer_name!r} "
            f"{state} evaluated={len(latest)} signals={signals} errors={len(errors)}"
            f"{f' newest={newest}' if newest is not None else ''}>"
        )

    def _repr_html_(self) -> str:
        summary = self.summary()
        table = summary.to_html() if not summary.empty else "<p>nothing evaluated yet</p>"
        return f"<p>{escape(repr(self))}</p>{table}"


def _instantiate(cls: type) -> Any:
    try:
        return cls()
    except TypeError as exc:
        # A Freqtrade IStrategy wants its config: the user has to build that one.
        raise TypeError(
            f"cannot create {cls.__name__}() without arguments ({exc}); pass an instance "
            f"instead, e.g. StrategyRunner({cls.__name__}(config), consumer)"
        ) from exc


def _evaluation(pair: str, frame: pd.DataFrame, duration: float) -> Evaluation:
    row = frame.iloc[-1]
    signals = {
        name: bool(pd.notna(row[name]) and row[name] == 1)
        for name in SIGNAL_COLUMNS
        if name in frame.columns
    }
    date = row.get("date")
    return Evaluation(
        pair=pair,
        date=pd.Timestamp(date) if date is not None and pd.notna(date) else None,
        signals=signals,
        enter_tag=_tag(row.get("enter_tag")),
        exit_tag=_tag(row.get("exit_tag")),
        evaluated_at=datetime.now(UTC),
        duration=duration,
        rows=len(frame),
        row=row,
    )


def _tag(value: Any) -> str | None:
    # Freqtrade treats a non-string or "nan" tag as no tag.
    return value if isinstance(value, str) and value not in ("", "nan") else None
