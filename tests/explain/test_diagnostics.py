"""gradient_flow flags vanishing/exploding gradients and dead ReLUs; lr_range_test sweeps and plots."""

import numpy as np
import pytest

import soma
from soma import explain, nn


def deep(activation, depth=10, width=8):
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), activation()]
    return nn.Sequential(*layers, nn.Linear(width, 1))


def data(n=16, width=8):
    x = soma.randn(n, width)
    return x, x.sum(dim=1, keepdim=True)


def test_deep_sigmoid_stack_is_flagged_vanishing():
    model, (x, t) = deep(nn.Sigmoid), data()
    flow = explain.gradient_flow(model, nn.MSELoss(), (x, t), steps=3, lr=0.1)
    assert flow.vanishing and not flow.exploding
    assert flow.ratio < 1e-3
    assert "0.03 × 0.05 = 0.0015" in str(flow) and "σ′ ≤ 0.25" in str(flow)
    assert flow.layers[0] == "0.weight" and flow.layers[-1] == "20.weight"
    # the norms are the ones autograd computes on the same model and batch
    model_copy = deep(nn.Sigmoid)
    model_copy.load_state_dict(model.state_dict())
    nn.MSELoss()(model_copy(x), t).backward()
    expected = np.linalg.norm(model_copy[0].weight.grad._array.astype(np.float64))
    assert flow.grad_norms["0.weight"][0] == pytest.approx(expected, rel=1e-12)


def test_shallow_relu_net_is_not_flagged_and_the_model_is_untouched():
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
    before = model[0].weight._array.copy()
    flow = explain.gradient_flow(model, nn.MSELoss(), data(), steps=4, lr=0.01)
    assert not flow.vanishing and not flow.exploding
    assert len(flow.grad_norms["0.weight"]) == 4 and len(flow.losses) == 4
    assert 0.0 <= flow.dead_relu["1"][-1] <= 1.0
    np.testing.assert_array_equal(model[0].weight._array, before)


def test_dead_relus_and_exploding_gradients_are_reported():
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
    with soma.no_grad():
        model[0].bias._array[...] = -100.0  # every unit's input is negative: all dead
    flow = explain.gradient_flow(model, nn.MSELoss(), data(), steps=2)
    assert flow.dead_relu["1"] == [1.0, 1.0] and "dead ReLUs: 100%" in str(flow)

    big = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 1))
    flow = explain.gradient_flow(big, nn.MSELoss(), data(), steps=4, lr=1.0)  # far too high a rate
    assert flow.exploding and "100 × 500 = 50000" in str(flow)


def test_gradient_flow_plot(tmp_path):
    pytest.importorskip("matplotlib")
    flow = explain.gradient_flow(deep(nn.Tanh, depth=3), nn.MSELoss(), data(), steps=3)
    path = flow.plot(tmp_path / "flow.png")
    assert (tmp_path / "flow.png").stat().st_size > 1000 and path.endswith("flow.png")


def test_lr_range_test_sweeps_exponentially_and_plots(tmp_path):
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
    result = explain.lr_range_test(
        model, nn.MSELoss(), data(64), start_lr=1e-5, end_lr=100.0, num_steps=60
    )
    ratios = np.asarray(result.lrs[1:]) / np.asarray(result.lrs[:-1])
    np.testing.assert_allclose(ratios, (100.0 / 1e-5) ** (1 / 59), rtol=1e-9)
    assert result.diverged  # lr = 100 blows the loss up (curve A)
    assert result.lrs[0] < result.suggested_lr < result.lrs[-1]
    assert min(result.smoothed) < result.smoothed[0]
    assert "curve D" in str(result) and "curve A" in str(result)
    pytest.importorskip("matplotlib")
    result.plot(tmp_path / "lr.png")
    assert (tmp_path / "lr.png").read_bytes()[:4] == b"\x89PNG"


def test_lr_range_test_rejects_bad_bounds():
    with pytest.raises(ValueError, match="start_lr < end_lr"):
        explain.lr_range_test(
            nn.Linear(2, 1),
            nn.MSELoss(),
            (soma.randn(2, 2), soma.randn(2, 1)),
            start_lr=1.0,
            end_lr=0.1,
        )


def test_missing_matplotlib_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    flow = explain.diagnostics.GradientFlow(["w"], {"w": [1.0]}, {"w": [1.0]})
    with pytest.raises(ImportError, match=r'pip install "soma\[plot\]"'):
        flow.plot("never.png")
