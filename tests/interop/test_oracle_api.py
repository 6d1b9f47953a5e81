"""``pc.ProducerAPI`` against Freqtrade 2026.9's real REST API (``oracle/ft_api.py``): JWT login
and refresh, a wrong password, every method's types and values (trades persisted through
Freqtrade's own ``Trade.update_trade``), ``pair_candles`` equal to the websocket frame of the
same candles, webserver-mode ``pair_history``, errors naming the mode, and no secret anywhere."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest

import producerconsumer as pc

from .conftest import OracleProcess, assert_frame_matches, framejson, make_frame

pytestmark = pytest.mark.oracle

TOKEN = "api-ws-token"
USER = "freq-user"
PASSWORD = "pa55:w0rd&secret"
ROWS = {"BTC/USDT": 1600, "ETH/USDT": 300, "XRP/USDT": 120}
PAIRS = list(ROWS)
# ft_api.py's strategy.plot_config, as Freqtrade's /plot_config returns it.
PLOT_CONFIG = {
    "main_plot": {"tema": {}, "sar": {"color": "white"}},
    "subplots": {
        "MACD": {"macd": {"color": "blue"}, "macdsignal": {"color": "orange"}},
        "RSI": {"rsi": {"color": "red", "type": "line"}},
    },
}


ODD = "ODD/USDT"  # cached but not whitelisted: values REST and the websocket send differently


def odd_frame() -> pd.DataFrame:
    """Infinities (REST: null), a second datetime column (REST: ISO text, websocket: epoch ms),
    bools, strings with nulls, integral floats and an int64 column."""
    frame = make_frame(ODD, 150)
    frame["spike"] = np.where(np.arange(150) % 7 == 0, np.inf, frame["close"])
    frame.loc[3, "spike"] = -np.inf
    frame["signal_at"] = frame["date"] - pd.Timedelta(minutes=1)
    frame["flag"] = np.arange(150) % 2 == 0
    frame["note"] = [None if i % 3 else f"n{i}" for i in range(150)]
    frame["count"] = np.arange(150, dtype=np.int64)
    frame["round"] = np.round(frame["close"])
    return frame


class ApiOracle:
    def __init__(self, process: OracleProcess, port: int, workdir: Path) -> None:
        self.process = process
        self.port = port
        self.workdir = workdir
        self.url = f"http://127.0.0.1:{port}"

    def entry(self, **extra: Any) -> dict[str, Any]:
        return {"name": "bot", "host": "127.0.0.1", "port": self.port, "ws_token": TOKEN, **extra}


def _start(
    oracle_python: Path, registry: list[OracleProcess], workdir: Path, *args: str
) -> ApiOracle:
    argv = ["--token", TOKEN, "--username", USER, "--password", PASSWORD, *args]
    process = OracleProcess(oracle_python, "ft_api.py", argv, workdir)
    registry.append(process)
    event = process.wait_event("listening")
    return ApiOracle(process, int(event["port"]), workdir)


@pytest.fixture(scope="module")
def bot(
    oracle_python: Path,
    module_oracle_processes: list[OracleProcess],
    tmp_path_factory: pytest.TempPathFactory,
) -> ApiOracle:
    """A trading (dry-run) bot: frames, whitelist and persisted trades."""
    oracle = _start(oracle_python, module_oracle_processes, tmp_path_factory.mktemp("ft_api"))
    frames = {pair: framejson.dump_frame(make_frame(pair, rows)) for pair, rows in ROWS.items()}
    frames[ODD] = framejson.dump_frame(odd_frame())
    oracle.process.request("set_frames", frames=frames)
    oracle.process.request("set_whitelist", pairs=PAIRS)
    return oracle


@pytest.fixture(scope="module")
def trades(bot: ApiOracle) -> dict[str, list[dict[str, Any]]]:
    """The trades as Freqtrade serialises them (``Trade.to_json``): ``closed`` and ``open``."""
    reply = bot.process.request("add_trades")
    return {"closed": reply["closed"], "open": reply["open"]}


@pytest.fixture
def api(bot: ApiOracle) -> Iterator[pc.ProducerAPI]:
    with pc.ProducerAPI(bot.url, username=USER, password=PASSWORD) as api:
        yield api


def _requests(caplog: pytest.LogCaptureFixture) -> list[str]:
    """httpx's one line per request: ``METHOD URL "HTTP/1.1 STATUS"``."""
    return [
        r.getMessage().removeprefix("HTTP Request: ")
        for r in caplog.records
        if r.name == "httpx" and r.getMessage().startswith("HTTP Request")
    ]


