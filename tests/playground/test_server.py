"""The playground's server, sessions, data, exports and notes, driven straight through the WebSocket."""

import json
import subprocess
import sys

import numpy as np
import pytest

import soma

pytest.importorskip("pydantic", reason="the playground needs the 'playground' extra: pip install soma[playground]")

from soma import explain  # noqa: E402
from soma.explain.losses import half_squared_error
from soma.playground import data as datasets
from soma.playground import export
from soma.playground.protocol import MAX_MESSAGE_BYTES
from soma.playground.session import ACTIVATION_MODULES, Session, Settings

from .conftest import receive

websockets_sync = pytest.importorskip("websockets.sync.client")
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402

BAD_MESSAGES = [
    ("not json", "one JSON object"),
    ("[1, 2]", "JSON object"),
    (json.dumps({"kind": "play"}), '"type"'),
    (json.dumps({"type": "fly"}), "fly"),
    (json.dumps({"type": "play", "extra": 1}), "extra"),
    (json.dumps({"type": "config", "hidden": [4] * 7}), "hidden"),
    (json.dumps({"type": "config", "hidden": [0]}), "hidden"),
    (json.dumps({"type": "config", "learning_rate": 1e9}), "learning_rate"),
    (json.dumps({"type": "config", "learning_rate": "0.1"}), "learning_rate"),
    ('{"type": "config", "dropout": NaN}', "dropout"),
    (json.dumps({"type": "config", "dataset": "moons"}), "dataset"),
    (json.dumps({"type": "config", "features": ["x1", "x1"]}), "once"),
    (json.dumps({"type": "config", "features": []}), "features"),
    (json.dumps({"type": "step", "epochs": 10**6}), "epochs"),
    (json.dumps({"type": "explain", "layer": 5, "neuron": 0}), "layer 5"),
    (json.dumps({"type": "explain", "layer": 0, "neuron": 7}), "neuron 7"),
    (json.dumps({"type": "explain", "layer": 0, "neuron": 0, "sample": 9999}), "sample 9999"),
    (json.dumps({"type": "set_weight", "layer": 0, "neuron": 0, "input": 5, "value": 1.0}), "input 5"),
    (json.dumps({"type": "notes", "network": "lenet"}), "network"),
    (json.dumps({"type": "config", "noise": 5, "pad": "x" * MAX_MESSAGE_BYTES}), "at most"),
    (b"\xff\xfe", "UTF-8"),
]


@pytest.fixture
def ws(live_server):
    with websockets_sync.connect(live_server.ws_url, max_size=2**24) as connection:
        first = receive(connection, "state")
        assert first["epoch"] == 0 and "points" in first
        yield connection


def send(ws, message):
    ws.send(json.dumps(message))


@pytest.mark.parametrize(("text", "says"), BAD_MESSAGES, ids=[f"bad{i}" for i in range(len(BAD_MESSAGES))])
def test_a_bad_message_gets_an_error_and_the_session_carries_on(ws, text, says):
    ws.send(text)
    reply = receive(ws, "error")
    assert says in reply["message"]
    send(ws, {"type": "step", "epochs": 1})
    assert receive(ws, "state")["epoch"] == 1


def test_an_oversized_frame_drops_only_that_connection(live_server):
    with websockets_sync.connect(live_server.ws_url, max_size=2**24) as connection:
        receive(connection, "state")
        connection.send("x" * 100_000)  # above uvicorn's ws_max_size: the server closes this socket
        with pytest.raises(ConnectionClosed):
            receive(connection, "state", timeout=10)
    with websockets_sync.connect(live_server.ws_url, max_size=2**24) as connection:
        assert receive(connection, "state")["epoch"] == 0


def test_a_session_whose_training_fails_stops_alone(ws, live_server):
    session = live_server.session
    session.train_epoch = lambda: 1 / 0  # whatever goes wrong inside one network
    send(ws, {"type": "play"})
    assert receive(ws, "error")["message"] == "training stopped: ZeroDivisionError: division by zero"
    send(ws, {"type": "step"})
    assert receive(ws, "error")["message"] == "step: division by zero"
    send(ws, {"type": "explain", "layer": 0, "neuron": 0})
    assert receive(ws, "explain")["name"] == "h1_1"
    with websockets_sync.connect(live_server.ws_url) as other:
        receive(other, "state")
        other.send(json.dumps({"type": "step", "epochs": 2}))
        assert receive(other, "state")["epoch"] == 2


