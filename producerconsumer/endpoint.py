"""Where a producer's message websocket is: its URL (built, checked, redacted) and a logger
for websockets that never shows the token.

Kept out of :mod:`.wire` (which is pure message codec) because it is about addresses and logs.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from urllib.parse import quote

__all__ = ["WS_PATH", "build_url", "host_problem", "redact_url", "websockets_logger"]

#: The path of Freqtrade's message websocket (router prefix ``/api/v1`` + ``/message/ws``).
WS_PATH = "/api/v1/message/ws"

_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def host_problem(host: str) -> str | None:
    """What is wrong with ``host`` as the host part of a websocket URL, or None if nothing.

    Accepted: a host name (dot-separated labels of letters, digits, ``-`` and ``_``; a trailing
    dot; international names), an IPv4 address, an IPv6 address with or without brackets.
    """
    if not host:
        return "is empty"
    try:
        ipaddress.ip_address(host[1:-1] if host.startswith("[") and host.endswith("]") else host)
        return None
    except ValueError:
        pass
    if ":" in host:
        return (
            f"{host!r} contains ':' but is not an IPv6 address; give a host name or address "
            "alone and the port in 'port'"
        )
    if any(char in host for char in "/?#@[] \t"):
        bad = sorted({char for char in host if char in "/?#@[] \t"})
        return (
            f"{host!r} contains {', '.join(repr(c) for c in bad)}; give a host name or address "
            "alone, not a URL"
        )
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return f"{host!r} is not a valid host name"
    labels = ascii_host.removesuffix(".").split(".")
    if "" in labels:
        return f"{host!r} has an empty label (two dots in a row, or a leading dot)"
    invalid = [label for label in labels if not _LABEL.fullmatch(label)]
    if invalid:
        return (
            f"{host!r} has invalid label {invalid[0]!r}: labels are 1-63 letters, digits, '-' "
            "or '_', not starting or ending with '-'"
        )
    return None


def build_url(host: str, port: int, secure: bool, token: str) -> str:
    """The producer's message websocket URL; :class:`ValueError` if ``host`` cannot be in one
    (see :func:`host_problem`).

    The token is percent-encoded (Freqtrade's consumer does not, which breaks tokens with ``&``,
    ``#``, ``+``, ``%`` or spaces) and IPv6 literals get brackets.
    """
    problem = host_problem(host)
    if problem is not None:
        raise ValueError(f"host {problem}")
    scheme = "wss" if secure else "ws"
    try:
        if isinstance(ipaddress.ip_address(host.strip("[]")), ipaddress.IPv6Address):
            host = f"[{host.strip('[]')}]"
    except ValueError:
        pass
    return f"{scheme}://{host}:{port}{WS_PATH}?token={quote(token, safe='')}"


def redact_url(url: str) -> str:
    """``url`` with the token replaced by ``***``: safe for logs, reprs and errors."""
    head, sep, _ = url.partition("?token=")
    return f"{head}?token=***" if sep else url


class _RedactTokens(logging.Filter):
    """Mask ``token=...`` in log lines: websockets' debug log prints request paths."""

    _pattern = re.compile(r"(token=)[^&\s#]*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message:
            record.msg, record.args = self._pattern.sub(r"\1***", message), ()
        return True


def websockets_logger(name: str) -> logging.Logger:
    """A logger to hand to websockets (``logger=``) that never shows a token."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, _RedactTokens) for f in logger.filters):
        logger.addFilter(_RedactTokens())
    return logger
