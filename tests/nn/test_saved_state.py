"""The kernels' saved state follows one convention: arrays through ``ctx.save_for_backward``, constants as named
attributes, so the engine version-checks every saved array and frees them all after backward.

For each kernel of the nn tier (losses, normalization, embedding, dropout, activations, attention, fold/unfold):
before backward its node holds arrays only in ``saved_tensors`` (and the call's ``inputs``, which the graph
keeps); after backward it holds none outside ``inputs``. An in-place change of a saved array between forward
and backward raises PyTorch's error instead of giving a wrong gradient.
"""

import numpy as np
import pytest

import soma
import soma.nn.functional as F
from helpers import graph_nodes
from soma.backend import is_array

_MODULES = tuple(f"soma.nn.functional.{name}" for name in (
    "loss", "normalization", "attention", "affine", "dropouts", "activation", "patches", "distance"))


def _arrays(value):
    """The arrays inside ``value`` (nested tuples, lists and dicts searched)."""
    if is_array(value):
        return [value]
    if isinstance(value, (tuple, list)):
        return [a for v in value for a in _arrays(v)]
    if isinstance(value, dict):
        return [a for v in value.values() for a in _arrays(v)]
    return []


def _kernel_nodes(tensor):
    """Every node of the nn tier's kernels in the graph that made ``tensor``."""
    return graph_nodes(tensor, lambda node: type(node).__module__ in _MODULES)


def _leaf(*shape, positive=False):
    values = np.random.default_rng(len(shape)).standard_normal(shape)
    return soma.tensor(np.abs(values) + 0.1 if positive else values, requires_grad=True)


def _index(high, *shape):
    return soma.tensor(np.random.default_rng(high).integers(0, high, shape))


def _scores():
    q, k, v = _leaf(2, 3, 4), _leaf(2, 5, 4), _leaf(2, 5, 3)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=_leaf(3, 5))


