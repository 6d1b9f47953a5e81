"""The backtest's settings: a config key or keyword beats the strategy's attribute, which beats
Freqtrade's default (Freqtrade's own precedence). Anything this backtest does not implement, in
the config or as an overridden strategy callback, is an error naming it."""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..timeframes import timeframe_to_minutes
from .engine import Callbacks, SimSettings

__all__ = ["BacktestConfigError", "ResolvedSettings", "resolve"]


class BacktestConfigError(ValueError):
    """A setting or callback that ``pc.backtest`` does not implement (or an invalid value)."""


# Read from the config / keywords, then the strategy, then Freqtrade's default.
STRATEGY_KEYS: dict[str, Any] = {
    "minimal_roi": {"0": 10.0},
    "timeframe": None,
    "stoploss": None,
    "trailing_stop": False,
    "trailing_stop_positive": None,
    "trailing_stop_positive_offset": 0.0,
    "trailing_only_offset_is_reached": False,
    "use_custom_stoploss": False,
    "order_types": None,
    "order_time_in_force": None,
    "stake_currency": None,
    "stake_amount": None,
    "startup_candle_count": 0,
    "use_exit_signal": True,
    "exit_profit_only": False,
    "ignore_roi_if_entry_signal": False,
    "exit_profit_offset": 0.0,
    "max_open_trades": math.inf,
    "position_adjustment_enable": False,
    "use_custom_roi": False,
    "can_short": False,
}
# Read from the config / keywords only.
CONFIG_KEYS: dict[str, Any] = {
    "dry_run_wallet": 1000.0,
    "tradable_balance_ratio": 0.99,
    "available_capital": None,
    "amend_last_stake_amount": False,
    "last_stake_amount_min_ratio": 0.5,
    "fee": 0.001,
    "timerange": None,
    "price_precision": None,
    "trading_mode": "spot",
    "margin_mode": "",
    "timeframe_detail": None,
    "enable_protections": False,
    "position_stacking": False,
    "strategy": None,
    "unfilledtimeout": None,
}
# Keys of a Freqtrade config that do not change a backtest's trades (live operation, the bot's
# plumbing, pair lists: the pairs are the data's).
IGNORED_KEYS = frozenset(
    {
        "$schema",
        "add_config_files",
        "api_server",
        "bot_name",
        "cancel_open_orders_on_exit",
        "config",
        "datadir",
        "dataformat_ohlcv",
        "dataformat_trades",
        "db_url",
        "dry_run",
        "entry_pricing",
        "exchange",
        "exit_pricing",
        "export",
        "exportfilename",
        "external_message_consumer",
        "fiat_display_currency",
        "force_entry_enable",
        "initial_state",
        "internals",
        "logfile",
        "max_entry_position_adjustment",
        "original_config",
        "pairlists",
        "process_only_new_candles",
        "recursive_strategy_search",
        "runmode",
        "strategy_path",
        "telegram",
        "user_data_dir",
        "verbosity",
        "webhook",
        "disable_dataframe_checks",
        "ignore_buying_expired_candle_after",
        "backtest_cache",
        "backtest_breakdown",
        "backtest_notes",
    }
)
# Must keep these values (Freqtrade features this backtest does not implement).
REQUIRED_VALUES: dict[str, tuple[Any, ...]] = {
    "trading_mode": ("spot", None),
    "margin_mode": ("", None),
    "timeframe_detail": (None, ""),
    "enable_protections": (False, None),
    "position_stacking": (False, None),
    "position_adjustment_enable": (False, None),
    "use_custom_roi": (False, None),
    "can_short": (False, None),
}
SUPPORTED_CALLBACKS = (
    "custom_exit",
    "custom_stoploss",
    "confirm_trade_entry",
    "confirm_trade_exit",
    "custom_stake_amount",
)
UNSUPPORTED_CALLBACKS = (
    "custom_entry_price",
    "custom_exit_price",
    "adjust_trade_position",
    "adjust_entry_price",
    "adjust_exit_price",
    "adjust_order_price",
    "check_entry_timeout",
    "check_exit_timeout",
    "check_buy_timeout",
    "check_sell_timeout",
    "custom_sell",
    "custom_roi",
    "leverage",
    "order_filled",
    "bot_loop_start",
)
_BASE_MODULES = ("freqtrade.", "producerconsumer.strategy")


