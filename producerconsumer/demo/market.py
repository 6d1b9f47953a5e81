"""A deterministic synthetic market: OHLCV candles that are a pure function of their date.

Every candle is computed from ``(seed, pair, timeframe, candle date)`` alone, with no state and
no random generator that has to be advanced: the same candle comes out whenever and however often
it is asked for, so two producers (or a producer and a replay) started at different times agree on
every date they share.

The log price is fractal value noise: a sum of smoothly interpolated pseudo-random lattice values
at scales from one minute to about six weeks, with amplitudes growing like the square root of the
scale (as a random walk's do). That looks like a market (trends, pullbacks, quiet and busy
stretches) but, unlike a random walk, it can be evaluated at any date directly and stays within
roughly ±50 % of the pair's base price forever.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from ..columns import OHLCV_COLUMNS
from ..timeframes import timeframe_to_seconds

__all__ = ["OHLCV_COLUMNS", "SyntheticMarket", "last_closed_candle", "timeframe_seconds"]

# Weekly candles open on Mondays (as exchanges do); the Unix epoch was a Thursday.
_WEEK_OFFSET = 4 * 86400

# Known base prices in USD; other base assets get a price derived from their name.
_BASE_PRICES = {"BTC": 65000.0, "ETH": 3400.0, "SOL": 150.0, "BNB": 600.0}
# Daily volatility of the log price, and the noise octaves: 60 s * 2**k for k < _OCTAVES.
_DAILY_VOL = 0.03
_OCTAVES = 16
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _pump_and_fade() -> tuple[np.ndarray, np.ndarray]:
    """The motif's log-price path in units of a typical candle move, one knot per candle."""
    # Rally 12 x 2, one drop of 3, then 12 pairs of (-1, +0.8): tuned so that most motifs give an
    # exit signal even with the pre-motif noise (about 5 exits per 1500 candles on any timeframe).
    steps = [2.0] * 12 + [-3.0] + [-1.0, 0.8] * 12
    return np.arange(len(steps) + 1, dtype=np.float64), np.concatenate([[0.0], np.cumsum(steps)])


_MOTIF_X, _MOTIF_Y = _pump_and_fade()
_MOTIF_SPAN = float(_MOTIF_X[-1])
_MOTIF_FADE = 12.0
_MOTIF_PERIOD = 150


def timeframe_seconds(timeframe: str) -> int:
    """Seconds per candle: ``1m``, ``5m``, ``1h``, ``4h``, ``1d``, ``1w`` and the like.

    Months and years have no fixed length and are not supported by the synthetic market.
    """
    if isinstance(timeframe, str) and timeframe[-1:] in ("M", "y"):
        raise ValueError(
            f"unsupported timeframe {timeframe!r}: use minutes, hours, days or weeks "
            "such as '1m', '5m', '1h', '4h', '1d', '1w'"
        )
    return timeframe_to_seconds(timeframe)


def _alignment(timeframe: str) -> int:
    return _WEEK_OFFSET if timeframe.endswith("w") else 0


def last_closed_candle(timeframe: str, now: datetime | None = None) -> pd.Timestamp:
    """Open date of the last candle that has closed at ``now`` (default: the current time).

    The candle that is still forming is excluded, as Freqtrade drops it from analyzed frames.
    """
    seconds = timeframe_seconds(timeframe)
    offset = _alignment(timeframe)
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    epoch = int(now.timestamp())
    current_open = (epoch - offset) // seconds * seconds + offset
    return pd.Timestamp(current_open - seconds, unit="s", tz="UTC")


