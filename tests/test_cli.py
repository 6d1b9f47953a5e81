"""The command line, run as a user would: real processes, real sockets."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

import producerconsumer as pc

CLI = [sys.executable, "-m", "producerconsumer"]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def test_demo_main_job():
    result = run("demo", "--pairs", "BTC/USDT,ETH/USDT", "--candles", "300", "--tick", "0.3")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "synced 2 pairs from producer 'default'" in out
    assert "BTC/USDT" in out and "rsi, tema, bb_lowerband" in out
    assert out.count("append  candle") == 3
    assert "?token=***" in out and "connected ready pairs=2" in out


def test_demo_producer_serves_until_stopped():
    token = "cli&tok#1"
    process = subprocess.Popen(
        [
            *CLI,
            "demo-producer",
            "--port",
            "0",
            "--ws-token",
            token,
            "--pairs",
            "ETH/USDT",
            "--tick",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("demo producer serving ws://127.0.0.1:") and "?token=***" in line
        port = int(line.split("ws://127.0.0.1:")[1].split("/")[0])
        producer = {"name": "default", "host": "127.0.0.1", "port": port, "ws_token": token}
        with pc.Consumer({"producers": [producer]}) as consumer:
            consumer.wait_ready(timeout=30)
            assert consumer.get_producer_pairs() == ["ETH/USDT"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
        process.wait(timeout=15)


@pytest.mark.slow
def test_inspect_and_record(tmp_path):
    with pc.DemoProducer(pairs=["BTC/USDT"], candles=200, ws_token="ins", tick=0.2) as producer:
        config = tmp_path / "config.json"
        config.write_text(
            json.dumps(
                {
                    "external_message_consumer": {
                        "enabled": True,
                        "producers": [producer.producer_config()],
                    }
                }
            )
        )
        result = run("inspect", "--config", str(config), "--updates", "2")
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert "whitelist of 1 pairs: BTC/USDT" in out and "ping " in out
        assert "size min/median/max" in out and "time between messages" in out
        assert "columns: date, open, high, low, close, volume" in out and "lag_seconds" in out
        assert out.count("default: BTC/USDT") == 2 and "after the previous message" in out
        out = tmp_path / "s.pcrec"
        result = run("record", "--config", str(config), "--out", str(out), "--seconds", "2")
        assert result.returncode == 0, result.stderr
        _, messages = pc.read_recording(out)
        assert len(list(messages)) >= 2


def test_bad_config_is_one_clear_error(tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{"producers": [{"name": "x", "host": "h", "ws_token": "t", "port": "80"}]}')
    result = run("inspect", "--config", str(config))
    assert result.returncode == 1
    assert "error: invalid consumer configuration" in result.stderr and "port" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("argv", [["demo", "--pairs", ""], ["nope"]])
def test_usage_errors(argv):
    assert run(*argv).returncode == 2
