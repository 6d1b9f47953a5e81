"""``producerconsumer hyperopt``: the command line of :func:`~producerconsumer.hyperopt.hyperopt`.

::

    producerconsumer hyperopt --strategy user_data/strategies/consumer.py:ConsumerStrategy \\
        --source replay:session.pcrec --spaces buy sell --epochs 200 \\
        [--jobs N] [--scheduler tcp://host:8786] [--storage sqlite:///study.db]

Prints the best epoch and parameters and, as Freqtrade does, writes the strategy's parameter file
next to the strategy file (``--disable-param-export`` to skip it).

``producerconsumer/cli.py`` adds the subcommand (:func:`add_parser`) and calls :func:`run`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "load_strategy", "main", "run"]


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``hyperopt`` subcommand to an ``add_subparsers()`` object."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "hyperopt",
        help="search a consumer strategy's parameters on producer data (optuna; Dask with "
        "--scheduler)",
    )
    parser.add_argument(
        "--strategy", required=True, help="FILE.py:ClassName (or FILE.py with one strategy)"
    )
    parser.add_argument(
        "--source", required=True, help="data as pc.backtest takes it (replay:..., snapshot:...)"
    )
    parser.add_argument("--config", help="Freqtrade config file (only the backtest keys are read)")
    parser.add_argument(
        "--spaces", nargs="+", default=["buy", "sell"], help="spaces to search (default buy sell)"
    )
    parser.add_argument("--epochs", type=int, default=200, help="trials (default 200)")
    parser.add_argument(
        "--hyperopt-loss",
        "--loss",
        dest="loss",
        default="SharpeHyperOptLoss",
        help="Freqtrade loss class name (default SharpeHyperOptLoss)",
    )
    parser.add_argument("-j", "--jobs", type=int, help="local worker processes (-1: all cores)")
    parser.add_argument("--scheduler", help="a Dask scheduler address (tcp://host:8786)")
    parser.add_argument("--storage", help="optuna storage URL, resumable (sqlite:///study.db)")
    parser.add_argument("--random-state", "--seed", dest="seed", type=int, help="sampler seed")
    parser.add_argument("--timerange", help="Freqtrade timerange, e.g. 20261101-20261120")
    parser.add_argument("--mode", default="history", choices=["history", "as_seen"])
    parser.add_argument(
        "--min-trades", type=int, default=1, help="fewer trades get the maximum loss (default 1)"
    )
    parser.add_argument(
        "--analyze-per-epoch",
        action="store_true",
        help="run populate_indicators in every trial (default: once, as Freqtrade)",
    )
    parser.add_argument(
        "--disable-param-export", action="store_true", help="do not write the parameter file"
    )
    parser.add_argument("--print-json", action="store_true", help="print the best params as JSON")
    return parser


def load_strategy(spec: str) -> type:
    """The strategy class of ``FILE.py:ClassName`` (or of ``FILE.py`` defining one strategy).

    The file's module is pickled by value, so Dask workers without the file can run it."""
    path_text, _, class_name = spec.partition(":")
    path = Path(path_text)
    if path.suffix != ".py" or not path.is_file():
        raise ValueError(f"--strategy {spec!r}: give an existing FILE.py[:ClassName]")
    module_name = f"_pc_strategy_{path.stem}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise ValueError(f"--strategy {spec!r}: cannot import {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    module_spec.loader.exec_module(module)
    try:
        import cloudpickle

        cloudpickle.register_pickle_by_value(module)
    except ImportError:  # pragma: no cover - comes with dask
        pass
    candidates = {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, type)
        and value.__module__ == module_name
        and callable(getattr(value, "populate_indicators", None))
    }
    if class_name:
        if class_name not in candidates:
            raise ValueError(
                f"--strategy {spec!r}: no strategy class {class_name!r} in {path}; "
                f"found: {', '.join(sorted(candidates)) or 'none'}"
            )
        return candidates[class_name]
    if len(candidates) != 1:
        raise ValueError(
            f"--strategy {spec!r}: name the class (FILE.py:ClassName); found "
            f"{', '.join(sorted(candidates)) or 'no strategy class'}"
        )
    return next(iter(candidates.values()))


def run(args: argparse.Namespace) -> int:
    """Run the study of the parsed arguments; prints the result."""
    from . import hyperopt

    strategy = load_strategy(args.strategy)
    with ExitStack() as stack:
        client = None
        if args.scheduler:
            from distributed import Client

            client = stack.enter_context(Client(args.scheduler))
        result = hyperopt(
            strategy,
            args.source,
            spaces=args.spaces,
            epochs=args.epochs,
            loss=args.loss,
            jobs=args.jobs,
            client=client,
            storage=args.storage,
            seed=args.seed,
            min_trades=args.min_trades,
            config=args.config,
            timerange=args.timerange,
            mode=args.mode,
            analyze_per_epoch=args.analyze_per_epoch,
        )
    print(repr(result))
    if result.best_params is None:
        failed = result.trials["error"].dropna()
        if len(failed):
            print(f"first error: {failed.iloc[0]}", file=sys.stderr)
        return 1
    if args.print_json:
        print(json.dumps(result.best_params, indent=2))
    else:
        for space, values in result.best_params.items():
            print(f"{space}: {values}")
    if not args.disable_param_export:
        path = result.to_freqtrade(Path(args.strategy.partition(":")[0]))
        print(f"parameters written to {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m producerconsumer.hyperopt.cli hyperopt ...`` (the same as
    ``producerconsumer hyperopt ...``)."""
    parser = argparse.ArgumentParser(prog="producerconsumer")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
