"""The playground's network, exported as a soma script or as a safetensors file.

The script rebuilds the same ``nn.Sequential`` (layer by layer, from each module's
repr), computes the same input features and holds the weights as Python floats
(``repr`` round-trips a float64 exactly), so running it gives the page's outputs.
The safetensors file is ``model.state_dict()`` with the settings in its metadata.
"""

import json
from dataclasses import asdict

from soma.io import save_bytes
from soma.playground.data import FEATURES

__all__ = ["script", "safetensors"]

_TEMPLATE = '''"""A network trained in the soma playground (epoch {epoch}).

Data set {dataset}; inputs {features}; hidden layers {hidden}; {activation}; {optimizer}, η = {lr}.
Run it with `python {filename}`: it prints the network's output at a few points.
"""

import numpy as np

import soma
from soma import nn


def features(points):
    """The network's inputs from points (n, 2) of the plane: {features}."""
    x1, x2 = points[:, 0], points[:, 1]
    return np.stack([{expressions}], 1)


model = nn.Sequential(
{layers}
).double()
state = {state}
model.load_state_dict({{name: soma.tensor(value, dtype=soma.float64) for name, value in state.items()}})
model.eval()

if __name__ == "__main__":
    points = np.array([[-3.0, -3.0], [-3.0, 3.0], [3.0, -3.0], [3.0, 3.0], [0.0, 0.0]])
    with soma.no_grad():
        outputs = model(soma.tensor(features(points))).numpy()[:, 0]
    for point, output in zip(points, outputs):
        print(f"x1 = {{point[0]:5.1f}}, x2 = {{point[1]:5.1f}}: output {{output:+.6f}}")
'''


def _state(model):
    lines = [f"    {name!r}: {value.detach().numpy().tolist()!r}," for name, value in model.state_dict().items()]
    return "{\n" + "\n".join(lines) + "\n}"


def script(session, filename="playground_model.py"):
    """Python source that rebuilds ``session``'s network with its current weights."""
    s = session.settings
    return _TEMPLATE.format(
        epoch=session.epoch,
        dataset=s.dataset,
        features=", ".join(s.features),
        hidden=s.hidden,
        activation=s.activation,
        optimizer=s.optimizer,
        lr=s.learning_rate,
        filename=filename,
        expressions=", ".join(FEATURES[name][1] for name in s.features),
        layers="\n".join(f"    nn.{module!r}," for module in session.model),
        state=_state(session.model),
    )


def safetensors(session):
    """The safetensors bytes of ``session.model.state_dict()``; the settings go in the metadata."""
    metadata = {"soma.playground.settings": json.dumps(asdict(session.settings)), "epoch": str(session.epoch)}
    return save_bytes(session.model.state_dict(), metadata=metadata)
