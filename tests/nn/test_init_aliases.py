"""nn.init's deprecated names without the trailing underscore, as PyTorch's: each warns (FutureWarning, PyTorch's
message, pointing at the caller) and fills the tensor exactly as the underscore version does."""

import warnings

import numpy as np
import pytest
import torch

import soma
import soma.nn.init as init

CALLS = [
    ("uniform", (4, 5), dict(a=-0.5, b=2.0)),
    ("normal", (4, 5), dict(mean=1.0, std=0.3)),
    ("constant", (3, 2), dict(val=0.7)),
    ("eye", (3, 4), {}),
    ("dirac", (4, 2, 3, 3), dict(groups=2)),
    ("xavier_uniform", (6, 5), dict(gain=2.0)),
    ("xavier_normal", (6, 5), {}),
    ("kaiming_uniform", (6, 5, 3), dict(a=0.1, mode="fan_out")),
    ("kaiming_normal", (6, 5), dict(nonlinearity="relu")),
    ("orthogonal", (4, 6), dict(gain=0.5)),
    ("sparse", (6, 4), dict(sparsity=0.5, std=0.2)),
]


def _warning_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    assert len(caught) == 1
    return caught[0]


@pytest.mark.parametrize("name,shape,kwargs", CALLS, ids=[c[0] for c in CALLS])
def test_old_name_warns_like_torch_and_fills_as_the_new_one(name, shape, kwargs):
    ours = _warning_of(lambda: getattr(init, name)(soma.empty(*shape), **kwargs))
    theirs = _warning_of(lambda: getattr(torch.nn.init, name)(torch.empty(*shape), **kwargs))
    assert ours.category is theirs.category is FutureWarning
    assert str(ours.message) == str(theirs.message) == f"`nn.init.{name}` is now deprecated in favor of " \
                                                       f"`nn.init.{name}_`."
    assert ours.filename == __file__  # reported at the caller, as PyTorch's stacklevel=2
    old, new = soma.empty(*shape), soma.empty(*shape)
    soma.manual_seed(4)
    with pytest.warns(FutureWarning):
        returned = getattr(init, name)(old, **kwargs)
    soma.manual_seed(4)
    getattr(init, name + "_")(new, **kwargs)
    assert returned is old
    np.testing.assert_array_equal(old.numpy(), new.numpy())
    assert getattr(init, name).__name__ == getattr(torch.nn.init, name).__name__ == name


def test_namespace_like_torch():
    assert sorted(init.__all__) == sorted(torch.nn.init.__all__)
    for name in torch.nn.init.__all__:
        assert callable(getattr(soma.nn.init, name)), name


def test_old_names_pass_errors_through():
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="eye_"):
        init.eye(soma.empty(2, 2, 2))
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="dirac_"):
        init.dirac(soma.empty(2, 2))
