"""The consumer in a real ipykernel, cells queued all at once as JupyterLab's "Run All" does.

Proves that the blocking API needs no event-loop nesting (no nest_asyncio): the kernel's own loop
is running, ``wait_ready`` blocks a cell while the background thread keeps receiving, a later cell
uses ``await`` on the async API, and the kernel shuts down promptly with a consumer still running.
"""

from __future__ import annotations

import json
import textwrap
import time

import pytest

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

import producerconsumer as pc  # noqa: E402

TOKEN = "kernel-tok&#+% en"


@pytest.fixture
def kernel(python3_kernelspec):
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield manager, client
    client.stop_channels()
    if manager.is_alive():
        manager.shutdown_kernel(now=True)


def run_all(client, cells: list[str], timeout: float = 60) -> tuple[dict, list[str]]:
    """Queue every cell at once; return replies by msg id and all text output."""
    ids = [client.execute(textwrap.dedent(cell), stop_on_error=True) for cell in cells]
    replies: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while len(replies) < len(ids):
        remaining = deadline - time.monotonic()
        assert remaining > 0, (
            f"only {len(replies)} of {len(ids)} cells replied: queued cells were dropped"
        )
        msg = client.get_shell_msg(timeout=remaining)
        if msg["parent_header"].get("msg_id") in ids:
            replies[msg["parent_header"]["msg_id"]] = msg["content"]
    outputs: list[str] = []
    while True:
        try:
            msg = client.get_iopub_msg(timeout=0.5)
        except Exception:
            break
        content = msg["content"]
        if msg["msg_type"] == "stream":
            outputs.append(content["text"])
        elif msg["msg_type"] in ("execute_result", "display_data"):
            outputs.append(json.dumps(content["data"]))
        elif msg["msg_type"] == "error":
            outputs.append("\n".join(content["traceback"]))
    return {i: replies[i] for i in ids}, outputs


@pytest.mark.slow
def test_run_all_in_real_kernel_without_nesting(kernel):
    manager, client = kernel
    with pc.DemoProducer(
        pairs=["BTC/USDT", "ETH/USDT"], candles=300, ws_token=TOKEN, tick=0.2
    ) as producer:
        config = {"producers": [producer.producer_config(name="default")]}
        cells = [
            f"""
            import asyncio, time
            import producerconsumer as pc
            assert not getattr(asyncio.get_running_loop(), "_nest_patched", False)
            consumer = pc.Consumer({config!r})
            consumer.start()
            consumer.wait_ready(timeout=30)
            print("ready", consumer.get_producer_pairs())
            """,
            """
            before = consumer.store.version
            time.sleep(1.5)   # a blocking cell: the background thread keeps receiving
            assert consumer.store.version > before, "no update arrived while the cell blocked"
            print("live while blocked")
            """,
            """
            update = consumer.wait_for_update("ETH/USDT", timeout=10)
            frame, last_analyzed = consumer.get_producer_df("ETH/USDT")
            print("rows", len(frame), update.action)
            consumer
            """,
            f"""
            async with pc.AsyncConsumer({config!r}) as native:
                await native.wait_ready(timeout=30)
            print("async ok", len(native.get_producer_df("BTC/USDT")[0]))
            """,
            """
            print("status", consumer.status()["default"])
            """,
        ]
        replies, outputs = run_all(client, cells)
        text = "".join(outputs)
        assert [r["status"] for r in replies.values()] == ["ok"] * len(cells), text
        assert "ready ['BTC/USDT', 'ETH/USDT']" in text
        assert "live while blocked" in text and "async ok " in text
        assert TOKEN not in text and "kernel-tok" not in text
        # the consumer is still running: shutting the kernel down must not hang
        started = time.monotonic()
        manager.shutdown_kernel(now=False, restart=False)
        assert time.monotonic() - started < 15
