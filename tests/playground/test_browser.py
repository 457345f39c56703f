"""The playground in a real browser (Playwright driving the system's Chromium).

Training tests wait on the page's epoch counter and losses (never on the clock) and then
check how many epochs it took. Screenshots of the main states go to the artifacts folder
(``$SOMA_PLAYGROUND_ARTIFACTS``, default /tmp/soma-playground-artifacts).
"""

import json
import re

import numpy as np
import pytest

from soma import explain
from soma.explain.losses import half_squared_error

from .conftest import receive, screenshot

TIMEOUT_MS = 90_000  # generous: the machine may be busy; the assertions count epochs, not seconds


def epoch(page):
    return int(page.text_content("#epoch").replace(",", ""))


def wait_epoch(page, at_least):
    page.wait_for_function(
        f"parseInt(document.getElementById('epoch').textContent.replace(',', '')) >= {at_least}", timeout=TIMEOUT_MS
    )


def pause(page, live_server):
    """Press pause and wait until the server says it stopped (its last frame has been drawn)."""
    page.click("#play")
    page.wait_for_function("document.getElementById('play').dataset.playing === '0'", timeout=TIMEOUT_MS)
    page.wait_for_function(
        f"parseInt(document.getElementById('epoch').textContent.replace(',', '')) === {live_server.session.epoch}",
        timeout=TIMEOUT_MS,
    )


