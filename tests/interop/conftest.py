"""Fixtures for the interop tests: Freqtrade 2026.9 run as an oracle in its own virtualenv.

Freqtrade is GPLv3 and pins its own dependency set, so it never enters this process: the
scripts in ``oracle/`` run in the oracle venv as subprocesses and exchange JSON with the tests
(``oracle/framejson.py`` moves frames exactly, across pandas versions).

The oracle python is ``$PC_ORACLE_PYTHON``, else ``<repo>/.oracle-venv/bin/python`` (the one
rule of ``oracle/locate.py``). Without one the tests are skipped with the locator's reason,
except under CI (``$CI`` set), where they fail: a skipped oracle test proves nothing there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import numpy as np
import pandas as pd
import pytest

ORACLE_DIR = Path(__file__).resolve().parent / "oracle"
FREQTRADE_VERSION = "2026.9"

sys.path.insert(0, str(ORACLE_DIR))
import framejson  # noqa: E402  (shared with the oracle scripts)
import lineproto  # noqa: E402
from locate import REPO, find_oracle_python  # noqa: E402

SAMPLES = REPO / "tests" / "data"  # frames captured from Freqtrade 2026.9 (see its README)

START_TIMEOUT = 60.0  # first start imports Freqtrade (cold caches on CI)
COMMAND_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

# Differential tests that import Freqtrade: run inside the oracle venv by run_oracle_pytest.
collect_ignore = ["oracle_tests"]
ORACLE_TESTS = Path(__file__).resolve().parent / "oracle_tests"

_PROCESSES = pytest.StashKey[list["OracleProcess"]]()


# --- the differential tests inside the oracle venv


def _text(value: str | bytes | None) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else (value or "")


def run_oracle_pytest(
    oracle_python: Path,
    paths: Sequence[str],
    *extra_args: str,
    timeout: float,
    hints: dict[str, str] | None = None,
) -> str:
    """Run ``oracle_tests/<path>`` files with pytest INSIDE the oracle venv (they import
    Freqtrade): ``<oracle python> -m pytest <files> -c oracle_tests/pytest.ini`` (its own ini:
    rootdir and confcutdir there, so our conftests stay out of that venv), with
    ``PYTHONPATH=<repo>``. Fails the calling test with the output when the run fails, times out
    or skips anything; ``hints``: ``{text in the output: what to tell instead}``. Returns the
    output."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [
        str(oracle_python),
        "-m",
        "pytest",
        *(str(ORACLE_TESTS / path) for path in paths),
        "-q",
        "-p",
        "no:cacheprovider",
        "-c",
        str(ORACLE_TESTS / "pytest.ini"),
        *extra_args,
    ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=str(ORACLE_TESTS),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the differential run took over {timeout} s:\n{_text(exc.stdout)[-20_000:]}")
    output = f"$ {' '.join(command)}\n{done.stdout[-20_000:]}\n{done.stderr[-5000:]}"
    for text, hint in (hints or {}).items():
        if text in output:
            pytest.fail(hint, pytrace=False)
    assert done.returncode == 0, output
    assert " passed" in done.stdout and "skipped" not in done.stdout, output
    return output