def test_without_the_extra_the_command_says_which_to_install(monkeypatch, capsys):
    import soma.playground

    monkeypatch.setitem(sys.modules, "soma.playground.server", None)  # as if starlette were missing
    assert soma.playground.main(open_browser=False) == 1
    assert "pip install soma[playground]" in capsys.readouterr().err


def test_another_sites_page_cannot_open_a_session(live_server):
    with pytest.raises(InvalidStatus):
        websockets_sync.connect(live_server.ws_url, origin="http://evil.example")


def test_explain_reply_is_soma_explain_step_on_the_live_weights(ws, live_server):
    send(ws, {"type": "config", "dataset": "xor", "hidden": [3, 2], "activation": "relu", "learning_rate": 0.1})
    send(ws, {"type": "step", "epochs": 3})
    state = receive(ws, "state")
    while state["epoch"] < 3:
        state = receive(ws, "state")
    send(ws, {"type": "explain", "layer": 1, "neuron": 1, "sample": 7})
    reply = receive(ws, "explain")
    session = live_server.session
    x, t = session.train_x[7].reshape(1, -1), session.train_t[7].reshape(1, 1)
    report = explain.step(session.explain_model(), x, t, half_squared_error, 0.1)
    lines = [line for section in reply["sections"] for line in section["lines"]]
    assert reply["name"] == "h2_2" and len(lines) >= 12
    written = {e.lhs: e.text(6) for section in report.sections for e in section.items if not isinstance(e, str)}
    for line in lines:
        assert line["value"] == float(report.values[line["lhs"]]), line["lhs"]
        assert line["text"] == written[line["lhs"]]
    assert {"net_h2_2", "out_h2_2", "δ_h2_2", "dE/dout_h2_2", "E"} <= {line["lhs"] for line in lines}
    assert reply["inputs"][0]["name"] == "out_h1_1"


def test_set_weight_changes_that_weight_only(ws, live_server):
    session = live_server.session
    before = {k: v.detach().numpy().copy() for k, v in session.model.state_dict().items()}
    send(ws, {"type": "set_weight", "layer": 1, "neuron": 1, "input": 2, "value": -1.25})
    state = receive(ws, "state")
    assert state["network"]["weights"][1][1][2] == -1.25
    send(ws, {"type": "set_weight", "layer": 0, "neuron": 0, "input": -1, "value": 0.5})
    receive(ws, "state")
    after = {k: v.detach().numpy() for k, v in session.model.state_dict().items()}
    before["2.weight"][1, 2], before["0.bias"][0] = -1.25, 0.5
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])


def test_notes_mode_steps_the_notes_network_with_the_notes_numbers(ws):
    send(ws, {"type": "notes", "network": "backprop-222"})
    first = receive(ws, "notes")
    values = {line["lhs"]: line["value"] for s in first["sections"] for line in s["lines"] if line["lhs"]}
    assert values["out_h1"] == pytest.approx(0.593269992107, rel=1e-11)
    assert values["E"] == pytest.approx(0.29837110876, rel=1e-10)
    assert values["w5'"] == pytest.approx(0.358916479718, rel=1e-10)
    assert first["neurons"] == [["x1", "x2"], ["h1", "h2"], ["o1", "o2"]] and first["steps"] == 0
    send(ws, {"type": "notes", "network": "backprop-222", "apply": True})
    second = receive(ws, "notes")
    assert second["steps"] == 1 and second["weights"][1][0][0] == values["w5'"]
    after = {line["lhs"]: line["value"] for s in second["sections"] for line in s["lines"] if line["lhs"]}
    assert after["E"] == pytest.approx(0.291027773694, rel=1e-10)  # the notes' error after one step
    send(ws, {"type": "notes", "network": "xor", "sample": 2})
    xor = receive(ws, "notes")
    outputs = {line["lhs"]: line["value"] for s in xor["sections"] for line in s["lines"] if line["lhs"]}
    assert xor["samples"][2] == {"x": [1.0, 0.0], "t": [1.0]} and outputs["out_o1"] > 0.99


