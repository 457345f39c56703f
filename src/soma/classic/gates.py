"""Logic gates as neural networks: set by hand, learned, and the one that one layer cannot learn.

    neuron:  a = f(b + Σᵢ wᵢxᵢ),   f = step (f(z) = 1 if z ≥ 0) or sigmoid σ

Notes 000 ("Construct a single layer neural network for implementing OR, AND, NOT"):
    AND a = f(−1.5 + x₁ + x₂),   OR a = f(−0.5 + x₁ + x₂),   NOT a = f(1 − 2x₁)
    XNOR: a₁ = f(0.5 − x₁ − x₂) (x̄₁·x̄₂), a₂ = AND, a₃ = OR(a₁, a₂)
Notes 004 ("Example: XOR Classification", a network designed by hand):
    h₁ = σ(20x₁ + 20x₂ − 10) (OR),  h₂ = σ(−20x₁ − 20x₂ + 30) (NAND),  y = σ(20h₁ + 20h₂ − 30) (AND)

XOR is not linearly separable: no line puts (0,1), (1,0) on one side and (0,0),
(1,1) on the other, so a single neuron gets at most 3 of the 4 right
(:func:`best_single_layer_accuracy`) and the perceptron rule never converges on it.
One hidden layer suffices (:func:`train_xor_mlp`).

Every network here is an ordinary soma ``nn.Sequential`` of ``nn.Linear`` layers and
activations, so ``state_dict()``, hooks and ``soma.explain`` work on it.
"""

import itertools
import warnings

import numpy as np

import soma
from soma import nn, optim
from soma.classic._validation import ConvergenceWarning
from soma.classic.perceptron import Perceptron

__all__ = [
    "and_gate",
    "or_gate",
    "not_gate",
    "xnor_network",
    "xor_network",
    "step_neuron",
    "truth_table",
    "xor_data",
    "train_xor_mlp",
    "best_single_layer_accuracy",
    "single_layer_xor",
]


def _linear(weight, bias, dtype):
    """An ``nn.Linear`` with the given weight ``(out, in)`` and bias ``(out,)``."""
    weight = np.atleast_2d(np.asarray(weight, dtype=dtype))
    layer = nn.Linear(weight.shape[1], weight.shape[0], dtype=dtype)
    with soma.no_grad():
        layer.weight.copy_(soma.tensor(weight))
        layer.bias.copy_(soma.tensor(np.asarray(bias, dtype=dtype).reshape(-1)))
    return layer


def step_neuron(weights, bias, dtype=soma.float32):
    """One step neuron a = f(b + Σᵢ wᵢxᵢ) as ``Sequential(Linear(n, 1), Step())``."""
    return nn.Sequential(_linear([weights], [bias], dtype), nn.Step())


def and_gate(dtype=soma.float32):
    """AND = f(−1.5 + x₁ + x₂) (notes 000)."""
    return step_neuron([1.0, 1.0], -1.5, dtype)


def or_gate(dtype=soma.float32):
    """OR = f(−0.5 + x₁ + x₂) (notes 000)."""
    return step_neuron([1.0, 1.0], -0.5, dtype)


def not_gate(dtype=soma.float32):
    """NOT = f(1 − 2x₁) (notes 000)."""
    return step_neuron([-2.0], 1.0, dtype)


def xnor_network(dtype=soma.float32):
    """XNOR from three step neurons (notes 000): a₃ = OR(x̄₁·x̄₂, x₁·x₂).

    Hidden layer: a₁ = f(0.5 − x₁ − x₂), a₂ = f(−1.5 + x₁ + x₂); output a₃ = f(−0.5 + a₁ + a₂).

    Example:
        >>> truth_table(xnor_network())[1]
        array([1., 0., 0., 1.], dtype=float32)
    """
    hidden = _linear([[-1.0, -1.0], [1.0, 1.0]], [0.5, -1.5], dtype)
    return nn.Sequential(hidden, nn.Step(), _linear([[1.0, 1.0]], [-0.5], dtype), nn.Step())


def xor_network(dtype=soma.float32):
    """The notes 004 hand-set sigmoid XOR network: OR and NAND hidden neurons, AND output.

    h₁ = σ(20x₁ + 20x₂ − 10), h₂ = σ(−20x₁ − 20x₂ + 30), y = σ(20h₁ + 20h₂ − 30).

    Example:
        >>> truth_table(xor_network())[1].round(4)
        array([0., 1., 1., 0.], dtype=float32)
    """
    hidden = _linear([[20.0, 20.0], [-20.0, -20.0]], [-10.0, 30.0], dtype)
    return nn.Sequential(
        hidden, nn.Sigmoid(), _linear([[20.0, 20.0]], [-30.0], dtype), nn.Sigmoid()
    )


