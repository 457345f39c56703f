"""Backpropagation by hand, done by soma: the 2-2-2 sigmoid network of notes 004.

Builds the network with the notes' weights, asks soma.explain for one training step
written out (forward sums, loss terms, every chain-rule factor, every update), shows
that the numbers are exactly autograd's, and draws the computational graph.

Run:  python examples/explain_backprop.py [--digits 6] [--format text|markdown|latex]
"""

import argparse
import shutil

import numpy as np

import soma
from soma import explain, nn


def mazur_network():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid()).double()
    with soma.no_grad():
        model[0].weight._array[...] = [[0.15, 0.20], [0.25, 0.30]]
        model[0].bias._array[...] = 0.35
        model[2].weight._array[...] = [[0.40, 0.45], [0.50, 0.55]]
        model[2].bias._array[...] = 0.60
    model[0].bias.requires_grad_(False)  # the notes keep their shared biases fixed
    model[2].bias.requires_grad_(False)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=6)
    parser.add_argument("--format", choices=["text", "markdown", "latex"], default="text")
    args = parser.parse_args()

    model = mazur_network()
    x, t = [0.05, 0.10], [0.01, 0.99]
    report = explain.step(model, x, t, nn.MSELoss(), lr=0.5, digits=args.digits)
    print(
        {"text": report.to_text, "markdown": report.to_markdown, "latex": report.to_latex}[
            args.format
        ]()
    )

    # the same step with plain autograd gives the very same floats
    out = model(soma.tensor(np.array(x)))
    loss = nn.MSELoss()(out, soma.tensor(np.array(t)))
    loss.backward()
    assert report.values["dE/dw5"] == model[2].weight.grad._array[0, 0]
    assert report.values["E"] == loss.item()
    print("report.values equal autograd's results exactly")

    graph = explain.graph(loss, values=True, grads=True, names=dict(model.named_parameters()))
    if shutil.which("dot"):
        print("computational graph written to", graph.save("explain_backprop_graph.svg"))
    else:
        print(graph.to_dot())


if __name__ == "__main__":
    main()
