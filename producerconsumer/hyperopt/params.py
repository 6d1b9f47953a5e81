"""The strategy parameter file Freqtrade loads: ``<strategy file>.json`` next to the strategy.

Freqtrade's structure (``ft_stratparam_v`` 1)::

    {
      "strategy_name": "ConsumerStrategy",
      "params": {"buy": {"buy_rsi": 32}, "roi": {"0": 0.1}, "stoploss": {"stoploss": -0.1},
                 "trailing": {...}, "max_open_trades": {"max_open_trades": 3}},
      "ft_stratparam_v": 1,
      "export_time": "2026-12-05 23:59:59.123456+00:00"
    }

Freqtrade reads ``Path(strategy_file).with_suffix(".json")`` when it loads the strategy, checks
``strategy_name`` against the class name, and gives the file's values precedence over the
strategy's ``buy_params`` / defaults (and, for roi / stoploss / trailing / max_open_trades, over
the strategy's attributes, though not over the config). Non-finite floats are written as
``Infinity`` / ``NaN``, which Freqtrade's reader accepts.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "PARAMS_FILE_VERSION",
    "parameter_file_path",
    "read_params",
    "write_params",
]

PARAMS_FILE_VERSION = 1


def parameter_file_path(strategy: object, path: str | Path | None = None) -> Path:
    """Where Freqtrade looks for ``strategy``'s parameter file.

    ``path``: None for next to the strategy's source file (its name with ``.json``); a ``.json``
    file; a ``.py`` strategy file (the ``.json`` beside it); or a directory (``<strategy source
    file stem or class name>.json`` in it)."""
    cls = strategy if isinstance(strategy, type) else type(strategy)
    source = _source_file(cls)
    if path is None:
        if source is None:
            raise ValueError(
                f"{cls.__name__} has no source file (defined in a notebook?): pass the "
                "directory of the strategy file Freqtrade loads, or the .json path"
            )
        return source.with_suffix(".json")
    target = Path(path)
    if target.suffix == ".json":
        return target
    if target.suffix == ".py":
        return target.with_suffix(".json")
    stem = source.stem if source is not None else cls.__name__
    return target / f"{stem}.json"


def write_params(
    path: str | Path,
    strategy_name: str,
    params: Mapping[str, Mapping[str, Any]],
    export_time: datetime | None = None,
) -> Path:
    """Write Freqtrade's parameter file; returns its path."""
    target = Path(path)
    content = {
        "strategy_name": strategy_name,
        "params": _plain(params),
        "ft_stratparam_v": PARAMS_FILE_VERSION,
        "export_time": str(export_time or datetime.now(UTC)),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    return target


def read_params(path: str | Path, strategy_name: str | None = None) -> dict[str, Any]:
    """The file's content (``strategy_name``, ``params``, ...). With ``strategy_name``, a file
    written for another strategy is a ``ValueError``, as Freqtrade refuses it."""
    target = Path(path)
    try:
        content = json.loads(target.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{target} is not a parameter file (invalid JSON: {exc})") from exc
    if not isinstance(content, dict) or not isinstance(content.get("params", {}), dict):
        raise ValueError(f"{target} is not a parameter file: no 'params' mapping")
    if strategy_name is not None and content.get("strategy_name") != strategy_name:
        raise ValueError(
            f"{target} holds parameters of {content.get('strategy_name')!r}, not {strategy_name!r}"
        )
    return content


def _source_file(cls: type) -> Path | None:
    if cls.__module__ == "__main__":  # a notebook or script: no file Freqtrade would load
        return None
    try:
        source = inspect.getsourcefile(cls)
    except (TypeError, OSError):
        return None
    if source is None or not source.endswith(".py"):
        return None
    return Path(source)


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars as Python numbers, mappings with string keys."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    return value