CASES = {
    "cross_entropy": lambda: F.cross_entropy(_leaf(4, 5), _index(5, 4), weight=_leaf(5, positive=True),
                                             label_smoothing=0.1),
    "cross_entropy ignore": lambda: F.cross_entropy(_leaf(4, 5), soma.tensor([0, -100, 2, 1])),
    "nll_loss": lambda: F.nll_loss(_leaf(4, 5), _index(5, 4), reduction="sum"),
    "binary_cross_entropy": lambda: F.binary_cross_entropy(_leaf(3, 2).sigmoid(), _leaf(3, 2).sigmoid()),
    "bce_with_logits": lambda: F.binary_cross_entropy_with_logits(_leaf(3, 2), _leaf(3, 2).sigmoid(),
                                                                  pos_weight=_leaf(2, positive=True)),
    "huber_loss": lambda: F.huber_loss(_leaf(3, 2), _leaf(3, 2)),
    "kl_div": lambda: F.kl_div(_leaf(3, 2), _leaf(3, 2, positive=True)),
    "soft_margin_loss": lambda: F.soft_margin_loss(_leaf(3, 2), soma.tensor([[1.0, -1.0]] * 3, dtype=soma.float64)),
    "batch_norm train": lambda: F.batch_norm(_leaf(4, 3), soma.zeros(3, dtype=soma.float64),
                                             soma.ones(3, dtype=soma.float64), _leaf(3), _leaf(3), training=True),
    "batch_norm eval": lambda: F.batch_norm(_leaf(4, 3), _leaf(3).detach(), _leaf(3, positive=True).detach(),
                                            _leaf(3), _leaf(3)),
    "layer_norm": lambda: F.layer_norm(_leaf(2, 3), (3,), _leaf(3), _leaf(3)),
    "group_norm": lambda: F.group_norm(_leaf(2, 4, 3), 2, _leaf(4), _leaf(4)),
    "rms_norm": lambda: F.rms_norm(_leaf(2, 3), (3,), _leaf(3)),
    "embedding": lambda: F.embedding(_index(5, 2, 3), _leaf(5, 2), padding_idx=1, scale_grad_by_freq=True),
    "linear": lambda: F.linear(_leaf(2, 3), _leaf(4, 3), _leaf(4)),
    "bilinear": lambda: F.bilinear(_leaf(2, 3), _leaf(2, 4), _leaf(5, 3, 4), _leaf(5)),
    "dropout": lambda: F.dropout(_leaf(3, 4), 0.5),
    "gelu": lambda: F.gelu(_leaf(3)) + F.gelu(_leaf(3), approximate="tanh"),
    "activations": lambda: (F.elu(_leaf(4)) + F.leaky_relu(_leaf(4)) + F.hardtanh(_leaf(4)) + F.silu(_leaf(4))
                            + F.softplus(_leaf(4)) + F.mish(_leaf(4)) + F.prelu(_leaf(4), _leaf(1))
                            + F.threshold(_leaf(4), 0.1, 2.0) + F.logsigmoid(_leaf(4)) + F.softsign(_leaf(4))
                            + F.hardswish(_leaf(4)) + F.hardsigmoid(_leaf(4)) + F.heaviside(_leaf(4))),
    "scaled_dot_product_attention": _scores,
    "distances": lambda: F.pdist(_leaf(4, 3)).sum() + F.cosine_similarity(_leaf(3, 4), _leaf(3, 4)).sum(),
    "unfold and fold": lambda: F.fold(F.unfold(_leaf(1, 2, 4, 4), 2), (4, 4), 2),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_kernel_node_keeps_arrays_only_as_saved_tensors_and_frees_them(name):
    out = CASES[name]()
    nodes = _kernel_nodes(out)
    assert nodes, f"{name}: no kernel node in the graph"
    for node in nodes:
        stray = {k for k, v in vars(node).items() if k not in ("inputs", "saved_tensors") and _arrays(v)}
        assert not stray, f"{type(node).__name__} keeps arrays outside save_for_backward: {stray}"
    out.sum().backward()
    for node in nodes:
        left = {k for k, v in vars(node).items() if k != "inputs" and _arrays(v)}
        assert not left, f"{type(node).__name__} still holds arrays after backward: {left}"
        assert not _arrays(node.saved_tensors)


def test_every_kernel_of_the_nn_tier_is_checked():
    import inspect

    from soma.autograd.function import Function

    seen = {type(node) for case in CASES.values() for node in _kernel_nodes(case())}
    kernels = {cls for name in _MODULES for _, cls in inspect.getmembers(__import__(name, fromlist=["_"]),
                                                                          inspect.isclass)
               if issubclass(cls, Function) and cls.__module__ == name}
    assert kernels - seen == set()


def _changed_in_place(tensor):
    with soma.no_grad():
        tensor.add_(1)


def _saved_input_case(name):
    """(output, a tensor whose array the kernel saved) for the version-check tests."""
    if name == "cross_entropy target":
        target = _index(5, 4)  # every target valid: the kernel saves the target array itself
        return F.cross_entropy(_leaf(4, 5), target), target
    if name == "layer_norm weight":
        weight = _leaf(3)
        return F.layer_norm(_leaf(2, 3), (3,), weight), weight
    if name == "embedding indices":
        index = _index(5, 2, 3)
        return F.embedding(index, _leaf(5, 2)), index
    if name == "attention query":
        q = _leaf(2, 3, 4) * 1
        return F.scaled_dot_product_attention(q, _leaf(2, 5, 4), _leaf(2, 5, 3)), q
    x = _leaf(3, 4) * 1
    return F.gelu(x, approximate="tanh"), x


@pytest.mark.parametrize("name", ["cross_entropy target", "layer_norm weight", "embedding indices",
                                  "attention query", "gelu input"])
def test_changing_a_saved_array_in_place_before_backward_raises(name):
    out, saved = _saved_input_case(name)
    _changed_in_place(saved)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
