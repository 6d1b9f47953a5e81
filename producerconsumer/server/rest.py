"""The REST subset of Freqtrade's ``/api/v1`` that this package's producers serve.

Behaviour follows Freqtrade 2026.9's API server (its JSON shapes are checked against the real
one by the oracle tests): ``POST /token/login`` takes HTTP basic credentials and answers an
access token (15 minutes) and a refresh token (30 days), JWTs signed with HS256;
``POST /token/refresh`` takes the refresh token as a bearer token; every other endpoint but
``/ping`` takes an access token (``Authorization: Bearer``) or HTTP basic credentials. A wrong
or missing credential is HTTP 401, an endpoint not served is 404, a wrong method 405.

Served: ``ping``, ``version``, ``show_config``, ``whitelist``, ``pair_candles`` (GET, and POST
with ``columns``), and, when the source is a bot, ``trades``, ``status`` and ``plot_config``.

:class:`RestApp` is pure request -> response (no sockets): :mod:`.front` feeds it parsed HTTP
requests on the websocket's own port. Secrets (password, JWT key, tokens) are never in a repr,
a log line or an error body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import orjson
import pandas as pd

from ..timeframes import timeframe_to_msecs

__all__ = [
    "API_VERSION",
    "FREQTRADE_VERSION",
    "BotSource",
    "Credentials",
    "JwtSigner",
    "Response",
    "RestApp",
    "RestSource",
    "pair_candles_json",
]

#: The Freqtrade release whose API (and ``/version``) these producers reproduce.
FREQTRADE_VERSION: Final = "2026.9"
#: Freqtrade 2026.9's ``API_VERSION`` (``/show_config``'s ``api_version``).
API_VERSION: Final = 2.5
PREFIX: Final = "/api/v1"
ACCESS_LIFETIME: Final = 15 * 60
REFRESH_LIFETIME: Final = 30 * 24 * 3600
#: Requests with a bigger body are refused (413) before being read whole.
MAX_BODY: Final = 1 << 20

_OHLCV: Final = ("date", "open", "high", "low", "close", "volume")
_SIGNALS: Final = ("enter_long", "exit_long", "enter_short", "exit_short")


class RestSource(Protocol):
    """What every served producer has: its whitelist and analyzed frames."""

    @property
    def timeframe(self) -> str: ...

    @property
    def candle_type(self) -> str: ...

    def current_whitelist(self) -> list[str]: ...

    def analyzed(self, pair: str) -> tuple[pd.DataFrame, datetime] | None: ...


@runtime_checkable
class BotSource(Protocol):
    """A producer that is a trading bot too (the demo): its config, trades and plot config.
    Called on the server's loop only."""

    def rest_show_config(self) -> dict[str, Any]: ...

    def rest_trades(self, limit: int, offset: int) -> dict[str, Any]: ...

    def rest_status(self) -> list[dict[str, Any]]: ...

    def rest_plot_config(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Credentials:
    """``api_server.username`` / ``password`` / ``jwt_secret_key``; secrets hidden in reprs."""

    username: str
    password: str = field(repr=False)
    jwt_secret: str = field(repr=False, default_factory=lambda: secrets.token_hex(32))

    def __post_init__(self) -> None:
        for name in ("username", "password", "jwt_secret"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"the REST API's {name} must be a non-empty string")

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***', jwt_secret='***')"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class JwtSigner:
    """HS256 JWTs shaped as Freqtrade's: ``{"identity": {"u": user}, "exp", "iat", "type"}``."""

    _HEADER: Final = _b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def __repr__(self) -> str:
        return "JwtSigner(secret='***')"

    def issue(self, username: str, kind: str, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        lifetime = ACCESS_LIFETIME if kind == "access" else REFRESH_LIFETIME
        claims = {
            "identity": {"u": username},
            "exp": issued + lifetime,
            "iat": issued,
            "type": kind,
        }
        signing_input = f"{self._HEADER}.{_b64(orjson.dumps(claims))}"
        return f"{signing_input}.{_b64(self._sign(signing_input))}"

    def verify(self, token: str, kind: str, now: float | None = None) -> str | None:
        """The user of a valid, unexpired ``kind`` token; None otherwise."""
        try:
            header, payload, signature = token.split(".")
            if not hmac.compare_digest(_unb64(signature), self._sign(f"{header}.{payload}")):
                return None
            if orjson.loads(_unb64(header)).get("alg") != "HS256":
                return None
            claims = orjson.loads(_unb64(payload))
            user = claims.get("identity", {}).get("u")
            expires = float(claims["exp"])
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            return None
        if claims.get("type") != kind or not isinstance(user, str):
            return None
        return user if expires > (time.time() if now is None else now) else None

    def _sign(self, signing_input: str) -> bytes:
        return hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest()


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def _json(status: int, obj: Any, *headers: tuple[str, str]) -> Response:
    return Response(status, orjson.dumps(obj), headers)


def _detail(status: int, detail: Any, *headers: tuple[str, str]) -> Response:
    return _json(status, {"detail": detail}, *headers)


def _invalid(location: str, name: str, message: str) -> Response:
    # FastAPI's 422 shape, shortened.
    return _detail(422, [{"type": "value_error", "loc": [location, name], "msg": message}])


class _Unprocessable(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _int_param(
    params: Mapping[str, str], name: str, default: int | None, minimum: int | None = None
) -> int | None:
    raw = params.get(name)
    if raw is None or (raw == "" and default is None):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _Unprocessable(_invalid("query", name, "Input should be a valid integer")) from None
    if minimum is not None and value < minimum:
        raise _Unprocessable(
            _invalid("query", name, f"Input should be greater than or equal to {minimum}")
        )
    return value


def _bool_param(params: Mapping[str, str], name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("true", "1", "yes", "on", "t", "y"):
        return True
    if lowered in ("false", "0", "no", "off", "f", "n"):
        return False
    raise _Unprocessable(_invalid("query", name, "Input should be a valid boolean"))


Handler = Callable[[Mapping[str, str], Any], Response]


class RestApp:
    """Freqtrade's REST subset over ``source`` (see the module docstring)."""

    def __init__(self, source: RestSource, credentials: Credentials, strategy: str) -> None:
        self.source = source
        self.credentials = credentials
        self.strategy = strategy
        self.jwt = JwtSigner(credentials.jwt_secret)
        bot = isinstance(source, BotSource)
        routes: dict[tuple[str, str], Handler] = {
            ("GET", "version"): self._version,
            ("GET", "show_config"): self._show_config,
            ("GET", "whitelist"): self._whitelist,
            ("GET", "pair_candles"): self._pair_candles_get,
            ("POST", "pair_candles"): self._pair_candles_post,
        }
        if bot:
            routes |= {
                ("GET", "trades"): self._trades,
                ("GET", "status"): self._status,
                ("GET", "plot_config"): self._plot_config,
            }
        self._routes = routes
        self._paths = {path for _, path in routes} | {"ping", "token/login", "token/refresh"}

    def __repr__(self) -> str:
        return f"RestApp(username={self.credentials.username!r}, endpoints={sorted(self._paths)})"

    # --- dispatch

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        """One request: ``headers`` with lower-case names."""
        url = urlsplit(target)
        if not url.path.startswith(PREFIX + "/"):
            return _detail(404, "Not Found")
        path = url.path[len(PREFIX) + 1 :].rstrip("/")
        if path not in self._paths:
            return _detail(404, "Not Found")
        head = method == "HEAD"
        verb = "GET" if head else method
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            if path == "ping":
                if verb != "GET":
                    return _detail(405, "Method Not Allowed")
                return _json(200, {"status": "pong"})
            if path == "token/login":
                return self._login(verb, headers)
            if path == "token/refresh":
                return self._refresh(verb, headers)
            handler = self._routes.get((verb, path))
            if handler is None or head:  # HEAD only for ping, as Freqtrade
                return _detail(405, "Method Not Allowed")
            denied = self._authenticate(headers)
            if denied is not None:
                return denied
            payload: Any = None
            if verb == "POST":
                try:
                    payload = orjson.loads(body) if body else None
                except orjson.JSONDecodeError:
                    return _detail(
                        422, [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error"}]
                    )
            return handler(params, payload)
        except _Unprocessable as exc:
            return exc.response

    # --- authentication (Freqtrade's api_auth)

    def _basic_user(self, value: str) -> str | None:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, sep, password = decoded.partition(":")
        if not sep:
            return None
        user_ok = hmac.compare_digest(username.encode(), self.credentials.username.encode())
        pass_ok = hmac.compare_digest(password.encode(), self.credentials.password.encode())
        return username if user_ok and pass_ok else None

    @staticmethod
    def _scheme(headers: Mapping[str, str]) -> tuple[str, str]:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        return scheme.lower(), value.strip()

    def _authenticate(self, headers: Mapping[str, str]) -> Response | None:
        scheme, value = self._scheme(headers)
        if scheme == "bearer" and value:
            if self.jwt.verify(value, "access") is None:
                return _detail(
                    401, "Could not validate credentials", ("www-authenticate", "Bearer")
                )
            return None
        if scheme == "basic" and self._basic_user(value) is not None:
            return None
        return _detail(401, "Unauthorized")

    def _login(self, verb: str, headers: Mapping[str, str]) -> Response:
        if verb != "POST":
            return _detail(405, "Method Not Allowed")
        scheme, value = self._scheme(headers)
        if scheme != "basic":
            return _detail(401, "Not authenticated", ("www-authenticate", "Basic"))
        user = self._basic_user(value)
        if user is None:
            return _detail(401, "Incorrect username or password")
        return _json(
            200,
            {
                "access_token": self.jwt.issue(user, "access"),
                "refresh_token": self.jwt.issue(user, "refresh"),
            },
        )

    def _refresh(self, verb: str, headers: Mapping[str, str]) -> Response:
        if verb != "POST":
            return _detail(405, "Method Not Allowed")
        scheme, value = self._scheme(headers)
        user = self.jwt.verify(value, "refresh") if scheme == "bearer" else None
        if user is None:
            return _detail(401, "Could not validate credentials", ("www-authenticate", "Bearer"))
        return _json(200, {"access_token": self.jwt.issue(user, "access")})

    # --- endpoints

    def _version(self, params: Mapping[str, str], payload: Any) -> Response:
        return _json(200, {"version": FREQTRADE_VERSION})

    def _show_config(self, params: Mapping[str, str], payload: Any) -> Response:
        source = self.source
        if isinstance(source, BotSource):
            config = source.rest_show_config()
        else:
            config = _minimal_show_config(source.timeframe, self.strategy)
        return _json(200, config)

    def _whitelist(self, params: Mapping[str, str], payload: Any) -> Response:
        pairs = self.source.current_whitelist()
        return _json(200, {"whitelist": pairs, "length": len(pairs), "method": ["StaticPairList"]})

    def _pair_candles_get(self, params: Mapping[str, str], payload: Any) -> Response:
        missing = [name for name in ("pair", "timeframe") if name not in params]
        if missing:
            return _invalid("query", missing[0], "Field required")
        limit = _int_param(params, "limit", None)
        return self._candles(params["pair"], params["timeframe"], limit, None)

    def _pair_candles_post(self, params: Mapping[str, str], payload: Any) -> Response:
        if not isinstance(payload, dict):
            return _invalid("body", "", "Input should be a valid dictionary")
        for name in ("pair", "timeframe"):
            if not isinstance(payload.get(name), str):
                return _invalid("body", name, "Field required (a string)")
        limit, columns = payload.get("limit"), payload.get("columns")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            return _invalid("body", "limit", "Input should be a valid integer")
        if columns is not None and not (
            isinstance(columns, list) and all(isinstance(c, str) for c in columns)
        ):
            return _invalid("body", "columns", "Input should be a valid list of strings")
        return self._candles(payload["pair"], payload["timeframe"], limit, columns)

    def _candles(
        self, pair: str, timeframe: str, limit: int | None, columns: list[str] | None
    ) -> Response:
        try:
            timeframe_to_msecs(timeframe)
        except ValueError:
            return _invalid("query", "timeframe", f"unknown timeframe {timeframe!r}")
        cached = self.source.analyzed(pair) if timeframe == self.source.timeframe else None
        if cached is None:
            frame, last_analyzed = pd.DataFrame(), datetime(1970, 1, 1, tzinfo=UTC)
        else:
            frame, last_analyzed = cached
            if limit:
                frame = frame.iloc[-limit:]
        body = pair_candles_json(self.strategy, pair, timeframe, frame, last_analyzed, columns)
        return Response(200, body)

    def _trades(self, params: Mapping[str, str], payload: Any) -> Response:
        limit = _int_param(params, "limit", 500, minimum=1)
        offset = _int_param(params, "offset", 0, minimum=0)
        _bool_param(params, "order_by_id", True)
        assert isinstance(self.source, BotSource) and limit is not None and offset is not None
        return _json(200, self.source.rest_trades(limit, offset))

    def _status(self, params: Mapping[str, str], payload: Any) -> Response:
        assert isinstance(self.source, BotSource)
        return _json(200, self.source.rest_status())

    def _plot_config(self, params: Mapping[str, str], payload: Any) -> Response:
        assert isinstance(self.source, BotSource)
        return _json(200, self.source.rest_plot_config())


def _minimal_show_config(timeframe: str, strategy: str) -> dict[str, Any]:
    """``/show_config`` of a producer that is not a bot (a replay): what it knows."""
    ms = timeframe_to_msecs(timeframe)
    return {
        "version": FREQTRADE_VERSION,
        "strategy_version": None,
        "api_version": API_VERSION,
        "dry_run": True,
        "trading_mode": "spot",
        "margin_mode": "",
        "short_allowed": False,
        "stake_currency": "USDT",
        "stake_amount": "unlimited",
        "available_capital": None,
        "stake_currency_decimals": 3,
        "max_open_trades": 0,
        "minimal_roi": {},
        "stoploss": None,
        "stoploss_on_exchange": False,
        "timeframe": timeframe,
        "timeframe_ms": ms,
        "timeframe_min": ms // 60_000,
        "exchange": "",
        "demo_trading": False,
        "strategy": strategy,
        "force_entry_enable": False,
        "exit_pricing": {},
        "entry_pricing": {},
        "bot_name": "freqtrade",
        "state": "running",
        "runmode": "dry_run",
        "position_adjustment_enable": False,
        "max_entry_position_adjustment": -1,
    }


# --- pair_candles


def _iso(value: datetime) -> str:
    """A datetime as pydantic writes it (UTC as ``Z``)."""
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def _column_values(series: pd.Series) -> list[Any]:
    """One column's JSON values as Freqtrade's API writes them (NaN, NaT, +-inf: null)."""
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = pd.DatetimeIndex(series)
        if stamps.tz is None:
            return [None if pd.isna(v) else v.isoformat() for v in stamps]
        return [None if pd.isna(v) else _iso(v.to_pydatetime()) for v in stamps]
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.BooleanDtype):
        return series.to_numpy(dtype=bool).tolist()
    if pd.api.types.is_float_dtype(dtype) and not isinstance(dtype, pd.Float64Dtype):
        values = series.to_numpy(dtype=float)
        out: list[Any] = values.tolist()
        bad = ~np.isfinite(values)
        if bad.any():
            for i in np.flatnonzero(bad).tolist():
                out[i] = None
        return out
    if pd.api.types.is_integer_dtype(dtype) and not isinstance(
        dtype, pd.api.extensions.ExtensionDtype
    ):
        return series.to_numpy().tolist()
    result: list[Any] = []
    for value in series.tolist():
        if (
            value is None
            or value is pd.NA
            or value is pd.NaT
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            result.append(None)
        elif isinstance(value, np.generic):
            result.append(value.item())
        elif isinstance(value, datetime):
            result.append(_iso(value) if value.tzinfo is not None else value.isoformat())
        else:
            result.append(value)
    return result


def pair_candles_json(
    strategy: str,
    pair: str,
    timeframe: str,
    frame: pd.DataFrame,
    last_analyzed: datetime,
    columns: list[str] | None = None,
) -> bytes:
    """The ``/pair_candles`` body (Freqtrade's ``PairHistory``) for an analyzed frame.

    As Freqtrade: the chosen ``columns`` always keep OHLCV and the signal columns (frame
    order); ``__date_ts`` (epoch ms) and ``_<signal>_signal_close`` (the close where the signal
    is 1, else null) are added; ``all_columns`` lists the frame's own columns.
    """
    all_columns = [str(c) for c in frame.columns]
    signals = dict.fromkeys(_SIGNALS, 0)
    rows: list[list[Any]] = []
    names = list(all_columns)
    start = stop = ""
    start_ts = stop_ts = 0
    if len(frame):
        if columns is not None:
            keep = set(_OHLCV) | set(_SIGNALS) | set(columns)
            names = [c for c in all_columns if c in keep]
        values = {name: _column_values(frame[name]) for name in names}
        dates = pd.DatetimeIndex(frame["date"])
        date_ms = dates.as_unit("ms").asi8.tolist()
        values["__date_ts"] = date_ms
        names.append("__date_ts")
        close = frame["close"].to_numpy(dtype=float)
        for signal in _SIGNALS:
            if signal in frame.columns and signal in names:
                mask = (frame[signal] == 1).to_numpy(dtype=bool)
                signals[signal] = int(mask.sum())
                column = f"_{signal}_signal_close"
                values[column] = [
                    (float(c) if math.isfinite(c) else None) if m else None
                    for c, m in zip(close.tolist(), mask.tolist(), strict=True)
                ]
                names.append(column)
        rows = [list(row) for row in zip(*(values[n] for n in names), strict=True)]
        start, stop = str(dates[0]), str(dates[-1])
        start_ts, stop_ts = date_ms[0], date_ms[-1]
    body = {
        "strategy": strategy,
        "pair": pair,
        "timeframe": timeframe,
        "timeframe_ms": timeframe_to_msecs(timeframe),
        "columns": names,
        "all_columns": all_columns,
        "data": rows,
        "annotations": [],
        "length": len(rows),
        "buy_signals": signals["enter_long"],
        "sell_signals": signals["exit_long"],
        "enter_long_signals": signals["enter_long"],
        "exit_long_signals": signals["exit_long"],
        "enter_short_signals": signals["enter_short"],
        "exit_short_signals": signals["exit_short"],
        "last_analyzed": _iso(last_analyzed),
        "last_analyzed_ts": int(last_analyzed.timestamp()),
        "data_start_ts": start_ts,
        "data_start": start,
        "data_stop": stop,
        "data_stop_ts": stop_ts,
    }
    return orjson.dumps(body)