def _splitmix(values: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser over a uint64 array: a fast, well-mixed, portable integer hash."""
    with np.errstate(over="ignore"):
        z = (values + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
        return z ^ (z >> np.uint64(31))


def _uniform(key: np.uint64, stream: int, n: np.ndarray) -> np.ndarray:
    """Deterministic uniforms in [0, 1) for lattice points ``n`` of one (key, stream)."""
    with np.errstate(over="ignore"):
        mixed = _splitmix(np.uint64(key) ^ _splitmix(np.asarray([stream], dtype=np.uint64)))
        h = _splitmix(n.astype(np.int64).view(np.uint64) ^ mixed)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _stable_hash(*parts: object) -> int:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def base_price(pair: str) -> float:
    """The price level a pair oscillates around: known for BTC and ETH, else from its name.

    Only the base asset counts (``ETH/BTC`` is priced like ``ETH/USDT``): prices are rounded to
    two decimals, so quotes in BTC could not be represented anyway.
    """
    base = pair.split("/")[0].split(":")[0].upper()
    if base in _BASE_PRICES:
        return _BASE_PRICES[base]
    # 5 ... 500, log-uniform: high enough that two decimals still resolve each candle's move.
    fraction = _stable_hash("price", base) / 2.0**64
    return round(5.0 * 100.0**fraction, 2)


class SyntheticMarket:
    """Deterministic OHLCV for any pair at one timeframe.

    >>> market = SyntheticMarket(seed=0, timeframe="5m")
    >>> df = market.history("BTC/USDT", 1500)      # the last 1500 closed candles
    >>> market.candles("BTC/USDT", df["date"].iloc[-1], 3)  # that candle and the next two

    Prices have two decimals and volumes five; ``high >= max(open, close)``,
    ``low <= min(open, close)``, every open is the previous candle's close and volume is > 0.
    """

    def __init__(self, seed: int = 0, timeframe: str = "5m") -> None:
        self.seed = int(seed)
        self.timeframe = timeframe
        self.seconds = timeframe_seconds(timeframe)
        self._offset = _alignment(timeframe)

    def __repr__(self) -> str:
        return f"SyntheticMarket(seed={self.seed}, timeframe={self.timeframe!r})"

    def last_closed(self, now: datetime | None = None) -> pd.Timestamp:
        """Open date of the last closed candle at ``now`` (default: the current time)."""
        return last_closed_candle(self.timeframe, now)

    def history(self, pair: str, count: int, end: datetime | None = None) -> pd.DataFrame:
        """The ``count`` candles up to and including the last one closed at ``end`` (now)."""
        last = self.last_closed(end)
        first = last - pd.Timedelta(seconds=self.seconds * (count - 1))
        return self.candles(pair, first, count)

    def candles(self, pair: str, start: datetime | pd.Timestamp, count: int) -> pd.DataFrame:
        """``count`` consecutive candles, the first opening at ``start`` (aligned to the
        timeframe), as a frame with ``date, open, high, low, close, volume`` and a RangeIndex."""
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        first = pd.Timestamp(start)
        if first.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        epoch = int(first.timestamp())
        if (epoch - self._offset) % self.seconds:
            raise ValueError(f"{first} is not a {self.timeframe} candle open date")
        opens = epoch + self.seconds * np.arange(count, dtype=np.int64)
        return self._ohlcv(pair, opens)

    # --- the price model

    def _noise(self, key: np.uint64, times: np.ndarray) -> np.ndarray:
        """Fractal value noise of the log price at epoch-seconds ``times``."""
        total = np.zeros(len(times))
        for octave in range(_OCTAVES):
            scale = 60 << octave
            amplitude = _DAILY_VOL * np.sqrt(scale / 86400.0)
            cell = times // scale
            frac = (times - cell * scale) / scale
            ease = frac * frac * (3.0 - 2.0 * frac)  # smoothstep: no kinks at lattice points
            left = _uniform(key, octave, cell)
            right = _uniform(key, octave, cell + 1)
            total += amplitude * 2.0 * (left + (right - left) * ease - 0.5)
        return total

    def _log_price(self, key: np.uint64, times: np.ndarray) -> np.ndarray:
        """Log price (relative to the base price) at epoch-seconds ``times``.

        Noise alone makes the docs' exit signal (RSI crossing 70 while TEMA falls) very rare:
        about one per 1500 candles. So once per ``_MOTIF_PERIOD`` candles, at a pseudo-random
        position, the noise is frozen and a pump-and-fade is played instead: a rally that lifts
        RSI far above 70, then small down/up steps that let it drift back through 70 while TEMA
        unwinds its overshoot. Then the price blends back into the noise.
        """
        noise = self._noise(key, times)
        candle = times // self.seconds
        cell = candle // _MOTIF_PERIOD
        room = _MOTIF_PERIOD - _MOTIF_SPAN - _MOTIF_FADE
        start = cell * _MOTIF_PERIOD + (_uniform(key, 3000, cell) * room).astype(np.int64)
        rel = (candle - start).astype(np.float64)
        weight = np.where(rel < 0, 0.0, np.clip(1.0 - (rel - _MOTIF_SPAN) / _MOTIF_FADE, 0, 1))
        size = (
            _DAILY_VOL * np.sqrt(self.seconds / 86400.0) * (0.8 + 0.4 * _uniform(key, 3001, cell))
        )
        motif = size * np.interp(rel, _MOTIF_X, _MOTIF_Y)
        frozen = self._noise(key, start * self.seconds)
        return (1.0 - weight) * noise + weight * (frozen + motif)

    def _ohlcv(self, pair: str, opens: np.ndarray) -> pd.DataFrame:
        key = np.uint64(_stable_hash(self.seed, pair))
        price = base_price(pair)
        # The close of a candle is the price at its close time; the open is the previous close,
        # i.e. the price at this candle's open time. Both are functions of time alone.
        closes = np.round(price * np.exp(self._log_price(key, opens + self.seconds)), 2)
        open_ = np.round(price * np.exp(self._log_price(key, opens)), 2)
        candle = opens // self.seconds
        typical_move = _DAILY_VOL * np.sqrt(self.seconds / 86400.0)
        # Wicks beyond the body: exponential tails, a third of a typical candle move on average.
        wick_up = -np.log1p(-_uniform(key, 1001, candle)) * typical_move / 3.0
        wick_down = -np.log1p(-_uniform(key, 1002, candle)) * typical_move / 3.0
        body_top = np.maximum(open_, closes)
        body_bottom = np.minimum(open_, closes)
        high = np.maximum(np.round(body_top * (1.0 + wick_up), 2), body_top)
        low = np.minimum(np.round(body_bottom * (1.0 - wick_down), 2), body_bottom)
        # Volume: notional of ~2M USD per 5 minutes for BTC-sized markets, busier on big moves.
        notional = 2e6 * (price / 65000.0) ** 0.5 * (self.seconds / 300.0)
        move = np.abs(np.log(closes / open_)) / typical_move
        noise = np.exp(0.5 * (_uniform(key, 1003, candle) - 0.5) * 2.0)
        volume = np.maximum(np.round(notional / price * noise * (0.5 + move), 5), 0.00001)
        return pd.DataFrame(
            {
                "date": pd.to_datetime(opens, unit="s", utc=True).as_unit("ns"),
                "open": open_,
                "high": high,
                "low": low,
                "close": closes,
                "volume": volume,
            }
        )