def overridden(strategy: object, name: str) -> bool:
    """Whether ``strategy`` defines ``name`` itself (not Freqtrade's or our base class)."""
    for klass in type(strategy).__mro__:
        if name in vars(klass):
            return not klass.__module__.startswith(_BASE_MODULES)
    return name in getattr(strategy, "__dict__", {})


@dataclass(frozen=True)
class ResolvedSettings:
    """What the backtest runs with: the values (``values``, Freqtrade's key names) and the
    simulation's view of them."""

    values: dict[str, Any]
    sim: SimSettings
    callbacks: Callbacks


def load_config(config: Mapping[str, Any] | str | Path | None) -> dict[str, Any]:
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return dict(config)
    path = Path(config)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BacktestConfigError(f"cannot read the config file {path}: {exc}") from exc
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BacktestConfigError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(loaded, dict):
        raise BacktestConfigError(f"{path} holds {type(loaded).__name__}, not a JSON object")
    return loaded


def resolve(
    strategy: object, config: Mapping[str, Any] | str | Path | None, overrides: Mapping[str, Any]
) -> ResolvedSettings:
    """The settings for ``strategy`` under ``config`` and keyword ``overrides``."""
    given = load_config(config)
    given.update(overrides)
    freqai = given.pop("freqai", None)
    if isinstance(freqai, Mapping) and freqai.get("enabled"):
        raise BacktestConfigError(
            "freqai.enabled: pc.backtest does not run FreqAI models (it uses the producer's "
            "predictions as they are in the data); disable it in the config"
        )
    known = set(STRATEGY_KEYS) | set(CONFIG_KEYS) | IGNORED_KEYS
    unknown = sorted(k for k in given if k not in known)
    if unknown:
        raise BacktestConfigError(
            f"pc.backtest does not implement the setting(s) {', '.join(map(repr, unknown))}; "
            "remove them (implemented: "
            f"{', '.join(sorted(set(STRATEGY_KEYS) | set(CONFIG_KEYS)))})"
        )
    values: dict[str, Any] = {}
    for key, default in STRATEGY_KEYS.items():
        if key in given and given[key] is not None:
            values[key] = given[key]
        elif getattr(strategy, key, None) is not None:
            values[key] = getattr(strategy, key)
        else:
            values[key] = default
    for key, default in CONFIG_KEYS.items():
        values[key] = given.get(key, default)
    for key, allowed in REQUIRED_VALUES.items():
        if values.get(key) not in allowed:
            raise BacktestConfigError(
                f"{key}={values[key]!r} is not implemented by pc.backtest (spot, long only); "
                f"use {allowed[0]!r}"
            )
    if getattr(strategy, "protections", None):
        raise BacktestConfigError(
            "the strategy defines protections, which pc.backtest does not implement; "
            "remove them to backtest"
        )
    for name in UNSUPPORTED_CALLBACKS:
        if overridden(strategy, name):
            raise BacktestConfigError(
                f"{type(strategy).__name__} overrides {name}(), which pc.backtest does not "
                f"implement (supported callbacks: {', '.join(SUPPORTED_CALLBACKS)}); remove it "
                "to backtest"
            )
    return _finish(strategy, values)