# --- locating the oracle


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: oracle tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def oracle_python() -> Path:
    """The oracle venv's python (``oracle/locate.py``), checked to import freqtrade."""
    path, why_not = find_oracle_python()
    if path is None:
        _unavailable(why_not)
    try:
        probe = subprocess.run(
            [str(path), "-c", "import freqtrade, pandas; print(freqtrade.__version__)"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"oracle python {path} does not run: {exc}")
    if probe.returncode != 0:
        _unavailable(f"oracle python {path} cannot import freqtrade:\n{probe.stderr}")
    version = probe.stdout.strip()
    if version != FREQTRADE_VERSION:
        _unavailable(
            f"oracle at {path} has freqtrade {version}, these tests pin {FREQTRADE_VERSION}"
        )
    return path


# --- running oracle scripts


class OracleError(AssertionError):
    """An oracle script failed, timed out or answered ``ok: false``; the text has its stderr."""


class OracleProcess(lineproto.LineProcess):
    """One long-running oracle script speaking the ``oracle/lineproto.py`` protocol."""

    error = OracleError
    live: ClassVar[list[OracleProcess]] = []  # started and not yet closed

    def __init__(self, python: Path, script: str, args: Sequence[str], workdir: Path) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ORACLE_DIR), str(REPO)]),
            "PYTHONUNBUFFERED": "1",
        }
        super().__init__(
            Path(script).stem,
            [str(python), str(ORACLE_DIR / script), *args],
            env,
            workdir,
            start_timeout=START_TIMEOUT,
            stop_timeout=STOP_TIMEOUT,
        )
        OracleProcess.live.append(self)

    def request(
        self, cmd: str, reply_timeout: float = COMMAND_TIMEOUT, **fields: Any
    ) -> dict[str, Any]:
        return super().request(cmd, reply_timeout, **fields)

    def close(self) -> int:
        try:
            return super().close()
        finally:
            if self in OracleProcess.live:
                OracleProcess.live.remove(self)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Show the stderr of the test's oracle processes (and of shared ones) with a failure."""
    report = yield
    if report.failed:
        shown = set()
        for process in [*item.stash.get(_PROCESSES, []), *OracleProcess.live]:
            if id(process) not in shown:
                shown.add(id(process))
                report.sections.append((f"{process.name} stderr (tail)", process.stderr_tail()))
    return report


@pytest.fixture
def oracle_processes(request: pytest.FixtureRequest) -> Iterator[list[OracleProcess]]:
    """Processes started for one test; closed (and reaped) at its teardown."""
    processes: list[OracleProcess] = []
    request.node.stash[_PROCESSES] = processes
    yield processes
    for process in reversed(processes):
        process.close()


@pytest.fixture(scope="module")
def module_oracle_processes() -> Iterator[list[OracleProcess]]:
    """Processes shared by a module's tests (starting Freqtrade costs seconds)."""
    processes: list[OracleProcess] = []
    yield processes
    for process in reversed(processes):
        process.close()


# --- Freqtrade's producer


def _decode_in(
    process: OracleProcess, workdir: Path, items: Sequence[tuple[str, str]]
) -> list[dict[str, Any]]:
    """``ft_decode.py``'s decoding done by an already running oracle process."""
    out = workdir / f"decoded-{os.urandom(4).hex()}.json"
    process.request("decode", items=[{"kind": k, "text": t} for k, t in items], out=str(out))
    results: list[dict[str, Any]] = framejson.read(out)
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        raise OracleError(f"Freqtrade could not decode: {errors}")
    return results


