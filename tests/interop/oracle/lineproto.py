"""The stdin/stdout line protocol shared by the long-running oracle scripts.

Stdout is reserved for protocol lines: each is ``@@ `` followed by one JSON object, either an
event (``{"event": ...}``) or the reply to a command (``{"reply": <cmd>, "ok": bool, ...}``).
Everything else (logging, library chatter) goes to stderr. Commands arrive on stdin, one JSON
object per line, with a ``cmd`` key. End of stdin means ``quit``, so an oracle never outlives a
test process that died.

The child's side is :func:`emit` and :func:`serve`; the parent's side (a test or a benchmark)
is :class:`LineProcess`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
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


# --- the parent's side: a child process speaking this protocol


class ProcessError(RuntimeError):
    """A child failed, timed out or answered ``ok: false``; the text ends with its stderr."""


class LineProcess:
    """One child script speaking this protocol, started with ``argv``; its stderr goes to
    ``<workdir>/<name>-<pid>-<id>.stderr``. Subclasses may set :attr:`error` (the exception
    type raised for failures)."""

    error: type[Exception] = ProcessError

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: dict[str, str],
        workdir: Path,
        start_timeout: float = 60.0,
        stop_timeout: float = 15.0,
    ) -> None:
        self.name = name
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.stderr_path = workdir / f"{name}-{os.getpid()}-{id(self):x}.stderr"
        self._stderr = self.stderr_path.open("w", encoding="utf-8")
        self.spawned = time.perf_counter()
        self._proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            env=env,
            cwd=str(workdir),
        )
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name=f"{name}-stdout", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            if line.startswith(PREFIX):
                self._messages.put(framejson.loads(line[len(PREFIX) :]))
        self._messages.put(None)  # end of output: the process is exiting

    def stderr_tail(self, lines: int = 80) -> str:
        self._stderr.flush()
        text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _fail(self, what: str) -> Exception:
        return self.error(
            f"{self.name} (pid {self._proc.pid}, returncode {self._proc.poll()}): {what}\n"
            f"--- {self.name} stderr (tail) ---\n{self.stderr_tail()}"
        )

    def next_message(self, timeout: float) -> dict[str, Any]:
        try:
            message = self._messages.get(timeout=timeout)
        except queue.Empty:
            raise self._fail(f"no message within {timeout} s") from None
        if message is None:
            self._messages.put(None)
            raise self._fail("process exited")
        return message

    def wait_event(self, event: str, timeout: float | None = None) -> dict[str, Any]:
        message = self.next_message(self.start_timeout if timeout is None else timeout)
        if message.get("event") != event:
            raise self._fail(f"expected event {event!r}, got {message}")
        return message

    def send(self, cmd: str, **fields: Any) -> None:
        """Send one command without waiting for its reply (see :meth:`reply`)."""
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(framejson.dumps({"cmd": cmd, **fields}) + "\n")
            self._proc.stdin.flush()
        except OSError as exc:
            raise self._fail(f"cannot send {cmd!r}: {exc}") from None

    def reply(self, cmd: str, timeout: float) -> dict[str, Any]:
        """The next message, which must be ``cmd``'s successful reply."""
        reply = self.next_message(timeout)
        if reply.get("reply") != cmd:
            raise self._fail(f"expected the reply to {cmd!r}, got {reply}")
        if not reply.get("ok"):
            raise self._fail(f"{cmd!r} failed: {reply.get('error')}\n{reply.get('traceback', '')}")
        return reply

    def request(self, cmd: str, reply_timeout: float, **fields: Any) -> dict[str, Any]:
        """Send one command and return its reply; raise :attr:`error` unless ``ok``."""
        self.send(cmd, **fields)
        return self.reply(cmd, reply_timeout)

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def close(self) -> int:
        """Ask it to quit (end of stdin means quit too), kill it if it does not; always reaped.
        Returns the exit code."""
        try:
            if self.alive:
                with contextlib.suppress(self.error):
                    self.request("quit", reply_timeout=self.stop_timeout)
                if self._proc.stdin is not None:
                    self._proc.stdin.close()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(self.stop_timeout)
        except OSError:
            pass
        finally:
            if self._proc.poll() is None:
                self._proc.kill()
            returncode = self._proc.wait(self.stop_timeout)
            self._reader.join(self.stop_timeout)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._stderr.close()
        return returncode
