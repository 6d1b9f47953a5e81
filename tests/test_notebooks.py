"""Every notebook in notebooks/ runs top to bottom in a real kernel: once cell by cell with
nbclient (as `jupyter nbconvert --execute` does), once with all cells queued at once (as
JupyterLab's Run All does). Notebooks are committed with their outputs stripped."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")
pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

import producerconsumer as pc  # noqa: E402

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
# The notebooks that show the live Dashboard widget (the others plot results).
DASHBOARD_NOTEBOOKS = {
    "01_quickstart.ipynb",
    "02_consumer_strategy.ipynb",
    "03_connect_to_your_producer.ipynb",
}
TOKEN = "demo-secret-token"  # the token the demo notebooks use; it must never be shown
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def kernel_path(python3_kernelspec, monkeypatch):
    """The ``python3`` kernelspec (the notebooks ask for it), with the inline plot backend."""
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return python3_kernelspec


def outputs_text(notebook) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(json.dumps(output))
    return "\n".join(parts)


def execute(notebook, cwd: Path, timeout: float = 120) -> float:
    started = time.monotonic()
    client = nbclient.NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        store_widget_state=True,
    )
    client.execute()
    return time.monotonic() - started


def test_there_are_notebooks_and_they_are_stripped():
    names = [path.name for path in NOTEBOOKS]
    assert names == [
        "01_quickstart.ipynb",
        "02_consumer_strategy.ipynb",
        "03_connect_to_your_producer.ipynb",
        "04_backtest_consumer_strategy.ipynb",
        "05_hyperopt_consumer_strategy.ipynb",
        "06_producer_trades.ipynb",
    ]
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.kernelspec.name == "python3"
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (path.name, cell.id)
    parameters = [
        cell
        for cell in nbformat.read(NOTEBOOKS[2], as_version=4).cells
        if "parameters" in cell.metadata.get("tags", [])
    ]
    assert len(parameters) == 1 and "CONFIG = None" in parameters[0].source


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, kernel_path):
    notebook = nbformat.read(path, as_version=4)
    seconds = execute(notebook, path.parent)
    assert seconds < 60, f"{path.name} took {seconds:.0f} s"
    text = outputs_text(notebook)
    assert TOKEN not in text
    assert '"output_type": "error"' not in text
    images = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert images, "no plot in the saved outputs"
    if path.name not in DASHBOARD_NOTEBOOKS:
        return
    views = [
        o for c in notebook.cells for o in c.get("outputs", []) if WIDGET_VIEW in o.get("data", {})
    ]
    assert views, "no widget displayed"
    # The static fallbacks stay in the saved notebook: the dashboard's plot and the consumer's
    # status table (for viewers without the widget state).
    for view in views:
        assert {"image/png", "text/html"} & set(view["data"])
    state = notebook.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    assert any(model["model_name"] == "ImageModel" for model in state.values())


@pytest.mark.slow
def test_connect_notebook_with_a_real_config_file(tmp_path, kernel_path):
    """03 pointed (through its parameters) at a Freqtrade config file of a running producer."""
    path = NOTEBOOKS[2]
    notebook = nbformat.read(path, as_version=4)
    index = next(
        i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])
    )
    token = "real-bot-T0ken"
    with pc.DemoProducer(
        pairs=["ADA/USDT", "SOL/USDT"], candles=200, ws_token=token, tick=None
    ) as producer:
        config = tmp_path / "config.json"
        section = {"enabled": True, "producers": [producer.producer_config(name="bot1")]}
        config.write_text(
            "// a Freqtrade consumer config\n"
            + json.dumps({"dry_run": True, "external_message_consumer": section}, indent=2)
        )
        injected = nbformat.v4.new_code_cell(
            f'CONFIG = {str(config)!r}\nPRODUCER = "bot1"\nPAIR = "SOL/USDT"'
        )
        notebook.cells.insert(index + 1, injected)
        execute(notebook, path.parent)
    text = outputs_text(notebook)
    assert token not in text
    assert "2 pairs; SOL/USDT: 200 candles" in text
    assert "('bot1', '127.0.0.1'," in text


def run_all(client, cells: list[str], timeout: float = 90) -> tuple[list[dict], str]:
    """Queue every cell at once (JupyterLab's Run All); replies in order and all text output."""
    ids = [client.execute(cell, stop_on_error=True) for cell in cells]
    replies: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while len(replies) < len(ids):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"only {len(replies)} of {len(ids)} queued cells replied"
        message = client.get_shell_msg(timeout=remaining)
        if message["parent_header"].get("msg_id") in ids:
            replies[message["parent_header"]["msg_id"]] = message["content"]
    texts = []
    while True:
        try:
            message = client.get_iopub_msg(timeout=0.5)
        except Exception:
            break
        content = message["content"]
        if message["msg_type"] == "stream":
            texts.append(content["text"])
        elif message["msg_type"] in ("execute_result", "display_data"):
            texts.append(json.dumps(content["data"]))
        elif message["msg_type"] == "error":
            texts.append("\n".join(content["traceback"]))
    return [replies[i] for i in ids], "".join(texts)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS[:2], ids=lambda p: p.stem)
def test_notebook_run_all_queued(path, kernel_path):
    """All cells queued at once; then the dashboard is still live: a candle sent after the
    notebook finished redraws it (kernel-side widget state, updated from its UI thread)."""
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    check = """
    renders = dashboard.renders
    before = bytes(dashboard.plot.value)
    producer.advance(1)
    dashboard.wait_until(lambda: dashboard.renders > renders, timeout=30)
    assert bytes(dashboard.plot.value) != before
    print("still live", dashboard.pair.options)
    """
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(path.parent))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        replies, text = run_all(client, [*cells, textwrap.dedent(check)])
        assert [r["status"] for r in replies] == ["ok"] * len(replies), text
        assert "still live ('BTC/USDT', 'ETH/USDT', 'XRP/USDT')" in text
        assert TOKEN not in text
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.mark.slow
def test_strategy_notebook_reruns_from_the_committed_recording(kernel_path):
    """02 with ``SOURCE = "replay:data/demo-session.pcrec"``: no producer needed."""
    path = NOTEBOOKS[1]
    notebook = nbformat.read(path, as_version=4)
    index = next(
        i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])
    )
    assert 'SOURCE = "demo"' in notebook.cells[index].source
    notebook.cells.insert(
        index + 1, nbformat.v4.new_code_cell('SOURCE = "replay:data/demo-session.pcrec"')
    )
    execute(notebook, path.parent)
    text = outputs_text(notebook)
    assert '"output_type": "error"' not in text
    assert "no live producer to send candles from here" in text
    assert "<Consumer default@127.0.0.1:" in text and "ready pairs=2" in text
