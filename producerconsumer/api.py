"""A client for a producer bot's REST API (Freqtrade's ``/api/v1``), built on httpx.

:class:`ProducerAPI` logs in with the bot's ``api_server`` username and password (JWT: an access
token, refreshed shortly before it expires, and a refresh token), falls back to HTTP basic auth
where the login endpoint is missing, and names its methods after Freqtrade's endpoints. Every
method has an ``...Async`` twin; the blocking one is a thin wrapper that runs it on the package's
background loop, where all HTTP I/O happens (so both kinds of call can be mixed on one object).

Secrets (the password and both tokens) travel in ``Authorization`` headers only, never in a URL,
and are never shown in a repr, a log line or an exception.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import re
import ssl
import time
from collections.abc import Coroutine, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import httpx
import orjson
import pandas as pd

from . import _loop
from .config import ConsumerConfig, ProducerConfig, load_config
from .errors import APIConnectionError, APIError, AuthenticationError, ProducerError
from .wire import decode_dataframe

__all__ = ["ProducerAPI"]

log = logging.getLogger(__name__)
T = TypeVar("T")

API_PREFIX: Final = "/api/v1"
#: Freqtrade issues 15-minute access tokens; used when a token's ``exp`` cannot be read.
DEFAULT_ACCESS_LIFETIME: Final = 15 * 60.0
#: ``/trades`` page size (Freqtrade's default limit).
TRADES_PAGE: Final = 500
# A datetime that pydantic wrote into a pair_candles row (other than ``date``, which also comes
# as ``__date_ts``): the websocket sends such columns as epoch milliseconds.
_ISO_DATETIME: Final = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")
# Endpoints a trading bot serves but ``freqtrade webserver`` does not, and the other way round.
_WEBSERVER_ONLY: Final = frozenset({"pair_history"})


class _Secret:
    """A string that never shows itself (repr, str, f-strings, debuggers' variable views)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


def _basic(username: str, password: _Secret) -> _Secret:
    raw = f"{username}:{password.reveal()}".encode()
    return _Secret("Basic " + base64.b64encode(raw).decode("ascii"))


def _jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (not verified: only to know when to refresh)."""
    try:
        payload = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None


class ProducerAPI:
    """A producer bot's REST API.

    ``producer`` is one ``producers`` entry (a dict or a :class:`~producerconsumer.ProducerConfig`),
    a consumer config (a dict, a path to a Freqtrade config file or a
    :class:`~producerconsumer.ConsumerConfig`: its first producer, or the one called ``name``) or
    a URL (``http://host:8080``, ``https://host/ft``).
    The API server listens on the same host and port as the message websocket. ``username`` and
    ``password`` are its ``api_server.username`` / ``password``; without them, the producers
    entry's ``api_username`` / ``api_password`` are used. ``ca_file`` (or the entry's) verifies a
    private CA for ``https``; ``timeout`` bounds each request, in seconds.

    A wrong password raises :class:`~producerconsumer.AuthenticationError` on the first call
    that needs it (or :meth:`login`); other failures raise :class:`~producerconsumer.APIError`
    naming the endpoint and HTTP status, or :class:`~producerconsumer.APIConnectionError`.

    ``refresh_margin``: the access token is refreshed once less than this many seconds of its
    life are left (Freqtrade's last 15 minutes).

    Use it as a context manager, or call :meth:`close`, to release its connections.
    """

    refresh_margin: float = 60.0

    def __init__(
        self,
        producer: ProducerConfig | ConsumerConfig | Mapping[str, Any] | str | os.PathLike[str],
        *,
        username: str | None = None,
        password: str | None = None,
        name: str | None = None,
        ca_file: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        entry: ProducerConfig | None = None
        if isinstance(producer, ProducerConfig):
            entry = producer
        elif isinstance(producer, str) and "://" in producer:
            self._base = _base_url(producer)
            parts = urlsplit(self._base)
            self.name = name or f"{parts.hostname}:{parts.port or _default_port(parts.scheme)}"
        elif isinstance(producer, Mapping) and "host" in producer:  # one producers entry
            entry = load_config({"producers": [producer]}).producers[0]
        else:
            config = load_config(producer)
            entry = config.producer(name) if name is not None else config.producers[0]
        if entry is not None:
            scheme = "https" if entry.secure else "http"
            host = f"[{entry.host}]" if ":" in entry.host else entry.host
            self._base = f"{scheme}://{host}:{entry.port}{API_PREFIX}"
            self.name = name or entry.name
            username = username if username is not None else entry.api_username
            password = password if password is not None else entry.api_password
            ca_file = ca_file if ca_file is not None else entry.ca_file
        if (username is None) != (password is None):
            raise ValueError(
                f"producer {self.name!r}: give both username and password (the producer's "
                "api_server.username and api_server.password), or neither"
            )
        self.username = username
        self._password = _Secret(password) if password is not None else None
        self._ca_file = ca_file
        self.timeout = timeout
        self._access: _Secret | None = None
        self._refresh: _Secret | None = None
        self._access_expires = 0.0
        self._use_basic = False  # the server has no login endpoint: HTTP basic on every call
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._auth_lock: asyncio.Lock | None = None

    @property
    def url(self) -> str:
        """The API's base URL (``.../api/v1``)."""
        return self._base

    @property
    def auth(self) -> str:
        """How calls authenticate now: ``"jwt"``, ``"basic"`` or ``"none"`` (not logged in)."""
        if self._use_basic:
            return "basic"
        return "jwt" if self._access is not None else "none"

    def __repr__(self) -> str:
        user = f", username={self.username!r}, password='***'" if self.username else ""
        return f"ProducerAPI(producer={self.name!r}, url={self._base!r}{user}, auth={self.auth!r})"

    # --- lifecycle

    def close(self) -> None:
        """Close the HTTP connections (the object can be used again afterwards)."""
        _loop.run_sync(self.closeAsync(), timeout=self.timeout)

    async def closeAsync(self) -> None:
        await self._on_loop(self._close())

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def __del__(self) -> None:
        # Not closed by its user (a notebook variable dropped): close the connections on the
        # loop that owns them, if it still runs.
        client, loop = getattr(self, "_client", None), getattr(self, "_client_loop", None)
        if client is not None and loop is not None and not client.is_closed:
            with contextlib.suppress(RuntimeError):
                asyncio.run_coroutine_threadsafe(client.aclose(), loop)

    def __enter__(self) -> ProducerAPI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> ProducerAPI:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.closeAsync()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return _loop.run_sync(coro)

    async def _on_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        """All HTTP I/O runs on the background loop: the httpx client belongs to one loop."""
        if _loop.in_loop_thread():
            return await coro
        return await asyncio.wrap_future(_loop.submit(coro))

    # --- endpoints (blocking)

    def login(self) -> None:
        """Log in now (otherwise the first call that needs it does)."""
        return self._run(self.loginAsync())

    def ping(self) -> dict[str, Any]:
        """``{"status": "pong"}``; needs no credentials."""
        return self._run(self.pingAsync())

    def version(self) -> str:
        """The bot's Freqtrade version."""
        return self._run(self.versionAsync())

    def show_config(self) -> dict[str, Any]:
        """The bot's public configuration summary (strategy, timeframe, stake, state, ...)."""
        return self._run(self.show_configAsync())

    def whitelist(self) -> list[str]:
        """The active pair whitelist."""
        return self._run(self.whitelistAsync())

    def pair_candles(
        self,
        pair: str,
        timeframe: str,
        limit: int | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """The bot's analyzed frame for ``pair``: equal to what its message websocket sends for
        the same candles (see :meth:`pair_candlesAsync`)."""
        return self._run(self.pair_candlesAsync(pair, timeframe, limit, columns))

    def pair_history(
        self, pair: str, timeframe: str, strategy: str, timerange: str | None = None
    ) -> pd.DataFrame:
        """``strategy`` run over stored history (``freqtrade webserver`` only)."""
        return self._run(self.pair_historyAsync(pair, timeframe, strategy, timerange))

    def trades(self, limit: int | None = None, offset: int = 0) -> pd.DataFrame:
        """Closed trades, one row per trade (all of them unless ``limit``)."""
        return self._run(self.tradesAsync(limit, offset))

    def status(self) -> pd.DataFrame:
        """Open trades with their current profit, one row per trade."""
        return self._run(self.statusAsync())

    def profit(self) -> dict[str, Any]:
        """Profit summary over all trades."""
        return self._run(self.profitAsync())

    def performance(self) -> pd.DataFrame:
        """Profit per pair over closed trades."""
        return self._run(self.performanceAsync())

    def plot_config(self) -> dict[str, Any]:
        """The strategy's ``plot_config`` (``main_plot``, ``subplots``)."""
        return self._run(self.plot_configAsync())

    def logs(self, limit: int | None = None) -> pd.DataFrame:
        """The bot's recent log lines (the last ``limit``): date, logger, level, message."""
        return self._run(self.logsAsync(limit))

    # --- endpoints (async)

    async def loginAsync(self) -> None:
        await self._on_loop(self._login())

    async def pingAsync(self) -> dict[str, Any]:
        body = await self._call("GET", "ping", authenticate=False)
        return _expect(self, "/ping", body, dict)

    async def versionAsync(self) -> str:
        body = _expect(self, "/version", await self._call("GET", "version"), dict)
        return str(body["version"])

    async def show_configAsync(self) -> dict[str, Any]:
        return _expect(self, "/show_config", await self._call("GET", "show_config"), dict)

    async def whitelistAsync(self) -> list[str]:
        body = _expect(self, "/whitelist", await self._call("GET", "whitelist"), dict)
        return [str(pair) for pair in body["whitelist"]]

    async def pair_candlesAsync(
        self,
        pair: str,
        timeframe: str,
        limit: int | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """The bot's analyzed frame for ``pair`` (its last ``limit`` candles; only ``columns``
        besides OHLCV and signals, when given), as a frame equal to what its message websocket
        sends for the same candles: the same dtypes, ``date`` as UTC datetimes, and values
        rounded as Freqtrade's websocket rounds them (10 decimals). The row index counts from
        0 (the websocket keeps the bot's own labels, which REST does not send)."""
        params: dict[str, Any] = {"pair": pair, "timeframe": timeframe}
        if limit:
            params["limit"] = limit
        if columns is None:
            body = await self._call("GET", "pair_candles", params=params)
        else:
            body = await self._call("POST", "pair_candles", json={**params, "columns": columns})
        return _candles_frame(self, "/pair_candles", body)

    async def pair_historyAsync(
        self, pair: str, timeframe: str, strategy: str, timerange: str | None = None
    ) -> pd.DataFrame:
        params = {
            "pair": pair,
            "timeframe": timeframe,
            "strategy": strategy,
            "timerange": timerange or "",
        }
        body = await self._call("GET", "pair_history", params=params)
        return _candles_frame(self, "/pair_history", body)

    async def tradesAsync(self, limit: int | None = None, offset: int = 0) -> pd.DataFrame:
        records: list[dict[str, Any]] = []
        while True:
            page = TRADES_PAGE if limit is None else min(TRADES_PAGE, limit - len(records))
            params = {"limit": page, "offset": offset + len(records), "order_by_id": "true"}
            body = _expect(self, "/trades", await self._call("GET", "trades", params=params), dict)
            batch = list(body["trades"])
            records += batch
            done = limit is not None and len(records) >= limit
            if done or len(batch) < page or offset + len(records) >= int(body["total_trades"]):
                break
        return _records_frame(records)

    async def statusAsync(self) -> pd.DataFrame:
        return _records_frame(_expect(self, "/status", await self._call("GET", "status"), list))

    async def profitAsync(self) -> dict[str, Any]:
        return _expect(self, "/profit", await self._call("GET", "profit"), dict)

    async def performanceAsync(self) -> pd.DataFrame:
        body = await self._call("GET", "performance")
        return _records_frame(_expect(self, "/performance", body, list))

    async def plot_configAsync(self) -> dict[str, Any]:
        return _expect(self, "/plot_config", await self._call("GET", "plot_config"), dict)

    async def logsAsync(self, limit: int | None = None) -> pd.DataFrame:
        params = {"limit": limit} if limit else None
        body = _expect(self, "/logs", await self._call("GET", "logs", params=params), dict)
        rows = [(entry[1], entry[2], entry[3], entry[4]) for entry in body["logs"]]
        frame = pd.DataFrame(rows, columns=["date", "logger", "level", "message"])
        frame["date"] = pd.to_datetime(frame["date"].astype("float64"), unit="ms", utc=True)
        return frame

    # --- HTTP, authentication, errors (on the background loop)

    async def _call(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        authenticate: bool = True,
    ) -> Any:
        return await self._on_loop(self._request(method, endpoint, params, json, authenticate))

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            verify: ssl.SSLContext | bool = True
            if self._ca_file is not None:
                verify = ssl.create_default_context(cafile=self._ca_file)
            self._client = httpx.AsyncClient(
                base_url=self._base + "/", timeout=self.timeout, verify=verify
            )
            self._client_loop = asyncio.get_running_loop()
        return self._client

    async def _request(
        self,
        method: str,
        endpoint: str,
        params: Mapping[str, Any] | None,
        json: Any,
        authenticate: bool,
    ) -> Any:
        # Authorization values stay wrapped in _Secret in every frame that an exception's
        # traceback may show with its locals (IPython's verbose mode does).
        auth = await self._authorization() if authenticate else None
        response = await self._send(method, endpoint, params, json, auth)
        if response.status_code == 401 and authenticate and not self._use_basic:
            # The access token was refused (expired early, or the bot restarted with another
            # jwt_secret_key): log in again once.
            self._access = self._refresh = None
            auth = await self._authorization()
            response = await self._send(method, endpoint, params, json, auth)
        return self._body(endpoint, response)

    async def _send(
        self,
        method: str,
        endpoint: str,
        params: Mapping[str, Any] | None,
        json: Any,
        auth: _Secret | None,
    ) -> httpx.Response:
        try:
            return await self._http().request(
                method,
                endpoint,
                params=params,
                json=json,
                headers={"Authorization": auth.reveal()} if auth is not None else None,
            )
        except httpx.TimeoutException:
            raise APIConnectionError(
                self.name,
                _path(endpoint),
                None,
                f"{_path(endpoint)}: no answer from {self._where()} within {self.timeout} s",
            ) from None
        except httpx.HTTPError as exc:
            raise APIConnectionError(
                self.name,
                _path(endpoint),
                None,
                f"cannot reach the REST API at {self._where()} ({self._redact(_reason(exc))}): "
                "is the producer running with api_server.enabled, listening on that address "
                "and port (and secure matching http/https)?",
            ) from None

    def _where(self) -> str:
        parts = urlsplit(self._base)
        return f"{parts.hostname}:{parts.port or _default_port(parts.scheme)}"

    def _body(self, endpoint: str, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise self._status_error(endpoint, response)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise APIError(
                self.name,
                _path(endpoint),
                response.status_code,
                f"{_path(endpoint)} answered HTTP {response.status_code} with a body that is not "
                f"JSON: is {self._base} a Freqtrade API server?",
            ) from None

    def _status_error(self, endpoint: str, response: httpx.Response) -> ProducerError:
        status = response.status_code
        path = _path(endpoint)
        detail = self._redact(_detail(response))
        said = f": {detail}" if detail else ""
        if status == 401:
            return AuthenticationError(
                self.name,
                f"the REST API refused the credentials at {path} (HTTP 401{said}): check the "
                "username and password (the producer's api_server.username and password)",
            )
        if status in (404, 503):
            if endpoint in _WEBSERVER_ONLY:
                hint = (
                    f"{endpoint} is only served by an API server in webserver mode "
                    "(`freqtrade webserver`); a trading bot serves pair_candles instead"
                )
            elif status == 503:
                hint = (
                    f"{endpoint} is only served by a trading bot (dry-run or live), not by "
                    "`freqtrade webserver`"
                )
            else:
                hint = f"this API server has no {path} (an older Freqtrade, or not Freqtrade?)"
            message = f"{path}: not available in this mode (HTTP {status}{said}): {hint}"
        elif status == 502:
            message = f"{path}: the bot could not answer (HTTP 502{said})"
        elif status == 422:
            message = f"{path}: the API server rejected the request's parameters (HTTP 422{said})"
        elif status == 403:
            message = f"{path}: forbidden (HTTP 403{said}): a proxy in front of the API server?"
        else:
            message = f"{path}: HTTP {status}{said}"
        return APIError(self.name, path, status, message)

    def _redact(self, text: str) -> str:
        for secret in (self._password, self._access, self._refresh):
            if secret is not None and secret.reveal():
                text = text.replace(secret.reveal(), "***")
        return text

    def _credentials(self) -> tuple[str, _Secret]:
        if self.username is None or self._password is None:
            raise AuthenticationError(
                self.name,
                "no REST API credentials: pass username= and password= (the producer's "
                "api_server.username and password) or set api_username / api_password in its "
                "producers entry",
            )
        return self.username, self._password

    async def _authorization(self) -> _Secret:
        """The ``Authorization`` header's value for the next call (logs in or refreshes)."""
        username, password = self._credentials()
        if self._use_basic:
            return _basic(username, password)
        if self._auth_lock is None:
            self._auth_lock = asyncio.Lock()
        async with self._auth_lock:
            if self._access is None:
                await self._login()
            elif self._access_expires - time.time() < self.refresh_margin:
                await self._refresh_access()
            if self._use_basic:
                return _basic(username, password)
            assert self._access is not None
            return _Secret(f"Bearer {self._access.reveal()}")

    async def _login(self) -> None:
        response = await self._send("POST", "token/login", None, None, _basic(*self._credentials()))
        if response.status_code in (404, 405):
            # No login endpoint (a proxy that only forwards some paths, an old API): Freqtrade
            # accepts HTTP basic on every endpoint.
            log.info(
                "producer %r: no token login at %s; using HTTP basic auth", self.name, self._base
            )
            self._use_basic = True
            return
        body = _expect(self, "/token/login", self._body("token/login", response), dict)
        self._set_tokens(body)
        log.debug("producer %r: logged in to the REST API as %r", self.name, self.username)

    async def _refresh_access(self) -> None:
        if self._refresh is None:
            await self._login()
            return
        bearer = _Secret(f"Bearer {self._refresh.reveal()}")
        response = await self._send("POST", "token/refresh", None, None, bearer)
        if response.status_code == 401:  # the refresh token expired (30 days): log in again
            self._access = self._refresh = None
            await self._login()
            return
        body = _expect(self, "/token/refresh", self._body("token/refresh", response), dict)
        self._set_tokens(body)
        log.debug("producer %r: refreshed the REST API access token", self.name)

    def _set_tokens(self, body: dict[str, Any]) -> None:
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise APIError(
                self.name, "/token/login", None, "the token answer holds no access_token"
            )
        self._access = _Secret(access)
        refresh = body.get("refresh_token")
        if isinstance(refresh, str) and refresh:
            self._refresh = _Secret(refresh)
        expiry = _jwt_expiry(access)
        self._access_expires = (
            expiry if expiry is not None else time.time() + DEFAULT_ACCESS_LIFETIME
        )


# --- helpers


def _base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:  # checked first: never echoed
        raise ValueError(
            "put the credentials in username= and password=, not in the URL (URLs end up in logs)"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL of a producer's API server: {url!r}")
    path = parts.path.rstrip("/")
    if path.endswith(API_PREFIX):
        path = path[: -len(API_PREFIX)]
    return f"{parts.scheme}://{parts.netloc}{path}{API_PREFIX}"


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _path(endpoint: str) -> str:
    return f"{API_PREFIX}/{endpoint}"


def _reason(exc: httpx.HTTPError) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"certificate not trusted: {cause.verify_message}; set ca_file"
        cause = cause.__cause__ or cause.__context__
    return str(exc) or type(exc).__name__


def _detail(response: httpx.Response) -> str:
    """Freqtrade's ``{"detail": ...}`` or ``{"error": ...}``, shortened."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return ""
    if isinstance(body, dict):
        detail = body.get("detail", body.get("error", ""))
        text = detail if isinstance(detail, str) else orjson.dumps(detail).decode()
        return text[:300]
    return ""


def _expect(api: ProducerAPI, path: str, body: Any, kind: type[T]) -> T:
    if not isinstance(body, kind):
        raise APIError(
            api.name,
            API_PREFIX + path,
            None,
            f"{API_PREFIX}{path}: expected a JSON {kind.__name__}, got {type(body).__name__}",
        )
    return body


def _records_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per record; ``*_date`` columns (Freqtrade's ``YYYY-MM-DD HH:MM:SS``, UTC) as UTC
    datetimes."""
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    for column in frame.columns:
        if str(column).endswith("_date"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _candles_frame(api: ProducerAPI, path: str, body: Any) -> pd.DataFrame:
    """A ``pair_candles`` / ``pair_history`` answer as the frame the websocket would carry.

    Freqtrade's REST rows add ``__date_ts`` and ``_<signal>_signal_close`` columns (not among
    ``all_columns``), give datetimes as ISO text and nulls for NaN and infinities. The frame is
    rebuilt with the original columns, datetimes as epoch milliseconds, and sent through
    Freqtrade's websocket encoding (``to_json``, 10 decimals) and our decoder: so it is equal,
    dtypes and rounding included, to the websocket frame of the same candles.
    """
    body = _expect(api, path, body, dict)
    try:
        columns: list[str] = list(body["columns"])
        original = set(body.get("all_columns") or columns)
        rows: list[list[Any]] = body["data"]
    except (KeyError, TypeError):
        raise APIError(
            api.name, API_PREFIX + path, None, f"{API_PREFIX}{path}: no candles in the answer"
        ) from None
    keep = [i for i, name in enumerate(columns) if name in original]
    names = [columns[i] for i in keep]
    if not rows:
        return pd.DataFrame(columns=names)
    frame = pd.DataFrame([[row[i] for i in keep] for row in rows], columns=names)
    if "__date_ts" in columns and "date" in frame.columns:
        frame["date"] = [row[columns.index("__date_ts")] for row in rows]
    for name in frame.columns:
        values = frame[name]
        if name == "date" and "__date_ts" in columns:
            continue
        textual = values.dtype == object or isinstance(values.dtype, pd.StringDtype)
        if textual and _all_iso_datetimes(values):
            stamps = pd.to_datetime(values, utc=True, format="ISO8601")
            frame[name] = pd.DatetimeIndex(stamps).as_unit("ms").asi8
    return decode_dataframe(frame.to_json(orient="split"))


def _all_iso_datetimes(values: pd.Series) -> bool:
    present = values.dropna()
    return bool(len(present)) and all(
        isinstance(v, str) and _ISO_DATETIME.match(v) for v in present
    )
