"""The consumer configuration: Freqtrade's ``external_message_consumer`` section.

:func:`load_config` takes a whole Freqtrade config file (JSON with ``//`` and ``/* */`` comments
and trailing commas, as Freqtrade accepts), a dict of one, or a bare section, checks every key's
type and range, and returns an immutable :class:`ConsumerConfig`. All problems are reported in one
:class:`~producerconsumer.errors.ConfigError` that names each key.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .endpoint import host_problem
from .errors import ConfigError
from .wire.rpc import normalize_topics

__all__ = ["ConsumerConfig", "ProducerConfig", "load_config"]

log = logging.getLogger(__name__)

SECTION = "external_message_consumer"
MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class ProducerConfig:
    """One entry of ``producers``. ``ws_token`` and ``api_password`` are never shown in a repr."""

    name: str
    host: str
    ws_token: str = field(repr=False)
    port: int = 8080
    secure: bool = False
    #: A PEM file of CA certificates to verify a ``secure`` producer's certificate with (instead
    #: of the system's): for a reverse proxy with a private CA. An extension: Freqtrade ignores it.
    ca_file: str | None = None
    #: The producer's REST API user (its ``api_server.username`` / ``password``), for
    #: :class:`~producerconsumer.ProducerAPI`. Extensions: Freqtrade ignores them.
    api_username: str | None = None
    api_password: str | None = field(default=None, repr=False)
    #: Seconds: a pair whose newest candle arrived later than this after the candle closed (or
    #: whose next candle is this overdue) is lagging: flagged in ``status()``, the ``lagging``
    #: event and the status panel. An extension: Freqtrade ignores it.
    max_lag: float | None = None
    #: The message types to subscribe to (an extension: Freqtrade ignores it): Freqtrade's two,
    #: ``whitelist`` and ``analyzed_df``, always first, then e.g. ``entry_fill``, ``exit_fill``
    #: (see :func:`~producerconsumer.wire.rpc.normalize_topics`).
    topics: tuple[str, ...] = ("whitelist", "analyzed_df")

    def __repr__(self) -> str:
        ca_file = f", ca_file={self.ca_file!r}" if self.ca_file is not None else ""
        api = ""
        if self.api_username is not None:
            api += f", api_username={self.api_username!r}"
        if self.api_password is not None:
            api += ", api_password='***'"
        lag = f", max_lag={self.max_lag!r}" if self.max_lag is not None else ""
        if self.topics != ("whitelist", "analyzed_df"):
            api += f", topics={self.topics!r}"
        return (
            f"ProducerConfig(name={self.name!r}, host={self.host!r}, port={self.port}, "
            f"secure={self.secure}{ca_file}{api}{lag}, ws_token='***')"
        )


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    """The ``external_message_consumer`` section, validated.

    Defaults are Freqtrade 2026.9's effective ones, except ``enabled``: a notebook that builds a
    consumer means to consume, so a missing ``enabled`` counts as true (an explicit false is kept
    and only warned about when the consumer starts). ``wait_timeout`` is 30 s as in Freqtrade's
    code (its docs still say 300). ``initial_candle_limit`` is honoured (Freqtrade ignores it).
    ``message_size_limit`` is in MiB.
    """

    producers: tuple[ProducerConfig, ...]
    enabled: bool = True
    wait_timeout: int = 30
    ping_timeout: int = 10
    sleep_time: int = 10
    remove_entry_exit_signals: bool = False
    initial_candle_limit: int = 1500
    message_size_limit: int = 8

    @property
    def max_message_bytes(self) -> int:
        """``message_size_limit`` in bytes (the websocket ``max_size``)."""
        return self.message_size_limit * MIB

    def producer(self, name: str) -> ProducerConfig:
        """The producer called ``name``; :class:`KeyError` naming the known ones otherwise."""
        for producer in self.producers:
            if producer.name == name:
                return producer
        raise KeyError(
            f"no producer named {name!r}; configured: {[p.name for p in self.producers]}"
        )

    def with_changes(self, **changes: Any) -> ConsumerConfig:
        """A copy with some keys changed, validated like a loaded config."""
        section = _to_section(self) | changes
        return _parse_section(section, source=None)

    def with_topics(self, topics: Sequence[str]) -> ConsumerConfig:
        """A copy with ``topics`` added to every producer's subscription."""
        producers = tuple(
            replace(p, topics=normalize_topics([*p.topics, *topics])) for p in self.producers
        )
        return replace(self, producers=producers)


# --- parsing

_PRODUCER_KEYS = (
    "name",
    "host",
    "port",
    "secure",
    "ws_token",
    "ca_file",
    "api_username",
    "api_password",
    "max_lag",
    "topics",
)
_SECTION_KEYS = (
    "enabled",
    "producers",
    "wait_timeout",
    "ping_timeout",
    "sleep_time",
    "remove_entry_exit_signals",
    "initial_candle_limit",
    "message_size_limit",
)


