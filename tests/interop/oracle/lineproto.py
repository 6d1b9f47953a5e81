"""The stdin/stdout line protocol shared by the long-running oracle scripts.

Stdout is reserved for protocol lines: each is ``@@ `` followed by one JSON object, either an
event (``{"event": ...}``) or the reply to a command (``{"reply": <cmd>, "ok": bool, ...}``).
Everything else (logging, library chatter) goes to stderr. Commands arrive on stdin, one JSON
object per line, with a ``cmd`` key. End of stdin means ``quit``, so an oracle never outlives a
test process that died.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any

import framejson

PREFIX = "@@ "

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def emit(obj: dict[str, Any]) -> None:
    """Write one protocol line to stdout."""
    sys.stdout.write(PREFIX + framejson.dumps(obj) + "\n")
    sys.stdout.flush()


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s",
    )


def serve(handlers: dict[str, Handler]) -> None:
    """Answer commands from stdin until ``quit`` (or end of input). ``quit`` must be a handler."""
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = framejson.loads(line)
            name = request["cmd"]
        except (ValueError, KeyError, TypeError) as exc:
            emit({"reply": None, "ok": False, "error": f"bad command line: {exc}"})
            continue
        handler = handlers.get(name)
        if handler is None:
            emit({"reply": name, "ok": False, "error": f"unknown cmd {name!r}"})
            continue
        try:
            result = handler(request)
        except Exception as exc:
            logging.getLogger("oracle").exception("command %s failed", name)
            emit(
                {
                    "reply": name,
                    "ok": False,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(),
                }
            )
            continue
        emit({"reply": name, "ok": True, **result})
        if name == "quit":
            return
    handlers["quit"]({"cmd": "quit"})
