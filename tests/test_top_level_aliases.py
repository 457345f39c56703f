"""soma's top-level nn kernels and in-place forms (torch.conv2d, torch.batch_norm, torch.exp_(x), ...) against
PyTorch's: the same objects as soma.nn.functional's where the signatures agree, the ATen orders where not."""

import numpy as np
import pytest
import torch
from tests.helpers import check_against_torch, raises_like_torch, random_array

import soma
from soma import _torch_aliases


def test_same_signature_names_are_the_functional_objects():
    same = [n for n in _torch_aliases._SAME_AS_FUNCTIONAL if hasattr(soma.nn.functional, n)]
    assert len(same) >= 20
    for name in same:
        assert getattr(soma, name) is getattr(soma.nn.functional, name), name
        assert callable(getattr(torch, name)), name
    for name in _torch_aliases.__all__:
        assert hasattr(torch, name), f"soma.{name} is not a torch top-level name"


def test_conv_and_pool_aliases_match_torch():
    x, w, b = random_array((2, 3, 8, 8)), random_array((4, 3, 3, 3), seed=1), random_array((4,), seed=2)
    check_against_torch(lambda x, w, b: soma.conv2d(x, w, b, 2, 1),
                        lambda x, w, b: torch.conv2d(x, w, b, 2, 1), [x, w, b])
    x1 = random_array((2, 3, 9))
    check_against_torch(lambda x: soma.max_pool1d(x, 3, 2), lambda x: torch.max_pool1d(x, 3, 2), [x1])
    check_against_torch(lambda x: soma.avg_pool1d(x, 3, 2, 1), lambda x: torch.avg_pool1d(x, 3, 2, 1), [x1])


def _stats(seed):
    return random_array((3,), seed=seed), random_array((3,), seed=seed + 1, low=0.5, high=2.0)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_and_instance_norm_take_atens_order(training):
    x, w, b = random_array((4, 3, 5)), random_array((3,), seed=1), random_array((3,), seed=2)
    mean, var = _stats(3)
    kept = {}

    def run(lib, name, x, w, b):
        m, v = lib.tensor(mean.copy()), lib.tensor(var.copy())
        kept[lib.__name__] = (m, v)
        return getattr(lib, name)(x, w, b, m, v, training, 0.3, 1e-4, True)

    check_against_torch(lambda *a: run(soma, "batch_norm", *a), lambda *a: run(torch, "batch_norm", *a), [x, w, b])
    for mine, theirs in zip(*kept.values()):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-10)
    if training:
        check_against_torch(lambda *a: run(soma, "instance_norm", *a), lambda *a: run(torch, "instance_norm", *a),
                            [x, w, b])
        for mine, theirs in zip(*kept.values()):
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-10)


def test_layer_norm_group_norm_take_cudnn_flags():
    x, w, b = random_array((2, 4, 6)), random_array((4, 6), seed=1), random_array((4, 6), seed=2)
    check_against_torch(lambda x, w, b: soma.layer_norm(x, (4, 6), w, b, 1e-3, False),
                        lambda x, w, b: torch.layer_norm(x, (4, 6), w, b, 1e-3, False), [x, w, b])
    g, c = random_array((4,), seed=3), random_array((4,), seed=4)
    check_against_torch(lambda x, w, b: soma.group_norm(x, 2, w, b, 1e-3, True),
                        lambda x, w, b: torch.group_norm(x, 2, w, b, 1e-3, True), [x, g, c])


@pytest.mark.parametrize("padding_idx", [-1, 2])
def test_embedding_takes_the_table_first(padding_idx):
    weight, indices = random_array((5, 3)), np.array([[0, 2, 4], [2, 2, 1]])
    check_against_torch(lambda w, i: soma.embedding(w, i, padding_idx),
                        lambda w, i: torch.embedding(w, i, padding_idx), [weight, indices])


@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_losses_take_int_reductions(reduction):
    x, t = random_array((3, 4)), random_array((3, 4), seed=1, low=0.05, high=1.0)
    check_against_torch(lambda x, t: soma.kl_div(x, t, reduction), lambda x, t: torch.kl_div(x, t, reduction), [x, t])
    check_against_torch(lambda x, t: soma.kl_div(x, t.log(), reduction, log_target=True),
                        lambda x, t: torch.kl_div(x, t.log(), reduction, log_target=True), [x, t])
    w, pw = random_array((4,), seed=2, low=0.5, high=1.5), random_array((4,), seed=3, low=0.5, high=2.0)
    check_against_torch(  # (weight and pos_weight are constants: torch has no gradient for them)
        lambda x, t: soma.binary_cross_entropy_with_logits(x, t, soma.tensor(w), soma.tensor(pw), reduction),
        lambda x, t: torch.binary_cross_entropy_with_logits(x, t, torch.tensor(w), torch.tensor(pw), reduction),
        [x, t])
    check_against_torch(lambda x, t: soma.binary_cross_entropy_with_logits(x, t, reduction=reduction),
                        lambda x, t: torch.binary_cross_entropy_with_logits(x, t, reduction=reduction), [x, t])