def test_the_page_loads_without_console_errors(browser, live_server):
    """With the page's own Content-Security-Policy in force (no bypass): no error, no CSP violation."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(live_server.url)
    page.wait_for_selector(".neuron.output canvas")
    page.wait_for_selector('.neuron[data-layer="1"][data-neuron="1"]')
    assert page.text_content("#epoch") == "000,000"
    assert page.locator(".node.feature").count() == 7 and page.locator(".node.feature.off").count() == 5
    assert page.locator("#edges path.edge").count() == 2 * 4 + 4 * 2 + 2 * 1
    page.click("#mode-notes")
    page.wait_for_selector("#notes-body .eq.current")
    page.click("#mode-playground")
    screenshot(page, "01-loaded")
    context.close()
    assert not problems, problems


@pytest.mark.slow
@pytest.mark.parametrize(("dataset", "threshold", "epochs"), [("xor", 0.1, 120), ("circle", 0.05, 120)])
def test_play_lowers_the_test_loss(page, live_server, dataset, threshold, epochs):
    """Default network (2 features, 4-2 tanh, SGD η = 0.03, batch 10): test loss below the threshold in time."""
    page.click(f'[data-dataset="{dataset}"]')
    page.wait_for_selector(f'.dataset.selected[data-dataset="{dataset}"]')
    start = float(page.text_content("#test-loss"))
    page.click("#play")
    page.wait_for_function(  # until the loss is below the threshold or the epochs are spent
        f"parseFloat(document.getElementById('test-loss').textContent) < {threshold}"
        f" || parseInt(document.getElementById('epoch').textContent.replace(',', '')) > {epochs}",
        timeout=TIMEOUT_MS,
    )
    reached = epoch(page)
    pause(page, live_server)
    page.click('.neuron[data-layer="1"][data-neuron="0"]')
    page.wait_for_selector("#explain:not([hidden]) .eq[data-lhs='net_h2_1']")
    screenshot(page, f"02-trained-{dataset}")
    assert start > 2 * threshold
    assert reached <= epochs, f"{dataset}: test loss fell below {threshold} only at epoch {reached}"
    history = live_server.session.history
    assert min(test for e, _, test in history if e <= epochs) < threshold


def _panel(page):
    lines = page.locator("#explain-body .eq[data-lhs]")
    return [
        (lines.nth(i).get_attribute("data-lhs"), lines.nth(i).get_attribute("data-value"), lines.nth(i).text_content())
        for i in range(lines.count())
    ]


@pytest.mark.slow
def test_clicking_a_neuron_shows_soma_explain_step(page, live_server):
    for _ in range(3):
        page.click("#step")
    wait_epoch(page, 3)
    box = page.locator("#heatmap").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.3)  # select another sample
    page.click('.neuron[data-layer="0"][data-neuron="2"]')
    page.wait_for_selector("#explain:not([hidden]) .eq[data-lhs='net_h1_3']")
    sample = int(re.search(r"sample #(\d+)", page.text_content("#explain-given")).group(1))
    session = live_server.session
    x, t = session.train_x[sample].reshape(1, -1), session.train_t[sample].reshape(1, 1)
    report = explain.step(session.explain_model(), x, t, half_squared_error, session.settings.learning_rate)
    shown = _panel(page)
    assert {"net_h1_3", "out_h1_3", "dE/dout_h1_3", "δ_h1_3", "dE/dw5", "w5'", "b_h1_3'"} <= {s[0] for s in shown}
    written = {e.lhs: e.text(6) for section in report.sections for e in section.items if not isinstance(e, str)}
    for lhs, value, text in shown:
        assert float(value) == float(report.values[lhs]), lhs
        assert text == written[lhs]
    screenshot(page, "03-neuron")

    # the weight x2 → h1_3 (edges cross, so the click goes to that edge's own element)
    page.dispatch_event('#edges path.hit[data-layer="0"][data-neuron="2"][data-input="1"]', "click")
    page.wait_for_selector("#explain-weight:not([hidden])")
    assert page.locator("#explain-body .eq.highlight").count() == 2  # dE/dw6 and w6'
    page.fill("#weight-value", "1.5")
    page.click("#weight-set")
    page.wait_for_function(
        "document.querySelector('#explain-body .eq[data-lhs=\"net_h1_3\"]').textContent.includes('1.5 ×')"
    )
    assert session.model[0].weight.detach().numpy()[2, 1] == 1.5


@pytest.mark.slow
def test_adding_a_layer_and_a_neuron_changes_the_model(page, live_server):
    page.click("#add-layer")
    page.wait_for_selector('.neuron[data-layer="2"][data-neuron="1"]')
    page.click('.add-neuron[data-layer="0"]')
    page.wait_for_selector('.neuron[data-layer="0"][data-neuron="4"]')
    page.click('.node.feature[data-feature="x1x2"]')
    page.wait_for_selector('.node.feature[data-feature="x1x2"]:not(.off)')
    session = live_server.session
    assert session.settings.hidden == [5, 2, 2] and session.settings.features == ["x1", "x2", "x1x2"]
    assert [tuple(m.weight.shape) for m in session.linears] == [(5, 3), (2, 5), (2, 2), (1, 2)]
    assert page.text_content("#layer-count") == "3"
    assert page.locator("#edges path.edge").count() == 3 * 5 + 5 * 2 + 2 * 2 + 2
    page.click("#remove-layer")
    page.wait_for_selector('.neuron:not(.output)[data-layer="2"]', state="detached")
    assert [tuple(m.weight.shape) for m in session.linears] == [(5, 3), (2, 5), (1, 2)]


@pytest.mark.slow
def test_bad_socket_messages_get_errors_and_the_server_keeps_serving(page, live_server):
    from websockets.sync.client import connect

    with connect(live_server.ws_url) as ws:
        receive(ws, "state")
        for bad in ("{", json.dumps({"type": "config", "batch_size": 31}), json.dumps({"type": "step", "epochs": -1})):
            ws.send(bad)
            assert receive(ws, "error")["message"]
        ws.send(json.dumps({"type": "step", "epochs": 2}))
        assert receive(ws, "state")["epoch"] == 2
    page.click("#step")
    wait_epoch(page, 1)
    with connect(live_server.ws_url) as ws:
        assert receive(ws, "state")["epoch"] == 0


@pytest.mark.slow
def test_notes_mode_steps_one_number_at_a_time_and_exports(page, live_server):
    page.click("#mode-notes")
    page.wait_for_selector("#notes-body .eq.current")
    before = page.locator("#notes-body .eq:not(.later)").count()
    page.click("#notes-next")
    page.click("#notes-next")
    assert page.locator("#notes-body .eq:not(.later)").count() == before + 2
    assert page.text_content("#notes-body .eq.current") == "out_h1 = σ(net_h1) = σ(0.3775) = 0.593270"
    assert page.locator("#notes-net circle.hot").count() == 1  # h1 lights up
    page.click("#notes-all")
    assert page.locator("#notes-body .eq.later").count() == 0
    assert page.locator('#notes-body .eq[data-lhs="w5\'"]').text_content().endswith("= 0.358916")
    screenshot(page, "04-notes")
    page.click("#notes-apply")
    page.wait_for_selector("#notes-net text.weight >> text=w5=0.358916")
    assert page.text_content("#notes-step") == "2"
    page.select_option("#notes-network", "xor")
    page.wait_for_selector("#notes-net text >> text=w5=20")
    page.click("#mode-playground")
    with page.expect_download() as download:
        page.click("#export-script")
    text = open(download.value.path(), encoding="utf-8").read()
    assert "nn.Sequential(" in text and "load_state_dict" in text
    with page.expect_download() as download:
        page.click("#export-safetensors")
    from soma.io import load_bytes

    state = load_bytes(open(download.value.path(), "rb").read())
    np.testing.assert_array_equal(state["0.weight"].numpy(), live_server.session.model[0].weight.detach().numpy())
