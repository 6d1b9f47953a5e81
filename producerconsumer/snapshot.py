"""Snapshots: an immutable copy of a consumer's frames that reads like a live consumer.

``consumer.snapshot()`` takes one atomically (cheaply: stored frames are shared, never copied);
``snapshot.to_parquet(directory)`` saves it and :func:`load_snapshot` reads it back, with dtypes,
timezone-aware dates, index labels and ``last_analyzed`` intact. A snapshot has
``get_producer_pairs`` / ``get_producer_df``, so strategy code, the strategy runner and the
widgets accept it in place of a live consumer::

    snap = consumer.snapshot()
    snap.to_parquet("btc-session")
    ...
    snap = pc.load_snapshot("btc-session")            # on a colleague's machine, no producer
    frame, last_analyzed = snap.get_producer_df("BTC/USDT")
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .store import FrameStore, ProducerData
from .wire.messages import FrameKey

__all__ = ["Snapshot", "load_snapshot"]

FORMAT = "producerconsumer-snapshot"
VERSION = 1
MANIFEST = "snapshot.json"


class Snapshot(ProducerData):
    """Frames and whitelists of every producer at one moment. Read-only."""

    def __init__(self, store: FrameStore, created: datetime | None = None) -> None:
        self.store = store
        self.created = created or datetime.now(UTC)

    @property
    def producers(self) -> list[str]:
        return self.store.producers()

    def keys(self, producer_name: str = "default") -> list[FrameKey]:
        return self.store.keys(producer_name)

    def snapshot(self) -> Snapshot:
        """Itself: a snapshot is already immutable (so code written for a consumer works)."""
        return self

    def stop(self) -> None:
        """Nothing to stop; here so that code written for a live consumer works unchanged."""

    def to_parquet(self, directory: str | Path) -> Path:
        """Write one parquet file per frame plus a ``snapshot.json`` manifest into
        ``directory`` (created if needed), and each producer's trades table
        (:meth:`producer_trades`) if it has one; returns the directory. Needs ``pyarrow``."""
        _require_pyarrow()
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "created": self.created.isoformat(),
            "pandas": pd.__version__,
            "producers": {},
        }
        number = 0
        for producer in self.producers:
            frames = []
            for key in self.keys(producer):
                stored = self.store.entry(producer, key)
                assert stored is not None
                number += 1
                name = _file_name(number, producer, key)
                try:
                    stored.frame.to_parquet(root / name)
                except Exception as exc:
                    raise ValueError(
                        f"cannot save the frame of {key.pair} ({producer!r}) as parquet: {exc}"
                    ) from exc
                frames.append(
                    {
                        "pair": key.pair,
                        "timeframe": key.timeframe,
                        "candle_type": key.candle_type,
                        "last_analyzed": stored.last_analyzed.isoformat(),
                        "file": name,
                    }
                )
            manifest["producers"][producer] = {
                "pairs": self.get_producer_pairs(producer),
                "frames": frames,
            }
            if self.store.has_trades(producer):
                number += 1
                name = f"{number:04d}-{_safe(producer)}-trades.parquet"
                self.producer_trades(producer).to_parquet(root / name)
                manifest["producers"][producer]["trades"] = name
        (root / MANIFEST).write_text(json.dumps(manifest, indent=2))
        return root

    def __repr__(self) -> str:
        parts = [
            f"{name}: {len(self.get_producer_pairs(name))} pairs, {len(self.keys(name))} frames"
            + (f", {len(self.producer_trades(name))} trades" if self.store.has_trades(name) else "")
            for name in self.producers
        ]
        return f"<Snapshot {self.created:%Y-%m-%d %H:%M:%S} UTC {'; '.join(parts) or 'empty'}>"


def load_snapshot(directory: str | Path) -> Snapshot:
    """Read a snapshot written by :meth:`Snapshot.to_parquet`."""
    _require_pyarrow()
    root = Path(directory)
    path = root / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{root} is not a snapshot: {MANIFEST} is missing (write one with "
            "consumer.snapshot().to_parquet(directory))"
        ) from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ValueError(
            f"{path}: not a {FORMAT} version {VERSION} manifest "
            f"(format={manifest.get('format')!r}, version={manifest.get('version')!r})"
        )
    store = FrameStore()
    for producer, content in manifest["producers"].items():
        store.set_pairs(producer, content["pairs"])
        for entry in content["frames"]:
            key = FrameKey(entry["pair"], entry["timeframe"], entry["candle_type"])
            frame = pd.read_parquet(root / entry["file"])
            store.put(producer, key, frame, datetime.fromisoformat(entry["last_analyzed"]))
        if content.get("trades"):
            store.set_trades(producer, pd.read_parquet(root / content["trades"]))
    return Snapshot(store, datetime.fromisoformat(manifest["created"]))


def _file_name(number: int, producer: str, key: Sequence[str]) -> str:
    # Readable, and unique thanks to the number even where two names sanitise alike.
    safe = "-".join(_safe(part) for part in (producer, *key))
    return f"{number:04d}-{safe}.parquet"


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._]+", "_", part)


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ImportError(
            "snapshots are stored as parquet, which needs pyarrow: pip install pyarrow "
            "(or pip install 'producerconsumer[jupyter]')"
        ) from None