def load_config(
    source: ConsumerConfig | Mapping[str, Any] | str | os.PathLike[str],
) -> ConsumerConfig:
    """Load and validate a consumer configuration.

    ``source`` is a path to a Freqtrade config file, a dict holding a whole Freqtrade config
    (its ``external_message_consumer`` section is used), a dict of the bare section, or a
    :class:`ConsumerConfig` (returned as is).
    """
    if isinstance(source, ConsumerConfig):
        return source
    where: str | None = None
    if isinstance(source, str | os.PathLike):
        where = str(source)
        source = _read_file(Path(source))
    if not isinstance(source, Mapping):
        raise ConfigError(
            [("config", f"expected a file path or a dict, got {type(source).__name__}")], where
        )
    if SECTION in source:
        section = source[SECTION]
        if not isinstance(section, Mapping):
            raise ConfigError(
                [(SECTION, f"must be an object, got {type(section).__name__}")], where
            )
    elif "producers" in source:
        section = source
    else:
        raise ConfigError(
            [
                (
                    SECTION,
                    "missing: the config has neither an 'external_message_consumer' section "
                    "nor a 'producers' list",
                )
            ],
            where,
        )
    return _parse_section(section, where)


def _read_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [("config", f"cannot read file: {exc.strerror or exc}")], str(path)
        ) from None
    try:
        return json.loads(_strip_json_extensions(text))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [("config", f"not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")],
            str(path),
        ) from None


def _strip_json_extensions(text: str) -> str:
    """Blank out ``//`` and ``/* */`` comments and trailing commas, keeping every other
    character at its place so JSON error positions still point into the original file."""
    out = list(text)
    i, n = 0, len(text)
    last_comma: int | None = None
    while i < n:
        ch = text[i]
        if ch == '"':
            last_comma = None
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            continue
        if ch == "/" and i + 1 < n and text[i + 1] in "/*":
            end = text.find("\n", i) if text[i + 1] == "/" else text.find("*/", i + 2)
            end = n if end < 0 else (end if text[i + 1] == "/" else end + 2)
            for j in range(i, end):
                if out[j] != "\n":
                    out[j] = " "
            i = end
            continue
        if ch == ",":
            last_comma = i
        elif ch in "]}":
            if last_comma is not None:
                out[last_comma] = " "
            last_comma = None
        elif not ch.isspace():
            last_comma = None
        i += 1
    return "".join(out)


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _check_int(
    problems: list[tuple[str, str]], key: str, value: Any, low: int, high: int | None
) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append((key, f"must be an integer, got {_describe(value)}"))
    elif value < low or (high is not None and value > high):
        span = f"in {low}..{high}" if high is not None else f">= {low}"
        problems.append((key, f"must be {span}, got {value}"))


def _check_bool(problems: list[tuple[str, str]], key: str, value: Any) -> None:
    if not isinstance(value, bool):
        problems.append((key, f"must be true or false, got {_describe(value)}"))


def _unknown(
    problems: list[tuple[str, str]], prefix: str, keys: Any, known: tuple[str, ...]
) -> None:
    # Freqtrade's schema allows extra keys, so they are not errors; a likely typo is worth a word.
    for key in keys:
        close = difflib.get_close_matches(str(key), known, n=1)
        if close:
            log.warning("%s%s: unknown key ignored; did you mean %r?", prefix, key, close[0])


def _parse_section(section: Mapping[str, Any], source: str | None) -> ConsumerConfig:
    problems: list[tuple[str, str]] = []
    p = f"{SECTION}."
    _unknown(problems, p, [k for k in section if k not in _SECTION_KEYS], _SECTION_KEYS)
    values: dict[str, Any] = {}
    defaults = ConsumerConfig(producers=())
    for key, low, high in (
        ("wait_timeout", 0, None),
        ("ping_timeout", 0, None),
        ("sleep_time", 0, None),
        ("initial_candle_limit", 0, 1500),
        ("message_size_limit", 1, 20),
    ):
        value = section.get(key, getattr(defaults, key))
        _check_int(problems, p + key, value, low, high)
        values[key] = value
    for key in ("enabled", "remove_entry_exit_signals"):
        value = section.get(key, getattr(defaults, key))
        _check_bool(problems, p + key, value)
        values[key] = value

    producers: list[ProducerConfig] = []
    raw_producers = section.get("producers")
    if raw_producers is None:
        problems.append((p + "producers", "missing: list at least one producer"))
    elif not isinstance(raw_producers, list | tuple):
        problems.append((p + "producers", f"must be a list, got {_describe(raw_producers)}"))
    elif not raw_producers:
        problems.append((p + "producers", "is empty: list at least one producer to connect to"))
    else:
        for index, raw in enumerate(raw_producers):
            producer = _parse_producer(problems, f"{p}producers[{index}]", raw)
            if producer is not None:
                producers.append(producer)
        seen: set[str] = set()
        for index, producer in enumerate(producers):
            if producer.name in seen:
                problems.append(
                    (
                        f"{p}producers[{index}].name",
                        f"duplicate name {producer.name!r}: names must be unique",
                    )
                )
            seen.add(producer.name)
    if problems:
        raise ConfigError(problems, source)
    return ConsumerConfig(producers=tuple(producers), **values)