# --- authentication


def test_login_then_calls_with_the_access_token(api, caplog):
    caplog.set_level(logging.INFO, logger="httpx")
    assert api.auth == "none"
    assert api.ping() == {"status": "pong"}  # public: no login needed
    assert api.auth == "none"
    assert api.version() == "2026.9"
    assert api.auth == "jwt"
    assert api.whitelist() == PAIRS
    seen = _requests(caplog)
    assert [
        line.split(" ")[0] + " " + line.split("/api/v1/")[1].split(" ")[0] for line in seen
    ] == [
        "GET ping",
        "POST token/login",
        "GET version",
        "GET whitelist",
    ]
    assert all('"HTTP/1.1 200 OK"' in line for line in seen)


def test_credentials_from_the_producers_entry(bot):
    config = {"producers": [bot.entry(api_username=USER, api_password=PASSWORD)]}
    with pc.ProducerAPI(config) as api:
        assert api.name == "bot"
        assert api.whitelist() == PAIRS
    with pc.ProducerAPI(pc.load_config(config).producers[0]) as api:
        assert api.version() == "2026.9"


def test_access_token_is_refreshed_before_it_expires(api, caplog):
    caplog.set_level(logging.INFO, logger="httpx")
    api.login()
    # Freqtrade's access tokens live 15 minutes: a margin longer than that makes the next call
    # refresh first, against the real /token/refresh.
    api.refresh_margin = 16 * 60
    assert api.version() == "2026.9"
    assert api.show_config()["bot_name"] == "oracle-bot"
    paths = [line.split("/api/v1/")[1].split(" ")[0] for line in _requests(caplog)]
    assert paths == ["token/login", "token/refresh", "version", "token/refresh", "show_config"]
    assert all('"HTTP/1.1 200 OK"' in line for line in _requests(caplog))
    assert api.auth == "jwt"


def test_wrong_password_fails_at_once(bot, caplog):
    caplog.set_level(logging.INFO, logger="httpx")
    with pc.ProducerAPI(bot.url, username=USER, password="not-the-password") as api:
        started = time.monotonic()
        with pytest.raises(pc.AuthenticationError) as raised:
            api.trades()
        elapsed = time.monotonic() - started
    message = str(raised.value)
    assert f"producer '127.0.0.1:{bot.port}'" in message
    assert "401" in message and "username and password" in message
    assert "not-the-password" not in message
    assert raised.value.producer == f"127.0.0.1:{bot.port}"
    assert elapsed < 2.0
    assert [line.split("/api/v1/")[1] for line in _requests(caplog)] == [
        'token/login "HTTP/1.1 401 Unauthorized"'
    ]


def test_wrong_username_from_a_named_producer(bot):
    config = {
        "producers": [
            bot.entry(name="other", api_username=USER, api_password=PASSWORD),
            bot.entry(name="bot", api_username="nobody", api_password=PASSWORD),
        ]
    }
    with pc.ProducerAPI(config, name="bot") as api:
        with pytest.raises(pc.AuthenticationError, match="producer 'bot'"):
            api.show_config()


# --- methods: types and values


def test_info_endpoints(api, bot):
    config = api.show_config()
    assert config["strategy"] == "OracleStrategy"
    assert config["strategy_version"] == "oracle-1.2"
    assert config["timeframe"] == "5m"
    assert config["runmode"] == "dry_run"
    assert config["dry_run"] is True
    assert config["state"] == "running"
    assert config["api_version"] == 2.5
    assert api.plot_config() == PLOT_CONFIG


