"""The producer's websocket URL: token encoding, IPv6, and hosts that cannot be in a URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from producerconsumer.endpoint import build_url, host_problem, redact_url


@pytest.mark.parametrize("token", ["plain", "a&b", "x#y", "p+q", "50%", "with space", "ü/é?="])
def test_url_encodes_token(token):
    url = build_url("127.0.0.1", 8080, False, token)
    parts = urlsplit(url)
    assert parts.path == "/api/v1/message/ws" and parts.fragment == ""
    assert parse_qs(parts.query) == {"token": [token]}
    assert redact_url(url) == url.split("?")[0] + "?token=***"


def test_url_scheme_and_ipv6():
    assert (
        build_url("example.org", 443, True, "t")
        == "wss://example.org:443/api/v1/message/ws?token=t"
    )
    assert build_url("::1", 8080, False, "t").startswith("ws://[::1]:8080/")
    assert build_url("[::1]", 8080, False, "t").startswith("ws://[::1]:8080/")


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "127.0.0.1",
        "::1",
        "[fe80::1]",
        "freqtrade-producer",
        "bot_1.example.org",
        "example.org.",
        "bücher.example",
        "10.0.0.5",
    ],
)
def test_good_hosts(host):
    assert host_problem(host) is None
    build_url(host, 8080, False, "t")


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("10000.1241..2121/", "contains '/'"),
        ("a..b", "empty label"),
        ("host:with:colons", "contains ':' but is not an IPv6 address"),
        ("ws://example.org", "contains ':'"),
        ("example.org/api", "contains '/'"),
        (".example.org", "empty label"),
        ("-bad.example", "invalid label '-bad'"),
        ("a" * 64 + ".example", "invalid label"),
        ("two words", "contains ' '"),
        ("", "is empty"),
    ],
)
def test_bad_hosts_say_what_is_wrong(host, problem):
    assert problem in (host_problem(host) or "")
    with pytest.raises(ValueError, match=r"^host "):
        build_url(host, 8080, False, "secret-token")
