"""The demo producer as a whole bot against Freqtrade 2026.9: Freqtrade's own REST client
(``freqtrade_client.FtRestClient``, ``oracle/ft_client.py``) reads every endpoint the demo serves
and each answer validates against the model Freqtrade's API declares; ``pair_candles`` is the
body Freqtrade's real API (``oracle/ft_api.py``) sends for the same frame; and Freqtrade's
consumer still syncs while another client takes the bot's trade messages."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from websockets.sync.client import connect

import producerconsumer as pc
from producerconsumer.demo import DemoProducer
from producerconsumer.server.rest import pair_candles_json

from .conftest import ORACLE_DIR, OracleProcess, framejson
from .test_oracle_api import ODD, odd_frame

pytestmark = pytest.mark.oracle

TOKEN = "demo-bot-token"
USER = "freq-user"
PASSWORD = "pa55:w0rd&secret"
PAIRS = ["BTC/USDT", "ETH/USDT", "XRP/USDT"]
END = datetime(2026, 11, 23, 22, 3, tzinfo=UTC)
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("ping", {}),
    ("version", {}),
    ("show_config", {}),
    ("whitelist", {}),
    ("plot_config", {}),
    ("trades", {}),
    ("trades", {"limit": 2, "offset": 1}),
    ("status", {}),
    ("pair_candles", {"pair": "BTC/USDT", "timeframe": "5m"}),
    ("pair_candles", {"pair": "ETH/USDT", "timeframe": "5m", "limit": 30, "columns": ["rsi"]}),
]


@pytest.fixture
def demo() -> Iterator[DemoProducer]:
    with DemoProducer(
        PAIRS, "5m", 800, ws_token=TOKEN, tick=None, end=END, api_username=USER,
        api_password=PASSWORD,
    ) as producer:  # fmt: skip
        yield producer


def ft_client(oracle_python: Path, tmp_path: Path, url: str, calls: list[Any]) -> dict[str, Any]:
    calls_file, out = tmp_path / "calls.json", tmp_path / "out.json"
    calls_file.write_text(json.dumps(calls))
    script = str(ORACLE_DIR / "ft_client.py")
    done = subprocess.run(
        [str(oracle_python), script, url, USER, PASSWORD, str(calls_file), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode:
        raise AssertionError(f"ft_client.py failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _json(obj: Any) -> Any:
    """What the wire carries for ``obj`` (our server encodes with orjson)."""
    return orjson.loads(orjson.dumps(obj))


def test_freqtrades_client_reads_every_endpoint_the_demo_serves(
    demo: DemoProducer, oracle_python: Path, tmp_path: Path
) -> None:
    out = ft_client(oracle_python, tmp_path, demo.api_url, CALLS)
    assert out["invalid"] == {name: None for name, _ in CALLS}, out["invalid"]
    r = out["results"]
    bot = demo.bot
    assert bot is not None
    assert r[0] == {"status": "pong"}  # FtRestClient.ping reads show_config's state
    assert r[1] == {"version": "2026.9"}
    assert r[2]["strategy"] == "ProducerStrategy" and r[2]["timeframe"] == "5m"
    assert r[3] == {"whitelist": PAIRS, "length": 3, "method": ["StaticPairList"]}
    assert r[4] == bot.plot_config()
    assert r[5] == _json(bot.trades_json())
    assert r[5]["total_trades"] > 0, "the demo bot should have traded over 800 candles"
    assert r[6] == _json(bot.trades_json(2, 1))
    assert r[7] == _json(bot.status_json())
    server = demo._server
    assert server is not None
    for answer, (_, kwargs) in zip(r[8:], CALLS[8:], strict=True):
        cached = demo.analyzed(kwargs["pair"])
        assert cached is not None
        frame = cached[0].iloc[-kwargs["limit"] :] if "limit" in kwargs else cached[0]
        assert answer["length"] == len(frame)
        assert answer["data_stop_ts"] == int(frame["date"].iloc[-1].value // 1_000_000)
    # Our client reads the same through JWT.
    with pc.ProducerAPI(demo.producer_config()) as api:
        assert api.show_config() == r[2]
        assert api.trades()["trade_id"].tolist() == [t["trade_id"] for t in r[5]["trades"]]


@pytest.mark.slow
def test_pair_candles_body_is_freqtrades(
    demo: DemoProducer,
    oracle_python: Path,
    oracle_processes: list[OracleProcess],
    tmp_path: Path,
) -> None:
    """Freqtrade's real API holding the demo's frame answers pair_candles as the demo does."""
    argv = ["--token", TOKEN, "--username", USER, "--password", PASSWORD]
    process = OracleProcess(oracle_python, "ft_api.py", argv, tmp_path)
    oracle_processes.append(process)
    port = int(process.wait_event("listening")["port"])
    frames = {pair: framejson.dump_frame(demo.frame(pair)) for pair in PAIRS}
    process.request("set_frames", frames=frames)
    process.request("set_whitelist", pairs=PAIRS)
    calls = [c for c in CALLS if c[0] == "pair_candles"]
    ours = ft_client(oracle_python, tmp_path, demo.api_url, calls)
    theirs = ft_client(oracle_python, tmp_path, f"http://127.0.0.1:{port}", calls)
    for mine, freqtrades in zip(ours["results"], theirs["results"], strict=True):
        for moving in ("strategy", "last_analyzed", "last_analyzed_ts"):
            mine.pop(moving)
            freqtrades.pop(moving)
        assert mine == freqtrades
    # Values the demo's frames do not have (infinities, a second datetime column, bools,
    # strings with nulls, int64): the body our servers build is Freqtrade's too.
    odd = odd_frame()
    process.request("set_frames", frames={ODD: framejson.dump_frame(odd)})
    call = [("pair_candles", {"pair": ODD, "timeframe": "5m", "limit": 40})]
    freqtrades = ft_client(oracle_python, tmp_path, f"http://127.0.0.1:{port}", call)
    theirs_odd = freqtrades["results"][0]
    mine_odd = orjson.loads(pair_candles_json("S", ODD, "5m", odd.iloc[-40:], END))
    for moving in ("strategy", "last_analyzed", "last_analyzed_ts"):
        mine_odd.pop(moving)
        theirs_odd.pop(moving)
    assert mine_odd == theirs_odd
    # Our client reads both alike.
    with (
        pc.ProducerAPI(demo.producer_config()) as on_demo,
        pc.ProducerAPI(f"http://127.0.0.1:{port}", username=USER, password=PASSWORD) as on_ft,
    ):
        for _, kwargs in calls:
            pd.testing.assert_frame_equal(
                on_demo.pair_candles(**kwargs), on_ft.pair_candles(**kwargs), check_exact=True
            )
        assert on_demo.whitelist() == on_ft.whitelist() == PAIRS


@pytest.mark.slow
def test_freqtrade_consumer_syncs_beside_a_trade_subscriber(
    demo: DemoProducer, start_ft_consumer
) -> None:
    with connect(demo.url) as trades:
        topics = ["whitelist", "analyzed_df", "entry", "entry_fill", "exit", "exit_fill"]
        trades.send(orjson.dumps({"type": "subscribe", "data": topics}).decode())
        trades.send(pc.wire.whitelist_request())
        assert orjson.loads(trades.recv(timeout=10))["type"] == "whitelist"
        consumer = start_ft_consumer("127.0.0.1", demo.port, TOKEN)
        consumer.wait_synced(timeout=30, pairs=PAIRS)
        demo.advance(120)
        last = {pair: demo.frame(pair)["date"].iloc[-1] for pair in PAIRS}
        consumer.wait_synced(timeout=30, pairs=PAIRS, min_last_date=last)
        kinds = set()
        while "exit_fill" not in kinds:
            kinds.add(orjson.loads(trades.recv(timeout=10))["type"])
        dump = consumer.dump()
        assert dump["pairs"] == PAIRS
        for pair in PAIRS:
            stored = dump["frames"][pair]["frame"]
            assert len(stored["index"]["values"]) == 800 + 120  # the history and every candle
