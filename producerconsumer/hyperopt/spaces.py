"""Hyperopt search spaces as Freqtrade 2026.9 builds them, as optuna distributions.

* Strategy parameter spaces (``buy``, ``sell``, ``enter``, ``exit``, or any identifier given as
  ``space=``): one distribution per parameter with ``optimize=True``. ``IntParameter`` is an
  ``IntDistribution(low, high)``, ``RealParameter`` a ``FloatDistribution(low, high)`` (extra
  keyword arguments of either go to optuna, as in Freqtrade), ``DecimalParameter`` a
  ``FloatDistribution`` with ``step=10**-decimals`` between the rounded bounds,
  ``CategoricalParameter`` / ``BooleanParameter`` a ``CategoricalDistribution``. A parameter
  without ``space=`` belongs to the space its name starts with (``buy_``, ``sell_``, ``enter_``,
  ``exit_``, ``protection_``), as Freqtrade detects it.
* ``roi``: Freqtrade's adaptive ROI space (three times, three steps, scaled by the timeframe) and
  its ROI table; ``stoploss``: -0.35 to -0.02 in steps of 0.001; ``trailing``: Freqtrade's four
  trailing parameters; ``trades``: ``max_open_trades`` from -1 to 10. A strategy's nested
  ``HyperOpt`` class may override ``roi_space``, ``generate_roi_table``, ``stoploss_space``,
  ``trailing_space``, ``generate_trailing_params`` and ``max_open_trades_space`` as in Freqtrade
  (called without ``self``, returning distributions with a ``name`` attribute).

``"all"`` asks for every space; ``"default"`` for all but ``trailing``, ``trades`` and
``protection`` (Freqtrade's meanings).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from ..strategy.parameters import iter_parameters
from ..timeframes import timeframe_to_minutes

__all__ = [
    "BUILTIN_SPACES",
    "NoParametersError",
    "SearchSpace",
    "TrialSettings",
    "current_value",
    "detect_parameters",
    "generate_roi_table",
    "generate_trailing_params",
    "parameter_distribution",
    "roi_space",
    "stoploss_space",
    "trades_space",
    "trailing_space",
]

BUILTIN_SPACES = ("roi", "stoploss", "trailing", "trades")
"""Spaces that set trading settings rather than strategy parameters."""
_AUTO_SPACES = ("buy", "sell", "enter", "exit", "protection")
_NOT_IN_DEFAULT = ("trailing", "protection", "trades")
_SPACE_ORDER = ("buy", "sell", "protection", "roi", "stoploss", "trailing", "trades")

Dimensions = dict[str, BaseDistribution]


class NoParametersError(ValueError):
    """The strategy has no parameter to optimise in a space that was asked for."""


# --- strategy parameters ------------------------------------------------------------------


def detect_parameters(strategy: object) -> dict[str, dict[str, Any]]:
    """``{space: {name: parameter}}`` for every parameter of a strategy class or instance, with
    Freqtrade's space detection; ``ValueError`` for a parameter without a space."""
    found: dict[str, dict[str, Any]] = {}
    for name, parameter in iter_parameters(strategy):
        space = parameter.space or next((s for s in _AUTO_SPACES if name.startswith(s + "_")), None)
        if space is None:
            raise ValueError(
                f"cannot tell the hyperopt space of parameter {name!r}: give it space=... "
                "or start its name with buy_, sell_, enter_, exit_ or protection_"
            )
        if space in ("all", "default") or not space.isidentifier():
            raise ValueError(f"{space!r} is not a valid space (parameter {name!r})")
        found.setdefault(space, {})[name] = parameter
    return found


def parameter_distribution(parameter: Any) -> BaseDistribution:
    """The optuna distribution Freqtrade 2026.9 samples this parameter from."""
    kind = {cls.__name__ for cls in type(parameter).__mro__}
    extra = dict(getattr(parameter, "_space_params", {}) or {})
    if "CategoricalParameter" in kind:
        return CategoricalDistribution(list(parameter.opt_range))
    if "DecimalParameter" in kind:
        decimals = parameter.decimals
        step: float = extra.pop("step", None) or (1 / 10**decimals if decimals else 1)
        low = round(parameter.low, decimals) if decimals else parameter.low
        high = round(parameter.high, decimals) if decimals else parameter.high
        return FloatDistribution(low, high, step=step, **extra)
    if "IntParameter" in kind:
        return IntDistribution(int(parameter.low), int(parameter.high), **extra)
    if "RealParameter" in kind:
        return FloatDistribution(parameter.low, parameter.high, **extra)
    raise TypeError(f"no hyperopt distribution for {type(parameter).__name__} {parameter!r}")


