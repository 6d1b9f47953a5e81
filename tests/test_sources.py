from __future__ import annotations

import json

import pytest
from pandas.testing import assert_frame_equal

import producerconsumer as pc


def test_demo_replay_snapshot_and_config_sources(tmp_path):
    consumer = pc.open_source("demo", pairs=["BTC/USDT"], candles=150, tick=None)
    try:
        assert consumer.is_ready()
        with consumer.record(tmp_path / "s.pcrec"):
            original, _ = consumer.get_producer_df("BTC/USDT")
        consumer.snapshot().to_parquet(tmp_path / "snap")
        producer = consumer.owned[0]
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"producers": [producer.producer_config()]}))
        from_config = pc.open_source(f"config:{config}")
        assert_frame_equal(from_config.get_producer_df("BTC/USDT")[0], original)
        from_config.stop()
    finally:
        consumer.stop()
    assert not producer.running  # the consumer stopped the producer it owned

    replayed = pc.open_source(f"replay:{tmp_path / 's.pcrec'}")
    try:
        assert_frame_equal(replayed.get_producer_df("BTC/USDT")[0], original)
    finally:
        replayed.stop()
    snap = pc.open_source(f"snapshot:{tmp_path / 'snap'}")
    assert_frame_equal(snap.get_producer_df("BTC/USDT")[0], original)
    snap.stop()


@pytest.mark.parametrize("spec", ["", "live", "replay:", "demo:x", "config"])
def test_bad_source(spec):
    with pytest.raises(ValueError, match="unknown source"):
        pc.open_source(spec)


def test_missing_recording(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        pc.open_source(f"replay:{tmp_path / 'missing.pcrec'}")