def _parse_producer(problems: list[tuple[str, str]], p: str, raw: Any) -> ProducerConfig | None:
    if isinstance(raw, ProducerConfig):
        return raw
    if not isinstance(raw, Mapping):
        problems.append((p, f"must be an object with name, host, ws_token, got {_describe(raw)}"))
        return None
    before = len(problems)
    _unknown(problems, p + ".", [k for k in raw if k not in _PRODUCER_KEYS], _PRODUCER_KEYS)
    for key in ("name", "host"):
        value = raw.get(key)
        if value is None:
            problems.append((f"{p}.{key}", "missing (required)"))
        elif not isinstance(value, str) or not value.strip():
            problems.append((f"{p}.{key}", f"must be a non-empty string, got {_describe(value)}"))
        elif key == "host" and (problem := host_problem(value.strip())) is not None:
            problems.append((f"{p}.host", problem))
    token = raw.get("ws_token")
    if token is None:
        problems.append((f"{p}.ws_token", "missing (required): the producer's api_server.ws_token"))
    elif not isinstance(token, str) or not token:
        # The value itself is a secret: describe its type only.
        problems.append(
            (f"{p}.ws_token", f"must be a non-empty string, got {type(token).__name__}")
        )
    port = raw.get("port", 8080)
    _check_int(problems, f"{p}.port", port, 0, 65535)
    secure = raw.get("secure", False)
    _check_bool(problems, f"{p}.secure", secure)
    ca_file = raw.get("ca_file")
    if ca_file is not None:
        if not isinstance(ca_file, str | os.PathLike) or not str(ca_file).strip():
            problems.append((f"{p}.ca_file", f"must be a file path, got {_describe(ca_file)}"))
        else:
            ca_file = os.fspath(ca_file)
            if not os.path.isfile(ca_file):
                problems.append(
                    (f"{p}.ca_file", f"no such file: {ca_file!r} (a PEM file of CA certificates)")
                )
            elif secure is False:
                log.warning(
                    "%s.ca_file is set but secure is false: it is used only for wss:// (secure: "
                    "true) connections",
                    p,
                )
    api_username = raw.get("api_username")
    if api_username is not None and (not isinstance(api_username, str) or not api_username):
        problems.append(
            (f"{p}.api_username", f"must be a non-empty string, got {_describe(api_username)}")
        )
    api_password = raw.get("api_password")
    if api_password is not None and not isinstance(api_password, str):
        # A secret: describe its type only.
        problems.append(
            (f"{p}.api_password", f"must be a string, got {type(api_password).__name__}")
        )
    max_lag = raw.get("max_lag")
    if max_lag is not None and (
        isinstance(max_lag, bool) or not isinstance(max_lag, int | float) or not max_lag > 0
    ):
        problems.append(
            (f"{p}.max_lag", f"must be a number of seconds > 0, got {_describe(max_lag)}")
        )
    topics: tuple[str, ...] = ("whitelist", "analyzed_df")
    raw_topics = raw.get("topics")
    if raw_topics is not None:
        if not isinstance(raw_topics, str | list | tuple):
            problems.append(
                (
                    f"{p}.topics",
                    f"must be a list of message types (or a comma-separated string), got "
                    f"{_describe(raw_topics)}",
                )
            )
        else:
            try:
                topics = normalize_topics(raw_topics)
            except ValueError as exc:
                problems.append((f"{p}.topics", str(exc)))
    # (a token that is not a str is one of the problems: the isinstance is for the type checker)
    if len(problems) > before or not isinstance(token, str):
        return None
    return ProducerConfig(
        name=raw["name"],
        host=raw["host"].strip(),
        ws_token=token,
        port=port,
        secure=secure,
        ca_file=ca_file,
        api_username=api_username,
        api_password=api_password,
        max_lag=None if max_lag is None else float(max_lag),
        topics=topics,
    )


def _to_section(config: ConsumerConfig) -> dict[str, Any]:
    section: dict[str, Any] = {
        key: getattr(config, key) for key in _SECTION_KEYS if key != "producers"
    }
    section["producers"] = list(config.producers)
    return section
