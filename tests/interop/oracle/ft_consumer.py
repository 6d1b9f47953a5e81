"""Freqtrade's real consumer side, driven by a test over stdin.

Runs INSIDE the Freqtrade oracle venv. Real: ``ExternalMessageConsumer`` (its own thread and
event loop, ``websockets.connect``, ``WebSocketChannel`` with the 0.5 s send throttle, the three
initial requests, ``HybridJSONWebSocketSerializer`` decoding, pydantic validation, gap
re-requests) and ``DataProvider`` (``_set_producer_pairs``, ``_add_external_df``,
``get_producer_pairs``, ``get_producer_df``). The only addition is ``ObservedDataProvider``: it
calls the real methods and then notifies a condition variable, so this script can wait for
"synced" / "has candle X" without polling sleeps.

Protocol: see ``lineproto``. First line: ``{"event": "started", ...}``. Commands:

* ``wait {"timeout": s, "pairs": [...] | null, "min_last_date_ms": {pair: ms} | null,
  "timeframe": tf | null}``:
  until the producer's whitelist is known (equal to ``pairs`` if given) and every listed pair
  has a frame whose last ``date`` is at least ``min_last_date_ms[pair]`` (if given).
  Frames are looked up with ``timeframe`` (default: the consumer's own).
  Replies ``{"synced": bool, "pairs": [...], "stores": n}`` (``synced: false`` on timeout).
* ``settle {"timeout": s}``: until a request published to the producer's request stream is
  really sent (probing with ``send_producer_request(whitelist)`` and waiting for the reply).
  Freqtrade's sender starts reading that stream only after its three throttled initial
  requests (~1.5 s after connecting); gap re-requests published earlier are lost. Replies
  ``{"settled": bool, "probes": n}``.
* ``dump {"out": path}``: write ``get_producer_pairs()`` and, for each pair, ``get_producer_df``
  (frame + last_analyzed) in ``framejson`` form.
* ``lookup {"pair", "timeframe", "candle_type", "producer_name"}``: ``get_producer_df`` for
  one lookup (Freqtrade's defaults for what is not given); replies ``{"rows": n,
  "last_analyzed": iso}``.
* ``decode {"items": [...], "out": path}``: ``ft_decode.py``'s decoding, without starting
  another Freqtrade process.
* ``quit``: ``ExternalMessageConsumer.shutdown()`` (joins its thread for up to 5 s).
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time
from datetime import datetime
from typing import Any

import framejson
import ft_decode
import lineproto
import pandas as pd
from freqtrade import __version__ as freqtrade_version
from freqtrade.data.dataprovider import DataProvider
from freqtrade.enums import CandleType, RunMode
from freqtrade.rpc.api_server.ws_schemas import WSWhitelistRequest
from freqtrade.rpc.external_message_consumer import ExternalMessageConsumer

log = logging.getLogger("ft_consumer")
PROBE_WAIT = 0.25  # seconds to wait for the reply to one probe before publishing another


class ObservedDataProvider(DataProvider):
    """The real DataProvider; every store also notifies :attr:`changed`."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config, None)
        self.changed = threading.Condition()
        self.stores = 0
        self.whitelists = 0

    def _set_producer_pairs(self, pairlist: list[str], producer_name: str = "default") -> None:
        with self.changed:
            super()._set_producer_pairs(pairlist, producer_name)
            self.whitelists += 1
            self.changed.notify_all()

    def _replace_external_df(
        self,
        pair: str,
        dataframe: pd.DataFrame,
        last_analyzed: datetime,
        timeframe: str,
        candle_type: CandleType,
        producer_name: str = "default",
    ) -> None:
        with self.changed:
            super()._replace_external_df(
                pair, dataframe, last_analyzed, timeframe, candle_type, producer_name
            )
            self.stores += 1
            self.changed.notify_all()


def build_config(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "runmode": RunMode.DRY_RUN,
        "dry_run": True,
        "timeframe": args.timeframe,
        "candle_type_def": CandleType.from_string(args.candle_type),
        "external_message_consumer": {
            "enabled": True,
            "producers": [
                {
                    "name": args.name,
                    "host": args.host,
                    "port": args.port,
                    "secure": False,
                    "ws_token": args.token,
                }
            ],
            "wait_timeout": args.wait_timeout,
            "ping_timeout": 10,
            "sleep_time": args.sleep_time,
            "remove_entry_exit_signals": False,
            "message_size_limit": 8,
        },
    }


