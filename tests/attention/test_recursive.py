"""nn.RecursiveNN: level-batched composition against a node-by-node PyTorch recursion with the same weights."""

import numpy as np
import pytest
import torch

import soma
from helpers import random_array
from soma import nn
from soma.autograd import gradcheck

TREES = [((0, 1), 2), (3, (4, (0, 1))), 2, ((1, 2), (3, 4))]


def _torch_tree(tree, emb, w, b, act):
    if not isinstance(tree, tuple):
        return emb[tree]
    pair = torch.cat([_torch_tree(tree[0], emb, w, b, act), _torch_tree(tree[1], emb, w, b, act)])
    return act(w @ pair + b)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_matches_a_node_by_node_recursion(nonlinearity):
    net = nn.RecursiveNN(6, num_embeddings=5, nonlinearity=nonlinearity, dtype=np.float64)
    params = {n: torch.tensor(p.detach().numpy(), requires_grad=True) for n, p in net.named_parameters()}
    act = torch.tanh if nonlinearity == "tanh" else torch.relu
    roots, nodes = net(TREES)
    want = torch.stack([_torch_tree(t, params["embedding.weight"], params["compose.weight"], params["compose.bias"],
                                    act) for t in TREES])
    np.testing.assert_allclose(roots.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    g = random_array(tuple(roots.shape), seed=3)
    (roots * soma.tensor(g)).sum().backward()
    (want * torch.tensor(g)).sum().backward()
    for name, p in net.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), params[name].grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)
    assert nodes.shape == (nn.TreeBatch.from_trees(TREES).num_nodes, 6)


def test_batching_by_level():
    batch = nn.TreeBatch.from_trees(TREES)
    # level 1: (0, 1) twice, (1, 2), (3, 4); level 2: ((0, 1), 2), (4, (0, 1)), ((1, 2), (3, 4)); level 3: one root
    assert [len(level) for level in batch.levels] == [4, 3, 1]
    assert list(batch.tokens) == [0, 1, 2, 3, 4, 0, 1, 2, 1, 2, 3, 4]
    assert nn.tree_depth(TREES[1]) == 3 and nn.tree_leaves(TREES[1]) == [3, 4, 0, 1]
    assert batch.roots[2] == 7  # the lone leaf tree: its root is leaf number 7


def test_gradcheck_with_given_leaves():
    net = nn.RecursiveNN(3, dtype=np.float64)
    batch = nn.TreeBatch.from_trees([((0, 1), 2), (3, 4)])
    leaves = soma.tensor(random_array((5, 3)), requires_grad=True)
    assert gradcheck(lambda x: net(batch, x)[0], (leaves,))


def test_errors():
    net = nn.RecursiveNN(4)
    with pytest.raises(ValueError, match="needs the leaf vectors"):
        net([(0, 1)])
    with pytest.raises(RuntimeError, match=r"expected leaves of shape \(2, 4\)"):
        net([(0, 1)], soma.randn(3, 4))
    with pytest.raises(TypeError, match="leaf must be an int"):
        nn.TreeBatch.from_trees([(0, "a")])
    with pytest.raises(ValueError, match="pair"):
        nn.TreeBatch.from_trees([(0, 1, 2)])
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RecursiveNN(4, nonlinearity="sigmoid")
