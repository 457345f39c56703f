"""nn.ParameterDict against PyTorch's: the dict API step by step (order, conversion to Parameter, plain values),
state_dict keys, registration for parameters()/.to()/load_state_dict, gradients through it, repr, errors."""

from collections import OrderedDict

import numpy as np
import pytest
import torch
from tests.helpers import raises_like_torch, random_array

import soma
import soma.nn as nn


def _same(ours, theirs):
    """Same keys in the same order, same kinds and values, same registered parameters."""
    assert list(ours) == list(theirs) and list(ours.keys()) == list(theirs.keys()) and len(ours) == len(theirs)
    for (key, s), (_, t) in zip(ours.items(), theirs.items()):
        assert (type(s).__name__, key) == (type(t).__name__, key)
        if isinstance(t, torch.Tensor):
            np.testing.assert_array_equal(s.detach().numpy(), t.detach().numpy())
            assert s.requires_grad == t.requires_grad and s.dtype == np.dtype(str(t.dtype)[6:]), key
        else:
            assert s == t, key
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs).replace("torch.", "soma.")


def _run(steps):
    """Apply the same steps (each ``step(lib, d)``) to a soma and a torch ParameterDict, comparing after each."""
    a, b, c = random_array((2, 3)), random_array(4, np.float32, seed=1), random_array(1, seed=2)
    dicts = {}
    for lib in (soma, torch):
        make = (lambda x, lib=lib: lib.tensor(x))
        dicts[lib] = lib.nn.ParameterDict({"b": lib.nn.Parameter(make(a)), "a": make(b), "n": 3})
    _same(dicts[soma], dicts[torch])
    for step in steps:
        results = [step(lib, dicts[lib], lambda x, lib=lib: lib.tensor(x), (a, b, c)) for lib in (soma, torch)]
        _same(dicts[soma], dicts[torch])
        for s, t in zip(*results):
            if isinstance(t, (torch.nn.ParameterDict, dict)):
                assert list(s) == list(t) and type(s).__name__ == type(t).__name__
            elif isinstance(t, torch.Tensor):
                np.testing.assert_array_equal(s.detach().numpy(), t.detach().numpy())
            elif not isinstance(t, torch.nn.Parameter):
                assert s == t


STEPS = [
    lambda lib, d, T, x: (d.__setitem__("z", T(x[2])),),
    lambda lib, d, T, x: (d.__setitem__("frozen", lib.nn.Parameter(T(x[2]), requires_grad=False)),),
    lambda lib, d, T, x: (d.__setitem__("none", None), d.get("none"), d.get("missing", 5)),
    lambda lib, d, T, x: (d.pop("a"), "a" in d, "b" in d, 1 in d),
    lambda lib, d, T, x: (d.popitem()[0],),
    lambda lib, d, T, x: (d.setdefault("b"), d.setdefault("s", T(x[0])), d.setdefault("t")),
    lambda lib, d, T, x: (d.update({"y": T(x[1]), "c": T(x[2])}),),  # a plain dict goes in sorted
    lambda lib, d, T, x: (d.update(OrderedDict([("q", T(x[2])), ("p", T(x[1]))])),),  # an OrderedDict in order
    lambda lib, d, T, x: (d.update([("m", T(x[0]))]), d.update(lib.nn.ParameterDict({"l": T(x[1])}))),
    lambda lib, d, T, x: (d | {"k": T(x[2]), "j": T(x[2])}, {"i": T(x[2])} | d, list(reversed(d))),
    lambda lib, d, T, x: (d.__ior__([("h", T(x[1]))]), d.__delitem__("b"), list(d.values())[0]),
    lambda lib, d, T, x: (d.copy(), d.fromkeys(["u", "v"], T(x[2])), d.fromkeys(["w"])),
    lambda lib, d, T, x: (d.__setitem__("n", T(x[1])), d.__setitem__("z", lib.nn.Parameter(T(x[0])))),
    lambda lib, d, T, x: (d.clear(), len(d)),
]


def test_dict_api_matches_pytorch_step_by_step():
    _run(STEPS)


def test_copy_and_fromkeys_share_the_parameters_and_tensors_share_storage():
    d = nn.ParameterDict({"a": nn.Parameter(soma.zeros(2))})
    assert d.copy()["a"] is d["a"]
    t = soma.zeros(3)
    d["t"] = t
    assert isinstance(d["t"], nn.Parameter) and d["t"].requires_grad
    d["t"].data.add_(1.0)
    np.testing.assert_array_equal(t.numpy(), np.ones(3))
    f = d.fromkeys(["x", "y"], soma.ones(2))
    assert isinstance(f, nn.ParameterDict) and f["x"] is not f["y"] and len(list(f.parameters())) == 2


def _scaled(lib):
    """A model keeping its weights in a ParameterDict: y = x·scale + shift."""

    class Scaled(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = lib.nn.ParameterDict({"scale": lib.ones(3), "shift": lib.zeros(3)})

        def forward(self, x):
            return x * self.weights["scale"] + self.weights["shift"]

    return Scaled()


def test_a_model_using_it_trains_loads_and_moves_as_pytorch():
    ours, theirs = _scaled(soma), _scaled(torch)
    state = {k: torch.tensor(random_array(3, np.float32, seed=i)) for i, k in enumerate(theirs.state_dict())}
    theirs.load_state_dict(state)
    ours.load_state_dict({k: soma.tensor(v.numpy()) for k, v in state.items()})
    assert list(ours.state_dict()) == ["weights.scale", "weights.shift"] == list(theirs.state_dict())
    x = random_array((2, 3), np.float32, seed=5)
    ours(soma.tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    for (name, s), (_, t) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-6, err_msg=name)
    ours.double()
    assert ours.weights["scale"].dtype == np.float64 and ours.weights.scale is ours.weights["scale"]
    ours.to("cpu")
    assert len(list(ours.parameters())) == 2


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.ParameterDict({"a": lib.ones(1)})[1],  # a key that is not a string
    lambda lib: lib.nn.ParameterDict().__setitem__(2, lib.ones(1)),
    lambda lib: lib.nn.ParameterDict().__setitem__("x.y", lib.ones(1)),  # a dotted name
    lambda lib: lib.nn.ParameterDict().__setitem__("i", lib.ones(2, dtype=lib.int64)),  # ints cannot require grad
    lambda lib: lib.nn.ParameterDict()["missing"],
    lambda lib: lib.nn.ParameterDict().pop("missing"),
    lambda lib: lib.nn.ParameterDict().__delitem__("missing"),
    lambda lib: lib.nn.ParameterDict().popitem(),
    lambda lib: lib.nn.ParameterDict().update(3),
    lambda lib: lib.nn.ParameterDict().update([1]),
    lambda lib: lib.nn.ParameterDict().update([("a",)]),
    lambda lib: lib.nn.ParameterDict()(lib.ones(1)),
])
def test_bad_use_raises_like_pytorch(case):
    raises_like_torch(case)


def test_a_missing_key_is_a_key_error_too_and_a_failed_insert_leaves_no_key():
    d = nn.ParameterDict()
    with pytest.raises(KeyError, match="missing"):
        d["missing"]
    with pytest.raises(KeyError):
        d["x.y"] = soma.ones(1)
    assert list(d) == [] and repr(d) == "ParameterDict()"
