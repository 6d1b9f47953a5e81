"""Freqtrade's consumer for the live benchmarks, timed: runs INSIDE the Freqtrade oracle venv.

Started by ``benchmarks/live_procs.py`` (``<oracle python> benchmarks/_ft_consumer_proc.py --port P
--token T``). It is the interop harness's ``tests/interop/oracle/ft_consumer.Consumer`` (the
real ``ExternalMessageConsumer`` and ``DataProvider``), whose DataProvider also notes, under its
lock, when each frame is stored. ``ft_consumer.py``'s own ``wait`` re-checks every pair (a
``get_producer_df`` copy each) on every store, O(pairs^2) work holding the DataProvider's lock;
timing it would charge that to Freqtrade, so ``synced`` and ``stored`` wait on an O(1) condition
instead, and ``synced`` then confirms the result with ``wait``.

Protocol: the harness's ``lineproto``. First line ``{"event": "started", "t_start": ...,
"freqtrade": version}``, where ``t_start`` is taken just before the consumer is constructed (it
connects from there on). Commands:

* ``clock``: ``{"now": perf_counter}``.
* ``synced {"n": count, "pairs": [...], "timeout": s}``: until the whitelist is known and ``n``
  pairs have a frame; replies ``synced``, ``verified`` (the harness's ``wait``), ``t_start``,
  ``t_whitelist``, ``t_synced`` (the last of those stores) and ``stores``.
* ``stored {"date_ms": ms, "pairs": [...], "timeout": s}``: until each pair has stored a frame
  ending with that candle; replies ``done`` and ``times`` (pair -> when it was stored).
* ``quit``.

Times are ``time.perf_counter()`` (``CLOCK_MONOTONIC`` on Linux: one clock for every process).
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from typing import Any

import _common  # noqa: F401  (puts tests/interop/oracle on sys.path)
import ft_consumer
import lineproto
import pandas as pd
from freqtrade import __version__ as freqtrade_version


class TimedDataProvider(ft_consumer.ObservedDataProvider):
    """The harness's DataProvider; also notes when the whitelist and each frame were stored."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.whitelist_at: float | None = None
        self.first_store: dict[str, float] = {}  # pair -> when its first frame was stored
        # last candle (ms) -> {pair: when a frame ending with that candle was stored}
        self.by_date: dict[int, dict[str, float]] = {}

    def _set_producer_pairs(self, pairlist: list[str], producer_name: str = "default") -> None:
        with self.changed:
            super()._set_producer_pairs(pairlist, producer_name)
            if self.whitelist_at is None:
                self.whitelist_at = time.perf_counter()

    def _replace_external_df(
        self, pair: str, dataframe: pd.DataFrame, *args: Any, **kwargs: Any
    ) -> None:
        with self.changed:  # a re-entrant lock: the parent takes it too, and notifies
            super()._replace_external_df(pair, dataframe, *args, **kwargs)
            now = time.perf_counter()
            self.first_store.setdefault(pair, now)
            last = int(dataframe["date"].iloc[-1].value // 1_000_000)
            self.by_date.setdefault(last, {}).setdefault(pair, now)


class TimedConsumer:
    """The command handlers around one started ``ft_consumer.Consumer``."""

    def __init__(self, port: int, token: str) -> None:
        args = argparse.Namespace(
            host="127.0.0.1",
            port=port,
            token=token,
            name="default",
            timeframe="5m",
            candle_type="spot",
            wait_timeout=30,
            sleep_time=1,
        )
        # ft_consumer.Consumer builds its DataProvider from this module attribute:
        ft_consumer.ObservedDataProvider = TimedDataProvider  # type: ignore[misc]
        self.t_start = time.perf_counter()
        self.consumer = ft_consumer.Consumer(args)  # the ExternalMessageConsumer connects now
        self.dp: TimedDataProvider = self.consumer.dp
        self.quit_done = False

    def clock(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"now": time.perf_counter()}

    def synced(self, request: dict[str, Any]) -> dict[str, Any]:
        dp, n = self.dp, int(request["n"])
        with dp.changed:
            done = dp.changed.wait_for(
                lambda: dp.whitelist_at is not None and len(dp.first_store) >= n,
                float(request["timeout"]),
            )
            t_synced = max([dp.whitelist_at or 0.0, *dp.first_store.values()])
        check = self.consumer.wait({"timeout": 10, "pairs": request["pairs"]})
        return {
            "synced": bool(done),
            "verified": check["synced"],
            "t_start": self.t_start,
            "t_whitelist": dp.whitelist_at,
            "t_synced": t_synced,
            "stores": dp.stores,
        }

    def stored(self, request: dict[str, Any]) -> dict[str, Any]:
        dp, date, pairs = self.dp, int(request["date_ms"]), list(request["pairs"])

        def arrived() -> bool:
            times = dp.by_date.get(date, {})
            return all(p in times for p in pairs)

        with dp.changed:
            done = dp.changed.wait_for(arrived, float(request["timeout"]))
            times = dp.by_date.get(date, {})
            return {"done": bool(done), "times": {p: times[p] for p in pairs if p in times}}

    def quit(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.quit_done:
            return {}
        self.quit_done = True
        return self.consumer.quit(request)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    lineproto.setup_logging()
    timed = TimedConsumer(args.port, args.token)
    lineproto.emit({"event": "started", "t_start": timed.t_start, "freqtrade": freqtrade_version})
    try:
        lineproto.serve(
            {
                "clock": timed.clock,
                "synced": timed.synced,
                "stored": timed.stored,
                "quit": timed.quit,
            }
        )
    finally:
        timed.quit({})
        logging.shutdown()
        os._exit(0)  # the ExternalMessageConsumer's thread is not a daemon


if __name__ == "__main__":
    main()
