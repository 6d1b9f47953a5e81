"""Stand-ins for Freqtrade's hyperopt parameters: same constructors, ``.value`` and ``.range``.

Outside hyperopt a Freqtrade parameter is just a value with a declared search space; that is all
a strategy needs here::

    class MyStrategy(IStrategy):
        buy_rsi = IntParameter(1, 50, default=30, space="buy")
        use_tema = BooleanParameter(default=True)

    MyStrategy().buy_rsi.value  # 30

Unlike Freqtrade, where parameters are class attributes shared by every instance, each
:class:`~producerconsumer.strategy.IStrategy` instance gets its own copies, so
``strategy.buy_rsi.value = 35`` changes one strategy only (see :func:`apply_params`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeGuard

__all__ = [
    "BaseParameter",
    "BooleanParameter",
    "CategoricalParameter",
    "DecimalParameter",
    "IntParameter",
    "RealParameter",
    "apply_params",
    "is_parameter",
    "iter_parameters",
]


class BaseParameter:
    """A named value with a hyperopt search space (which is only recorded here)."""

    name: str = ""
    in_space: bool = False
    """True while ``pc.hyperopt`` computes a strategy's indicators once for a whole study (as
    Freqtrade's hyperopt does): ``.range`` then spans the parameter's whole space."""

    def __init__(
        self,
        *,
        default: Any,
        space: str | None = None,
        optimize: bool = True,
        load: bool = True,
        **kwargs: Any,
    ) -> None:
        if "name" in kwargs:
            raise ValueError("a parameter's name is the attribute it is assigned to")
        self.space = space
        self.optimize = optimize
        self.load = load
        self.default = default
        self.value = default
        self._space_params = kwargs  # optuna options in Freqtrade; kept for repr only

    @property
    def value(self) -> Any:
        return self._value

    @value.setter
    def value(self, new_value: Any) -> None:
        self._value = new_value

    @property
    def range(self) -> Sequence[Any]:
        """Freqtrade outside hyperopt: just the current value, so loops over ``.range``
        compute one indicator."""
        return [self.value]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class _NumericParameter(BaseParameter):
    def __init__(
        self,
        low: float | Sequence[float],
        high: float | None = None,
        *,
        default: Any,
        space: str | None = None,
        optimize: bool = True,
        load: bool = True,
        **kwargs: Any,
    ) -> None:
        if high is None or isinstance(low, Sequence):
            if high is not None or not isinstance(low, Sequence) or len(low) != 2:
                raise ValueError(f"{type(self).__name__} space must be low, high or [low, high]")
            low, high = low
        self.low = low
        self.high = high
        super().__init__(default=default, space=space, optimize=optimize, load=load, **kwargs)


class IntParameter(_NumericParameter):
    """An integer parameter: ``IntParameter(1, 50, default=30, space="buy")``."""

    def __init__(
        self,
        low: int | Sequence[int],
        high: int | None = None,
        *,
        default: int,
        space: str | None = None,
        optimize: bool = True,
        load: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            low, high, default=default, space=space, optimize=optimize, load=load, **kwargs
        )

    @property
    def range(self) -> Sequence[int]:
        if self.in_space and self.optimize:
            return range(int(self.low), int(self.high) + 1)
        return range(self.value, self.value + 1)


class RealParameter(_NumericParameter):
    """A float parameter: ``RealParameter(0.01, 0.1, default=0.05)``."""

    def __init__(
        self,
        low: float | Sequence[float],
        high: float | None = None,
        *,
        default: float,
        space: str | None = None,
        optimize: bool = True,
        load: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            low, high, default=default, space=space, optimize=optimize, load=load, **kwargs
        )


class DecimalParameter(_NumericParameter):
    """A float rounded to ``decimals`` places (Freqtrade rounds on every assignment).

    >>> p = DecimalParameter(0.0, 1.0, default=0.12345, decimals=2)
    >>> p.value
    0.12
    """

    def __init__(
        self,
        low: float | Sequence[float],
        high: float | None = None,
        *,
        default: float,
        decimals: int = 3,
        space: str | None = None,
        optimize: bool = True,
        load: bool = True,
        **kwargs: Any,
    ) -> None:
        self.decimals = decimals
        super().__init__(
            low, high, default=default, space=space, optimize=optimize, load=load, **kwargs
        )

    @property
    def value(self) -> float:
        return self._value

    @value.setter
    def value(self, new_value: float) -> None:
        self._value = round(new_value, self.decimals)

    @property
    def range(self) -> Sequence[float]:
        if self.in_space and self.optimize:
            scale = 10**self.decimals
            steps = range(int(self.low * scale), int(self.high * scale) + 1)
            return [round(step / scale, self.decimals) for step in steps]
        return [self.value]


class CategoricalParameter(BaseParameter):
    """One of ``categories``: ``CategoricalParameter(["sma", "ema"], default="ema")``.

    Without ``default`` the value is None, as in Freqtrade (whose docs say "the first category"
    but whose code leaves None).
    """

    def __init__(
        self,
        categories: Sequence[Any],
        *,
        default: Any | None = None,
        space: str | None = None,
        optimize: bool = True,
        load: bool = True,
        **kwargs: Any,
    ) -> None:
        if len(categories) < 2:
            raise ValueError("CategoricalParameter needs at least two categories")
        self.opt_range = categories
        super().__init__(default=default, space=space, optimize=optimize, load=load, **kwargs)

    @property
    def range(self) -> Sequence[Any]:
        if self.in_space and self.optimize:
            return self.opt_range
        return [self.value]


class BooleanParameter(CategoricalParameter):
    """``CategoricalParameter([True, False])``: ``BooleanParameter(default=True)``."""

    def __init__(
        self,
        *,
        default: Any | None = None,
        space: str | None = None,
        optimize: bool = True,
        load: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            [True, False], default=default, space=space, optimize=optimize, load=load, **kwargs
        )


class _Parameter(Protocol):
    """What :func:`is_parameter` recognises: a :class:`BaseParameter` or Freqtrade's own."""

    value: Any
    space: str | None
    optimize: bool
    load: bool