def test_trades_are_freqtrades_closed_trades(api, trades):
    frame = api.trades()
    closed = trades["closed"]
    assert len(closed) == 4
    assert isinstance(frame, pd.DataFrame)
    assert frame["trade_id"].tolist() == [t["trade_id"] for t in closed]
    for column in ("pair", "enter_tag", "exit_reason", "is_open", "amount", "stake_amount"):
        # JSON null is a missing value (NaN in pandas 3's string columns, None in pandas 2's).
        values = [None if pd.isna(v) else v for v in frame[column]]
        assert values == [t[column] for t in closed], column
    for column in ("open_rate", "close_rate", "profit_ratio", "profit_abs", "close_profit_abs"):
        assert frame[column].tolist() == [t[column] for t in closed], column
    for column in ("open_date", "close_date"):
        assert str(frame[column].dtype).startswith("datetime64") and frame[column].dt.tz is not None
        expected = [pd.Timestamp(t[column], tz="UTC") for t in closed]
        assert frame[column].tolist() == expected, column
    assert frame["open_timestamp"].tolist() == [t["open_timestamp"] for t in closed]
    assert [len(orders) for orders in frame["orders"]] == [2, 2, 2, 2]
    # Paging: limit and offset as Freqtrade's /trades takes them.
    assert api.trades(limit=2)["trade_id"].tolist() == frame["trade_id"].tolist()[:2]
    assert api.trades(limit=2, offset=3)["trade_id"].tolist() == frame["trade_id"].tolist()[3:]


def test_status_profit_performance(api, trades):
    (open_trade,) = trades["open"]
    status = api.status()
    assert status["trade_id"].tolist() == [open_trade["trade_id"]]
    assert status["pair"].tolist() == ["ETH/USDT"]
    assert status["is_open"].tolist() == [True]
    assert status["current_rate"].tolist() == [49.0]  # ft_api.py's ticker
    assert status["open_date"].tolist() == [pd.Timestamp(open_trade["open_date"], tz="UTC")]

    profit = api.profit()
    closed = trades["closed"]
    assert profit["trade_count"] == 5
    assert profit["closed_trade_count"] == 4
    assert profit["profit_closed_coin"] == pytest.approx(sum(t["profit_abs"] for t in closed))
    assert profit["winning_trades"] == sum(t["profit_abs"] > 0 for t in closed)

    performance = api.performance()
    by_pair: dict[str, float] = {}
    for t in closed:
        by_pair[t["pair"]] = by_pair.get(t["pair"], 0.0) + t["profit_abs"]
    assert sorted(performance["pair"]) == sorted(by_pair)
    for row in performance.itertuples():
        assert row.profit_abs == pytest.approx(by_pair[row.pair])
        assert row.count == sum(t["pair"] == row.pair for t in closed)


