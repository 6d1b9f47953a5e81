"""An ``IStrategy``-like base class, the ``dp`` data provider shim, and :func:`analyze`.

A Freqtrade consumer strategy subclasses ``IStrategy`` and reads the producer through
``self.dp.get_producer_df(pair)``. Here ``dp`` is a :class:`DataProvider` reading from anything
with that interface: a live :class:`~producerconsumer.Consumer`, an
:class:`~producerconsumer.AsyncConsumer`, a snapshot or a test double::

    class MyStrategy(IStrategy):
        timeframe = "5m"

        def populate_indicators(self, dataframe, metadata):
            producer, _ = self.dp.get_producer_df(metadata["pair"])
            ...
            return dataframe

    strategy = MyStrategy()
    strategy.dp = DataProvider(consumer)
    frame = strategy.analyze(candles, "BTC/USDT")

:func:`analyze` runs the three ``populate_*`` methods the way Freqtrade's ``analyze_ticker``
does, and works on any object with those methods, including a real Freqtrade ``IStrategy``.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Protocol

import pandas as pd

from .parameters import apply_params, iter_parameters

__all__ = ["DataProvider", "IStrategy", "ProducerSource", "RunMode", "StrategyError", "analyze"]


class ProducerSource(Protocol):
    """What a :class:`DataProvider` reads: the two producer calls of Freqtrade's own."""

    def get_producer_df(
        self,
        pair: str,
        timeframe: str | None = None,
        candle_type: str | None = None,
        producer_name: str = "default",
    ) -> tuple[pd.DataFrame, datetime]: ...

    def get_producer_pairs(self, producer_name: str = "default") -> list[str]: ...


class RunMode(enum.Enum):
    """Freqtrade's run modes (``self.dp.runmode.value`` is what strategies compare)."""

    LIVE = "live"
    DRY_RUN = "dry_run"
    BACKTEST = "backtest"
    HYPEROPT = "hyperopt"
    UTIL_EXCHANGE = "util_exchange"
    UTIL_NO_EXCHANGE = "util_no_exchange"
    PLOT = "plot"
    WEBSERVER = "webserver"
    OTHER = "other"


class StrategyError(Exception):
    """The strategy returned something Freqtrade would refuse (wrong length, changed candles)."""


class DataProvider:
    """``self.dp`` of a strategy: Freqtrade's producer calls, served by ``source``.

    ``get_producer_df`` and ``get_producer_pairs`` have Freqtrade's signatures and defaults
    (``producer_name="default"``, whatever the runner's producer is, as in Freqtrade).
    ``current_whitelist()`` is the consumer's own pair list: ``whitelist()`` if given, else the
    producer's pairs of ``producer_name``. ``runmode`` is :attr:`RunMode.OTHER`: nothing trades
    here, and strategies that branch on live / dry-run usually reach for exchange data that a
    notebook does not have.

    >>> strategy.dp = DataProvider(consumer)                 # doctest: +SKIP
    >>> strategy.dp.get_producer_pairs()                     # doctest: +SKIP
    ['BTC/USDT', 'ETH/USDT']
    """

    runmode: RunMode = RunMode.OTHER

    def __init__(
        self,
        source: ProducerSource,
        producer_name: str = "default",
        whitelist: Callable[[], list[str]] | None = None,
    ) -> None:
        self.source = source
        self.producer_name = producer_name
        self._whitelist = whitelist

    def get_producer_df(
        self,
        pair: str,
        timeframe: str | None = None,
        candle_type: str | None = None,
        producer_name: str = "default",
    ) -> tuple[pd.DataFrame, datetime]:
        """``(copy of the producer's analyzed frame, last_analyzed)``; empty if none."""
        return self.source.get_producer_df(pair, timeframe, candle_type, producer_name)

    def get_producer_pairs(self, producer_name: str = "default") -> list[str]:
        """The producer's whitelist (``[]`` if none yet)."""
        return self.source.get_producer_pairs(producer_name)

    def current_whitelist(self) -> list[str]:
        """The pairs this consumer evaluates."""
        if self._whitelist is not None:
            return list(self._whitelist())
        return self.source.get_producer_pairs(self.producer_name)

    def __repr__(self) -> str:
        return f"DataProvider({type(self.source).__name__}, producer_name={self.producer_name!r})"


