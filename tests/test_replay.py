"""Record a live session, replay it to a fresh consumer, snapshots round trip."""

from __future__ import annotations

import gzip
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import producerconsumer as pc

PAIRS = ["BTC/USDT", "ETH/USDT"]


def frames(source, pairs=PAIRS, producer="default") -> dict[str, tuple[pd.DataFrame, object]]:
    return {pair: source.get_producer_df(pair, producer_name=producer) for pair in pairs}


def last_date(source, pair: str):
    frame, _ = source.get_producer_df(pair)
    return None if frame.empty else frame["date"].iloc[-1]


@pytest.fixture
def recorded(tmp_path):
    """A recorded demo session: the sync, three new candles, a whitelist change and back."""
    path = tmp_path / "session.pcrec"
    with pc.DemoProducer(pairs=PAIRS, candles=300, ws_token="t", tick=None) as producer:
        with pc.Consumer({"producers": [producer.producer_config()]}) as consumer:
            with consumer.record(path) as recorder:
                consumer.wait_ready(timeout=30)
                for _ in range(3):
                    before = last_date(consumer, "ETH/USDT")
                    producer.advance(1)
                    consumer.wait_until(lambda b=before: last_date(consumer, "ETH/USDT") > b, 10)
                    consumer.wait_until(
                        lambda: last_date(consumer, "BTC/USDT") == last_date(consumer, "ETH/USDT"),
                        10,
                    )
            original = frames(consumer)
    assert recorder.closed and recorder.messages > 0
    return path, original


def test_recording_is_gzip_with_header_and_no_token(recorded):
    path, _ = recorded
    text = gzip.decompress(path.read_bytes()).decode()
    assert text.startswith('{"format":"producerconsumer-recording","version":1')
    assert '"ws_token"' not in text and "token=" not in text
    header, messages = pc.read_recording(path)
    messages = list(messages)
    assert header["producers"][0]["name"] == "default" and "ws_token" not in header["producers"][0]
    parsed = [pc.wire.parse_message(m.text) for m in messages]
    assert isinstance(parsed[0], pc.wire.Whitelist)
    broadcasts = [m for m in parsed if isinstance(m, pc.wire.AnalyzedFrame) and len(m.frame) == 1]
    assert len(broadcasts) == 6  # three new candles for two pairs


def test_replay_to_a_fresh_consumer_gives_the_same_frames(recorded):
    path, original = recorded
    with pc.ReplayProducer(path, speed=None) as replay:
        assert replay.wait_finished(timeout=30)
        with pc.Consumer({"producers": [replay.producer_config()]}) as consumer:
            consumer.wait_ready(timeout=30)
            replayed = frames(consumer)
    for pair in PAIRS:
        assert_frame_equal(replayed[pair][0], original[pair][0], check_exact=True)
        assert replayed[pair][1] == original[pair][1]


def test_live_replay_broadcasts_at_recorded_pace(recorded):
    path, original = recorded
    with pc.ReplayProducer(path, speed=50.0) as replay:
        with pc.Consumer({"producers": [replay.producer_config()]}) as consumer:
            consumer.wait_ready(timeout=30)
            final = original["ETH/USDT"][0]["date"].iloc[-1]
            consumer.wait_until(lambda: last_date(consumer, "ETH/USDT") == final, 30)
            consumer.wait_until(lambda: last_date(consumer, "BTC/USDT") == final, 30)
            assert replay.wait_finished(timeout=30)
            replayed = frames(consumer)
    for pair in PAIRS:
        assert_frame_equal(replayed[pair][0], original[pair][0], check_exact=True)