# --- roi / stoploss / trailing / trades (Freqtrade's IHyperOpt defaults) -------------------


def roi_space(timeframe: str) -> Dimensions:
    """Freqtrade's adaptive ROI space for ``timeframe``: times scale linearly with the candle
    length, steps logarithmically, matching its legacy space at 5m."""
    minutes = timeframe_to_minutes(timeframe)
    t_scale = minutes / 5
    p_scale = math.log1p(minutes) / math.log1p(5)
    times = {"roi_t1": (10, 120), "roi_t2": (10, 60), "roi_t3": (10, 40)}
    steps = {"roi_p1": (0.01, 0.04), "roi_p2": (0.01, 0.07), "roi_p3": (0.01, 0.20)}
    space: Dimensions = {}
    for name, (t_low, t_high) in times.items():
        space[name] = IntDistribution(int(t_low * t_scale * 1.0), int(t_high * t_scale * 1.0))
    for name, (p_low, p_high) in steps.items():
        space[name] = _decimal(p_low * p_scale * 1.0, p_high * p_scale * 1.0, 3)
    return space


def generate_roi_table(params: Mapping[str, Any]) -> dict[int, float]:
    """Freqtrade's ROI table from the ``roi_*`` values: falling steps at t3, t3+t2, t3+t2+t1."""
    p1, p2, p3 = params["roi_p1"], params["roi_p2"], params["roi_p3"]
    t1, t2, t3 = params["roi_t1"], params["roi_t2"], params["roi_t3"]
    return {0: p1 + p2 + p3, t3: p1 + p2, t3 + t2: p1, t3 + t2 + t1: 0}


def stoploss_space() -> Dimensions:
    return {"stoploss": _decimal(-0.35, -0.02, 3)}


def trailing_space() -> Dimensions:
    """``trailing_stop`` is always True when the space is searched (Freqtrade's choice); the
    offset is sampled as its excess over ``trailing_stop_positive``."""
    return {
        "trailing_stop": CategoricalDistribution([True]),
        "trailing_stop_positive": _decimal(0.01, 0.35, 3),
        "trailing_stop_positive_offset_p1": _decimal(0.001, 0.1, 3),
        "trailing_only_offset_is_reached": CategoricalDistribution([True, False]),
    }


def generate_trailing_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "trailing_stop": params["trailing_stop"],
        "trailing_stop_positive": params["trailing_stop_positive"],
        "trailing_stop_positive_offset": (
            params["trailing_stop_positive"] + params["trailing_stop_positive_offset_p1"]
        ),
        "trailing_only_offset_is_reached": params["trailing_only_offset_is_reached"],
    }


def trades_space() -> Dimensions:
    return {"max_open_trades": IntDistribution(-1, 10)}


def _decimal(low: float, high: float, decimals: int) -> FloatDistribution:
    return FloatDistribution(round(low, decimals), round(high, decimals), step=1 / 10**decimals)


