"""Recursive (tree-structured) neural networks: a vector for every node of a binary tree, bottom-up.

A leaf gets its word's vector; a parent composes its two children (notes 003) ::

    h_parent = tanh(W [h_left; h_right] + b)            W: (H, 2H), b: (H,)

so the root's vector summarizes the whole tree, built the way the tree is built
(a sentence's parse, an expression). The same W is used at every node, as an RNN uses
the same weights at every time step; an RNN is the special case of a tree that is a chain.

Batching by level: a node's level is its height (leaves 0, a parent 1 + the higher child).
All nodes of one level, over every tree of the batch, depend only on lower levels, so each
level is one ``linear`` over all its nodes: as many matrix products as the deepest tree is
high, however many trees there are.

Trees are nested tuples: a leaf is a token id (an int), a parent is a pair ``(left, right)``;
``TreeBatch.from_trees`` flattens a list of them.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from soma._device import resolve
from soma.nn._utils import beside
from soma.nn.common_types import DeviceLike, DTypeLike
from soma.nn.linear import Linear
from soma.nn.module import Module
from soma.nn.sparse import Embedding
from soma.ops import tanh
from soma.ops.indexing import index_select
from soma.ops.shape import cat
from soma.tensor import Tensor

__all__ = ["TreeBatch", "RecursiveNN", "tree_depth", "tree_leaves"]


def tree_leaves(tree):
    """The tokens of ``tree`` from left to right."""
    return [tree] if not isinstance(tree, tuple) else tree_leaves(tree[0]) + tree_leaves(tree[1])


def tree_depth(tree):
    """The height of ``tree``: 0 for a leaf, 1 + the higher child for a parent."""
    return 0 if not isinstance(tree, tuple) else 1 + max(tree_depth(tree[0]), tree_depth(tree[1]))


@dataclass
class TreeBatch:
    """A batch of binary trees, flattened level by level.

    Nodes are numbered leaves first (``tokens``, level 0), then the parents of level 1, 2, ...
    ``levels[l]`` is an ``(n_l, 2)`` array of the node numbers of each level-(l+1) parent's
    children; ``roots[i]`` is the number of tree i's root (which may be a leaf).
    """

    tokens: np.ndarray
    levels: list
    roots: np.ndarray

    @classmethod
    def from_trees(cls, trees):
        tokens, by_level = [], {}

        def visit(tree):
            """Returns (level, index within level) of ``tree``'s node."""
            if not isinstance(tree, tuple):
                if isinstance(tree, bool) or not isinstance(tree, (int, np.integer)):
                    raise TypeError(f"TreeBatch: a leaf must be an int token id, got {tree!r}")
                tokens.append(int(tree))
                return 0, len(tokens) - 1
            if len(tree) != 2:
                raise ValueError(f"TreeBatch: a parent must be a pair (left, right), got {len(tree)} children")
            left, right = visit(tree[0]), visit(tree[1])
            level = 1 + max(left[0], right[0])
            by_level.setdefault(level, []).append((left, right))
            return level, len(by_level[level]) - 1

        where = [visit(t) for t in trees]
        sizes = [len(tokens)] + [len(by_level.get(level, [])) for level in range(1, len(by_level) + 1)]
        offsets = np.concatenate([[0], np.cumsum(sizes)])

        def number(node):
            return offsets[node[0]] + node[1]

        levels = [np.array([[number(a), number(b)] for a, b in by_level[level]], dtype=np.int64)
                  for level in range(1, len(by_level) + 1)]
        return cls(np.array(tokens, dtype=np.int64), levels, np.array([number(w) for w in where], dtype=np.int64))

    @property
    def num_nodes(self):
        return len(self.tokens) + sum(len(level) for level in self.levels)


class RecursiveNN(Module):
    """h_parent = tanh(W [h_left; h_right] + b) up every tree of a batch (see the module docstring).

    Args:
        hidden_size: H, the size of every node's vector.
        num_embeddings: vocabulary size; leaves are looked up in an ``nn.Embedding(num_embeddings, H)``.
            With None, ``forward`` takes the leaf vectors instead.
        nonlinearity: "tanh" (the notes' choice) or "relu".
        bias: learn b.

    Shape:
        ``forward(batch, leaves=None)``: leaves ``(num_leaves, H)`` in the batch's leaf order when
        there is no embedding. Returns the root vectors ``(num_trees, H)`` and every node's vector
        ``(num_nodes, H)`` in the batch's node numbering.

    Example::

        >>> net = nn.RecursiveNN(8, num_embeddings=5)
        >>> batch = nn.TreeBatch.from_trees([((0, 1), 2), (3, (4, (0, 1)))])
        >>> roots, nodes = net(batch)
        >>> roots.shape, nodes.shape
        ((2, 8), (10, 8))
    """

    def __init__(self, hidden_size: int, num_embeddings: int | None = None, nonlinearity: str = "tanh",
                 bias: bool = True, device: DeviceLike | None = None, dtype: DTypeLike | None = None) -> None:
        super().__init__()
        resolve(device, "RecursiveNN")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RecursiveNN: unknown nonlinearity {nonlinearity!r} (choose 'tanh' or 'relu')")
        self.hidden_size, self.nonlinearity = hidden_size, nonlinearity
        self.embedding = (None if num_embeddings is None
                          else Embedding(num_embeddings, hidden_size, device=device, dtype=dtype))
        self.compose = Linear(2 * hidden_size, hidden_size, bias=bias, device=device, dtype=dtype)

    def _activate(self, z):
        return tanh(z) if self.nonlinearity == "tanh" else z.relu()

    def forward(self, batch: Any, leaves: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if not isinstance(batch, TreeBatch):
            batch = TreeBatch.from_trees(batch)
        if leaves is None:
            if self.embedding is None:
                raise ValueError("RecursiveNN(num_embeddings=None) needs the leaf vectors: forward(batch, leaves)")
            leaves = self.embedding(beside(self.embedding.weight, batch.tokens))
        if tuple(leaves.shape) != (len(batch.tokens), self.hidden_size):
            raise RuntimeError(f"RecursiveNN(hidden_size={self.hidden_size}): expected leaves of shape "
                               f"{(len(batch.tokens), self.hidden_size)}, got {tuple(leaves.shape)}")
        states = leaves
        for children in batch.levels:  # one GEMM per level, for every tree at once
            pair = index_select(states, 0, beside(states, children.reshape(-1))).reshape(len(children), -1)
            states = cat([states, self._activate(self.compose(pair))], dim=0)
        return index_select(states, 0, beside(states, batch.roots)), states

    def extra_repr(self):
        return f"hidden_size={self.hidden_size}, nonlinearity={self.nonlinearity!r}"
