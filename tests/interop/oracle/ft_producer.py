"""Freqtrade's real producer side (message websocket), driven by a test over stdin.

Runs INSIDE the Freqtrade oracle venv. What is real and what is fake:

* real: ``RPCManager`` -> ``ApiServer`` (the whole FastAPI app, ``api_ws`` router under
  ``/api/v1``, ``validate_ws_token``, lifespan-created ``MessageStream``, ``WebSocketChannel``,
  ``HybridJSONWebSocketSerializer``, Freqtrade's ``UvicornServer`` thread), ``RPC`` (its
  ``_ws_request_whitelist`` / ``_ws_request_analyzed_df`` answer requests), ``DataProvider``
  (``_set_cached_df`` stores frames, ``_emit_df`` broadcasts the one-row ``analyzed_df`` and
  ``new_candle`` through ``RPCManager.send_msg``), in-memory ``init_db`` (``get_rpc`` uses it).
* fake: the bot. ``FakeBot`` has only what RPC/RPCManager read (``config``, ``dataprovider``,
  ``active_pair_whitelist``, ``rpc``); the test supplies the analyzed frames and the whitelist
  instead of an exchange and a strategy.

One deliberate difference from a live bot: commands run on the server's event loop
(``run_coroutine_threadsafe``) instead of a separate bot thread. A bot thread publishes into the
``MessageStream`` futures from outside their loop (not thread-safe, picked up only on uvicorn's
0.1 s tick); hopping onto the loop keeps the test deterministic without changing any bytes.

Protocol: see ``lineproto``. First line: ``{"event": "listening", "port": N, ...}``. Commands:

* ``set_frames {"frames": {pair: framejson}}``: cache analyzed frames (no broadcast, like a
  bot whose analysis ran before any consumer connected).
* ``set_whitelist {"pairs": [...]}``: set the active whitelist; broadcast ``whitelist`` if it
  changed (as ``FreqtradeBot._refresh_active_whitelist`` does).
* ``broadcast_candle {"pair": P, "rows": framejson | null, "keep": N | null}``: with rows,
  append them (fresh RangeIndex, optionally keeping the last N rows) and re-cache, then
  ``DataProvider._emit_df(..., new_candle=True)``; without rows, re-emit the cached frame
  (``process_only_new_candles=False`` behaviour, ``new_candle=False``).
* ``expected {"pair": P, "limit": N | null, "out": path}``: write what a Freqtrade consumer
  decodes from this producer's ``analyzed_df`` reply (real serializer out and back in).
* ``frame {"pair": P, "out": path}``: write the cached frame as the producer holds it.
* ``decode {"items": [...], "out": path}``: ``ft_decode.py``'s decoding, in this process.
* ``send_rpc {"messages": [text, ...]}``: send each RPC message (JSON text, e.g. as
  ``ft_rpcmsg.py`` recorded a real bot's) with ``RPCManager.send_msg``, the bot's own path:
  the message websocket delivers it to the channels subscribed to its type.
* ``received {"clear": bool}``: the raw text of every request received so far, in order (all
  connections), recorded where Freqtrade's serializer decodes it; optionally clear the record.
* ``quit``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import framejson
import ft_decode
import lineproto
import pandas as pd
from freqtrade import __version__ as freqtrade_version
from freqtrade.data.dataprovider import DataProvider
from freqtrade.enums import CandleType, RPCMessageType, RunMode
from freqtrade.persistence import init_db
from freqtrade.rpc import RPCManager
from freqtrade.rpc.api_server import ApiServer
from freqtrade.rpc.api_server.ws.serializer import HybridJSONWebSocketSerializer
from freqtrade.rpc.api_server.ws_schemas import WSAnalyzedDFMessage

log = logging.getLogger("ft_producer")
T = TypeVar("T")
COMMAND_TIMEOUT = 30.0

_received: list[str] = []
_real_deserialize = HybridJSONWebSocketSerializer._deserialize


def _recording_deserialize(self: HybridJSONWebSocketSerializer, data: str) -> Any:
    """Record each request's raw text, then decode it with Freqtrade's own code."""
    _received.append(data)
    return _real_deserialize(self, data)


# Observation only: every request still goes through the real _deserialize.
HybridJSONWebSocketSerializer._deserialize = _recording_deserialize  # type: ignore[method-assign]


class FakeBot:
    """The parts of ``FreqtradeBot`` that ``RPC`` and ``RPCManager`` touch for websockets."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.active_pair_whitelist: list[str] = []
        # Same construction order as FreqtradeBot: RPCManager (starts the ApiServer), then the
        # DataProvider that broadcasts through it.
        self.rpc = RPCManager(self)
        self.dataprovider = DataProvider(config, None, rpc=self.rpc)