# --- a study's space --------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialSettings:
    """What one trial changes: strategy parameter values (by attribute name) and trading
    settings as config keys (``minimal_roi``, ``stoploss``, ``trailing_*``,
    ``max_open_trades``, ``use_exit_signal``), which win over the strategy's attributes."""

    params: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class SearchSpace:
    """The asked spaces of one strategy: ``dimensions[space][name]`` distributions."""

    dimensions: dict[str, Dimensions]
    strategy_name: str
    parameters: dict[str, dict[str, Any]]  # every detected parameter, by space
    _roi_table: Callable[[Mapping[str, Any]], dict[int, float]] = generate_roi_table
    _trailing: Callable[[Mapping[str, Any]], dict[str, Any]] = generate_trailing_params

    @classmethod
    def from_strategy(
        cls, strategy: object, spaces: str | Iterable[str], timeframe: str | None = None
    ) -> SearchSpace:
        """The distributions of ``spaces`` for ``strategy`` (class or instance).

        ``NoParametersError`` names each asked parameter space in which the strategy has no
        parameter with ``optimize=True``; ``ValueError`` for ``protection`` (the backtest
        has no protections)."""
        asked = [spaces] if isinstance(spaces, str) else list(spaces)
        if not asked:
            raise ValueError("no hyperopt space asked for: give spaces=('buy', 'sell', ...)")
        parameters = detect_parameters(strategy)
        custom = [s for s in parameters if s not in _SPACE_ORDER]
        known = [*_SPACE_ORDER, *custom]
        unknown = [s for s in asked if s not in known and s not in ("all", "default")]
        if unknown:
            raise NoParametersError(_no_parameters_message(strategy, unknown, parameters))

        def wanted(space: str) -> bool:
            if space in _NOT_IN_DEFAULT:
                return any(s in asked for s in (space, "all"))
            return any(s in asked for s in (space, "all", "default"))

        hyperopt = getattr(strategy, "HyperOpt", None)

        def hook(name: str, default: Callable[..., Any]) -> Callable[..., Any]:
            return getattr(hyperopt, name, default) if hyperopt is not None else default

        tf = timeframe or getattr(strategy, "timeframe", None) or "5m"
        dimensions: dict[str, Dimensions] = {}
        empty = []
        for space in known:
            if not wanted(space):
                continue
            if space == "roi":
                dimensions[space] = _as_dimensions(hook("roi_space", lambda: roi_space(tf))())
            elif space == "stoploss":
                dimensions[space] = _as_dimensions(hook("stoploss_space", stoploss_space)())
            elif space == "trailing":
                dimensions[space] = _as_dimensions(hook("trailing_space", trailing_space)())
            elif space == "trades":
                dimensions[space] = _as_dimensions(hook("max_open_trades_space", trades_space)())
            else:
                optimized = {
                    name: parameter_distribution(p)
                    for name, p in parameters.get(space, {}).items()
                    if p.optimize
                }
                if optimized:
                    if space == "protection":
                        raise ValueError(
                            "the 'protection' space needs Freqtrade's protections, which "
                            "the backtest does not implement: remove 'protection' from spaces"
                        )
                    dimensions[space] = optimized
                elif space in asked:  # named explicitly; "all"/"default" skip empty spaces
                    empty.append(space)
        if empty:
            raise NoParametersError(_no_parameters_message(strategy, empty, parameters))
        if not dimensions:
            raise NoParametersError(_no_parameters_message(strategy, asked, parameters))
        return cls(
            dimensions=dimensions,
            strategy_name=_name(strategy),
            parameters=parameters,
            _roi_table=hook("generate_roi_table", generate_roi_table),
            _trailing=hook("generate_trailing_params", generate_trailing_params),
        )

    @property
    def spaces(self) -> list[str]:
        return list(self.dimensions)

    @property
    def distributions(self) -> Dimensions:
        """Every dimension by name, for ``study.ask``."""
        return {name: d for dims in self.dimensions.values() for name, d in dims.items()}

    def settings(self, sampled: Mapping[str, Any], *, stake_amount: Any = None) -> TrialSettings:
        """The strategy parameters and config overrides for one sampled point, applied as
        Freqtrade's hyperopt applies them."""
        params: dict[str, Any] = {}
        overrides: dict[str, Any] = {}
        for space, dims in self.dimensions.items():
            if space == "roi":
                overrides["minimal_roi"] = {
                    str(k): v for k, v in self._roi_table(dict(sampled)).items()
                }
            elif space == "stoploss":
                overrides["stoploss"] = sampled["stoploss"]
            elif space == "trailing":
                overrides.update(self._trailing(dict(sampled)))
            elif space == "trades":
                value = int(sampled["max_open_trades"])
                if value in (-1, 0):
                    # Unlimited, except with an unlimited stake, where Freqtrade keeps the config's.
                    if stake_amount != "unlimited":
                        overrides["max_open_trades"] = -1
                else:
                    overrides["max_open_trades"] = value
            else:
                params.update({name: sampled[name] for name in dims})
        if "sell" in self.dimensions:
            overrides["use_exit_signal"] = True  # Freqtrade forces it when "sell" is searched
        return TrialSettings(params=params, overrides=overrides)

    def details(
        self, sampled: Mapping[str, Any], settings: Mapping[str, Any] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Freqtrade's ``params_details``: the searched values by space, floats rounded to 13
        places, ROI keys as strings. ``settings``: the backtest's effective settings (for the
        ``trades`` space, which Freqtrade reports after applying)."""
        result: dict[str, dict[str, Any]] = {}
        for space, dims in self.dimensions.items():
            if space == "roi":
                table = self._roi_table(dict(sampled))
                result[space] = _round_dict({str(k): v for k, v in table.items()})
            elif space == "trailing":
                result[space] = _round_dict(self._trailing(dict(sampled)))
            elif space == "trades":
                value = (settings or {}).get("max_open_trades", sampled["max_open_trades"])
                if value in (-1, 0, None) or value == math.inf:
                    value = -1
                result["max_open_trades"] = {"max_open_trades": value}
            else:
                result[space] = _round_dict({name: sampled.get(name) for name in dims})
        return result

    def not_optimized(
        self,
        strategy: object,
        settings: Mapping[str, Any],
        fixed: Mapping[str, Any] | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Freqtrade's ``params_not_optimized``: the values of parameters outside the searched
        spaces (or with ``optimize=False``), then the trading settings not searched, from the
        backtest's effective ``settings``. ``fixed``: parameter values given for the study."""
        result: dict[str, dict[str, Any]] = {}
        for space, params in self.parameters.items():
            for name, parameter in params.items():
                if not parameter.optimize or space not in self.dimensions:
                    value = current_value(strategy, space, name, parameter, fixed)
                    result.setdefault(space, {})[name] = value
        if "roi" not in self.dimensions:
            roi = settings.get("minimal_roi", getattr(strategy, "minimal_roi", {}))
            result["roi"] = {str(k): v for k, v in dict(roi).items()}
        if "stoploss" not in self.dimensions:
            result["stoploss"] = {
                "stoploss": settings.get("stoploss", getattr(strategy, "stoploss", None))
            }
        if "trailing" not in self.dimensions:
            defaults = {
                "trailing_stop": False,
                "trailing_stop_positive": None,
                "trailing_stop_positive_offset": 0.0,
                "trailing_only_offset_is_reached": False,
            }
            result["trailing"] = {
                key: settings.get(key, getattr(strategy, key, default))
                for key, default in defaults.items()
            }
        if "trades" not in self.dimensions:
            value = settings.get("max_open_trades", getattr(strategy, "max_open_trades", -1))
            if value in (-1, None):
                value = math.inf  # Freqtrade writes an unlimited count as Infinity
            elif isinstance(value, float) and value.is_integer():
                value = int(value)
            result["max_open_trades"] = {"max_open_trades": value}
        return result


