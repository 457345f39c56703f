"""The gradient sizes of soma's models and the ring all-reduce times they predict (docs/distributed.md).

    python docs/distributed_costs.py            # print the tables
    python docs/distributed_costs.py --write    # and rewrite them in docs/distributed.md

Every number comes from building the model and counting its parameters; the networks'
bandwidths and latencies are the stated assumptions in ``NETWORKS``.
"""

import argparse
import math
from pathlib import Path

import soma
from soma import nn
from soma.models import ConvAutoencoder, DigitsCNN, LeNet5

PAGE = Path(__file__).with_name("distributed.md")
BEGIN, END = "<!-- costs:begin (docs/distributed_costs.py --write) -->", "<!-- costs:end -->"
WORLDS = (2, 8, 64)
NETWORKS = {  # name: (bandwidth β in bytes/s, latency α in s per message)
    "10 GbE": (1.25e9, 30e-6),
    "100 Gb/s InfiniBand": (12.5e9, 2e-6),
}


def models():
    """name -> (model, what it is): soma's bundled models and the benchmarks' networks."""
    soma.manual_seed(0)
    return {
        "DigitsCNN": (DigitsCNN(), "soma.models, 8x8 digits"),
        "LeNet5": (LeNet5(), "soma.models, 28x28 MNIST"),
        "ConvAutoencoder": (ConvAutoencoder(), "soma.models, defaults"),
        "MLP 784-256-128-10": (
            nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)),
            "benchmarks/mlp.py",
        ),
        "LSTM 32->128": (nn.LSTM(32, 128, batch_first=True), "benchmarks/rnn.py"),
    }


def gradient_bytes(model):
    """Bytes all-reduced per step: every parameter that requires grad, at its dtype."""
    return sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)


def ring_allreduce_seconds(size, world, bandwidth, latency):
    """2(W-1) messages of S/W bytes per rank: 2(W-1)·α + 2(W-1)/W · S/β (reduce-scatter, then all-gather)."""
    if world == 1:
        return 0.0
    return 2 * (world - 1) * latency + 2 * (world - 1) / world * size / bandwidth


def recursive_doubling_seconds(size, world, bandwidth, latency):
    """log2(W) exchanges of the whole S (what MPI picks for small messages): ⌈log2 W⌉·(α + S/β)."""
    return math.ceil(math.log2(world)) * (latency + size / bandwidth) if world > 1 else 0.0


def _us(seconds):
    return f"{seconds * 1e6:,.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:,.2f} ms"


def tables():
    """The Markdown between the markers of docs/distributed.md."""
    rows = ["| model | parameters | gradient (float32) | from |", "| --- | ---: | ---: | --- |"]
    built = models()
    for name, (model, origin) in built.items():
        count = sum(p.numel() for p in model.parameters())
        rows.append(f"| {name} | {count:,} | {gradient_bytes(model) / 1e3:,.1f} kB | {origin} |")
    lines = rows + [""]
    for network, (bandwidth, latency) in NETWORKS.items():
        lines.append(f"Ring all-reduce per step on {network} (β = {bandwidth / 1e9:g} GB/s, α = {latency * 1e6:g} µs), "
                     "latency term + bandwidth term = total; in brackets recursive doubling:")
        lines.append("")
        lines.append("| model | " + " | ".join(f"W = {w}" for w in WORLDS) + " |")
        lines.append("| --- | " + " | ".join("---:" for _ in WORLDS) + " |")
        for name, (model, _) in built.items():
            size = gradient_bytes(model)
            cells = []
            for w in WORLDS:
                lat = 2 * (w - 1) * latency
                total = ring_allreduce_seconds(size, w, bandwidth, latency)
                doubling = recursive_doubling_seconds(size, w, bandwidth, latency)
                cells.append(f"{_us(lat)} + {_us(total - lat)} = **{_us(total)}** ({_us(doubling)})")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def rewrite(page=PAGE):
    text = page.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    page.write_text(f"{head}{BEGIN}\n{tables()}{END}{tail}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the tables in docs/distributed.md")
    if parser.parse_args().write:
        rewrite()
    print(tables())
