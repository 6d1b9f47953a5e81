"""Trade messages shaped like Freqtrade 2026.9's (keys in its order), for unit tests."""

from __future__ import annotations

from typing import Any

OPEN = "2026-01-02T03:04:05.678901+00:00"


def entry(kind: str = "entry", **changes: Any) -> dict[str, Any]:
    """An entry message with Freqtrade's keys, in its order (``_notify_enter``)."""
    msg = {
        "trade_id": 7,
        "type": kind,
        "buy_tag": "dip",
        "enter_tag": "dip",
        "exchange": "Binance",
        "pair": "ETH/USDT",
        "leverage": 1.0,
        "direction": "Long",
        "limit": 2000.0,
        "order_rate": 2000.0,
        "open_rate": 2000.0,
        "order_type": "limit",
        "stake_amount": 100.0,
        "stake_currency": "USDT",
        "base_currency": "ETH",
        "quote_currency": "USDT",
        "fiat_currency": None,
        "amount": 0.05,
        "open_date": OPEN,
        "current_rate": 1999.0,
        "sub_trade": False,
    }
    msg.update(changes)
    return msg


def exit_(kind: str = "exit_fill", **changes: Any) -> dict[str, Any]:
    msg = {
        "type": kind,
        "trade_id": 7,
        "exchange": "Binance",
        "pair": "ETH/USDT",
        "leverage": 1.0,
        "direction": "Long",
        "gain": "profit",
        "limit": 2100.0,
        "order_rate": 2100.0,
        "order_type": "limit",
        "amount": 0.05,
        "open_rate": 2000.0,
        "close_rate": 2100.0,
        "current_rate": None,
        "profit_amount": 4.79,
        "profit_ratio": 0.0479,
        "buy_tag": "dip",
        "enter_tag": "dip",
        "exit_reason": "roi",
        "open_date": OPEN,
        "close_date": "2026-01-02T04:00:00.123000+00:00",
        "stake_amount": 100.0,
        "stake_currency": "USDT",
        "base_currency": "ETH",
        "quote_currency": "USDT",
        "fiat_currency": None,
        "sub_trade": False,
        "cumulative_profit": 4.79,
        "final_profit_ratio": 0.0479,
        "is_final_exit": True,
    }
    msg.update(changes)
    return msg
