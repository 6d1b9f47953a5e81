"""Decode analyzed_df payloads exactly as Freqtrade's consumer does, for parity tests.

Runs INSIDE the Freqtrade oracle venv. Usage: ``ft_decode.py IN OUT``. ``IN`` is a JSON list of
``{"kind": "message" | "value" | "roundtrip", "text": str}``:

* ``message``: a whole producer frame, decoded by the real
  ``HybridJSONWebSocketSerializer._deserialize`` (rapidjson + ``json_to_dataframe`` object hook)
  and validated by ``WSMessageSchema`` / ``WSAnalyzedDFMessage`` as
  ``ExternalMessageConsumer`` does;
* ``value``: a bare ``__value__`` string, decoded by ``freqtrade.misc.json_to_dataframe``;
* ``roundtrip``: ``text`` is a ``framejson`` frame; it is encoded with Freqtrade's
  ``dataframe_to_json`` and decoded with ``json_to_dataframe`` (what a Freqtrade consumer would
  store if a Freqtrade producer held that frame). ``value`` then holds the encoded string.

``OUT`` receives a JSON list, one entry per input, ``{"frame": framejson, "key": [...] | null,
"la": iso | null, "value": str | null}`` or ``{"error": "..."}`` if Freqtrade could not do it.
"""

from __future__ import annotations

import sys
from typing import Any

import framejson
from freqtrade.misc import dataframe_to_json, json_to_dataframe
from freqtrade.rpc.api_server.ws.serializer import HybridJSONWebSocketSerializer
from freqtrade.rpc.api_server.ws_schemas import WSAnalyzedDFMessage, WSMessageSchema


def decode(item: dict[str, Any]) -> dict[str, Any]:
    text = item["text"]
    if item["kind"] == "value":
        frame = json_to_dataframe(text)
        return {"frame": framejson.dump_frame(frame), "key": None, "la": None, "value": None}
    if item["kind"] == "roundtrip":
        value = dataframe_to_json(framejson.load_frame(framejson.loads(text)))
        frame = json_to_dataframe(value)
        return {"frame": framejson.dump_frame(frame), "key": None, "la": None, "value": value}
    if item["kind"] != "message":
        raise ValueError(f"unknown kind {item['kind']!r}")
    serializer = HybridJSONWebSocketSerializer(None)  # type: ignore[arg-type]
    message = WSMessageSchema.model_validate(serializer._deserialize(text))
    analyzed = WSAnalyzedDFMessage.model_validate(message.model_dump())
    return {
        "frame": framejson.dump_frame(analyzed.data.df),
        "key": [str(part) for part in analyzed.data.key],
        "la": analyzed.data.la.isoformat(),
        "value": None,
    }


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} IN OUT")
    items = framejson.read(sys.argv[1])
    results: list[dict[str, Any]] = []
    for item in items:
        try:
            results.append(decode(item))
        except Exception as exc:
            results.append({"error": f"{type(exc).__name__}: {exc}"})
    framejson.write(sys.argv[2], results)


if __name__ == "__main__":
    main()