def build_config(args: argparse.Namespace) -> dict[str, Any]:
    tokens: list[str] = args.token
    return {
        "runmode": RunMode.DRY_RUN,
        "dry_run": True,
        "timeframe": args.timeframe,
        "candle_type_def": CandleType.from_string(args.candle_type),
        "stake_currency": "USDT",
        "exchange": {"name": "binance"},
        "api_server": {
            "enabled": True,
            "listen_ip_address": args.host,
            "listen_port": args.port,
            "username": "oracle",
            "password": "oracle",
            "jwt_secret_key": args.jwt_secret,
            "ws_token": tokens[0] if len(tokens) == 1 else tokens,
            "CORS_origins": [],
            "verbosity": "error",
        },
    }


class Producer:
    # Overridden by ft_api.py (a bot that also answers the trading REST endpoints).
    bot_class: type[FakeBot] = FakeBot

    def __init__(self, args: argparse.Namespace) -> None:
        self.config = build_config(args)
        self.timeframe: str = args.timeframe
        self.candle_type = self.config["candle_type_def"]
        init_db("sqlite://")
        self.bot = self.bot_class(self.config)
        self.api: ApiServer = self.bot.rpc.registered_modules[0]
        stream = ApiServer._message_stream
        if stream is None:
            raise RuntimeError("ApiServer started without a MessageStream (lifespan did not run)")
        self.loop: asyncio.AbstractEventLoop = stream._loop

    @property
    def port(self) -> int:
        server = self.api._server
        return int(server.servers[0].sockets[0].getsockname()[1])

    def on_loop(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the API server's event loop and wait for its result (bounded)."""

        async def call() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(COMMAND_TIMEOUT)

    def key(self, pair: str) -> tuple[str, str, CandleType]:
        return (pair, self.timeframe, self.candle_type)

    def cached(self, pair: str) -> pd.DataFrame:
        df, _ = self.bot.dataprovider.get_analyzed_dataframe(pair, self.timeframe)
        return df

    # --- commands

    def set_frames(self, request: dict[str, Any]) -> dict[str, Any]:
        frames = {pair: framejson.load_frame(d) for pair, d in request["frames"].items()}

        def apply() -> None:
            for pair, df in frames.items():
                self.bot.dataprovider._set_cached_df(pair, self.timeframe, df, self.candle_type)

        self.on_loop(apply)
        return {"pairs": sorted(frames), "rows": {p: len(df) for p, df in frames.items()}}

    def set_whitelist(self, request: dict[str, Any]) -> dict[str, Any]:
        pairs = [str(p) for p in request["pairs"]]

        def apply() -> bool:
            changed = self.bot.active_pair_whitelist != pairs
            self.bot.active_pair_whitelist = list(pairs)
            if changed:
                self.bot.rpc.send_msg({"type": RPCMessageType.WHITELIST, "data": list(pairs)})
            return changed

        return {"broadcast": self.on_loop(apply)}

    def broadcast_candle(self, request: dict[str, Any]) -> dict[str, Any]:
        pair = request["pair"]
        rows = request.get("rows")
        new_rows = framejson.load_frame(rows) if rows is not None else None
        keep = request.get("keep")

        def apply() -> dict[str, Any]:
            df = self.cached(pair)
            if df.empty:
                raise KeyError(f"no cached frame for {pair}; set_frames first")
            new_candle = new_rows is not None
            if new_rows is not None:
                df = pd.concat([df, new_rows], ignore_index=True)
                if keep:
                    df = df.iloc[-int(keep) :].reset_index(drop=True)
                self.bot.dataprovider._set_cached_df(pair, self.timeframe, df, self.candle_type)
            self.bot.dataprovider._emit_df(self.key(pair), df, new_candle)
            last = df["date"].iloc[-1]
            return {"rows": len(df), "last_date_ms": int(last.value // 1_000_000)}

        return self.on_loop(apply)

    def expected(self, request: dict[str, Any]) -> dict[str, Any]:
        pair = request["pair"]
        limit = request.get("limit", 1500)

        def apply() -> tuple[str, Any]:
            (message,) = list(self.api._rpc._ws_request_analyzed_df(limit, pair))
            response = WSAnalyzedDFMessage(data=message).model_dump(exclude_none=True)
            serializer = HybridJSONWebSocketSerializer(None)  # type: ignore[arg-type]
            text = serializer._serialize(response)
            return text, serializer._deserialize(text)

        text, decoded = self.on_loop(apply)
        frame = decoded["data"]["df"]
        framejson.write(
            request["out"],
            {"text": text, "key": decoded["data"]["key"], "frame": framejson.dump_frame(frame)},
        )
        return {"rows": len(frame)}

    def frame(self, request: dict[str, Any]) -> dict[str, Any]:
        df = self.on_loop(lambda: self.cached(request["pair"]).copy())
        framejson.write(request["out"], {"frame": framejson.dump_frame(df)})
        return {"rows": len(df)}

    def decode(self, request: dict[str, Any]) -> dict[str, Any]:
        framejson.write(request["out"], [ft_decode.decode(item) for item in request["items"]])
        return {}

    def send_rpc(self, request: dict[str, Any]) -> dict[str, Any]:
        messages = [json.loads(text) for text in request["messages"]]

        def apply() -> None:
            for message in messages:
                self.bot.rpc.send_msg(message)

        self.on_loop(apply)
        return {"sent": len(messages)}

    def received(self, request: dict[str, Any]) -> dict[str, Any]:
        def take() -> list[str]:
            texts = list(_received)
            if request.get("clear"):
                _received.clear()
            return texts

        return {"requests": self.on_loop(take)}

    def quit(self, request: dict[str, Any]) -> dict[str, Any]:
        return {}

    def shutdown(self) -> None:
        """Stop uvicorn the way Freqtrade does (RPCManager.cleanup), bounded."""
        done = threading.Event()

        def cleanup() -> None:
            try:
                self.bot.rpc.cleanup()
            finally:
                done.set()

        threading.Thread(target=cleanup, name="cleanup", daemon=True).start()
        if not done.wait(10):
            log.error("ApiServer cleanup did not finish within 10 s; exiting anyway")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", action="append", required=True, help="ws_token (repeatable)")
    parser.add_argument("--jwt-secret", default="oracle-jwt-secret-key-0123456789abcdef")
    parser.add_argument("--timeframe", default="5m")
    parser.add_argument("--candle-type", default="spot")
    args = parser.parse_args()
    lineproto.setup_logging()

    producer = Producer(args)
    lineproto.emit(
        {
            "event": "listening",
            "host": args.host,
            "port": producer.port,
            "freqtrade": freqtrade_version,
            "pandas": pd.__version__,
            "pid": os.getpid(),
            "started": datetime.now().isoformat(),
        }
    )
    try:
        lineproto.serve(
            {
                "set_frames": producer.set_frames,
                "set_whitelist": producer.set_whitelist,
                "broadcast_candle": producer.broadcast_candle,
                "expected": producer.expected,
                "frame": producer.frame,
                "decode": producer.decode,
                "received": producer.received,
                "send_rpc": producer.send_rpc,
                "quit": producer.quit,
            }
        )
    finally:
        producer.shutdown()
        logging.shutdown()
        sys.stdout.flush()
        # uvicorn's thread is not a daemon: never let a stuck shutdown keep the process alive.
        os._exit(0)


if __name__ == "__main__":
    main()