def test_bad_reductions_and_inputs_raise_like_torch():
    raises_like_torch(lambda lib: lib.kl_div(lib.zeros(2), lib.zeros(2), "sum"))
    raises_like_torch(lambda lib: lib.binary_cross_entropy_with_logits(lib.zeros(2), lib.zeros(2), reduction="sum"))
    raises_like_torch(lambda lib: lib.abs_(3.0))
    raises_like_torch(lambda lib: lib.exp_([1.0]))
    raises_like_torch(lambda lib: lib.batch_norm(lib.zeros(2, 3), None, None, None, None, True, 0.1, 1e-5))


def test_dropouts_take_p_and_train():
    x = soma.ones(50, 40)
    assert soma.dropout(x, 0.5, False) is x or np.array_equal(soma.dropout(x, 0.5, False).numpy(), x.numpy())
    kept = soma.dropout(x, 0.5, True).numpy()
    assert set(np.unique(kept)) <= {0.0, 2.0} and 0.3 < (kept == 0).mean() < 0.7
    y = soma.ones(10)
    assert soma.dropout_(y, 1.0, True) is y and not y.numpy().any()
    with pytest.raises(TypeError):  # torch.dropout's p and train are required
        soma.dropout(x)
    for name in _torch_aliases._DROPOUTS:  # every (p, train) form: train=False changes nothing, _ works in place
        z = soma.randn(3, 4)
        before = z.numpy().copy()
        out = getattr(soma, name)(z, 0.5, False)
        np.testing.assert_array_equal(out.numpy(), before)
        assert (out is z or not name.endswith("_")) and callable(getattr(torch, name))


@pytest.mark.parametrize("name, args", [("celu_", (0.7,)), ("selu_", ()), ("threshold_", (0.1, -3.0))])
def test_inplace_activations(name, args):
    a = random_array((3, 4))
    mine, theirs = soma.tensor(a.copy()), torch.tensor(a.copy())
    assert getattr(soma, name)(mine, *args) is mine
    getattr(torch, name)(theirs, *args)
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12)


# the arguments after the tensor that each in-place form needs (the rest are unary)
_ARGS = {
    "clamp_": ((), {"min": 0.3, "max": 0.6}), "clamp_max_": ((0.5,), {}), "clamp_min_": ((0.5,), {}),
    "clip_": ((0.2, 0.4), {}), "fill_": ((2.5,), {}), "ldexp_": (("i2",), {}), "xlogy_": (("f",), {}),
    "addmv_": (("m", "v"), {"beta": 0.5}), "index_put_": (("idx", "f1"), {}), "nan_to_num_": ((), {"nan": 1.0}),
    "logit_": ((0.1,), {}), "round_": ((), {"decimals": 1}), "gcd_": (("i",), {}), "lcm_": (("i",), {}),
}


def _argument(lib, spec, a):
    rng = np.random.default_rng(5)
    arrays = {"f": rng.uniform(0.1, 0.9, a.shape), "i": rng.integers(1, 20, a.shape), "i2": rng.integers(-2, 3, a.shape),
              "m": rng.uniform(size=(a.shape[0], 3)), "v": rng.uniform(size=3), "idx": (np.array([0, 2]),),
              "f1": np.array([7.0, 8.0])}
    if not isinstance(spec, str):
        return spec
    value = arrays[spec]
    return tuple(lib.tensor(v) for v in value) if isinstance(value, tuple) else lib.tensor(value)


@pytest.mark.parametrize("name", _torch_aliases.INPLACE)
def test_inplace_forms_match_torch(name):
    integer = name in ("gcd_", "lcm_")
    a = np.random.default_rng(0).integers(1, 30, (4,)) if integer else np.random.default_rng(0).uniform(0.1, 0.9, (4,))
    args, kwargs = _ARGS.get(name, ((), {}))
    mine, theirs = soma.tensor(a.copy()), torch.tensor(a.copy())
    out = getattr(soma, name)(mine, *(_argument(soma, s, a) for s in args), **kwargs)
    getattr(torch, name)(theirs, *(_argument(torch, s, a) for s in args), **kwargs)
    assert out is mine
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
