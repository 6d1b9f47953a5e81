"""Exceptions raised to users. Every message names the producer or config key concerned and, where
there is one, what to do next. No message ever contains a token."""

from __future__ import annotations

__all__ = [
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "ConfigError",
    "ProducerError",
    "ReadyTimeout",
]


class ConfigError(ValueError):
    """An ``external_message_consumer`` configuration that cannot be used.

    ``problems`` lists every ``(key, problem)`` found; the message has them all, one per line.
    """

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None) -> None:
        self.problems = problems
        where = f" in {source}" if source else ""
        lines = [f"{key}: {problem}" for key, problem in problems]
        if len(lines) == 1:
            message = f"invalid consumer configuration{where}: {lines[0]}"
        else:
            message = f"invalid consumer configuration{where}:\n  " + "\n  ".join(lines)
        super().__init__(message)


class ProducerError(Exception):
    """Something went wrong with one producer; ``producer`` is its configured name."""

    def __init__(self, producer: str, message: str) -> None:
        self.producer = producer
        super().__init__(f"producer {producer!r}: {message}")


class AuthenticationError(ProducerError):
    """The producer refused the ``ws_token`` (HTTP 403 at the websocket handshake), or its REST
    API refused the username and password (HTTP 401)."""


class APIError(ProducerError):
    """A producer's REST API call failed. ``endpoint`` is its path (``/api/v1/...``), ``status``
    the HTTP status (None when there was no answer); the message says what to do."""

    def __init__(self, producer: str, endpoint: str, status: int | None, message: str) -> None:
        self.endpoint = endpoint
        self.status = status
        super().__init__(producer, message)


class APIConnectionError(APIError, ConnectionError):
    """A producer's REST API could not be reached at all (refused, unresolvable, TLS, timeout)."""


class ReadyTimeout(ProducerError, TimeoutError):
    """``wait_ready`` ran out of time; the message says what each producer was missing."""