class Consumer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.name: str = args.name
        self.config = build_config(args)
        self.dp = ObservedDataProvider(self.config)
        self.emc = ExternalMessageConsumer(self.config, self.dp)  # starts its thread

    def _state(
        self, min_last: dict[str, int], timeframe: str | None = None
    ) -> tuple[list[str], bool]:
        pairs = self.dp.get_producer_pairs(self.name)
        if not pairs:
            return pairs, False
        for pair in pairs:
            df, _ = self.dp.get_producer_df(pair, timeframe=timeframe, producer_name=self.name)
            if df.empty:
                return pairs, False
            if pair in min_last:
                last = df["date"].iloc[-1]
                if last.value // 1_000_000 < min_last[pair]:
                    return pairs, False
        return pairs, all(pair in pairs for pair in min_last)

    def wait(self, request: dict[str, Any]) -> dict[str, Any]:
        timeout = float(request.get("timeout", 30))
        expected_pairs = request.get("pairs")
        min_last = {str(k): int(v) for k, v in (request.get("min_last_date_ms") or {}).items()}
        deadline = time.monotonic() + timeout
        with self.dp.changed:
            while True:
                pairs, ready = self._state(min_last, request.get("timeframe"))
                if ready and (expected_pairs is None or pairs == expected_pairs):
                    return {"synced": True, "pairs": pairs, "stores": self.dp.stores}
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return {"synced": False, "pairs": pairs, "stores": self.dp.stores}
                self.dp.changed.wait(remaining)

    def settle(self, request: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + float(request.get("timeout", 30))
        loop = self.emc._loop
        if loop is None:
            raise RuntimeError("the ExternalMessageConsumer is not running")
        probes = 0
        with self.dp.changed:
            seen = self.dp.whitelists
        while (remaining := deadline - time.monotonic()) > 0:
            probes += 1
            loop.call_soon_threadsafe(
                self.emc.send_producer_request, self.name, WSWhitelistRequest()
            )
            with self.dp.changed:
                if self.dp.changed.wait_for(
                    lambda: self.dp.whitelists > seen, timeout=min(PROBE_WAIT, remaining)
                ):
                    return {"settled": True, "probes": probes}
        return {"settled": False, "probes": probes}

    def dump(self, request: dict[str, Any]) -> dict[str, Any]:
        with self.dp.changed:
            pairs = self.dp.get_producer_pairs(self.name)
            frames = {}
            for pair in pairs:
                df, last_analyzed = self.dp.get_producer_df(pair, producer_name=self.name)
                frames[pair] = {
                    "frame": framejson.dump_frame(df),
                    "last_analyzed": last_analyzed.isoformat(),
                }
        framejson.write(request["out"], {"pairs": pairs, "frames": frames})
        return {"pairs": pairs}

    def lookup(self, request: dict[str, Any]) -> dict[str, Any]:
        """Freqtrade's ``get_producer_df`` answer to one lookup (its defaults for the rest)."""
        kwargs = {k: request[k] for k in ("timeframe", "candle_type") if request.get(k)}
        if "candle_type" in kwargs:
            kwargs["candle_type"] = CandleType.from_string(kwargs["candle_type"])
        with self.dp.changed:
            df, last_analyzed = self.dp.get_producer_df(
                request["pair"], producer_name=request.get("producer_name", self.name), **kwargs
            )
        return {"rows": len(df), "last_analyzed": last_analyzed.isoformat()}

    def decode(self, request: dict[str, Any]) -> dict[str, Any]:
        framejson.write(request["out"], [ft_decode.decode(item) for item in request["items"]])
        return {}

    def quit(self, request: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        self.emc.shutdown()
        return {"shutdown_seconds": round(time.monotonic() - started, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--name", default="default")
    parser.add_argument("--timeframe", default="5m")
    parser.add_argument("--candle-type", default="spot")
    parser.add_argument("--wait-timeout", type=int, default=30)
    parser.add_argument("--sleep-time", type=int, default=1)
    args = parser.parse_args()
    lineproto.setup_logging()

    consumer = Consumer(args)
    lineproto.emit(
        {
            "event": "started",
            "freqtrade": freqtrade_version,
            "pandas": pd.__version__,
            "pid": os.getpid(),
        }
    )
    quit_done = False

    def quit_once(request: dict[str, Any]) -> dict[str, Any]:
        nonlocal quit_done
        if quit_done:
            return {}
        quit_done = True
        return consumer.quit(request)

    try:
        lineproto.serve(
            {
                "wait": consumer.wait,
                "settle": consumer.settle,
                "dump": consumer.dump,
                "lookup": consumer.lookup,
                "decode": consumer.decode,
                "quit": quit_once,
            }
        )
    finally:
        if not quit_done:
            consumer.quit({})
        logging.shutdown()
        # The consumer's thread is not a daemon; shutdown() joined it for at most 5 s.
        os._exit(0)


if __name__ == "__main__":
    main()
