"""Command line: ``producerconsumer demo``, ``demo-producer``, ``inspect``, ``record``,
``backtest`` and ``hyperopt``.

Thin on purpose: parse arguments, call the library, print.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import secrets
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypedDict, Unpack

import pandas as pd

from .columns import OHLCV_COLUMNS
from .config import load_config
from .consumer import Consumer
from .endpoint import redact_url
from .errors import ConfigError, ProducerError
from .store import FrameUpdate
from .wire.messages import SUBSCRIBE_TOPICS
from .wire.rpc import (
    normalize_topics,
)

if TYPE_CHECKING:
    from .demo import DemoProducer

__all__ = ["main"]

DEMO_PAIRS = "BTC/USDT,ETH/USDT,XRP/USDT"


def _pairs(text: str) -> list[str]:
    pairs = [p.strip() for p in text.split(",") if p.strip()]
    if not pairs:
        raise argparse.ArgumentTypeError("give at least one pair, e.g. BTC/USDT,ETH/USDT")
    return pairs


def _topics(text: str) -> tuple[str, ...]:
    try:
        return normalize_topics(text)[len(SUBSCRIBE_TOPICS) :]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_market_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pairs", type=_pairs, default=_pairs(DEMO_PAIRS), help="comma-separated pairs"
    )
    parser.add_argument("--timeframe", default="5m", help="candle timeframe (default 5m)")
    parser.add_argument("--candles", type=int, default=1500, help="history per pair (default 1500)")
    parser.add_argument(
        "--tick", type=float, default=1.0, help="seconds between new candles (default 1.0)"
    )
    parser.add_argument("--seed", type=int, default=0, help="synthetic market seed (default 0)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="producerconsumer",
        description="Freqtrade producer/consumer mode from Python and Jupyter.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log connection events")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", help="start a demo producer and a consumer, sync, print a summary and live updates"
    )
    _add_market_options(demo)
    demo.add_argument("--updates", type=int, default=3, help="live updates to show before exiting")
    demo.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the sync")

    producer = commands.add_parser(
        "demo-producer", help="serve a Freqtrade-compatible demo producer until stopped"
    )
    producer.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    producer.add_argument(
        "--port", type=int, default=8080, help="listen port (default 8080; 0 = any)"
    )
    producer.add_argument("--ws-token", required=True, help="the token consumers must send")
    _add_market_options(producer)

    inspect = commands.add_parser(
        "inspect",
        help="connect to the producers of a config: traffic, ping, frames, freshness, "
        "explanations, live updates",
    )
    inspect.add_argument("--config", required=True, help="Freqtrade config file (or bare section)")
    inspect.add_argument(
        "--updates", type=int, default=0, help="live updates to show, then exit (0: until Ctrl-C)"
    )
    inspect.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for the sync"
    )
    inspect.add_argument(
        "--json", action="store_true", help="print the report, then each update, as JSON lines"
    )
    inspect.add_argument(
        "--topics",
        type=_topics,
        default=(),
        help="more message types to subscribe to and print as they come, comma-separated "
        "(e.g. entry_fill,exit_fill: the producer bot's trades)",
    )

    record = commands.add_parser("record", help="record the producers' messages to a file")
    record.add_argument("--config", required=True, help="Freqtrade config file (or bare section)")
    record.add_argument("--out", required=True, help="recording to write (e.g. session.pcrec)")
    record.add_argument(
        "--seconds", type=float, default=None, help="stop after this long (default: Ctrl-C)"
    )
    record.add_argument(
        "--topics",
        type=_topics,
        default=(),
        help="more message types to subscribe to and record, comma-separated (e.g. "
        "entry,entry_fill,exit,exit_fill: the producer bot's trades)",
    )
    backtest = commands.add_parser(
        "backtest", help="backtest a consumer strategy on producer data (Freqtrade's rules)"
    )
    backtest.add_argument(
        "--strategy", required=True, help="FILE.py:ClassName of the strategy to backtest"
    )
    backtest.add_argument(
        "--source",
        required=True,
        help="a recording (path or replay:PATH), snapshot:DIRECTORY, or a source as `inspect`",
    )
    backtest.add_argument("--config", default=None, help="Freqtrade config file (JSON)")
    backtest.add_argument("--timerange", default=None, help="e.g. 20261101-20261120")
    backtest.add_argument(
        "--mode", choices=("history", "as_seen"), default="history", help="data mode"
    )
    backtest.add_argument(
        "--export", default=None, help="write Freqtrade's result files into this directory"
    )
    try:
        from .hyperopt import cli as hyperopt_cli
    except ImportError as exc:  # the hyperopt extra (optuna) is not installed
        missing = str(exc)
        unavailable = commands.add_parser(
            "hyperopt", help="search a strategy's parameters (needs producerconsumer[hyperopt])"
        )
        unavailable.add_argument("rest", nargs=argparse.REMAINDER)
        unavailable.set_defaults(hyperopt_missing=missing)
    else:
        hyperopt_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        command = {
            "demo": _demo,
            "demo-producer": _demo_producer,
            "inspect": _inspect,
            "record": _record,
            "backtest": _backtest,
            "hyperopt": _hyperopt,
        }[args.command]
        return command(args)
    except (ConfigError, ProducerError, TimeoutError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into e.g. `head`: stop quietly, as command line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


class _Where(TypedDict, total=False):
    """Where a demo producer serves, and its token (DemoProducer's own defaults otherwise)."""

    ws_token: str | None
    host: str
    port: int


def _producer(args: argparse.Namespace, **where: Unpack[_Where]) -> DemoProducer:
    from .demo import DemoProducer

    return DemoProducer(
        pairs=args.pairs,
        timeframe=args.timeframe,
        candles=args.candles,
        tick=args.tick,
        seed=args.seed,
        **where,
    )


def _until_signal() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _demo_producer(args: argparse.Namespace) -> int:
    producer = _producer(args, ws_token=args.ws_token, host=args.host, port=args.port)
    stop = _until_signal()
    with producer:
        print(
            f"demo producer serving {redact_url(producer.url)} "
            f"({len(args.pairs)} pairs, {args.timeframe})",
            flush=True,
        )
        stop.wait()
    return 0


def _demo(args: argparse.Namespace) -> int:
    producer = _producer(args, ws_token=secrets.token_urlsafe(16), port=0)
    with producer:
        print(f"demo producer: {redact_url(producer.url)}")
        config = {"producers": [producer.producer_config(name="default")]}
        with Consumer(config) as consumer:
            consumer.wait_ready(timeout=args.timeout)
            print(f"synced {len(consumer.get_producer_pairs())} pairs from producer 'default'\n")
            print(_summary(consumer).to_string(index=False))
            if args.updates:
                print(f"\nlive updates (a new {args.timeframe} candle every {args.tick:g} s):")
            updates = _update_queue(consumer)
            for _ in range(args.updates):
                _print_update(consumer, updates.get(timeout=max(10.0, 5 * args.tick)))
            print(f"\n{consumer!r}")
    return 0


def _update_queue(consumer: Consumer) -> queue.Queue[FrameUpdate]:
    """Every stored update from now on, in order (none is missed while one is printed)."""
    updates: queue.Queue[FrameUpdate] = queue.Queue()
    consumer.updated += lambda update: updates.put(update) if update.stored else None
    return updates


def _print_update(consumer: Consumer, update: FrameUpdate) -> None:
    frame, _ = consumer.get_producer_df(update.key.pair, producer_name=update.producer)
    last = frame.iloc[-1]
    rsi = f" rsi={last['rsi']:.1f}" if "rsi" in frame.columns else ""
    print(
        f"  {update.producer}: {update.key.pair:<10} {update.action:<7} "
        f"candle {last['date']:%Y-%m-%d %H:%M} close={last['close']:.8g}{rsi} rows={len(frame)}",
        flush=True,
    )


def _inspect(args: argparse.Namespace) -> int:
    from .inspection import inspect_producers

    stop = _until_signal()
    return inspect_producers(
        args.config, args.updates, args.timeout, args.json, sys.stdout, stop, topics=args.topics
    )


def _record(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    consumer = Consumer(config.with_topics(args.topics) if args.topics else config)
    stop = _until_signal()
    with consumer.record(args.out) as recorder, consumer:
        print(f"recording to {args.out} (Ctrl-C to stop)", flush=True)
        stop.wait(args.seconds)
    print(f"recorded {recorder.messages} messages to {args.out}")
    return 0


def _summary(consumer: Consumer, producer: str = "default") -> pd.DataFrame:
    rows = []
    now = datetime.now(UTC)
    for pair in consumer.get_producer_pairs(producer):
        frame, last_analyzed = consumer.get_producer_df(pair, producer_name=producer)
        indicators = [c for c in frame.columns if c not in OHLCV_COLUMNS]
        rows.append(
            {
                "pair": pair,
                "rows": len(frame),
                "columns": len(frame.columns),
                "last candle": f"{frame['date'].iloc[-1]:%Y-%m-%d %H:%M}" if len(frame) else "-",
                "last analyzed": f"{(now - last_analyzed).total_seconds():.1f} s ago",
                "indicator columns": ", ".join(indicators),
            }
        )
    return pd.DataFrame(rows)


def load_strategy_class(spec: str) -> type:
    """The class named by ``FILE.py:ClassName``."""
    import importlib.util
    from pathlib import Path

    path_text, _, name = spec.rpartition(":")
    if not path_text or not name:
        raise ValueError(f"--strategy {spec!r}: use FILE.py:ClassName")
    path = Path(path_text)
    if not path.is_file():
        raise ValueError(f"--strategy: no file {path}")
    module_spec = importlib.util.spec_from_file_location(f"_pc_strategy_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise ValueError(f"--strategy: cannot load {path} as Python")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    found = getattr(module, name, None)
    if not isinstance(found, type):
        raise ValueError(f"--strategy: {path} defines no class {name}")
    return found


def _backtest(args: argparse.Namespace) -> int:
    from .backtest import backtest

    strategy = load_strategy_class(args.strategy)
    result = backtest(
        strategy, args.source, config=args.config, timerange=args.timerange, mode=args.mode
    )
    try:
        print(result.summary())
    except ImportError:  # the report module is not installed: the trades instead
        print(repr(result))
        with pd.option_context("display.width", 200, "display.max_columns", 12):
            print(result.trades.drop(columns=["orders"]))
    for pair, message in result.errors.items():
        print(f"error: {pair}: {message}", file=sys.stderr)
    if args.export:
        print(f"written: {result.to_freqtrade(args.export)}")
    return 1 if result.errors and not result.pairs else 0


def _hyperopt(args: argparse.Namespace) -> int:
    missing = getattr(args, "hyperopt_missing", None)
    if missing is not None:
        print(f"error: {missing}", file=sys.stderr)
        return 1
    from .hyperopt import cli as hyperopt_cli

    try:
        return hyperopt_cli.run(args)
    except RuntimeError as exc:  # e.g. no Dask scheduler at --scheduler
        print(f"error: {exc}", file=sys.stderr)
        return 1
