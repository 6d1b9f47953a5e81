"""A backtest written as Freqtrade 2026.9 writes its backtest results: :func:`to_freqtrade`.

``freqtrade backtesting-show --backtest-filename <the zip>`` prints it, FreqUI's backtest view
and ``freqtrade.data.btanalysis.load_backtest_data`` read it. The files, in ``directory``:

* ``backtest-result-<date>.zip`` holding ``backtest-result-<date>.json`` (``{"strategy": {name:
  stats}, "strategy_comparison": [row]}``), ``backtest-result-<date>_config.json`` (the
  settings, without secrets) and, with pyarrow installed, the market change and the wallet
  history as feather files (FreqUI's charts);
* ``backtest-result-<date>.meta.json``: ``{name: {run_id, backtest_start_time, timeframe, ...}}``;
* ``.last_result.json``: ``{"latest_backtest": "<the zip's name>"}``, which Freqtrade's tools
  read when given the directory.

The JSON is written with orjson as Freqtrade writes it (numpy values as numbers, NaN as null,
dates and durations as their ``str``), so numbers read back are the numbers computed.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from ._types import BacktestResultLike
from .metrics import decimals_per_coin, settings_metrics, wallet_history
from .report import full_metrics

__all__ = ["LAST_RESULT_FILE", "freqtrade_stats", "market_change_frame", "to_freqtrade"]

LAST_RESULT_FILE = ".last_result.json"
# Settings never written to a result file (Freqtrade's sanitize_config removes these too).
_SECRET_KEYS = ("key", "secret", "password", "uid", "token", "ws_token", "jwt_secret_key")


def _dumps(data: Any) -> bytes:
    return orjson.dumps(data, default=str, option=orjson.OPT_SERIALIZE_NUMPY)


def _fmt_coin(value: float, currency: str) -> str:
    """An amount as Freqtrade prints it: the currency's decimals, trailing zeros dropped."""
    text = f"{value:.{decimals_per_coin(currency)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _without_secrets(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: "REDACTED" if str(key).lower() in _SECRET_KEYS else _without_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_without_secrets(item) for item in value]
    return value


def _run_id(settings: Mapping[str, Any], strategy_name: str) -> str:
    """A stable id of the settings and strategy (Freqtrade hashes config and strategy file)."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(_dumps(_without_secrets(settings)))
    digest.update(strategy_name.encode())
    return digest.hexdigest()


def freqtrade_stats(
    result: BacktestResultLike, *, run_time: datetime | None = None
) -> dict[str, Any]:
    """The whole structure Freqtrade keeps of a backtest (``{"strategy": {name: stats},
    "strategy_comparison": [...], "metadata": {name: {...}}}``), from ``result``."""
    settings = result.settings
    stake_currency = str(settings["stake_currency"])
    metrics = full_metrics(result)
    run_time = run_time or datetime.now(UTC)
    name = result.strategy_name
    stats: dict[str, Any] = {
        "trades": result.trades.to_dict(orient="records"),
        "locks": [],
        **metrics,
        **settings_metrics(settings, strategy_name=name),
        "wallet_stats": metrics.get("wallet_stats", {}),
        "backtest_run_start_ts": int(run_time.timestamp()),
        "backtest_run_end_ts": int(run_time.timestamp()),
    }
    comparison = {
        **stats["results_per_pair"][-1],
        "key": name,
        "max_drawdown_account": stats["max_drawdown_account"],
        "max_drawdown_abs": _fmt_coin(stats["max_drawdown_abs"], stake_currency),
    }
    metadata = {
        "run_id": _run_id(settings, name),
        "backtest_start_time": int(run_time.timestamp()),
        "timeframe": settings["timeframe"],
        "timeframe_detail": settings.get("timeframe_detail"),
        "backtest_start_ts": int(result.start.timestamp()),
        "backtest_end_ts": int(result.end.timestamp()),
    }
    return {
        "strategy": {name: stats},
        "strategy_comparison": [comparison],
        "metadata": {name: metadata},
    }


def market_change_frame(
    frames: Mapping[str, pd.DataFrame], start: datetime, end: datetime
) -> pd.DataFrame:
    """The market-change series FreqUI charts: per candle from ``start`` (included) to ``end``
    (excluded), the mean close over pairs (``mean``), the running sum of the mean relative
    change (``rel_mean``) and the number of pairs with a close (``count``)."""
    closes = pd.concat(
        [frame.set_index("date")["close"].rename(pair) for pair, frame in frames.items()], axis=1
    )
    closes = closes.iloc[(closes.index >= start) & (closes.index < end)]
    return pd.DataFrame(
        {
            "mean": closes.mean(axis=1),
            "rel_mean": closes.pct_change().mean(axis=1).fillna(0).cumsum(),
            "count": closes.count(axis=1),
        }
    )


def _feathers(result: BacktestResultLike) -> dict[str, bytes]:
    """The market change and the wallet history as Freqtrade adds them to its zip (feather,
    lz4), when pyarrow is installed and there are candles; else nothing (Freqtrade's tools
    work without them, FreqUI then has no market-change chart)."""
    try:
        import pyarrow  # noqa: F401  (pandas' feather writer needs it)
    except ImportError:
        return {}
    if not result.frames:
        return {}
    settings = result.settings
    wallet = wallet_history(
        result.trades,
        result.frames,
        starting_balance=float(settings["dry_run_wallet"]),
        stake_currency=str(settings["stake_currency"]),
        start=result.start,
        end=result.end,
        timeframe=str(settings["timeframe"]),
    )
    out = {}
    for name, frame in (
        ("market_change", market_change_frame(result.frames, result.start, result.end)),
        (f"{result.strategy_name}_wallet", wallet),
    ):
        buffer = io.BytesIO()
        frame.reset_index().to_feather(buffer, compression="lz4", compression_level=9)
        out[name] = buffer.getvalue()
    return out


def to_freqtrade(
    result: BacktestResultLike, directory: str | Path, *, run_time: datetime | None = None
) -> Path:
    """Write ``result`` into ``directory`` (created if needed) as Freqtrade's backtest result
    files; returns the zip's path, the file to give ``freqtrade backtesting-show
    --backtest-filename``. ``run_time`` (default: now) names the files."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(
            f"{directory} is a file; to_freqtrade writes several files: give it a directory"
        )
    directory.mkdir(parents=True, exist_ok=True)
    run_time = run_time or datetime.now(UTC)
    stats = freqtrade_stats(result, run_time=run_time)
    stem = f"backtest-result-{run_time.strftime('%Y-%m-%d_%H-%M-%S')}"
    zip_path = directory / f"{stem}.zip"
    (directory / f"{stem}.meta.json").write_bytes(_dumps(stats["metadata"]))
    payload = {"strategy": stats["strategy"], "strategy_comparison": stats["strategy_comparison"]}
    config = _without_secrets({**result.settings, "strategy": result.strategy_name})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}.json", _dumps(payload))
        archive.writestr(f"{stem}_config.json", _dumps(config))
        for name, frame in _feathers(result).items():
            archive.writestr(f"{stem}_{name}.feather", frame)
    zip_path.write_bytes(buffer.getvalue())
    (directory / LAST_RESULT_FILE).write_bytes(_dumps({"latest_backtest": zip_path.name}))
    return zip_path
