"""One notebook parameter for where data comes from, so a shared notebook re-runs anywhere.

``SOURCE = "demo" | "replay:<recording>" | "snapshot:<directory>" | "config:<config file>"``::

    data = pc.open_source(SOURCE)          # a running Consumer, or a Snapshot
    frame, last_analyzed = data.get_producer_df("BTC/USDT")
    ...
    data.stop()                            # also stops the demo / replay producer it started
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .consumer import Consumer
from .snapshot import Snapshot, load_snapshot

__all__ = ["open_source"]

KINDS = ("demo", "replay", "snapshot", "config")


def open_source(source: str, *, timeout: float = 60.0, **options: Any) -> Consumer | Snapshot:
    """Open ``source`` and return something with ``get_producer_df`` / ``get_producer_pairs``.

    * ``"demo"``: starts a :class:`~producerconsumer.DemoProducer` (``options`` go to it, e.g.
      ``pairs=[...]``, ``tick=1.0``) and a consumer of it;
    * ``"replay:<path>"``: serves a recording with :class:`~producerconsumer.ReplayProducer`
      (``options``: ``speed``, default ``None`` = as fast as possible; ``loop``) and consumes it;
    * ``"snapshot:<directory>"``: loads a parquet snapshot (no network at all);
    * ``"config:<path>"``: a consumer of the producers in a Freqtrade config file.

    Live sources are synced (``wait_ready``) before this returns; ``stop()`` closes everything
    this call started.
    """
    kind, _, target = source.partition(":")
    if kind not in KINDS or (kind != "demo" and not target) or (kind == "demo" and target):
        raise ValueError(
            f"unknown source {source!r}: use 'demo', 'replay:<recording>', "
            "'snapshot:<directory>' or 'config:<config file>'"
        )
    if kind == "snapshot":
        return load_snapshot(target)
    if kind == "config":
        consumer = Consumer(target).start()
    else:
        producer: Any
        if kind == "demo":
            from .demo import DemoProducer

            producer = DemoProducer(**options)
        else:
            from .replay import ReplayProducer

            if not Path(target).exists():
                raise FileNotFoundError(f"recording {target!r} not found")
            producer = ReplayProducer(target, **({"speed": None} | options))
        producer.start()
        try:
            consumer = Consumer({"producers": [producer.producer_config(name="default")]})
            consumer.owns(producer)
            consumer.start()
        except BaseException:
            producer.stop()
            raise
    try:
        consumer.wait_ready(timeout=timeout)
    except BaseException:
        consumer.stop()
        raise
    return consumer