class IStrategy:
    """Base class for Freqtrade-style strategies, without Freqtrade.

    Override ``populate_indicators``, ``populate_entry_trend`` and ``populate_exit_trend``
    (``populate_buy_trend`` / ``populate_sell_trend`` still work, as in Freqtrade). Trading
    settings (``minimal_roi``, ``stoploss``, ``trailing_stop``, order types ...) are accepted and
    ignored: nothing trades here. ``process_only_new_candles`` is ignored too: a
    :class:`~producerconsumer.strategy.StrategyRunner` evaluates when the producer sends data.

    Parameters (:class:`~producerconsumer.strategy.IntParameter` ...) are copied per instance,
    so ``strategy.buy_rsi.value = 35`` or ``MyStrategy(params={"buy_rsi": 35})`` affects that
    instance only. ``buy_params`` / ``sell_params`` (``{space}_params``) class dicts set initial
    values as Freqtrade loads them.

    >>> class Mine(IStrategy):                               # doctest: +SKIP
    ...     buy_rsi = IntParameter(1, 50, default=30, space="buy")
    >>> Mine(params={"buy_rsi": 35}).buy_rsi.value           # doctest: +SKIP
    35
    """

    INTERFACE_VERSION: ClassVar[int] = 3
    timeframe: str = "5m"
    process_only_new_candles: bool = True
    startup_candle_count: int = 0
    can_short: bool = False
    minimal_roi: ClassVar[dict[str, float]] = {}
    stoploss: float = -0.10
    dp: DataProvider | None = None

    def __init__(
        self, config: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None
    ) -> None:
        self.config: dict[str, Any] = dict(config or {})
        for name, parameter in iter_parameters(type(self)):
            own = copy.copy(parameter)
            own.name = name
            if own.space is None:
                own.space = next((s for s in ("buy", "sell") if name.startswith(s + "_")), None)
            space_values = getattr(self, f"{own.space}_params", None) if own.space else None
            if own.load and isinstance(space_values, Mapping) and name in space_values:
                own.value = space_values[name]
            setattr(self, name, own)
        if params:
            apply_params(self, params)

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        """Add indicator columns; return the frame (same rows)."""
        return dataframe

    def populate_buy_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        """Deprecated in Freqtrade: the default ``populate_entry_trend`` calls it."""
        return dataframe

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        """Set ``enter_long`` / ``enter_short`` (and ``enter_tag``) where entering."""
        return self.populate_buy_trend(dataframe, metadata)

    def populate_sell_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        """Deprecated in Freqtrade: the default ``populate_exit_trend`` calls it."""
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        """Set ``exit_long`` / ``exit_short`` (and ``exit_tag``) where exiting."""
        return self.populate_sell_trend(dataframe, metadata)

    def informative_pairs(self) -> list[tuple[str, str]]:
        """Freqtrade's hook for extra data; not used here."""
        return []

    def bot_start(self, **kwargs: Any) -> None:
        """Called once when a runner attaches the strategy (as Freqtrade does at bot start)."""

    def analyze(self, dataframe: pd.DataFrame, pair: str) -> pd.DataFrame:
        """:func:`analyze` with this strategy."""
        return analyze(self, dataframe, pair)

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={p.value!r}" for name, p in iter_parameters(self))
        return (
            f"<{type(self).__name__} timeframe={self.timeframe!r}{', ' if values else ''}{values}>"
        )


def _identity(dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
    return dataframe


def _method(strategy: object, *names: str) -> Callable[[pd.DataFrame, dict], pd.DataFrame]:
    for name in names:
        method = getattr(strategy, name, None)
        if callable(method):
            return method
    return _identity


def analyze(strategy: object, dataframe: pd.DataFrame, pair: str) -> pd.DataFrame:
    """Run a strategy's ``populate_*`` methods on ``dataframe`` (candles) as Freqtrade does.

    As Freqtrade's ``analyze_ticker``: ``metadata = {"pair": pair}``; ``populate_indicators``;
    ``enter_tag`` set to ``""`` then ``populate_entry_trend``; ``exit_tag`` set to ``""`` then
    ``populate_exit_trend``; legacy ``buy`` / ``buy_tag`` / ``sell`` columns renamed when the new
    ones are absent. Like Freqtrade's result validator, the returned frame must keep the input's
    length, last date and last close (:class:`StrategyError` otherwise). ``dataframe`` may be
    modified in place, as in Freqtrade; pass a copy to keep it.

    ``strategy`` only needs the ``populate_*`` methods it uses (duck typing), so a real
    Freqtrade ``IStrategy`` runs the same way.
    """
    metadata = {"pair": pair}
    expected = _fingerprint(dataframe)
    frame = _method(strategy, "populate_indicators")(dataframe, metadata)
    # Set before the entry/exit methods, as Freqtrade does (a pandas bug workaround there, and
    # strategies rely on the column existing).
    frame.loc[:, "enter_tag"] = ""
    frame = _method(strategy, "populate_entry_trend", "populate_buy_trend")(frame, metadata)
    if "enter_long" not in frame.columns and {"buy", "buy_tag"} & set(frame.columns):
        if "buy_tag" in frame.columns:
            # Freqtrade renames onto the "" column it added and ends up with two enter_tag
            # columns; the strategy's own tags replace it instead.
            frame = frame.drop(columns="enter_tag")
        frame = frame.rename({"buy": "enter_long", "buy_tag": "enter_tag"}, axis="columns")
    frame.loc[:, "exit_tag"] = ""
    frame = _method(strategy, "populate_exit_trend", "populate_sell_trend")(frame, metadata)
    if "exit_long" not in frame.columns and "sell" in frame.columns:  # (rename copies)
        frame = frame.rename({"sell": "exit_long"}, axis="columns")
    _check_result(strategy, frame, expected)
    return frame


def _fingerprint(dataframe: pd.DataFrame) -> tuple[int, Any, Any]:
    if dataframe.empty:
        return 0, None, None
    last = dataframe.iloc[-1]
    return len(dataframe), last.get("date"), last.get("close")


def _check_result(strategy: object, frame: object, expected: tuple[int, Any, Any]) -> None:
    name = type(strategy).__name__
    if not isinstance(frame, pd.DataFrame):
        raise StrategyError(
            f"{name}: a populate_* method returned {type(frame).__name__}, not the DataFrame"
        )
    got = _fingerprint(frame)
    for what, want, have in zip(("length", "last date", "last close"), expected, got, strict=True):
        if not _same(want, have):
            raise StrategyError(
                f"{name} returned a dataframe with a different {what} ({have!r} instead of "
                f"{want!r}); populate_* methods must keep the candles' rows (Freqtrade refuses "
                "such a dataframe too)"
            )


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return bool(a == b) or (pd.isna(a) and pd.isna(b))
