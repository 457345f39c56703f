"""soma.nn.functional is a namespace of functions only, under torch.nn.functional's names: no autograd node
class leaks into it, every public name is in __all__, and each of torch's functions soma lacks is listed
below (add the function, then delete its name here: the test fails while a listed name exists)."""

import inspect

import torch.nn.functional as TF

import soma.nn.functional as F

# torch.nn.functional's imports and internals, not functional forms
NOT_API = {"Optional", "boolean_dispatch", "handle_torch_function", "has_torch_function", "has_torch_function_unary",
           "has_torch_function_variadic", "assert_int_or_pair", "multi_head_attention_forward"}

MISSING = {
    # 3-d convolution and pooling (soma's conv and pooling are 1-d and 2-d)
    "conv3d", "conv_transpose3d", "conv_tbc", "avg_pool3d", "max_pool3d", "max_pool3d_with_indices",
    "adaptive_avg_pool3d", "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices",
    "fractional_max_pool3d", "fractional_max_pool3d_with_indices", "lp_pool3d", "max_unpool3d",
    # pooling variants
    "fractional_max_pool2d", "fractional_max_pool2d_with_indices",
    # losses
    "linear_cross_entropy",
    # grouped/scaled matrix products
    "grouped_mm", "scaled_grouped_mm", "scaled_mm",
}

# soma's additions: the notes' step activation, the linear activation, the recurrent steps nn.RNN/LSTM/GRU run
SOMA_ONLY = {"heaviside", "step", "identity", "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell",
             "rnn_layer", "lstm_layer", "gru_layer"}


def _torch_functions():
    return {name for name in dir(TF) if not name.startswith("_") and callable(getattr(TF, name))
            and not inspect.isclass(getattr(TF, name))} - NOT_API


def test_every_public_name_is_a_function_listed_in_all():
    # F is a package: its kernel modules (F.conv, F.loss, ...) are attributes too, as the package's structure
    submodules = {name for name in dir(F) if inspect.ismodule(getattr(F, name))
                  and getattr(F, name).__name__ == f"{F.__name__}.{name}"}
    public = {name for name in dir(F) if not name.startswith("_")} - submodules
    assert public == set(F.__all__) and len(F.__all__) == len(set(F.__all__))
    classes = sorted(name for name in public if inspect.isclass(getattr(F, name)))
    assert not classes, f"autograd node classes leak into soma.nn.functional: {classes}"
    assert all(inspect.isfunction(getattr(F, name)) for name in public)


def test_names_are_torchs_and_the_missing_ones_are_listed():
    ours, theirs = set(F.__all__), _torch_functions()
    assert ours - theirs == SOMA_ONLY
    assert not ours & MISSING, f"now in soma, delete from MISSING: {sorted(ours & MISSING)}"
    assert theirs - ours == MISSING
