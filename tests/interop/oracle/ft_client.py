"""Freqtrade's own REST client against any API server, one shot; runs INSIDE the oracle venv.

    python ft_client.py URL USERNAME PASSWORD CALLS_JSON OUT_JSON

``CALLS_JSON`` is ``[[method, kwargs], ...]`` of ``freqtrade_client.FtRestClient`` methods (HTTP
basic auth, as that client does). Each answer is also validated with the pydantic model
Freqtrade's API server declares for it (``PairHistory``, ``ShowConfig``, ...), so a shape that
Freqtrade itself would not produce shows up. ``OUT_JSON`` gets
``{"results": [...], "invalid": {method: error or null}}``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from freqtrade.rpc.api_server import api_schemas as schemas
from freqtrade_client import FtRestClient
from pydantic import TypeAdapter, ValidationError

MODELS: dict[str, Any] = {
    "ping": schemas.Ping,
    "version": schemas.Version,
    "show_config": schemas.ShowConfig,
    "whitelist": schemas.WhitelistResponse,
    "pair_candles": schemas.PairHistory,
    "status": list[schemas.OpenTradeSchema],
    "trades": schemas.TradeResponse,
    "plot_config": schemas.PlotConfig,
}


def main() -> None:
    url, username, password, calls_path, out_path = sys.argv[1:6]
    with open(calls_path, encoding="utf-8") as file:
        calls = json.load(file)
    client = FtRestClient(url, username, password)
    results: list[Any] = []
    invalid: dict[str, str | None] = {}
    for name, kwargs in calls:
        result = getattr(client, name)(**kwargs)
        results.append(result)
        model = MODELS.get(name)
        if model is not None and result is not None:
            try:
                TypeAdapter(model).validate_python(result)
                invalid.setdefault(name, None)
            except ValidationError as exc:
                invalid[name] = str(exc)[:2000]
    with open(out_path, "w", encoding="utf-8") as file:
        json.dump({"results": results, "invalid": invalid}, file)


if __name__ == "__main__":
    main()
