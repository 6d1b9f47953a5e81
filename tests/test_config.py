from __future__ import annotations

import logging

import pytest

import producerconsumer as pc

PRODUCER = {"name": "default", "host": "127.0.0.1", "ws_token": "s3cret-token"}


def test_bare_section_gets_freqtrade_defaults():
    cfg = pc.load_config({"producers": [PRODUCER]})
    assert cfg.producers == (
        pc.ProducerConfig("default", "127.0.0.1", "s3cret-token", 8080, False),
    )
    assert (cfg.wait_timeout, cfg.ping_timeout, cfg.sleep_time) == (30, 10, 10)
    assert cfg.initial_candle_limit == 1500
    assert cfg.message_size_limit == 8 and cfg.max_message_bytes == 8 << 20
    assert cfg.remove_entry_exit_signals is False and cfg.enabled is True


def test_whole_config_file_with_comments_and_trailing_commas(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        """{
        // a Freqtrade consumer bot's config
        "timeframe": "5m", /* block
        comment */ "url": "http://example//not-a-comment",
        "external_message_consumer": {
            "enabled": true,
            "producers": [
                {"name": "default", "host": "10.0.0.5", "port": 8081, "secure": true,
                 "ws_token": "a//b/*c*/",},
            ],
            "wait_timeout": 300,
            "message_size_limit": 20,
        },
    }"""
    )
    cfg = pc.load_config(path)
    producer = cfg.producer("default")
    assert producer.ws_token == "a//b/*c*/"
    assert (producer.host, producer.port, producer.secure) == ("10.0.0.5", 8081, True)
    assert cfg.wait_timeout == 300 and cfg.message_size_limit == 20
    assert pc.load_config(str(path)) == cfg
    assert pc.load_config(cfg) is cfg


def test_every_problem_is_reported_once_with_its_key():
    with pytest.raises(pc.ConfigError) as info:
        pc.load_config(
            {
                "external_message_consumer": {
                    "producers": [
                        {"name": "a", "host": "", "ws_token": 5, "port": 70000},
                        {"name": "b", "host": "x", "ws_token": "t", "secure": "yes"},
                    ],
                    "wait_timeout": -1,
                    "ping_timeout": 1.5,
                    "message_size_limit": 30,
                    "initial_candle_limit": 1501,
                    "remove_entry_exit_signals": 1,
                }
            }
        )
    keys = [key for key, _ in info.value.problems]
    assert keys == [
        "external_message_consumer.wait_timeout",
        "external_message_consumer.ping_timeout",
        "external_message_consumer.initial_candle_limit",
        "external_message_consumer.message_size_limit",
        "external_message_consumer.remove_entry_exit_signals",
        "external_message_consumer.producers[0].host",
        "external_message_consumer.producers[0].ws_token",
        "external_message_consumer.producers[0].port",
        "external_message_consumer.producers[1].secure",
    ]
    text = str(info.value)
    assert "must be in 1..20, got 30" in text and "must be an integer, got 1.5" in text


def test_duplicate_names_and_missing_keys():
    with pytest.raises(pc.ConfigError, match=r"producers\[1\]\.name: duplicate name 'default'"):
        pc.load_config({"producers": [PRODUCER, PRODUCER]})
    with pytest.raises(pc.ConfigError, match=r"producers\[0\]\.ws_token: missing \(required\)"):
        pc.load_config({"producers": [{"name": "x", "host": "h"}]})
    with pytest.raises(pc.ConfigError, match="producers: is empty"):
        pc.load_config({"producers": []})
    with pytest.raises(pc.ConfigError, match="neither an 'external_message_consumer' section"):
        pc.load_config({"timeframe": "5m"})
    with pytest.raises(pc.ConfigError, match="port: must be an integer, got True"):
        pc.load_config({"producers": [{**PRODUCER, "port": True}]})


def test_bad_files(tmp_path):
    with pytest.raises(pc.ConfigError, match="cannot read file"):
        pc.load_config(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "producers": [\n    {"name": }\n  ]\n}')
    with pytest.raises(pc.ConfigError, match="not valid JSON at line 3 column"):
        pc.load_config(bad)


def test_token_never_in_repr_or_errors(caplog):
    token = "tok-&#+% en"
    cfg = pc.load_config({"producers": [{**PRODUCER, "ws_token": token}]})
    assert token not in repr(cfg) and token not in repr(cfg.producers[0])
    with pytest.raises(pc.ConfigError) as info:
        pc.load_config({"producers": [{**PRODUCER, "ws_token": token, "port": -1}], "extra": 1})
    assert token not in str(info.value)
    assert token not in caplog.text


def test_unknown_key_warns_with_suggestion(caplog):
    with caplog.at_level(logging.WARNING):
        pc.load_config({"producers": [PRODUCER], "wait_timout": 5})
    assert "did you mean 'wait_timeout'" in caplog.text


def test_with_changes_validates():
    cfg = pc.load_config({"producers": [PRODUCER]})
    assert cfg.with_changes(sleep_time=1).sleep_time == 1
    with pytest.raises(pc.ConfigError, match="sleep_time"):
        cfg.with_changes(sleep_time=-5)


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("10000.1241..2121/", "contains '/'"),
        ("a..b", "has an empty label"),
        ("host:with:colons", "contains ':' but is not an IPv6 address"),
    ],
)
def test_malformed_host_is_a_config_error_naming_the_entry(host, problem):
    good = {"name": "a", "host": "example.org", "ws_token": "s3cret-token"}
    with pytest.raises(pc.ConfigError) as info:
        pc.load_config({"producers": [good, {**PRODUCER, "host": host}]})
    text = str(info.value)
    assert "external_message_consumer.producers[1].host" in text and problem in text
    assert "producers[0]" not in text and "s3cret-token" not in text


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "my-bot.example.org", "localhost"])
def test_usual_hosts_are_accepted(host):
    assert pc.load_config({"producers": [{**PRODUCER, "host": host}]}).producers[0].host == host
