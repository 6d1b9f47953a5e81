"""``pc.backtest``: a consumer strategy backtested on producer data with Freqtrade's rules."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..strategy.parameters import apply_params
from .engine import PairData, SimResult, monthly_ticks, prepare_pair, simulate, trades_frame
from .export import to_freqtrade
from .metrics import compute_metrics, market_change, settings_metrics, wallet_history
from .report import Summary, summary
from .settings import ResolvedSettings, resolve
from .signals import FramesSource, PairFailure, analyze_pair, load_frames

__all__ = ["BacktestResult", "backtest", "parse_timerange", "repaint_report"]

_EPOCH = datetime.fromtimestamp(0, UTC)


def parse_timerange(timerange: str | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Freqtrade's timerange syntax: ``"20261101-20261120"``, ``"20261101-"``, ``"-20261120"``
    (dates, or unix seconds); the stop is inclusive as in Freqtrade's trimming."""
    if not timerange:
        return None, None
    if "-" not in timerange:
        raise ValueError(f"timerange {timerange!r}: use START-STOP, e.g. '20261101-20261120'")
    start_text, stop_text = timerange.split("-", 1)

    def parse(text: str) -> pd.Timestamp | None:
        if not text:
            return None
        if len(text) == 8 and text.isdigit():
            return pd.Timestamp(datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC))
        if len(text) == 14 and text.isdigit():
            return pd.Timestamp(datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC))
        if text.isdigit():
            value = int(text)
            return pd.Timestamp(value // 1000 if len(text) == 13 else value, unit="s", tz="UTC")
        raise ValueError(f"timerange {timerange!r}: cannot read {text!r} as a date")

    return parse(start_text), parse(stop_text)


class BacktestResult:
    """What :func:`backtest` returns.

    Attributes:

    * ``trades``: one row per trade, Freqtrade's backtest result columns and dtypes
      (``BT_DATA_COLUMNS`` of ``freqtrade.data.btanalysis``: ``pair``, ``stake_amount``,
      ``amount``, ``open_date``, ``close_date``, ``open_rate``, ``close_rate``, ``fee_open``,
      ``fee_close``, ``trade_duration``, ``profit_ratio``, ``profit_abs``, ``exit_reason``,
      ``is_open``, ``enter_tag``, ...), in the order Freqtrade records them;
    * ``metrics``: Freqtrade's backtest metrics by name (``total_trades``, ``profit_total``,
      ``max_drawdown_account``, ``sharpe``, ...), computed on first access;
    * ``errors``: ``{pair: message}`` for pairs that could not be backtested (the rest were);
    * ``timings``: ``{"signals": seconds, "simulation": seconds}``;
    * ``frames``: ``{pair: analyzed frame with signals}``, the frames that were simulated;
    * ``settings``: the resolved values (``stake_currency``, ``dry_run_wallet``,
      ``starting_balance``, ``stake_amount``, ``max_open_trades``, ``minimal_roi``,
      ``stoploss``, ``trailing_*``, ``fee``, ``timeframe``, ``strategy``, ...);
    * ``start`` / ``end``: the backtest range (first and last candle simulated; the Unix epoch
      when no pair could be backtested);
    * ``strategy_name``; ``rejected_signals`` (entries refused for lack of a trade slot);
      ``final_balance``; ``pairs`` (in Freqtrade's pair order);
    * ``left_open``: trades still open at the end whose forced exit could not fill (the last
      open, rounded to the entry month's price tick, lies outside the last candle): Freqtrade
      leaves them out of its results, and so does ``trades``; rare, and only with prices that
      gain digits from one month to the next.

    Methods: :meth:`summary` (Freqtrade's report tables), :meth:`plot`, :meth:`to_freqtrade`,
    and :meth:`resimulate` (new settings, same signals: for parameter sweeps).
    """

    def __init__(
        self,
        *,
        trades: pd.DataFrame,
        errors: dict[str, str],
        timings: dict[str, float],
        frames: dict[str, pd.DataFrame],
        settings: dict[str, Any],
        start: datetime,
        end: datetime,
        strategy_name: str,
        rejected_signals: int,
        final_balance: float,
        pairs: list[str],
        left_open: pd.DataFrame,
        prepared: list[PairData],
        resolved: ResolvedSettings,
        stake_currency: str,
        strategy: Any,
        market: dict[str, pd.DataFrame] | None = None,
    ) -> None:
        self.trades = trades
        self.errors = errors
        self.timings = timings
        self.frames = frames
        self.settings = settings
        self.start = start
        self.end = end
        self.strategy_name = strategy_name
        self.rejected_signals = rejected_signals
        self.final_balance = final_balance
        self.pairs = pairs
        self.left_open = left_open
        self._prepared = prepared
        self._resolved = resolved
        self._stake_currency = stake_currency
        self._strategy = strategy
        # the candles of each pair up to the end, startup candles included: Freqtrade's market
        # change is computed on the loaded candles from the backtest's start
        self._market = market if market is not None else frames
        self._metrics: dict[str, Any] | None = None

    @property
    def metrics(self) -> dict[str, Any]:
        """Freqtrade's backtest statistics (computed once): the keys of the ``strategy`` entry
        of Freqtrade's result file (``generate_strategy_stats``), ``wallet_stats`` and the
        reported settings included; only the trade list, the locks and the run's wall-clock
        times are left out."""
        if self._metrics is None:
            # Freqtrade reports the dry-run wallet as the starting balance (not the tradable part)
            starting_balance = float(self.settings["dry_run_wallet"])
            timeframe = str(self.settings["timeframe"])
            reported = dict(self.settings)
            slots = reported.get("max_open_trades", -1)
            if isinstance(slots, float) and slots.is_integer():
                reported["max_open_trades"] = int(slots)  # as given (an int), not the float
            wallet = wallet_history(
                self.trades,
                self.frames,
                starting_balance=starting_balance,
                stake_currency=self._stake_currency,
                start=self.start,
                end=self.end,
                timeframe=timeframe,
                pairs=self.pairs,
            )
            computed = compute_metrics(
                self.trades,
                starting_balance=starting_balance,
                stake_currency=self._stake_currency,
                start=self.start,
                end=self.end,
                market_change=market_change(self._market, min_date=self.start),
                max_open_trades=reported["max_open_trades"],
                pairs=self.pairs,
                final_balance=self.final_balance,
                rejected_signals=self.rejected_signals,
                wallet=wallet,
            )
            computed.update(settings_metrics(reported, strategy_name=self.strategy_name))
            self._metrics = computed
        return self._metrics

    def summary(self) -> Summary:
        """Freqtrade's backtest report tables (per pair, exit reasons, totals, failed pairs):
        text when printed, HTML in a notebook."""
        return summary(self)

    def plot(self, pair: str, **kwargs: Any) -> Any:
        """Candles, indicators, each trade's entry and exit, equity and drawdown."""
        from .plot import plot_backtest  # matplotlib, imported when a plot is asked for

        return plot_backtest(self, pair, **kwargs)

    def to_freqtrade(self, directory: str | Path) -> Path:
        """Write Freqtrade's backtest result files (for ``backtesting-show`` and FreqUI);
        returns the zip's path."""
        return to_freqtrade(self, directory)

    def resimulate(self, **overrides: Any) -> BacktestResult:
        """The same signals simulated with other trading settings (``stoploss=``,
        ``minimal_roi=``, ``stake_amount=`` ...): no strategy call, only the simulation, so a
        parameter sweep can call it thousands of times.

        >>> for stoploss in (-0.02, -0.05, -0.1):             # doctest: +SKIP
        ...     print(stoploss, result.resimulate(stoploss=stoploss).trades.profit_abs.sum())
        """
        resolved = resolve(self._strategy, None, {**_explicit(self._resolved.values), **overrides})
        started = time.perf_counter()
        outcome = simulate(
            self._prepared, resolved.sim, resolved.callbacks, stake_currency=self._stake_currency
        )
        trades = trades_frame(outcome.trades)
        elapsed = time.perf_counter() - started
        return _result(
            self._strategy,
            resolved,
            self._prepared,
            self.frames,
            self.errors,
            trades,
            outcome,
            self._stake_currency,
            {"signals": 0.0, "simulation": elapsed},
            self._market,
        )

    def __repr__(self) -> str:
        trades = len(self.trades)
        profit = float(self.trades["profit_abs"].sum()) if trades else 0.0
        span = (
            f"{self.start:%Y-%m-%d %H:%M} .. {self.end:%Y-%m-%d %H:%M}"
            if self.pairs
            else "no candles"
        )
        errors = f", {len(self.errors)} pair(s) failed" if self.errors else ""
        return (
            f"<BacktestResult {self.strategy_name} {span}: {trades} trades on "
            f"{len(self.pairs)} pairs, profit {profit:.8g} {self._stake_currency}{errors}>"
        )

    def _repr_html_(self) -> str:
        parts = [f"<p>{escape(repr(self))}</p>"]
        if self.errors:
            items = "".join(
                f"<li><b>{escape(p)}</b>: {escape(m)}</li>" for p, m in self.errors.items()
            )
            parts.append(f"<ul>{items}</ul>")
        if len(self.trades):
            columns = [
                "pair",
                "open_date",
                "close_date",
                "open_rate",
                "close_rate",
                "profit_ratio",
                "profit_abs",
                "exit_reason",
            ]
            parts.append(self.trades[columns].tail(20).to_html(index=False))
        return "".join(parts)


def _instantiate(strategy: Any, config: dict[str, Any]) -> Any:
    if not isinstance(strategy, type):
        return strategy
    try:
        return strategy()
    except TypeError:
        try:
            return strategy(config)
        except TypeError as exc:
            raise TypeError(
                f"cannot create {strategy.__name__}: pass an instance instead ({exc})"
            ) from exc


def _trim(
    frame: pd.DataFrame,
    start: pd.Timestamp | None,
    stop: pd.Timestamp | None,
    startup: int,
) -> pd.DataFrame:
    # Freqtrade loads the timerange plus startup candles, analyzes, then cuts the startup off;
    # here the whole frame is analyzed (indicators warm up on everything before ``start``).
    if start is not None:
        frame = frame.loc[frame["date"] >= start]
    elif startup:
        frame = frame.iloc[startup:]
    if stop is not None:
        frame = frame.loc[frame["date"] <= stop]
    return frame


def backtest(
    strategy: Any,
    data: Any,
    config: Mapping[str, Any] | str | Path | None = None,
    params: Mapping[str, Any] | None = None,
    timerange: str | None = None,
    mode: str = "history",
    *,
    candles: Mapping[str, pd.DataFrame] | None = None,
    tick_cache: dict[Any, Any] | None = None,
    **overrides: Any,
) -> BacktestResult:
    """Backtest a consumer strategy on producer data, with Freqtrade 2026.9's backtesting rules
    (spot, long).

    ``strategy``: a strategy class or instance (ours or a Freqtrade ``IStrategy`` subclass).
    ``data``: a ``Consumer`` / ``AsyncConsumer`` (its current frames), a ``Snapshot``, a
    recording path, a source string as :func:`~producerconsumer.open_source` takes
    (``"replay:..."``, ``"snapshot:..."``), or ``{pair: producer frame}``.
    ``config``: a Freqtrade config (dict or JSON file); only the backtest's keys are read.
    ``params``: strategy parameter values. ``timerange``: ``"20261101-20261120"``.
    ``mode``: ``"history"`` or ``"as_seen"`` (recordings; see :mod:`.signals`).
    ``candles``: ``{pair: OHLCV frame}``, the consumer's own candles (default: the producer
    frame's OHLCV). ``overrides``: any config key as a keyword (``stake_amount=100``).
    ``tick_cache``: for parameter sweeps (``pc.hyperopt`` keeps one per study and process), a
    dict kept across calls on the same ``data``, ``candles`` and timerange: each pair's price
    ticks, derived from its candles, are computed on the first call and reused.

    Freqtrade's precedence: a config key or keyword beats the strategy's attribute, which beats
    Freqtrade's default. Options and callbacks this backtest does not implement raise
    :class:`~producerconsumer.backtest.settings.BacktestConfigError` naming them.

    The market: no amount precision and no minimum stake (amounts are not rounded); prices are
    rounded to the tick Freqtrade derives from the candles' digits per month (or
    ``price_precision`` where the candles give none). A pair that fails (bad candles, the
    strategy raising) is reported in ``result.errors``; the others are still backtested.
    """
    given = dict(overrides)
    if timerange is not None:
        given["timerange"] = timerange
    config_dict = dict(config) if isinstance(config, Mapping) else None
    instance = _instantiate(strategy, config_dict or {})
    if params:
        apply_params(instance, params)
    resolved = resolve(instance, config, given)
    values = resolved.values
    start_at, stop_at = parse_timerange(values.get("timerange"))
    startup = int(values.get("startup_candle_count") or 0)

    started = time.perf_counter()
    producer_frames, _ = load_frames(data, mode)
    source = FramesSource(producer_frames)
    pairs = list(producer_frames)
    errors: dict[str, str] = {}
    analyzed: dict[str, pd.DataFrame] = {}
    market: dict[str, pd.DataFrame] = {}
    prepared: list[PairData] = []
    bot_start = getattr(instance, "bot_start", None)
    if callable(bot_start):
        bot_start()
    for pair in pairs:
        try:
            if candles is not None:
                if pair not in candles:
                    raise PairFailure(pair, "no candles given for this pair (candles=)")
                pair_candles = candles[pair]
            else:
                pair_candles = producer_frames[pair]
                missing = [
                    c for c in ("date", "open", "high", "low", "close") if c not in pair_candles
                ]
                if missing:
                    raise PairFailure(
                        pair,
                        f"the producer frame lacks {missing}: pass candles= with the "
                        "consumer's own OHLCV",
                    )
                pair_candles = pair_candles.loc[
                    :,
                    [
                        c
                        for c in ("date", "open", "high", "low", "close", "volume")
                        if c in pair_candles
                    ],
                ]
            done = analyze_pair(instance, pair, pair_candles, source, lambda: pairs)
            trimmed = _trim(done.frame, start_at, stop_at, startup)
            loaded = _trim(done.candles, None, stop_at, 0)
            ticks = tick_cache.get((pair, stop_at)) if tick_cache is not None else None
            if ticks is None:
                ticks = monthly_ticks(loaded)
                if tick_cache is not None:
                    tick_cache[(pair, stop_at)] = ticks
            prepared.append(prepare_pair(pair, trimmed, ticks, resolved.sim.price_precision))
            analyzed[pair] = trimmed
            market[pair] = loaded
        except PairFailure as exc:
            errors[pair] = exc.message
        except Exception as exc:  # anything else: report it for this pair, keep the others
            errors[pair] = f"{type(exc).__name__}: {exc}"
    signals_time = time.perf_counter() - started

    started = time.perf_counter()
    currency = str(values.get("stake_currency") or "")
    if not currency:
        # Freqtrade requires it; the pairs' quote currency when they share one
        quotes = {p.split("/")[1].split(":")[0] for p in pairs if "/" in p}
        currency = quotes.pop() if len(quotes) == 1 else ""
        values["stake_currency"] = currency
    outcome: SimResult = simulate(
        prepared, resolved.sim, resolved.callbacks, stake_currency=currency
    )
    trades = trades_frame(outcome.trades)
    simulation_time = time.perf_counter() - started
    return _result(
        instance,
        resolved,
        prepared,
        analyzed,
        errors,
        trades,
        outcome,
        currency,
        {"signals": signals_time, "simulation": simulation_time},
        market,
    )


def _result(
    instance: Any,
    resolved: ResolvedSettings,
    prepared: list[PairData],
    analyzed: dict[str, pd.DataFrame],
    errors: dict[str, str],
    trades: pd.DataFrame,
    outcome: SimResult,
    currency: str,
    timings: dict[str, float],
    market: dict[str, pd.DataFrame],
) -> BacktestResult:
    live = [p for p in prepared if len(p)]
    # Without any candle simulated (every pair failed), the range is the Unix epoch.
    start = (
        datetime.fromtimestamp(min(p.first_date for p in prepared if p.first_date >= 0) / 1e9, UTC)
        if any(p.first_date >= 0 for p in prepared)
        else _EPOCH
    )
    end = datetime.fromtimestamp(max(int(p.dates[-1]) for p in live) / 1e9, UTC) if live else start
    return BacktestResult(
        trades=trades,
        errors=errors,
        timings=timings,
        frames=analyzed,
        settings=dict(resolved.values),
        start=start,
        end=end,
        strategy_name=str(resolved.values.get("strategy") or type(instance).__name__),
        rejected_signals=outcome.rejected_signals,
        final_balance=outcome.final_balance,
        pairs=[p.pair for p in prepared],
        left_open=trades_frame(outcome.left_open),
        prepared=prepared,
        resolved=resolved,
        stake_currency=currency,
        strategy=instance,
        market=market,
    )


def _explicit(values: Mapping[str, Any]) -> dict[str, Any]:
    skip = {"starting_balance", "strategy"}
    out = {k: v for k, v in values.items() if k not in skip}
    if out.get("max_open_trades") == np.inf:
        out["max_open_trades"] = -1
    return out


def repaint_report(recording: str | Path) -> pd.DataFrame:
    """Per pair and column: how many candles differ between as-seen (what the consumer first
    received) and history (the frames the recording ends with), the largest difference, and
    the first date that differs. Columns compared: those present in both."""
    history = load_frames(recording, "history")[0]
    seen = load_frames(recording, "as_seen")[0]
    rows: list[dict[str, Any]] = []
    for pair, final in history.items():
        first = seen.get(pair)
        if first is None or final.empty:
            continue
        merged = final.merge(first, on="date", how="inner", suffixes=("_history", "_seen"))
        for column in final.columns:
            if column == "date" or column not in first.columns:
                continue
            a = merged[f"{column}_history"]
            b = merged[f"{column}_seen"]
            both_na = a.isna() & b.isna()
            numeric = pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b)
            if numeric:
                differs = ~both_na & ~(a == b)
                diff = (a.astype("float64") - b.astype("float64")).abs()
                largest = float(diff[differs].max()) if differs.any() else 0.0
            else:
                differs = ~both_na & (a.astype(object) != b.astype(object))
                largest = float("nan")
            count = int(differs.sum())
            rows.append(
                {
                    "pair": pair,
                    "column": column,
                    "candles": len(merged),
                    "differing": count,
                    "largest_difference": largest,
                    "first_date": merged.loc[differs, "date"].min() if count else pd.NaT,
                }
            )
    columns = ["pair", "column", "candles", "differing", "largest_difference", "first_date"]
    return pd.DataFrame(rows, columns=columns)
