"""Compute qtpylib indicators with the copy Freqtrade strategies import, for parity tests.

Runs INSIDE the Freqtrade oracle venv. Usage: ``ft_qtpylib.py IN OUT``. ``IN`` is
``{"bars": framejson, "cases": [{"name", "fn", "input", "kwargs"}]}``: ``fn`` is called on
``bars`` (``input == "bars"``) or on the column ``bars[input]``; a keyword value ``"$col"`` is
the column ``bars[col]``. ``OUT`` receives ``{"module": ..., "results": {name: framejson}}``
(a Series result as a one-column frame), or ``{name: {"error": "..."}}`` where it raised.

The module is ``freqtrade.vendor.qtpylib.indicators``, the import path of Freqtrade's docs; in
2026.9 it re-exports ``technical.qtpylib`` (with a FutureWarning, silenced here).
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import framejson
import pandas as pd

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    from freqtrade.vendor.qtpylib import indicators as qtpylib


def compute(bars: pd.DataFrame, case: dict[str, Any]) -> dict[str, Any]:
    data = bars if case["input"] == "bars" else bars[case["input"]]
    kwargs = {
        key: bars[value[1:]] if isinstance(value, str) and value.startswith("$") else value
        for key, value in case["kwargs"].items()
    }
    try:
        result = getattr(qtpylib, case["fn"])(data, **kwargs)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    frame = result.to_frame("value") if isinstance(result, pd.Series) else result
    return framejson.dump_frame(frame)


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} IN OUT")
    job = framejson.read(sys.argv[1])
    bars = framejson.load_frame(job["bars"])
    results = {case["name"]: compute(bars, case) for case in job["cases"]}
    framejson.write(sys.argv[2], {"module": qtpylib.__name__, "results": results})


if __name__ == "__main__":
    main()
