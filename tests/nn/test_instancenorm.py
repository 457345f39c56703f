"""nn.InstanceNorm1d/2d/3d and F.instance_norm against PyTorch: values, input and parameter gradients, running
statistics after a few training steps, eval mode, unbatched input, the num_features check, bad input."""

import warnings

import numpy as np
import pytest
import torch
from tests.helpers import (
    check_against_torch,
    check_module_against_torch,
    copy_weights_from_torch,
    raises_like_torch,
    random_array,
    randomize_module,
)

import soma
import soma.nn as nn
import soma.nn.functional as F
from soma.autograd import gradcheck

SPATIAL = {1: (6,), 2: (3, 4), 3: (2, 3, 3)}


def _pair(dims, dtype="float64", **kwargs):
    return (getattr(nn, f"InstanceNorm{dims}d")(3, dtype=getattr(soma, dtype), **kwargs),
            getattr(torch.nn, f"InstanceNorm{dims}d")(3, dtype=getattr(torch, dtype), **kwargs))


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("track", [False, True])
def test_training_steps_then_eval_match_pytorch(dims, affine, track):
    ours, theirs = _pair(dims, affine=affine, track_running_stats=track, momentum=0.3)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    for step in range(3):  # the running statistics after each step are compared too
        x = random_array((2, 3) + SPATIAL[dims], seed=step) * (step + 1) + step
        check_module_against_torch(ours, theirs, [x], randomize=step == 0)
    ours.eval(), theirs.eval()
    check_module_against_torch(ours, theirs, [random_array((4, 3) + SPATIAL[dims], seed=9)], randomize=False)


@pytest.mark.parametrize("dims", [1, 2])
def test_unbatched_input_and_float32_match_pytorch(dims):
    for track in (False, True):
        ours, theirs = _pair(dims, "float32", affine=True, track_running_stats=track)
        check_module_against_torch(ours, theirs, [random_array((3,) + SPATIAL[dims], np.float32)])
        ours.eval(), theirs.eval()
        check_module_against_torch(ours, theirs, [random_array((3,) + SPATIAL[dims], np.float32, seed=1)],
                                   randomize=False)


def test_momentum_none_leaves_the_running_statistics_as_pytorch():
    ours, theirs = _pair(1, track_running_stats=True, momentum=None)
    check_module_against_torch(ours, theirs, [random_array((2, 3, 5))])
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item()


@pytest.mark.parametrize("use_input_stats", [True, False])
def test_functional_instance_norm_matches_pytorch(use_input_stats):
    x, w, b = random_array((2, 3, 5)), random_array(3, seed=1), random_array(3, seed=2)
    mean, var = random_array(3, seed=3), random_array(3, seed=4, low=0.5, high=2.0)
    stats = [(soma.tensor(mean), soma.tensor(var)), (torch.tensor(mean), torch.tensor(var))]
    check_against_torch(
        lambda x, w, b: F.instance_norm(x, *stats[0], w, b, use_input_stats, 0.2, 1e-3),
        lambda x, w, b: torch.nn.functional.instance_norm(x, *stats[1], w, b, use_input_stats, 0.2, 1e-3),
        [x, w, b])
    for s, t in zip(*stats):
        np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-12)


def test_instance_norm_gradcheck():
    x = soma.tensor(random_array((2, 3, 4)), requires_grad=True)
    w = soma.tensor(random_array(3, seed=1), requires_grad=True)
    b = soma.tensor(random_array(3, seed=2), requires_grad=True)
    mean, var = soma.tensor(random_array(3, seed=3)), soma.tensor(random_array(3, seed=4, low=0.5, high=2.0))
    assert gradcheck(lambda x, w, b: F.instance_norm(x, None, None, w, b), (x, w, b))
    assert gradcheck(lambda x, w, b: F.instance_norm(x, mean, var, w, b, use_input_stats=False), (x, w, b))


def test_num_features_mismatch_warns_without_affine_and_raises_with_it():
    x = random_array((2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        out = nn.InstanceNorm1d(3)(soma.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(out.numpy(), torch.nn.InstanceNorm1d(3)(torch.tensor(x)).numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match=r"InstanceNorm1d.*num_features \(3\), but got: 4"):
        nn.InstanceNorm1d(3, affine=True)(soma.tensor(x))


def _quiet(call):
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(lib)
    return run


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.InstanceNorm1d(3)(lib.zeros(3)),  # 1-D input
    lambda lib: lib.nn.InstanceNorm2d(3)(lib.zeros(2, 3, 4, 4, 4)),  # 5-D input to the 2-d layer
    lambda lib: lib.nn.InstanceNorm1d(3)(lib.zeros(2, 3, 1)),  # one value per instance when training
    lambda lib: lib.nn.InstanceNorm1d(3, affine=True)(lib.zeros(2, 4, 5)),
    lambda lib: lib.nn.InstanceNorm1d(3, track_running_stats=True)(lib.zeros(2, 4, 5)),  # stats of 3 channels
    lambda lib: lib.nn.InstanceNorm1d(3)(lib.zeros(2, 3, 4, dtype=lib.int32)),
    lambda lib: lib.nn.functional.instance_norm(lib.zeros(2, 3, 4), lib.zeros(3), None),
    lambda lib: lib.nn.functional.instance_norm(lib.zeros(2, 3, 4), use_input_stats=False),
    lambda lib: lib.nn.functional.instance_norm(lib.zeros(2, 3, 4), weight=lib.ones(4)),
])
def test_bad_input_raises_like_pytorch(case):
    raises_like_torch(_quiet(case))


def test_eval_uses_running_statistics_even_for_one_position_and_nan_propagates():
    ours, theirs = _pair(1, track_running_stats=True)
    randomize_module(theirs)
    copy_weights_from_torch(theirs, ours)
    ours.eval(), theirs.eval()
    x = random_array((2, 3, 1), seed=5)
    np.testing.assert_allclose(ours(soma.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-10)
    x[0, 1, 0] = np.nan
    out = nn.InstanceNorm1d(3)(soma.tensor(np.concatenate([x] * 3, axis=2))).numpy()
    assert np.isnan(out[0, 1]).all() and not np.isnan(out[1]).any()


def test_an_empty_batch_gives_an_empty_output_and_keeps_the_running_statistics():
    layer = nn.InstanceNorm2d(3, track_running_stats=True)
    assert layer(soma.zeros(0, 3, 4, 4)).shape == (0, 3, 4, 4)
    np.testing.assert_array_equal(layer.running_mean.numpy(), np.zeros(3))