def xor_data(dtype=soma.float32):
    """The four boolean inputs in table order and their XOR: ``X (4, 2)``, ``y (4,)``."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    return X, np.logical_xor(X[:, 0], X[:, 1]).astype(dtype)


def truth_table(network, n_inputs=None):
    """Run ``network`` on every boolean input; returns ``(inputs, outputs)`` as NumPy arrays.

    Rows are in binary counting order ((0, 0), (0, 1), (1, 0), (1, 1) for two inputs);
    ``outputs`` has one value per row (the network's single output).
    """
    if n_inputs is None:
        n_inputs = next(m for m in network.modules() if isinstance(m, nn.Linear)).in_features
    dtype = next(iter(network.parameters())).dtype
    inputs = np.array(list(itertools.product((0, 1), repeat=n_inputs)), dtype=dtype)
    with soma.no_grad():
        outputs = network(soma.tensor(inputs)).numpy()
    return inputs, outputs.reshape(len(inputs), -1).squeeze(1)


def train_xor_mlp(hidden=4, epochs=500, lr=0.1, activation=nn.Tanh, dtype=soma.float32):
    """Learn XOR with a 2-``hidden``-1 MLP from random initialization (soma's global generator).

    Model ``Sequential(Linear(2, hidden), activation(), Linear(hidden, 1), Sigmoid())``,
    loss ``nn.BCELoss``, optimizer ``optim.Adam(lr)``, full batch (the 4 rows).

    Returns:
        ``(model, losses)``: the trained network and the loss after each epoch.

    Example:
        >>> _ = soma.manual_seed(0)
        >>> model, losses = train_xor_mlp()
        >>> truth_table(model)[1].round()
        array([0., 1., 1., 0.], dtype=float32)
    """
    X, y = xor_data(dtype)
    inputs, targets = soma.tensor(X), soma.tensor(y[:, None])
    model = nn.Sequential(
        nn.Linear(2, hidden, dtype=dtype),
        activation(),
        nn.Linear(hidden, 1, dtype=dtype),
        nn.Sigmoid(),
    )
    optimizer = optim.Adam(model.parameters(), lr=lr)
    criterion = nn.BCELoss()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def best_single_layer_accuracy(X, y, resolution=360):
    """The best accuracy of any single step neuron f(w·x + b) on (X, y), by exhaustive search.

    Every line through the unit square is tried: ``resolution`` directions w = (cos φ, sin φ)
    and, for each, every threshold between consecutive projections w·x (the only places
    where the predictions change), both orientations. All candidates are evaluated at
    once as one array. For XOR the answer is 3/4; for AND and OR it is 1.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).reshape(-1).astype(bool)
    angles = np.linspace(0, 2 * np.pi, resolution, endpoint=False)
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (A, 2)
    projections = directions @ X.T  # (A, N)
    ends = np.sort(projections, axis=1)
    cuts = np.concatenate([ends[:, :1] - 1, (ends[:, 1:] + ends[:, :-1]) / 2, ends[:, -1:] + 1], 1)
    fires = projections[:, None, :] >= cuts[:, :, None]  # (A, cuts, N): fire where w·x ≥ −b
    accuracy = (fires == y).mean(axis=2)
    return float(np.maximum(accuracy, 1 - accuracy).max())  # 1 − accuracy: the flipped neuron


def single_layer_xor(epochs=100, lr=0.5, steps=2000):
    """Why one layer cannot compute XOR, three ways. Returns a dict of what happened.

    - ``perceptron_converged`` (False) and ``perceptron_errors``: the perceptron rule
      on XOR makes mistakes in every epoch.
    - ``best_accuracy`` (0.75): no single step neuron beats 3/4
      (:func:`best_single_layer_accuracy`).
    - ``sigmoid_outputs``: a single sigmoid neuron trained by gradient descent on BCE
      ends at p = 0.5 for every input (w → 0, b → 0, the best it can do under BCE).
    """
    X, y = xor_data(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        perceptron = Perceptron(2).fit(X, y, epochs=epochs)
    neuron = nn.Sequential(nn.Linear(2, 1, dtype=np.float64), nn.Sigmoid())
    optimizer = optim.SGD(neuron.parameters(), lr=lr)
    inputs, targets = soma.tensor(X), soma.tensor(y[:, None])
    for _ in range(steps):
        optimizer.zero_grad()
        nn.BCELoss()(neuron(inputs), targets).backward()
        optimizer.step()
    with soma.no_grad():
        outputs = neuron(inputs).numpy()[:, 0]
    return {
        "perceptron_converged": perceptron.converged_,
        "perceptron_errors": perceptron.history_["errors"],
        "best_accuracy": best_single_layer_accuracy(X, y),
        "sigmoid_outputs": outputs,
    }