def current_value(
    strategy: object,
    space: str,
    name: str,
    parameter: Any,
    fixed: Mapping[str, Any] | None = None,
) -> Any:
    """A parameter's value as a backtest uses it: a fixed value given for the study, else the
    instance's, else the strategy's ``{space}_params`` entry (with ``load=True``), else its
    default."""
    if fixed and name in fixed:
        return fixed[name]
    if not isinstance(strategy, type):
        return getattr(strategy, name).value
    space_values = getattr(strategy, f"{space}_params", None)
    if parameter.load and isinstance(space_values, Mapping) and name in space_values:
        return space_values[name]
    return parameter.value


def _as_dimensions(
    found: Sequence[BaseDistribution] | Mapping[str, BaseDistribution],
) -> Dimensions:
    if isinstance(found, Mapping):
        return dict(found)
    result = {}
    for dimension in found:
        name = getattr(dimension, "name", None)
        if not name:
            raise ValueError(f"a HyperOpt space dimension needs a name: {dimension!r}")
        result[name] = dimension
    return result


def _round_dict(values: Mapping[str, Any], places: int = 13) -> dict[str, Any]:
    return {k: round(v, places) if isinstance(v, float) else v for k, v in values.items()}


def _name(strategy: object) -> str:
    return strategy.__name__ if isinstance(strategy, type) else type(strategy).__name__


def _no_parameters_message(
    strategy: object, spaces: Sequence[str], parameters: Mapping[str, Mapping[str, Any]]
) -> str:
    available = {
        space: sorted(n for n, p in params.items() if p.optimize)
        for space, params in parameters.items()
    }
    have = ", ".join(f"{s}: {', '.join(n)}" for s, n in available.items() if n) or "none"
    return (
        f"{_name(strategy)} has no parameter to optimise in the space(s) "
        f"{', '.join(repr(s) for s in spaces)}. Its parameters by space: {have}. "
        f"Ask for spaces that have parameters, or {', '.join(repr(s) for s in BUILTIN_SPACES)}."
    )