def frame_to_ms(ts: pd.Timestamp) -> int:
    return int(pd.Timestamp(ts).value // 1_000_000)  # .value is always ns


@dataclass
class FtProducer:
    """Freqtrade's real websocket producer (``oracle/ft_producer.py``)."""

    process: OracleProcess
    host: str
    port: int
    token: str
    workdir: Path
    timeframe: str

    def url(self, token: str | None = None) -> str:
        return f"ws://{self.host}:{self.port}/api/v1/message/ws?token={token or self.token}"

    def producer_config(self, name: str = "default", token: str | None = None) -> dict[str, Any]:
        """A ``producers[]`` entry for a consumer config."""
        return {"name": name, "host": self.host, "port": self.port, "ws_token": token or self.token}

    def set_frames(self, frames: dict[str, pd.DataFrame]) -> None:
        dumped = {pair: framejson.dump_frame(df) for pair, df in frames.items()}
        self.process.request("set_frames", frames=dumped)

    def set_whitelist(self, pairs: list[str]) -> bool:
        """Returns whether a ``whitelist`` broadcast went out (only when it changed)."""
        return bool(self.process.request("set_whitelist", pairs=pairs)["broadcast"])

    def broadcast_candle(
        self, pair: str, rows: pd.DataFrame | None = None, keep: int | None = None
    ) -> int:
        """Append ``rows`` (or re-emit the last candle) and broadcast it; returns its date in ms."""
        reply = self.process.request(
            "broadcast_candle",
            pair=pair,
            rows=None if rows is None else framejson.dump_frame(rows),
            keep=keep,
        )
        return int(reply["last_date_ms"])

    def _file(self, stem: str) -> Path:
        return self.workdir / f"{stem}-{self.port}-{os.urandom(4).hex()}.json"

    def expected(self, pair: str, limit: int | None = 1500) -> dict[str, Any]:
        """What Freqtrade's consumer decodes from this producer's ``analyzed_df`` reply:
        ``{"text": raw message, "key": [...], "frame": framejson}``."""
        out = self._file("expected")
        self.process.request("expected", pair=pair, limit=limit, out=str(out))
        return framejson.read(out)

    def decode(self, items: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        """Like the ``ft_decode`` fixture, without starting another Freqtrade process."""
        return _decode_in(self.process, self.workdir, items)

    def send_rpc(self, messages: Sequence[str]) -> int:
        """Send RPC messages (JSON texts) through the bot's ``RPCManager.send_msg``."""
        return int(self.process.request("send_rpc", messages=list(messages))["sent"])

    def received(self, clear: bool = False) -> list[str]:
        """Raw text of every request the producer received so far (all connections)."""
        return list(self.process.request("received", clear=clear)["requests"])

    def frame(self, pair: str) -> pd.DataFrame:
        """The analyzed frame as the producer holds it (before any wire encoding)."""
        out = self._file("frame")
        self.process.request("frame", pair=pair, out=str(out))
        return framejson.load_frame(framejson.read(out)["frame"])


def _start_ft_producer(
    python: Path,
    registry: list[OracleProcess],
    workdir: Path,
    token: str,
    timeframe: str,
    port: int,
) -> FtProducer:
    args = ["--token", token, "--timeframe", timeframe, "--port", str(port)]
    process = OracleProcess(python, "ft_producer.py", args, workdir)
    registry.append(process)
    event = process.wait_event("listening")
    return FtProducer(process, "127.0.0.1", int(event["port"]), token, workdir, timeframe)


@pytest.fixture
def start_ft_producer(
    oracle_python: Path, oracle_processes: list[OracleProcess], tmp_path: Path
) -> Callable[..., FtProducer]:
    """``start_ft_producer(token=..., timeframe="5m", port=0)``: a producer for one test."""

    def start(token: str = "oracle-token", timeframe: str = "5m", port: int = 0) -> FtProducer:
        return _start_ft_producer(oracle_python, oracle_processes, tmp_path, token, timeframe, port)

    return start


@pytest.fixture(scope="module")
def start_module_ft_producer(
    oracle_python: Path,
    module_oracle_processes: list[OracleProcess],
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., FtProducer]:
    """Like ``start_ft_producer``, but the producer lives until the module's last test."""
    workdir = tmp_path_factory.mktemp("ft_producer")

    def start(token: str = "oracle-token", timeframe: str = "5m", port: int = 0) -> FtProducer:
        return _start_ft_producer(
            oracle_python, module_oracle_processes, workdir, token, timeframe, port
        )

    return start


# --- Freqtrade's consumer


@dataclass
class FtConsumer:
    """Freqtrade's real ``ExternalMessageConsumer`` + ``DataProvider`` (``ft_consumer.py``)."""

    process: OracleProcess
    workdir: Path

    def wait_synced(
        self,
        timeout: float = 30.0,
        pairs: list[str] | None = None,
        min_last_date: dict[str, pd.Timestamp] | None = None,
        timeframe: str | None = None,
    ) -> dict[str, Any]:
        """Until it has the whitelist (``pairs`` if given) and a frame for every pair whose last
        date is at least ``min_last_date[pair]`` (frames of ``timeframe``, default the
        consumer's own). Raises with its stderr on timeout."""
        reply = self.process.request(
            "wait",
            reply_timeout=timeout + COMMAND_TIMEOUT,  # it answers at its own deadline
            timeout=timeout,
            pairs=pairs,
            min_last_date_ms={p: frame_to_ms(t) for p, t in (min_last_date or {}).items()},
            timeframe=timeframe,
        )
        if not reply["synced"]:
            raise OracleError(
                f"Freqtrade's consumer did not sync within {timeout} s (pairs={reply['pairs']}, "
                f"stores={reply['stores']}, wanted pairs={pairs}, min_last_date={min_last_date})"
                f"\n--- ft_consumer stderr (tail) ---\n{self.process.stderr_tail()}"
            )
        return reply

    def settle(self, timeout: float = 30.0) -> None:
        """Until its gap re-requests really reach the producer (see ``ft_consumer.py``: Freqtrade
        drops those published in the first ~1.5 s of a connection)."""
        reply = self.process.request(
            "settle", reply_timeout=timeout + COMMAND_TIMEOUT, timeout=timeout
        )
        if not reply["settled"]:
            raise OracleError(
                f"Freqtrade's consumer sent none of {reply['probes']} probe requests in {timeout} s"
                f"\n--- ft_consumer stderr (tail) ---\n{self.process.stderr_tail()}"
            )

    def roundtrip(self, frames: list[pd.DataFrame]) -> list[dict[str, Any]]:
        """What a Freqtrade consumer stores for each frame if a Freqtrade producer sent it whole
        (Freqtrade's ``dataframe_to_json`` then ``json_to_dataframe``), as framejson dumps."""
        items = [("roundtrip", framejson.dumps(framejson.dump_frame(df))) for df in frames]
        return [result["frame"] for result in _decode_in(self.process, self.workdir, items)]

    def lookup(
        self,
        pair: str,
        timeframe: str | None = None,
        candle_type: str | None = None,
        producer_name: str = "default",
    ) -> dict[str, Any]:
        """Freqtrade's ``get_producer_df`` for one lookup: ``{"rows": n, "last_analyzed": iso}``."""
        return self.process.request(
            "lookup",
            pair=pair,
            timeframe=timeframe,
            candle_type=candle_type,
            producer_name=producer_name,
        )

    def dump(self) -> dict[str, Any]:
        """``{"pairs": [...], "frames": {pair: {"frame": framejson, "last_analyzed": iso}}}``."""
        out = self.workdir / f"consumer-{os.urandom(4).hex()}.json"
        self.process.request("dump", out=str(out))
        return framejson.read(out)


@pytest.fixture
def start_ft_consumer(
    oracle_python: Path, oracle_processes: list[OracleProcess], tmp_path: Path
) -> Callable[..., FtConsumer]:
    def start(
        host: str, port: int, token: str, name: str = "default", timeframe: str = "5m"
    ) -> FtConsumer:
        args = ["--host", host, "--port", str(port), "--token", token, "--name", name]
        args += ["--timeframe", timeframe]
        process = OracleProcess(oracle_python, "ft_consumer.py", args, tmp_path)
        oracle_processes.append(process)
        process.wait_event("started")
        return FtConsumer(process, tmp_path)

    return start


# --- Freqtrade's decoder


@pytest.fixture
def ft_decode(oracle_python: Path, tmp_path: Path) -> Callable[..., list[dict[str, Any]]]:
    """``ft_decode([(kind, text), ...])`` -> Freqtrade's decodes (see ``oracle/ft_decode.py``).

    Kinds: ``message`` (a whole producer frame), ``value`` (a ``__value__`` string) and
    ``roundtrip`` (``text`` = ``framejson.dumps(framejson.dump_frame(df))``).
    """

    def decode(items: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        tag = os.urandom(4).hex()
        source, out = tmp_path / f"decode-in-{tag}.json", tmp_path / f"decode-out-{tag}.json"
        framejson.write(source, [{"kind": kind, "text": text} for kind, text in items])
        env = {**os.environ, "PYTHONPATH": str(ORACLE_DIR)}
        try:
            done = subprocess.run(
                [str(oracle_python), str(ORACLE_DIR / "ft_decode.py"), str(source), str(out)],
                capture_output=True,
                text=True,
                timeout=120,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise OracleError(f"ft_decode.py timed out: {exc.stderr}") from None
        if done.returncode != 0:
            raise OracleError(f"ft_decode.py failed ({done.returncode}):\n{done.stderr}")
        results: list[dict[str, Any]] = framejson.read(out)
        errors = [r["error"] for r in results if "error" in r]
        if errors:
            raise OracleError(f"Freqtrade could not decode: {errors}")
        return results

    return decode


# --- comparing frames across the process (and pandas version) boundary


def _harmonize(expected: pd.DataFrame, actual: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Map the two documented pandas 2 <-> 3 differences of a decoded frame (``date`` unit
    us vs ns, ``str`` vs ``object`` strings) onto ``actual``'s pandas; nothing else."""
    notes: list[str] = []
    expected = expected.copy()
    for column in expected.columns.intersection(actual.columns):
        want, have = expected[column].dtype, actual[column].dtype
        if want == have:
            continue
        if _datetime_tz(want) is not None and _datetime_tz(want) == _datetime_tz(have):
            expected[column] = expected[column].dt.as_unit(_datetime_unit(have))
            notes.append(f"{column}: {want} -> {have}")
        elif _is_string(want) and _is_string(have):
            expected[column] = expected[column].astype(have)
            notes.append(f"{column}: {want} -> {have}")
    if _is_string(expected.columns.dtype) and _is_string(actual.columns.dtype):
        expected.columns = expected.columns.astype(actual.columns.dtype)
    return expected, notes


def _datetime_tz(dtype: Any) -> str | None:
    """``"naive"`` or the zone name for a datetime dtype, ``None`` for anything else."""
    if isinstance(dtype, pd.DatetimeTZDtype):
        return str(dtype.tz)
    return "naive" if getattr(dtype, "kind", None) == "M" else None


def _datetime_unit(dtype: Any) -> str:
    return dtype.unit if isinstance(dtype, pd.DatetimeTZDtype) else np.datetime_data(dtype)[0]


def _is_string(dtype: Any) -> bool:
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)


def assert_frame_matches(actual: pd.DataFrame, dumped: dict[str, Any], what: str = "frame") -> None:
    """``actual`` (this process) equals the dumped frame (oracle process) exactly: values,
    dtypes, index labels and column order. Across pandas major versions only the documented
    dtype spelling differences are mapped (see :func:`_harmonize`)."""
    expected = framejson.load_frame(dumped)
    if dumped["pandas"].split(".")[0] != pd.__version__.split(".")[0]:
        expected, _ = _harmonize(expected, actual)
    pd.testing.assert_frame_equal(actual, expected, check_exact=True, check_freq=False, obj=what)


def assert_dumps_equal(actual: dict[str, Any], expected: dict[str, Any], what: str) -> None:
    """Two frames dumped by the oracle (same pandas) are exactly equal."""
    pd.testing.assert_frame_equal(
        framejson.load_frame(actual),
        framejson.load_frame(expected),
        check_exact=True,
        check_freq=False,
        obj=what,
    )


# --- test data


def make_frame(
    pair: str,
    rows: int,
    timeframe: str = "5m",
    start: str = "2026-01-01 00:00",
    seed: int = 0,
) -> pd.DataFrame:
    """A deterministic analyzed dataframe with the awkward values an analyzed frame has:
    NaN warm-up, integral floats (``read_json`` downcasts them), long decimals (``to_json``
    rounds to 10), tiny values, an all-NaN column, ``""`` tags and 1/NaN signals."""
    rng = np.random.default_rng([seed, *pair.encode()])
    dates = pd.date_range(start, periods=rows, freq=pd.Timedelta(timeframe), tz="UTC")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.003, rows)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    spread = np.abs(rng.normal(0, 0.002, rows)) * close
    frame = pd.DataFrame(
        {
            "date": dates,
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": np.round(rng.uniform(0, 50, rows)),  # integral floats
            "rsi": pd.Series(rng.uniform(0, 100, rows)).where(np.arange(rows) >= 14).to_numpy(),
            "tiny": rng.uniform(0, 1e-7, rows),
            "all_nan": np.full(rows, np.nan),
            "enter_tag": [""] * rows,
            "enter_long": np.where(rng.uniform(0, 1, rows) > 0.8, 1.0, np.nan),
            "exit_tag": [""] * rows,
            "exit_long": np.where(rng.uniform(0, 1, rows) > 0.9, 1.0, np.nan),
        }
    )
    return frame


def next_rows(
    frame: pd.DataFrame, count: int = 1, timeframe: str = "5m", seed: int = 1
) -> pd.DataFrame:
    """``count`` new candles after ``frame``'s last one (fresh index 0..count-1)."""
    last = frame["date"].iloc[-1]
    rng = np.random.default_rng(seed)
    new = frame.iloc[-count:].copy().reset_index(drop=True)
    new["date"] = [last + pd.Timedelta(timeframe) * (i + 1) for i in range(count)]
    new["close"] = new["close"].to_numpy() * (1 + rng.normal(0, 0.01, count))
    new["rsi"] = rng.uniform(0, 100, count)
    new["enter_long"] = 1.0
    return new
