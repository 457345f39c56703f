"""A recursive neural network on a toy sentiment treebank that ships with soma.

``examples/data/toy_treebank.txt`` holds 1,600 parsed sentences such as
``((the story) (is ((not fine) (but pleasant))))`` with their sentiment: "not" flips the
sentiment of the phrase it modifies, "very" and "really" keep it, and "A but B" has the
sentiment of B (so "good but bad" and "bad but good" differ). The recursive network reads
each parse bottom-up (notes 003):

    h_leaf = Embedding(word),   h_parent = tanh(W [h_left; h_right] + b),   p = softmax(U h_root + c)

and all trees of a batch are composed level by level (one matrix product per tree level).
A bag-of-words model (the mean of the word vectors, then the same classifier) sees the same
words but not the structure, and cannot tell "good but bad" from "bad but good".

Run: python examples/recursive_sentiment.py   (under a minute on 2 cores)
"""

import pathlib

import numpy as np

import soma
import soma.nn.functional as F
import soma.optim
from soma import nn

try:  # small matrices: one BLAS thread is faster, and steadier on a busy machine
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:
    pass

DATA = pathlib.Path(__file__).parent / "data" / "toy_treebank.txt"
HIDDEN, EPOCHS, BATCH = 24, 30, 32


def parse(text, vocabulary):
    """'((the film) (is good))' -> nested pairs of token ids (words added to ``vocabulary``)."""
    tokens = text.replace("(", " ( ").replace(")", " ) ").split()

    def read(i):
        if tokens[i] != "(":
            return vocabulary.setdefault(tokens[i], len(vocabulary)), i + 1
        left, i = read(i + 1)
        right, i = read(i)
        return (left, right), i + 1  # skip ")"

    return read(0)[0]


def load():
    vocabulary, trees, labels = {}, [], []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, text = line.split("\t")
            trees.append(parse(text, vocabulary))
            labels.append(int(label))
    return trees, np.array(labels), vocabulary


class TreeClassifier(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.tree = nn.RecursiveNN(HIDDEN, num_embeddings=vocab_size)
        self.out = nn.Linear(HIDDEN, 2)

    def forward(self, trees):
        return self.out(self.tree(nn.TreeBatch.from_trees(trees))[0])


class BagOfWords(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.table = nn.Embedding(vocab_size, HIDDEN)
        self.hidden = nn.Linear(HIDDEN, HIDDEN)
        self.out = nn.Linear(HIDDEN, 2)

    def forward(self, trees):
        means = soma.stack([self.table(soma.tensor(np.array(nn.tree_leaves(t)))).mean(0) for t in trees])
        return self.out(self.hidden(means).tanh())


def train(model, trees, labels, rng):
    optimizer = soma.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(EPOCHS):
        order = rng.permutation(len(trees))
        for i in range(0, len(trees), BATCH):
            idx = order[i:i + BATCH]
            loss = F.cross_entropy(model([trees[j] for j in idx]), soma.tensor(labels[idx]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def accuracy(model, trees, labels):
    with soma.no_grad():
        return float((model(trees).argmax(-1).numpy() == labels).mean())


def main():
    soma.manual_seed(0)
    trees, labels, vocabulary = load()
    split = 1200
    print(f"{len(trees)} trees ({split} for training), vocabulary {len(vocabulary)}, "
          f"depth up to {max(nn.tree_depth(t) for t in trees)}")
    for name, model in (("recursive network", TreeClassifier(len(vocabulary))),
                        ("bag of words (mean, then an MLP)", BagOfWords(len(vocabulary)))):
        train(model, trees[:split], labels[:split], np.random.default_rng(0))
        print(f"{name:34s} train accuracy {accuracy(model, trees[:split], labels[:split]):.3f}  "
              f"test accuracy {accuracy(model, trees[split:], labels[split:]):.3f}")


if __name__ == "__main__":
    main()
