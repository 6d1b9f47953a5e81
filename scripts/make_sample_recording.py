"""Write notebooks/data/demo-session.pcrec: a small recorded demo session for the notebooks.

Two pairs, 300 candles each, then five new candles a fifth of a second apart, so a replay at
speed 1 shows a short live phase. Candles are deterministic (fixed seed and end date).

    python scripts/make_sample_recording.py
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import producerconsumer as pc

OUT = Path(__file__).resolve().parents[1] / "notebooks" / "data" / "demo-session.pcrec"
PAIRS = ["BTC/USDT", "ETH/USDT"]


def last_dates(consumer: pc.Consumer) -> list[object]:
    return [consumer.get_producer_df(pair)[0]["date"].iloc[-1] for pair in PAIRS]


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    end = datetime(2026, 11, 1, tzinfo=UTC)
    with pc.DemoProducer(pairs=PAIRS, candles=300, tick=None, end=end) as producer:
        consumer = pc.Consumer({"producers": [producer.producer_config()]})
        with consumer.record(OUT) as recorder, consumer:
            consumer.wait_ready(timeout=60)
            for _ in range(5):
                time.sleep(0.2)  # the recorded pace a replay reproduces
                before = last_dates(consumer)
                producer.advance(1)
                consumer.wait_until(
                    lambda b=before: all(
                        a > c for a, c in zip(last_dates(consumer), b, strict=True)
                    ),
                    10,
                )
    print(f"wrote {recorder.messages} messages, {OUT.stat().st_size} bytes to {OUT}")


if __name__ == "__main__":
    main()
