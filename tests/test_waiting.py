"""The one deadline loop behind every wait (producerconsumer.waiting)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from producerconsumer.waiting import until, wait_event


def test_a_met_predicate_never_blocks():
    assert list(until(lambda: True, 0)) == []


def test_time_left_shrinks_and_the_timeout_names_it():
    waits = until(lambda: False, 0.2)
    first = next(waits)
    assert first is not None and 0 < first <= 0.2
    time.sleep(0.05)  # lets the clock move: the next wait must be shorter
    second = next(waits)
    assert second is not None and second < first
    time.sleep(0.2)
    with pytest.raises(TimeoutError, match=r"condition not met within 0\.2 s"):
        next(waits)


def test_custom_timeout_error_and_poll_cap():
    assert next(until(lambda: False, None, poll=0.25)) == 0.25
    assert next(until(lambda: False, None)) is None
    with pytest.raises(LookupError, match="nothing"):
        list(until(lambda: False, 0, on_timeout=lambda: LookupError("nothing")))


def test_thread_wait_wakes_on_the_condition():
    condition, flag = threading.Condition(), []

    def set_flag() -> None:
        with condition:
            flag.append(1)
            condition.notify_all()

    timer = threading.Timer(0.05, set_flag)
    timer.start()
    started = time.monotonic()
    with condition:
        for remaining in until(lambda: bool(flag), 5):
            condition.wait(remaining)
    assert time.monotonic() - started < 2
    timer.join()


async def test_async_wait_wakes_on_the_event():
    event, flag = asyncio.Event(), []

    def set_flag() -> None:
        flag.append(1)
        event.set()

    asyncio.get_running_loop().call_later(0.05, set_flag)
    started = time.monotonic()
    for remaining in until(lambda: bool(flag), 5):
        await wait_event(event, remaining)
    assert time.monotonic() - started < 2