def _number(values: Mapping[str, Any], key: str) -> float:
    value = values[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BacktestConfigError(f"{key} must be a number, not {value!r}")
    return float(value)


def _finish(strategy: object, values: dict[str, Any]) -> ResolvedSettings:
    timeframe = values["timeframe"]
    if not timeframe:
        raise BacktestConfigError("no timeframe: set it on the strategy or pass timeframe=")
    if values["stoploss"] is None:
        raise BacktestConfigError("no stoploss: set it on the strategy or pass stoploss=")
    max_open = values["max_open_trades"]
    max_open = math.inf if max_open is None or float(max_open) < 0 else float(max_open)
    values["max_open_trades"] = max_open
    if values["stake_amount"] == "unlimited" and math.isinf(max_open):
        raise BacktestConfigError(
            'stake_amount="unlimited" needs a max_open_trades (Freqtrade divides the wallet '
            "by it); set max_open_trades"
        )
    if values["stake_currency"] is None:
        values["stake_currency"] = ""
    stake = values["stake_amount"]
    if stake is None:
        raise BacktestConfigError('no stake_amount: pass stake_amount=100 (or "unlimited")')
    if isinstance(stake, str):
        if stake != "unlimited":
            raise BacktestConfigError(
                f'stake_amount must be a number or "unlimited", not {stake!r}'
            )
    else:
        stake = _number(values, "stake_amount")
    try:
        roi = tuple(sorted((int(k), float(v)) for k, v in dict(values["minimal_roi"]).items()))
    except (TypeError, ValueError) as exc:
        raise BacktestConfigError(
            f"minimal_roi must map minutes to ratios, like {{'0': 0.05}}: {exc}"
        ) from exc
    order_types = dict(values.get("order_types") or {})
    tif = dict(values.get("order_time_in_force") or {})
    price_precision = values.get("price_precision")
    timeout = values.get("unfilledtimeout")
    exit_timeout_ns = None
    if isinstance(timeout, Mapping) and timeout.get("exit") is not None:
        unit = str(timeout.get("unit", "minutes"))
        if unit not in ("minutes", "seconds"):
            raise BacktestConfigError(f"unfilledtimeout.unit must be minutes or seconds: {unit!r}")
        exit_timeout_ns = int(float(timeout["exit"]) * (60 if unit == "minutes" else 1) * 1e9)
    sim = SimSettings(
        timeframe_minutes=timeframe_to_minutes(str(timeframe)),
        stake_amount=stake,
        dry_run_wallet=_number(values, "dry_run_wallet"),
        tradable_balance_ratio=_number(values, "tradable_balance_ratio"),
        available_capital=None
        if values["available_capital"] is None
        else _number(values, "available_capital"),
        amend_last_stake_amount=bool(values["amend_last_stake_amount"]),
        last_stake_amount_min_ratio=_number(values, "last_stake_amount_min_ratio"),
        max_open_trades=max_open,
        minimal_roi=roi,
        stoploss=_number(values, "stoploss"),
        trailing_stop=bool(values["trailing_stop"]),
        trailing_stop_positive=None
        if values["trailing_stop_positive"] is None
        else _number(values, "trailing_stop_positive"),
        trailing_stop_positive_offset=_number(values, "trailing_stop_positive_offset"),
        trailing_only_offset_is_reached=bool(values["trailing_only_offset_is_reached"]),
        use_custom_stoploss=bool(values["use_custom_stoploss"]),
        use_exit_signal=bool(values["use_exit_signal"]),
        exit_profit_only=bool(values["exit_profit_only"]),
        exit_profit_offset=_number(values, "exit_profit_offset"),
        ignore_roi_if_entry_signal=bool(values["ignore_roi_if_entry_signal"]),
        fee=_number(values, "fee"),
        entry_order_type=str(order_types.get("entry", "limit")),
        exit_order_type=str(order_types.get("exit", "limit")),
        entry_time_in_force=str(tif.get("entry", "GTC")),
        exit_time_in_force=str(tif.get("exit", "GTC")),
        price_precision=None if price_precision is None else float(price_precision),
        exit_timeout_ns=exit_timeout_ns,
    )
    callbacks = Callbacks(
        **{
            name: getattr(strategy, name) if overridden(strategy, name) else None
            for name in SUPPORTED_CALLBACKS
        },
        stoploss_after_fill=overridden(strategy, "custom_stoploss")
        and "after_fill" in inspect.signature(strategy.custom_stoploss).parameters,  # type: ignore[attr-defined]
    )
    # sorted by minutes, with the values as given (Freqtrade reports them as written: an int
    # stays an int)
    values["minimal_roi"] = {
        str(k): v for k, v in sorted(dict(values["minimal_roi"]).items(), key=lambda i: int(i[0]))
    }
    values["strategy"] = values.get("strategy") or type(strategy).__name__
    values["starting_balance"] = (
        sim.available_capital
        if sim.available_capital is not None
        else sim.dry_run_wallet * sim.tradable_balance_ratio
    )
    return ResolvedSettings(values=values, sim=sim, callbacks=callbacks)
