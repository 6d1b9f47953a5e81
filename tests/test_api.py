"""``pc.ProducerAPI`` against a small scripted HTTP server on loopback: the paths a real
Freqtrade API server rarely takes (tokens about to expire or refused, no login endpoint, errors of
every kind, a server that stalls or is not there, answers that are not JSON), where to connect,
and that no secret ever shows. The real Freqtrade API is tested in
``tests/interop/test_oracle_api.py``."""

from __future__ import annotations

import base64
import logging
import ssl
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from scripted import TcpProxy, free_port

import producerconsumer as pc

USER = "alice"
PASSWORD = "pw:s3cr&t"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def jwt(kind: str, expires_in: float, serial: int) -> str:
    """A JWT-shaped token with an ``exp`` claim (the client reads it, never verifies it)."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(obj)).decode().rstrip("=")

    claims = {"identity": {"u": USER}, "type": kind, "exp": int(time.time() + expires_in)}
    return f"{part({'alg': 'HS256'})}.{part(claims)}.sig-{kind}-{serial}-secret"


Reply = tuple[int, Any]  # (status, JSON body, or bytes sent as is)


@dataclass
class FakeAPI:
    """A Freqtrade-like API server whose answers the test scripts per path."""

    routes: dict[str, Callable[[FakeAPI, dict[str, str]], Reply]] = field(default_factory=dict)
    seen: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, Authorization
    release: threading.Event = field(default_factory=threading.Event)
    access_lifetime: float = 900.0
    tokens: list[str] = field(default_factory=list)
    port: int = 0

    def login(self, headers: dict[str, str]) -> Reply:
        if headers.get("authorization") != BASIC:
            return 401, {"detail": "Incorrect username or password"}
        access = jwt("access", self.access_lifetime, len(self.tokens))
        refresh = jwt("refresh", 30 * 86400, len(self.tokens))
        self.tokens += [access, refresh]
        return 200, {"access_token": access, "refresh_token": refresh}

    def refresh(self, headers: dict[str, str]) -> Reply:
        if headers.get("authorization") != f"Bearer {self.tokens[-1]}":
            return 401, {"detail": "Could not validate credentials"}
        access = jwt("access", 900, len(self.tokens))
        self.tokens.append(access)
        return 200, {"access_token": access}

    def authorized(self, headers: dict[str, str]) -> bool:
        """HTTP basic, or an access token this server issued."""
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        return auth == BASIC or (token in self.tokens and ".sig-access-" in token)

    def paths(self) -> list[str]:
        return [f"{method} {path.removeprefix('/api/v1/')}" for method, path, _ in self.seen]


@pytest.fixture
def server() -> Iterator[FakeAPI]:
    api = FakeAPI()
    api.routes = {
        "/api/v1/token/login": FakeAPI.login,
        "/api/v1/token/refresh": FakeAPI.refresh,
        "/api/v1/ping": lambda s, h: (200, {"status": "pong"}),
        "/api/v1/version": lambda s, h: (
            (200, {"version": "2026.9"}) if s.authorized(h) else (401, {"detail": "Unauthorized"})
        ),
        "/api/v1/whitelist": lambda s, h: (
            (200, {"whitelist": ["BTC/USDT"], "length": 1, "method": ["StaticPairList"]})
            if s.authorized(h)
            else (401, {"detail": "Unauthorized"})
        ),
    }

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def handle_any(self) -> None:
            path = self.path.split("?")[0]
            headers = {k.lower(): v for k, v in self.headers.items()}
            api.seen.append((self.command, path, headers.get("authorization", "")))
            length = int(headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            route = api.routes.get(path)
            status, body = route(api, headers) if route else (404, {"detail": "Not Found"})
            data = body if isinstance(body, bytes) else orjson.dumps(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = handle_any

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    api.port = httpd.server_address[1]
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-api", daemon=True
    )
    thread.start()
    yield api
    api.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def client(server: FakeAPI, **options: Any) -> pc.ProducerAPI:
    entry = {"name": "bot", "host": "127.0.0.1", "port": server.port, "ws_token": "ws-secret"}
    options.setdefault("username", USER)
    options.setdefault("password", PASSWORD)
    return pc.ProducerAPI({"producers": [entry]}, **options)


# --- authentication


def test_jwt_login_then_bearer_headers(server):
    with client(server) as api:
        assert api.version() == "2026.9"
        assert api.whitelist() == ["BTC/USDT"]
        assert api.auth == "jwt"
    assert server.paths() == ["POST token/login", "GET version", "GET whitelist"]
    auth = [a for _, _, a in server.seen]
    assert auth == [BASIC, f"Bearer {server.tokens[0]}", f"Bearer {server.tokens[0]}"]


def test_access_token_is_refreshed_shortly_before_it_expires(server):
    server.access_lifetime = 30  # less than the 60 s refresh margin
    with client(server) as api:
        api.version()  # logs in; the new token is used at once
        api.whitelist()  # < 60 s left: refresh first
        api.version()  # the refreshed token lives 15 min: no refresh
    assert server.paths() == [
        "POST token/login",
        "GET version",
        "POST token/refresh",
        "GET whitelist",
        "GET version",
    ]
    refresh_auth = server.seen[2][2]
    assert refresh_auth == f"Bearer {server.tokens[1]}"  # the refresh token
    assert server.seen[3][2] == server.seen[4][2] == f"Bearer {server.tokens[2]}"


def test_an_expired_refresh_token_logs_in_again(server):
    server.access_lifetime = 30
    server.routes["/api/v1/token/refresh"] = lambda s, h: (401, {"detail": "expired"})
    with client(server) as api:
        api.version()
        api.version()
    assert server.paths() == [
        "POST token/login",
        "GET version",
        "POST token/refresh",
        "POST token/login",
        "GET version",
    ]


def test_a_refused_access_token_logs_in_again_once(server):
    refused = {"count": 0}

    def version(s: FakeAPI, headers: dict[str, str]) -> Reply:
        if refused["count"] == 0:  # e.g. the bot restarted with a new jwt_secret_key
            refused["count"] += 1
            return 401, {"detail": "Could not validate credentials"}
        return 200, {"version": "2026.9"}

    server.routes["/api/v1/version"] = version
    with client(server) as api:
        assert api.version() == "2026.9"
    assert server.paths() == ["POST token/login", "GET version", "POST token/login", "GET version"]


def test_always_refused_is_an_authentication_error_after_one_retry(server):
    server.routes["/api/v1/version"] = lambda s, h: (401, {"detail": "Unauthorized"})
    with client(server) as api, pytest.raises(pc.AuthenticationError, match="producer 'bot'"):
        api.version()
    assert server.paths() == ["POST token/login", "GET version", "POST token/login", "GET version"]


def test_http_basic_when_there_is_no_login_endpoint(server):
    del server.routes["/api/v1/token/login"]
    with client(server) as api:
        assert api.version() == "2026.9"
        assert api.whitelist() == ["BTC/USDT"]
        assert api.auth == "basic"
    assert server.paths() == ["POST token/login", "GET version", "GET whitelist"]
    assert [a for _, _, a in server.seen][1:] == [BASIC, BASIC]


def test_wrong_password_fails_at_once(server):
    with client(server, password="wrong") as api:
        started = time.monotonic()
        with pytest.raises(pc.AuthenticationError) as raised:
            api.whitelist()
        assert time.monotonic() - started < 2
    assert server.paths() == ["POST token/login"]
    message = str(raised.value)
    assert "producer 'bot'" in message and "HTTP 401" in message
    assert "Incorrect username or password" in message and "api_server.username" in message


def test_no_credentials_fails_before_any_request(server):
    with client(server, username=None, password=None) as api:
        assert api.ping() == {"status": "pong"}  # public
        with pytest.raises(pc.AuthenticationError, match="api_username / api_password"):
            api.version()
    assert server.paths() == ["GET ping"]


def test_username_without_password_is_refused():
    with pytest.raises(ValueError, match="both username and password"):
        pc.ProducerAPI("http://127.0.0.1:8080", username=USER)


# --- errors


@pytest.mark.parametrize(
    ("path", "status", "body", "expected"),
    [
        (
            "trades",
            503,
            {"detail": "Bot is not in the correct state."},
            "only served by a trading bot",
        ),
        ("pair_history", 503, {"detail": "Bot is not in the correct state."}, "webserver mode"),
        ("status", 404, {"detail": "Not Found"}, "has no /api/v1/status"),
        ("profit", 502, {"error": "Error querying /api/v1/profit: boom"}, "could not answer"),
        ("show_config", 500, b"Internal Server Error", "HTTP 500"),
        ("logs", 422, {"detail": [{"msg": "bad limit"}]}, "rejected the request's parameters"),
    ],
)
def test_http_errors_name_producer_endpoint_status_and_hint(server, path, status, body, expected):
    server.routes[f"/api/v1/{path}"] = lambda s, h: (status, body)
    with client(server) as api:
        call = {
            "trades": api.trades,
            "pair_history": lambda: api.pair_history("BTC/USDT", "5m", "S", "20260101-"),
            "status": api.status,
            "profit": api.profit,
            "show_config": api.show_config,
            "logs": api.logs,
        }[path]
        with pytest.raises(pc.APIError) as raised:
            call()
    error = raised.value
    assert (error.producer, error.endpoint, error.status) == ("bot", f"/api/v1/{path}", status)
    assert f"producer 'bot': /api/v1/{path}" in str(error)
    assert f"HTTP {status}" in str(error) and expected in str(error)


def test_an_answer_that_is_not_json(server):
    server.routes["/api/v1/ping"] = lambda s, h: (200, b"<html>a login page</html>")
    with client(server) as api, pytest.raises(pc.APIError, match="not JSON"):
        api.ping()


def test_connection_refused_names_host_and_port():
    port = free_port()
    with pc.ProducerAPI(f"http://127.0.0.1:{port}", username=USER, password=PASSWORD) as api:
        started = time.monotonic()
        with pytest.raises(pc.APIConnectionError) as raised:
            api.version()
        assert time.monotonic() - started < 5
    assert isinstance(raised.value, ConnectionError)
    assert f"127.0.0.1:{port}" in str(raised.value)
    assert "connection refused" in str(raised.value)
    assert raised.value.status is None


def test_a_stalled_server_times_out(server):
    def stall(s: FakeAPI, headers: dict[str, str]) -> Reply:
        s.release.wait(10)
        return 200, {"status": "pong"}

    server.routes["/api/v1/ping"] = stall
    with client(server, timeout=0.5) as api:
        with pytest.raises(pc.APIConnectionError, match=r"no answer from 127\.0\.0\.1:\d+ within"):
            api.ping()


# --- where to connect


def test_urls():
    api = pc.ProducerAPI("http://127.0.0.1:8080/api/v1/")
    assert (api.url, api.name) == ("http://127.0.0.1:8080/api/v1", "127.0.0.1:8080")
    api = pc.ProducerAPI("https://bots.example/ft", name="prod")
    assert (api.url, api.name) == ("https://bots.example/ft/api/v1", "prod")
    assert pc.ProducerAPI("http://[::1]:9000").url == "http://[::1]:9000/api/v1"
    with pytest.raises(ValueError, match="not in the URL") as raised:
        pc.ProducerAPI(f"http://{USER}:{PASSWORD}@127.0.0.1:8080")
    assert PASSWORD not in str(raised.value)
    with pytest.raises(ValueError, match="not in the URL") as raised:
        pc.ProducerAPI(f"ws://{USER}:{PASSWORD}@127.0.0.1:8080")
    assert PASSWORD not in str(raised.value)
    with pytest.raises(ValueError, match="not an http"):
        pc.ProducerAPI("ws://127.0.0.1:8080")


def test_producer_entries(tmp_path):
    config = {
        "external_message_consumer": {
            "producers": [
                {"name": "a", "host": "10.0.0.1", "port": 8081, "ws_token": "t"},
                {
                    "name": "b",
                    "host": "::1",
                    "secure": True,
                    "ws_token": "t",
                    "api_username": USER,
                    "api_password": PASSWORD,
                },
            ]
        }
    }
    first = pc.ProducerAPI(config)
    assert (first.name, first.url, first.username) == ("a", "http://10.0.0.1:8081/api/v1", None)
    second = pc.ProducerAPI(config, name="b")
    assert (second.url, second.username) == ("https://[::1]:8080/api/v1", USER)
    path = tmp_path / "config.json"
    path.write_bytes(orjson.dumps(config))
    assert pc.ProducerAPI(str(path), name="b").username == USER
    entry = config["external_message_consumer"]["producers"][1]
    assert pc.ProducerAPI(entry).url == "https://[::1]:8080/api/v1"  # one producers entry
    override = pc.ProducerAPI(pc.load_config(config).producer("b"), username="bob", password="x")
    assert override.username == "bob"
    with pytest.raises(KeyError, match="no producer named 'c'"):
        pc.ProducerAPI(config, name="c")


def test_config_checks_the_api_keys_without_showing_the_password():
    entry = {"name": "a", "host": "h", "ws_token": "t", "api_username": "", "api_password": 12345}
    with pytest.raises(pc.ConfigError) as raised:
        pc.load_config({"producers": [entry]})
    text = str(raised.value)
    assert "api_username: must be a non-empty string" in text
    assert "api_password: must be a string, got int" in text and "12345" not in text


# --- secrecy


def test_no_secret_in_any_repr_log_or_exception(server, caplog):
    caplog.set_level(logging.DEBUG)  # httpx and httpcore debug logs included
    server.access_lifetime = 30  # refreshes too
    echo = {"detail": f"user {USER} with password {PASSWORD} is not allowed"}  # a careless proxy
    server.routes["/api/v1/profit"] = lambda s, h: (502, echo)
    texts: list[str] = []
    entry = {
        "name": "bot",
        "host": "127.0.0.1",
        "port": server.port,
        "ws_token": "ws-secret",
        "api_username": USER,
        "api_password": PASSWORD,
    }
    config = pc.load_config({"producers": [entry]})
    texts += [repr(config), repr(config.producers[0]), str(config.producers[0])]
    with pc.ProducerAPI(config) as api:
        api.version()
        api.whitelist()
        texts += [repr(api), str(api), repr(vars(api))]
        errors = []
        for call in (api.profit, pc.ProducerAPI(config, password="x" + PASSWORD).version):
            with pytest.raises(pc.ProducerError) as raised:
                call()
            errors.append(raised.value)
            exc = raised.value
            texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
            # Our frames' local variables, as IPython's verbose tracebacks show them (the
            # test's own frame holds the password it passed in).
            verbose = traceback.TracebackException.from_exception(exc, capture_locals=True)
            ours = [f for f in verbose.stack if "/producerconsumer/" in f.filename]
            assert ours
            texts += [f"{frame.name}: {frame.locals}" for frame in ours]
    # The echoed password was redacted, not dropped with the rest of the detail.
    assert f"user {USER} with password *** is not allowed" in str(errors[0])
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
    assert any("token/refresh" in text for text in texts)  # httpx's log was captured
    secrets = [
        PASSWORD,
        BASIC.split()[1],
        *server.tokens,
        *(t.split(".")[2] for t in server.tokens),
    ]
    leaks = [f"{s[:8]}... in {t[:100]!r}" for t in texts for s in secrets if s in t]
    assert not leaks


def test_package_import_does_not_import_httpx():
    code = (
        "import sys, producerconsumer; assert 'httpx' not in sys.modules; "
        "producerconsumer.ProducerAPI; assert 'httpx' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


async def test_async_twins_from_an_event_loop(server):
    async with client(server) as api:
        assert await api.versionAsync() == "2026.9"
        assert await api.whitelistAsync() == ["BTC/USDT"]
        assert await api.pingAsync() == {"status": "pong"}
    assert server.paths() == ["POST token/login", "GET version", "GET whitelist", "GET ping"]


async def test_https_verified_with_the_producers_ca_file(server, tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    async with TcpProxy(server.port, ssl=context) as proxy:  # a TLS reverse proxy
        entry = {
            "name": "tls",
            "host": "127.0.0.1",
            "port": proxy.port,
            "secure": True,
            "ws_token": "t",
            "api_username": USER,
            "api_password": PASSWORD,
        }
        async with pc.ProducerAPI({**entry, "ca_file": str(ca_file)}) as api:
            assert api.url == f"https://127.0.0.1:{proxy.port}/api/v1"
            assert await api.versionAsync() == "2026.9"
        async with pc.ProducerAPI(entry) as api:
            untrusted = r"certificate not trusted.*set ca_file"
            with pytest.raises(pc.APIConnectionError, match=untrusted):
                await api.versionAsync()


def test_concurrent_calls_from_threads_log_in_once(server):
    with client(server) as api:
        barrier = threading.Barrier(8)

        def call() -> str:
            barrier.wait(5)
            return api.version()

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: call(), range(8)))
    assert results == ["2026.9"] * 8
    assert server.paths().count("POST token/login") == 1
    assert server.paths().count("GET version") == 8