def test_same_answers_as_freqtrades_own_client(api, bot, trades):
    """Freqtrade's ``FtRestClient`` (HTTP basic) and ours (JWT) read the same bot."""
    calls = [
        ("version", {}),
        ("show_config", {}),
        ("whitelist", {}),
        ("profit", {}),
        ("performance", {}),
        ("plot_config", {}),
        ("trades", {}),
        ("status", {}),
        ("pair_candles", {"pair": "XRP/USDT", "timeframe": "5m", "limit": 5}),
    ]
    results = bot.process.request("ft_client", calls=calls)["results"]
    theirs = dict(zip([name for name, _ in calls], results, strict=True))
    assert api.version() == theirs["version"]["version"]
    assert api.show_config() == theirs["show_config"]
    assert api.whitelist() == theirs["whitelist"]["whitelist"]
    assert api.plot_config() == theirs["plot_config"]
    ours_profit, their_profit = api.profit(), theirs["profit"]
    for moving in ("bot_start_timestamp", "bot_start_date"):  # same bot, read a moment apart
        ours_profit.pop(moving, None)
        their_profit.pop(moving, None)
    assert ours_profit == their_profit
    assert api.performance().to_dict("records") == theirs["performance"]
    for ours, their in (
        (api.trades(), theirs["trades"]["trades"]),
        (api.status(), theirs["status"]),
    ):
        assert ours["trade_id"].tolist() == [t["trade_id"] for t in their]
        for column in ("open_date", "close_date"):
            expected = [
                None if t[column] is None else pd.Timestamp(t[column], tz="UTC") for t in their
            ]
            assert [None if pd.isna(v) else v for v in ours[column]] == expected
        numbers = ["amount", "open_rate", "profit_abs", "stake_amount", "open_timestamp"]
        assert ours[numbers].to_dict("records") == [{k: t[k] for k in numbers} for t in their]
    # Their client hands over Freqtrade's JSON; ours, the frame the websocket would carry.
    candles = theirs["pair_candles"]
    frame = api.pair_candles("XRP/USDT", "5m", limit=5)
    assert list(frame.columns) == candles["all_columns"]
    assert [int(d.value // 1_000_000) for d in frame["date"]] == [
        row[candles["columns"].index("__date_ts")] for row in candles["data"]
    ]


def test_logs(api, bot):
    marker = f"marker-{time.monotonic_ns()}"
    bot.process.request("log", message=marker)
    logs = api.logs()
    assert list(logs.columns) == ["date", "logger", "level", "message"]
    assert str(logs["date"].dt.tz) == "UTC"
    (row,) = logs[logs["message"] == marker].itertuples()
    assert (row.logger, row.level) == ("ft_api", "INFO")
    assert abs(pd.Timestamp.now(tz="UTC") - row.date) < pd.Timedelta(minutes=5)
    assert len(api.logs(limit=2)) == 2


# --- candles: REST equals the websocket


def _websocket_frame(bot: ApiOracle, pair: str, limit: int | None) -> tuple[pd.DataFrame, Any]:
    """The bot's websocket ``analyzed_df`` reply for ``pair``: decoded by our wire codec, and
    Freqtrade's own decode of it (a framejson dump)."""
    out = bot.workdir / f"expected-{pair.replace('/', '_')}-{limit}.json"
    expected = bot.process.request("expected", pair=pair, limit=limit, out=str(out))
    assert expected["rows"] > 0
    reply = framejson.read(out)
    message = pc.wire.parse_message(reply["text"])
    assert isinstance(message, pc.wire.AnalyzedFrame)
    return message.frame, reply["frame"]


@pytest.mark.parametrize(
    ("pair", "limit"), [("BTC/USDT", 1500), ("ETH/USDT", None), ("XRP/USDT", 50), (ODD, None)]
)
def test_pair_candles_equals_the_websocket_frame(api, bot, pair, limit):
    rest = api.pair_candles(pair, "5m", limit=limit)
    ours, freqtrades = _websocket_frame(bot, pair, limit)
    # REST sends no index labels; the websocket keeps the bot's (100..1599 for 1500 of 1600).
    assert rest.index.tolist() == list(range(len(rest)))
    pd.testing.assert_frame_equal(rest, ours.reset_index(drop=True), check_exact=True)
    assert_frame_matches(rest.set_axis(ours.index), freqtrades, f"{pair} REST vs Freqtrade")
    assert str(rest["date"].dt.tz) == "UTC"


def test_pair_candles_with_columns(api, bot):
    rest = api.pair_candles("ETH/USDT", "5m", limit=20, columns=["rsi"])
    ours, _ = _websocket_frame(bot, "ETH/USDT", 20)
    # Freqtrade always adds OHLCV and the signal columns to the chosen ones (in frame order).
    expected = ["date", "open", "high", "low", "close", "volume", "rsi", "enter_long", "exit_long"]
    assert list(rest.columns) == expected
    pd.testing.assert_frame_equal(rest, ours.reset_index(drop=True)[expected], check_exact=True)


def test_pair_candles_of_an_unknown_pair_is_empty(api):
    frame = api.pair_candles("DOGE/USDT", "5m")
    assert isinstance(frame, pd.DataFrame) and frame.empty


async def test_async_twins(bot):
    async with pc.ProducerAPI(bot.url, username=USER, password=PASSWORD) as api:
        assert await api.versionAsync() == "2026.9"
        assert await api.whitelistAsync() == PAIRS
        frame = await api.pair_candlesAsync("XRP/USDT", "5m")
        assert len(frame) == ROWS["XRP/USDT"]
        assert (await api.plot_configAsync()) == PLOT_CONFIG
    # Sync and async calls share one object (all I/O is on the package's loop).
    with pc.ProducerAPI(bot.url, username=USER, password=PASSWORD) as api:
        assert api.version() == await api.versionAsync()


# --- modes


def test_pair_history_on_a_trading_bot_is_a_clear_error(api):
    with pytest.raises(pc.APIError) as raised:
        api.pair_history("BTC/USDT", "5m", "OracleStrategy", "20260101-")
    assert raised.value.status == 503
    assert raised.value.endpoint == "/api/v1/pair_history"
    assert "webserver mode" in str(raised.value) and "pair_candles" in str(raised.value)


@pytest.fixture(scope="module")
def webserver(
    oracle_python: Path,
    module_oracle_processes: list[OracleProcess],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[ApiOracle, pd.DataFrame]:
    """``freqtrade webserver`` over 200 stored candles of BTC/USDT (Freqtrade's json format)."""
    datadir = tmp_path_factory.mktemp("webserver")
    ohlcv = make_frame("BTC/USDT", 200)[["date", "open", "high", "low", "close", "volume"]]
    rows = [
        [int(row.date.value // 1_000_000), row.open, row.high, row.low, row.close, row.volume]
        for row in ohlcv.itertuples()
    ]
    (datadir / "BTC_USDT-5m.json").write_bytes(orjson.dumps(rows))
    oracle = _start(
        oracle_python,
        module_oracle_processes,
        datadir,
        "--mode",
        "webserver",
        "--datadir",
        str(datadir),
    )
    return oracle, ohlcv


def test_pair_history_in_webserver_mode(webserver):
    oracle, ohlcv = webserver
    with pc.ProducerAPI(oracle.url, username=USER, password=PASSWORD) as api:
        frame = api.pair_history("BTC/USDT", "5m", "WebStrategy", "20260101-")
        assert list(frame.columns)[:6] == ["date", "open", "high", "low", "close", "volume"]
        assert {"sma3", "enter_long", "exit_long"} <= set(frame.columns)
        assert len(frame) == len(ohlcv)
        assert frame["date"].tolist() == ohlcv["date"].tolist()
        pd.testing.assert_series_equal(
            frame["close"], ohlcv["close"], check_exact=False, rtol=1e-9, check_names=False
        )
        sma = ohlcv["close"].rolling(3).mean()
        pd.testing.assert_series_equal(
            frame["sma3"], sma, check_exact=False, rtol=1e-9, check_names=False
        )


def test_trading_endpoints_in_webserver_mode_are_a_clear_error(webserver):
    oracle, _ = webserver
    with pc.ProducerAPI(oracle.url, username=USER, password=PASSWORD) as api:
        assert api.version() == "2026.9"
        with pytest.raises(pc.APIError) as raised:
            api.trades()
        assert raised.value.status == 503
        assert "only served by a trading bot" in str(raised.value)
        assert "/api/v1/trades" in str(raised.value)


# --- secrecy


def test_no_secret_in_any_repr_log_or_exception(bot, caplog):
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    config = {"producers": [bot.entry(api_username=USER, api_password=PASSWORD)]}
    texts.append(repr(pc.load_config(config)))
    with pc.ProducerAPI(config) as api:
        api.login()
        api.refresh_margin = 16 * 60  # every call refreshes: more tokens to leak
        api.whitelist()
        api.pair_candles("XRP/USDT", "5m", limit=3, columns=["rsi"])
        for call in (
            lambda: api.pair_history("BTC/USDT", "5m", "X", ""),
            lambda: pc.ProducerAPI(config, password="wrong" + PASSWORD).version(),
            lambda: pc.ProducerAPI(config, username=USER + "x").trades(),
        ):
            with pytest.raises(pc.ProducerError) as raised:
                call()
            exc = raised.value
            texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
            # Our frames' local variables, as IPython's verbose tracebacks show them (the
            # test's own frame holds the password it passed in).
            verbose = traceback.TracebackException.from_exception(exc, capture_locals=True)
            ours = [f for f in verbose.stack if "/producerconsumer/" in f.filename]
            assert ours
            texts += [f"{frame.name}: {frame.locals}" for frame in ours]
        secrets = [PASSWORD, api._access.reveal(), api._refresh.reveal()]  # type: ignore[union-attr]
        texts += [repr(api), str(api), repr(vars(api)) if hasattr(api, "__dict__") else ""]
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
    assert any("token/refresh" in text for text in texts)  # the log was captured
    leaks = [
        f"{secret[:6]}... in {text[:120]!r}"
        for text in texts
        for secret in secrets
        if secret in text
    ]
    assert not leaks