def test_killed_recording_keeps_what_was_written(tmp_path):
    path = tmp_path / "killed.pcrec"
    script = textwrap.dedent(
        f"""
        import os, producerconsumer as pc
        with pc.DemoProducer(pairs=["BTC/USDT"], candles=200, ws_token="t", tick=None) as producer:
            consumer = pc.Consumer({{"producers": [producer.producer_config()]}}).start()
            consumer.wait_ready(timeout=30)
            recorder = consumer.record({str(path)!r})
            producer.advance(2)
            consumer.wait_until(lambda: recorder.messages >= 4, 10)
            os._exit(9)   # no close, no flush at exit: as if killed
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], timeout=120, capture_output=True, text=True
    )
    assert result.returncode == 9, result.stderr
    with pytest.raises(EOFError):
        gzip.decompress(path.read_bytes())  # the gzip stream was never finished
    header, messages = pc.read_recording(path)
    messages = list(messages)
    assert header["format"] == "producerconsumer-recording"
    # the consumer's state (whitelist, frame), then the two broadcasts received live
    assert [m.state for m in messages] == [True, True, False, False]


def test_snapshot_round_trip(tmp_path, recorded):
    path, original = recorded
    with pc.ReplayProducer(path, speed=None) as replay:
        replay.wait_finished(timeout=30)
        with pc.Consumer({"producers": [replay.producer_config()]}) as consumer:
            consumer.wait_ready(timeout=30)
            snap = consumer.snapshot()
    assert isinstance(snap, pc.Snapshot) and snap.get_producer_pairs() == PAIRS
    saved = snap.to_parquet(tmp_path / "snap")
    loaded = pc.load_snapshot(saved)
    assert loaded.get_producer_pairs() == PAIRS and loaded.get_producer_pairs("other") == []
    for pair in PAIRS:
        frame, last_analyzed = loaded.get_producer_df(pair)
        assert_frame_equal(frame, original[pair][0], check_exact=True)
        assert last_analyzed == original[pair][1] and last_analyzed.tzinfo is not None
        assert str(frame["date"].dtype).endswith(", UTC]")
    empty, epoch = loaded.get_producer_df("NOPE/USDT")
    assert empty.empty and epoch.year == 1970
    assert "2 pairs, 2 frames" in repr(loaded)


def test_snapshot_is_immutable_and_atomic():
    with pc.DemoProducer(pairs=PAIRS, candles=150, ws_token="t", tick=None) as producer:
        with pc.Consumer({"producers": [producer.producer_config()]}) as consumer:
            consumer.wait_ready(timeout=30)
            snap = consumer.snapshot()
            before = last_date(snap, "BTC/USDT")
            producer.advance(1)
            consumer.wait_until(lambda: last_date(consumer, "BTC/USDT") > before, 10)
            assert last_date(snap, "BTC/USDT") == before
            frame, _ = snap.get_producer_df("BTC/USDT")
            frame["close"] = 0.0
            assert (snap.get_producer_df("BTC/USDT")[0]["close"] > 0).all()


def test_load_snapshot_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a snapshot"):
        pc.load_snapshot(tmp_path)
    (tmp_path / "snapshot.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a producerconsumer-snapshot"):
        pc.load_snapshot(tmp_path)


def test_replay_errors(tmp_path):
    bad = tmp_path / "bad.pcrec"
    bad.write_bytes(gzip.compress(b'{"hello": 1}\n'))
    with pytest.raises(ValueError, match="not a producerconsumer-recording"):
        pc.ReplayProducer(bad)
    with pytest.raises(ValueError, match="speed must be > 0"):
        pc.ReplayProducer(bad, speed=0)


def test_replay_resends_the_bots_messages_to_their_subscribers(tmp_path):
    """Recorded trade messages go out again byte for byte, only to clients subscribed to their
    type; with api_password the replay serves REST on the same port."""
    import orjson
    from websockets.sync.client import connect

    from producerconsumer.demo import DemoBot
    from producerconsumer.replay import Recorder
    from producerconsumer.wire.rpc import encode_rpc_message

    with pc.DemoProducer(pairs=PAIRS, candles=200, tick=None) as producer:
        server = producer._server
        assert server is not None
        sync = [pc.wire.whitelist_message(PAIRS)]
        sync += [server.analyzed_reply(pair, 1500) for pair in PAIRS]
    bot = DemoBot()
    bot.run({pair: producer.frame(pair) for pair in PAIRS})
    trade = bot.trades_json()["trades"][0]
    entry = {"type": "entry_fill", "trade_id": trade["trade_id"], "pair": trade["pair"]}
    texts = [encode_rpc_message(entry), encode_rpc_message({"type": "status", "status": "hi"})]
    path = tmp_path / "bot.pcrec"
    with Recorder(path, [pc.ProducerConfig("default", "127.0.0.1", "t")]) as recorder:
        for text in sync:
            recorder.write("default", text, 1000.0)
        for i, text in enumerate(texts):
            recorder.write("default", text, 1001.0 + i)
    with pc.ReplayProducer(path, speed=50.0, loop=True, api_password="pw") as replay:
        with connect(replay.url) as client:
            client.send(orjson.dumps({"type": "subscribe", "data": ["entry_fill"]}).decode())
            got = [client.recv(timeout=10) for _ in range(2)]
        assert got == [texts[0], texts[0]]  # each loop, never the status or the frames
        with pc.ProducerAPI(replay.producer_config()) as api:
            assert api.whitelist() == PAIRS
            assert len(api.pair_candles("BTC/USDT", "5m")) == 200