def is_parameter(value: object) -> TypeGuard[_Parameter]:
    """Ours or Freqtrade's: anything with a ``value`` and the flags parameters carry."""
    if isinstance(value, BaseParameter):
        return True
    return all(hasattr(value, attr) for attr in ("value", "space", "optimize", "load")) and not (
        isinstance(value, type)
    )


def iter_parameters(strategy: object) -> Iterator[tuple[str, Any]]:
    """``(attribute name, parameter)`` for every parameter of a strategy (class or instance)."""
    cls = strategy if isinstance(strategy, type) else type(strategy)
    for name in dir(cls):
        if name.startswith("__"):
            continue
        value = getattr(strategy, name, None)
        if is_parameter(value):
            yield name, value


def apply_params(strategy: object, params: Mapping[str, Any]) -> None:
    """Set ``params`` on this strategy instance only.

    A parameter (ours or Freqtrade's) is copied onto the instance first, so a class-level
    parameter shared with other instances keeps its value; a plain attribute (``buy_rsi = 30``)
    is set on the instance. Unknown names raise ``ValueError`` listing the parameters.
    """
    for name, value in params.items():
        current = getattr(strategy, name, _MISSING)
        if current is _MISSING or (callable(current) and not is_parameter(current)):
            known = sorted(n for n, _ in iter_parameters(strategy))
            raise ValueError(
                f"{type(strategy).__name__} has no parameter {name!r}; its parameters: {known}"
            )
        if is_parameter(current):
            own = copy.copy(current)
            own.value = value
            setattr(strategy, name, own)
        else:
            setattr(strategy, name, value)


_MISSING = object()