def test_export_script_runs_and_reproduces_the_network(ws, live_server, tmp_path):
    send(ws, {"type": "config", "features": ["x1", "x2", "x1x2", "sinx1"], "hidden": [3], "activation": "swish"})
    send(ws, {"type": "step", "epochs": 2})
    receive(ws, "state")
    send(ws, {"type": "export", "format": "script"})
    script = receive(ws, "export")
    path = tmp_path / script["filename"]
    path.write_text(script["text"])
    printed = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60, check=True)
    session = live_server.session
    points = np.array([[-3.0, -3.0], [-3.0, 3.0], [3.0, -3.0], [3.0, 3.0], [0.0, 0.0]])
    _, expected = session.activations(datasets.features(points, session.settings.features))
    shown = [float(line.rsplit(" ", 1)[1]) for line in printed.stdout.splitlines()]
    np.testing.assert_allclose(shown, expected, atol=1e-6)
    send(ws, {"type": "export", "format": "safetensors"})
    import base64

    loaded = soma.io.load_bytes(base64.b64decode(receive(ws, "export")["base64"]))
    for name, value in session.model.state_dict().items():
        np.testing.assert_array_equal(loaded[name].numpy(), value.detach().numpy())


def test_changing_the_architecture_rebuilds_and_hyperparameters_keep_the_weights():
    session = Session(Settings(hidden=[4, 2]))
    weights = session.model[0].weight.detach().numpy().copy()
    session.configure({"learning_rate": 0.3, "optimizer": "adam", "regularization": "l2", "reg_rate": 0.01})
    np.testing.assert_array_equal(session.model[0].weight.detach().numpy(), weights)
    session.configure({"hidden": [4, 2, 3], "features": ["x1", "x2", "x1sq"]})
    shapes = [tuple(m.weight.shape) for m in session.linears]
    assert shapes == [(4, 3), (2, 4), (3, 2), (1, 3)] and session.train_x.shape[1] == 3
    session.configure({"hidden": []})
    assert [tuple(m.weight.shape) for m in session.linears] == [(1, 3)]


@pytest.mark.parametrize("activation", sorted(ACTIVATION_MODULES))
def test_every_activation_trains_and_explains(activation):
    session = Session(Settings(dataset="gauss", hidden=[2], activation=activation, dropout=0.2, optimizer="momentum"))
    session.configure({"regularization": "l1", "reg_rate": 0.001})
    session.train_epoch()
    assert np.isfinite(session.test_loss)
    from soma.playground import arithmetic

    found = arithmetic.neuron(session.explain_model(), session.train_x[0], session.train_t[0], 0.03, 0, 1)
    assert found["name"] == "h2" and any(s["heading"].startswith("Backward") for s in found["sections"])


@pytest.mark.parametrize("name", datasets.DATASETS)
def test_data_sets_are_seeded_and_labelled(name):
    points, targets = datasets.make(name, 200, noise=10, seed=3)
    again, _ = datasets.make(name, 200, noise=10, seed=3)
    np.testing.assert_array_equal(points, again)
    assert points.shape == (200, 2) and np.isfinite(points).all()
    if name in datasets.CLASSIFICATION:
        assert set(np.unique(targets)) == {-1.0, 1.0}
    else:
        assert targets.min() >= -1 and targets.max() <= 1 and targets.std() > 0.1
    (train, _), (test, _) = datasets.split(points, targets, 30, seed=3)
    assert len(train) == 60 and len(test) == 140


def test_the_cli_registers_the_subcommand(capsys):
    from soma.cli import _parser

    args = _parser().parse_args(["playground", "--port", "8123", "--no-browser"])
    assert (args.command, args.host, args.port, args.no_browser) == ("playground", "127.0.0.1", 8123, True)
    assert "playground" in export.script(Session())
