from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest

from producerconsumer import wire


def test_initial_requests_are_freqtrades_bytes(samples):
    captured = [
        entry["raw"] for entry in json.loads((samples / "consumer_requests.json").read_text())
    ]
    assert wire.initial_requests() == captured
    assert (
        wire.initial_requests(300)[2] == '{"type":"analyzed_df","data":{"limit":300,"pair":null}}'
    )
    assert (
        wire.analyzed_df_request(37, "ETH/USDT")
        == '{"type":"analyzed_df","data":{"limit":37,"pair":"ETH/USDT"}}'
    )


def test_subscribe_refuses_unknown_topics():
    with pytest.raises(ValueError, match="unknown message type"):
        wire.subscribe_request(["whitelist", "trades"])


def test_parse_whitelist_and_exception(samples):
    message = wire.parse_message((samples / "whitelist.json").read_text())
    assert message == wire.Whitelist(("BTC/USDT", "ETH/USDT", "XRP/USDT"))
    reply = json.loads((samples / "exception_invalid_request.json").read_text())["reply_raw"]
    assert wire.parse_message(reply) == wire.ProducerException("Invalid request type: bogus")


def test_parse_analyzed_df_samples(samples):
    initial = wire.parse_message((samples / "analyzed_df_initial.json").read_text())
    assert isinstance(initial, wire.AnalyzedFrame)
    assert initial.key == wire.FrameKey("BTC/USDT", "5m", "spot")
    assert initial.last_analyzed == datetime(2026, 11, 23, 22, 2, 40, 887544, tzinfo=UTC)
    assert list(initial.frame.index) == [0, 1, 301]
    assert str(initial.frame["date"].dtype).endswith("UTC]")
    reply = json.loads((samples / "analyzed_df_pair_limit2.json").read_text())["reply_raw"]
    assert list(wire.parse_message(reply).frame.index) == [302, 303]


def test_producer_message_is_byte_identical_to_freqtrade(samples):
    raw = (samples / "analyzed_df_broadcast.json").read_text().strip()
    message = wire.parse_message(raw)
    assert wire.analyzed_df_message(message.key, message.frame, message.last_analyzed) == raw
    assert (
        wire.whitelist_message(["BTC/USDT", "ETH/USDT", "XRP/USDT"])
        == (samples / "whitelist.json").read_text().strip()
    )
    assert (
        wire.new_candle_message(message.key)
        == '{"type":"new_candle","data":["BTC/USDT","5m","spot"]}'
    )


def test_la_without_microseconds_and_missing_la():
    frame = pd.DataFrame({"date": pd.to_datetime([0], unit="ms", utc=True), "close": [1.5]})
    text = wire.analyzed_df_message(
        ("A/B", "1h", "futures"), frame, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    )
    assert '"la":"2026-01-02T03:04:05+00:00"' in text
    received = datetime(2026, 5, 5, tzinfo=UTC)
    no_la = text.replace('"la":"2026-01-02T03:04:05+00:00"', '"la":null')
    assert wire.parse_message(no_la, received=received).last_analyzed == received


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "message is not JSON"),
        ("[1, 2]", "not a JSON object but list"),
        ('{"type": "bogus"}', "unknown message type 'bogus'"),
        (
            '{"type": "whitelist", "data": "BTC/USDT"}',
            "whitelist: data must be a list of pair strings",
        ),
        ('{"type": "analyzed_df", "data": []}', "analyzed_df: data must be an object"),
        (
            '{"type": "analyzed_df", "data": {"key": "BTC/USDT"}}',
            "key must be \\[pair, timeframe, candle_type\\]",
        ),
        (
            '{"type": "analyzed_df", "data": {"key": ["A/B", "5m", "spotty"]}}',
            "unknown candle_type 'spotty'",
        ),
        (
            '{"type": "analyzed_df", "data": {"key": ["A/B", "5m", "spot"], "df": {"a": 1}}}',
            "A/B: df must be",
        ),
        (
            '{"type": "analyzed_df", "data": {"key": ["A/B", "5m", "spot"], '
            '"df": {"__type__": "dataframe", "__value__": "{}"}, "la": "yesterday"}}',
            "la is not an ISO 8601 datetime",
        ),
        (
            '{"type": "analyzed_df", "data": {"key": ["A/B", "5m", "spot"], '
            '"df": {"__type__": "dataframe", "__value__": "{\\"columns\\": 1}"}, "la": null}}',
            "analyzed_df A/B: ",
        ),
        ('{"type": "new_candle", "data": ["A/B", "5m"]}', "new_candle: key must be"),
    ],
)
def test_malformed_messages_name_the_problem(text, problem):
    with pytest.raises(wire.ProtocolError, match=problem):
        wire.parse_message(text)


def test_binary_frames_are_refused():
    with pytest.raises(wire.ProtocolError, match="binary frame"):
        wire.parse_message(b'{"type": "whitelist", "data": []}')


def test_flat_messages_are_kept():
    message = wire.parse_message('{"type":"entry","trade_id":1,"pair":"BTC/USDT"}')
    assert message == wire.OtherMessage("entry", {"trade_id": 1, "pair": "BTC/USDT"})


def test_parse_request():
    assert wire.parse_request('{"type":"whitelist"}') == wire.Request("whitelist", None)
    with pytest.raises(wire.ProtocolError, match="Invalid request type: bogus"):
        wire.parse_request('{"type":"bogus"}')
    with pytest.raises(wire.ProtocolError, match="not JSON"):
        wire.parse_request("{")
