"""Logic gates as networks: the notes' hand-set neurons, XOR learned, and why one layer fails.

Notes 000 builds AND, OR, NOT from one step neuron and XNOR from three; notes 004
designs an XOR network by hand with sigmoid neurons (weights ±20, biases −10/30/−30).
A 2-4-1 MLP then learns XOR from random weights, while a single layer cannot.
"""

import numpy as np

import soma
from soma.classic import gates


def show(name, network):
    inputs, outputs = gates.truth_table(network)
    rows = ", ".join(
        f"{tuple(int(v) for v in x)} → {y:.6g}" for x, y in zip(inputs, outputs, strict=True)
    )
    print(f"{name:5s} {rows}")


print("hand-set networks (notes 000 and 004):")
show("AND", gates.and_gate())
show("OR", gates.or_gate())
show("NOT", gates.not_gate())
show("XNOR", gates.xnor_network())
show("XOR", gates.xor_network(dtype=soma.float64))

net = gates.xor_network(dtype=soma.float64)
X, y = gates.xor_data(soma.float64)
with soma.no_grad():
    hidden = net[1](net[0](soma.tensor(X))).numpy()
for name, column in (("h1 (OR-like)  ", hidden[:, 0]), ("h2 (NAND-like)", hidden[:, 1])):
    print(f"  XOR hidden {name}:", "  ".join(f"{v:.6g}" for v in column))

soma.manual_seed(0)
model, losses = gates.train_xor_mlp(hidden=4, epochs=500, lr=0.1)
print("\nMLP 2-4-1 (tanh, sigmoid) from random weights, Adam lr 0.1, BCE:")
for epoch in (1, 50, 100, 200, 500):
    print(f"  epoch {epoch:3d}: loss {losses[epoch - 1]:.5f}")
show("learned XOR", model)

result = gates.single_layer_xor()
print("\none layer cannot:")
print(
    f"  perceptron rule: converged = {result['perceptron_converged']}, "
    f"mistakes per epoch {result['perceptron_errors'][:10]} ..."
)
print(f"  best accuracy of any single step neuron on XOR: {result['best_accuracy']:.2f} (3 of 4)")
print(f"  a sigmoid neuron trained on BCE ends at p = {np.round(result['sigmoid_outputs'], 4)}")
