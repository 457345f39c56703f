"""Distances, shrinkage, GLU, the randomized activations, alpha dropout and the in-place activations on the strict
backend: the CPU's values, dtypes and input gradients (noise and masks drawn on the host from one seed)."""

import pytest
from test_strict_layers import _normal, assert_function_same_on_device, assert_layer_same_on_device

import soma.nn.functional as F
from soma import nn

FUNCTIONS = [
    ("pairwise_distance", lambda a, b: F.pairwise_distance(a, b, 3), [_normal(3, 4), _normal(3, 4)]),
    ("cosine_similarity tiny norms", lambda a, b: F.cosine_similarity(a, b), [_normal(3, 4) * 1e-9, _normal(3, 4)]),
    ("pdist", lambda a: F.pdist(a) + F.pdist(a, float("inf")) + F.pdist(a, 0.5), [_normal(4, 3)]),
    ("pdist of empty rows", lambda a: F.pdist(a), [_normal(4, 0)]),
    ("normalize", lambda a: F.normalize(a, 1.5), [_normal(3, 4)]),
    ("hardshrink and softshrink", lambda a: F.hardshrink(a) + F.softshrink(a, 0.3), [_normal(3, 4)]),
    ("glu", lambda a: F.glu(a, 0), [_normal(4, 3)]),
    ("rrelu training", lambda a: F.rrelu(a, training=True), [_normal(3, 4)]),
    ("gumbel_softmax", lambda a: F.gumbel_softmax(a, 0.5), [_normal(3, 4)]),
    ("gumbel_softmax hard", lambda a: F.gumbel_softmax(a, 0.5, hard=True) * a, [_normal(3, 4)]),
    ("alpha_dropout", lambda a: F.alpha_dropout(a, 0.3, True), [_normal(3, 4)]),
    ("alpha_dropout p=1", lambda a: F.alpha_dropout(a, 1.0, True), [_normal(3, 4)]),
    ("feature_alpha_dropout", lambda a: F.feature_alpha_dropout(a, 0.3, True), [_normal(3, 4, 2)]),
    ("in-place activations", lambda a: F.celu_(F.hardtanh_(F.leaky_relu_(F.elu_(a * 1), 0.2), -0.5, 0.5)),
     [_normal(3, 4)]),
]


@pytest.mark.parametrize("name, fn, arrays", FUNCTIONS, ids=[c[0] for c in FUNCTIONS])
def test_functions_on_the_strict_backend(strict_device, name, fn, arrays):
    assert_function_same_on_device(fn, arrays, strict_device)


LAYERS = [("RReLU", nn.RReLU), ("AlphaDropout", lambda: nn.AlphaDropout(0.2)),
          ("FeatureAlphaDropout", lambda: nn.FeatureAlphaDropout(0.2)), ("GLU", nn.GLU)]


@pytest.mark.parametrize("name, build", LAYERS, ids=[c[0] for c in LAYERS])
def test_layers_on_the_strict_backend(strict_device, name, build):
    assert_layer_same_on_device(build, [_normal(3, 4, 2)], strict_device)
