"""One page's playground: its data, its soma network, its optimizer and its training state.

The network is TensorFlow Playground's: the chosen input features, hidden ``Linear``
layers each followed by the chosen activation (and ``Dropout`` when asked for), and one
output neuron: ``tanh`` for classification (labels ±1), linear for regression. The loss
is the notes' E = ½(out − t)², averaged over a batch, plus λ·Σ|w| (L1) or λ·Σw² (L2)
over the weights. Everything is float64 and runs in soma.

A session is not thread-safe; the server runs every session's work on one worker
thread (soma's grad mode and random generator are process-wide).
"""

import base64
from dataclasses import asdict, dataclass, field, replace

import numpy as np

import soma
from soma import nn, optim
from soma.explain.losses import half_squared_error
from soma.playground import data as datasets

__all__ = ["Settings", "Session", "GRID", "ACTIVATION_MODULES"]

GRID = 40  # heatmaps are GRID × GRID samples of [-6, 6]²
HISTORY = 2000  # loss-curve points kept (older ones are thinned out)

ACTIVATION_MODULES = {
    "step": nn.Step,
    "linear": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "elu": nn.ELU,
    "swish": nn.SiLU,  # Swish with β = 1: x·σ(x)
}

_REBUILD = {"features", "hidden", "activation", "dropout", "seed", "dataset"}  # new weights
_NEW_DATA = {"dataset", "noise", "train_ratio", "seed"}


@dataclass
class Settings:
    dataset: str = "circle"
    noise: int = 0
    train_ratio: int = 50
    batch_size: int = 10
    features: list = field(default_factory=lambda: ["x1", "x2"])
    hidden: list = field(default_factory=lambda: [4, 2])
    activation: str = "tanh"
    learning_rate: float = 0.03
    optimizer: str = "sgd"
    regularization: str = "none"
    reg_rate: float = 0.0
    dropout: float = 0.0
    seed: int = 0

    @property
    def problem(self):
        return "regression" if self.dataset in datasets.REGRESSION else "classification"


def _encode_map(values):
    """A heatmap as base64 of int8 values round(127·clip(v, −1, 1)), row by row from the top."""
    quantized = np.round(np.clip(np.nan_to_num(values), -1, 1) * 127).astype(np.int8)
    return base64.b64encode(quantized.tobytes()).decode("ascii")


def _grid_points():
    axis = np.linspace(-datasets.DOMAIN, datasets.DOMAIN, GRID)
    x1, x2 = np.meshgrid(axis, axis[::-1])  # first row is the top of the picture (x2 = 6)
    return np.stack([x1.reshape(-1), x2.reshape(-1)], 1)


class Session:
    """The state behind one page. Methods return plain dicts the server sends as JSON."""

    def __init__(self, settings=None):
        self.settings = settings or Settings()
        self.playing = False
        self._data_version = 0
        self._data_sent = -1
        self._history_sent = 0
        self._new_data()
        self._build()

    # ------------------------------------------------------------ building
    def _new_data(self):
        s = self.settings
        points, targets = datasets.make(s.dataset, 500 if s.dataset != "spiral" else 600, s.noise, s.seed)
        (self.train_points, self.train_t), (self.test_points, self.test_t) = datasets.split(
            points, targets, s.train_ratio, s.seed
        )
        self._data_version += 1
        self._refresh_inputs()

    def _refresh_inputs(self):
        names = self.settings.features
        self.train_x = datasets.features(self.train_points, names)
        self.test_x = datasets.features(self.test_points, names)
        self.grid_x = datasets.features(_grid_points(), names)

    def _build(self):
        s = self.settings
        soma.manual_seed(s.seed)
        layers, width = [], len(s.features)
        for size in s.hidden:
            layers += [nn.Linear(width, size), ACTIVATION_MODULES[s.activation]()]
            if s.dropout > 0:
                layers.append(nn.Dropout(s.dropout))
            width = size
        layers.append(nn.Linear(width, 1))
        if s.problem == "classification":
            layers.append(nn.Tanh())
        self.model = nn.Sequential(*layers).double()
        self.linears = [m for m in self.model if isinstance(m, nn.Linear)]
        self.rng = np.random.default_rng(s.seed + 2)
        self.epoch = 0
        self.history = []
        self._history_sent = 0
        self._history_reset = True
        self._make_optimizer()
        self._record_losses()

    def _make_optimizer(self):
        s, params = self.settings, self.model.parameters()
        if s.optimizer == "adam":
            self.optimizer = optim.Adam(params, lr=s.learning_rate)
        else:
            self.optimizer = optim.SGD(params, lr=s.learning_rate, momentum=0.9 if s.optimizer == "momentum" else 0)

    def configure(self, changes):
        """Apply the ``config`` fields that are not None; returns the names that changed."""
        changes = {k: v for k, v in changes.items() if v is not None and k != "type"}
        if "features" in changes and len(set(changes["features"])) != len(changes["features"]):
            raise ValueError("features: each feature may be chosen once")
        changed = {k for k, v in changes.items() if getattr(self.settings, k) != v}
        if not changed:
            return changed
        self.settings = replace(self.settings, **changes)
        if changed & _NEW_DATA:
            self._new_data()
        elif "features" in changed:
            self._refresh_inputs()
        if changed & _REBUILD:
            self._build()
        elif changed & {"learning_rate", "optimizer"}:
            self._make_optimizer()
        return changed

    def reset(self):
        self._build()

    # ------------------------------------------------------------ training
    def _loss(self, x, t):
        out = self.model(soma.tensor(x))
        return half_squared_error(out, soma.tensor(t.reshape(-1, 1))) * (1.0 / len(x))

    def _penalty(self):
        s = self.settings
        if s.regularization == "none" or s.reg_rate == 0:
            return None
        weights = [m.weight for m in self.linears]
        return (nn.l1_penalty if s.regularization == "l1" else nn.l2_penalty)(weights, s.reg_rate)

    def train_epoch(self):
        """One pass over the training points in shuffled batches; then the losses are recorded."""
        self.model.train()
        order = self.rng.permutation(len(self.train_x))
        size = self.settings.batch_size
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            self.optimizer.zero_grad()
            loss = self._loss(self.train_x[batch], self.train_t[batch])
            penalty = self._penalty()
            if penalty is not None:
                loss = loss + penalty
            loss.backward()
            self.optimizer.step()
        self.epoch += 1
        self._record_losses()

    def _evaluate(self, x, t):
        self.model.eval()
        with soma.no_grad():
            return float(self._loss(x, t).item()) if len(x) else float("nan")

    def _record_losses(self):
        self.history.append(
            [self.epoch, self._evaluate(self.train_x, self.train_t), self._evaluate(self.test_x, self.test_t)]
        )
        if len(self.history) > HISTORY:  # keep the first and every other point after it
            self.history = self.history[:1] + self.history[1::2]
            self._history_reset = True

    @property
    def train_loss(self):
        return self.history[-1][1]

    @property
    def test_loss(self):
        return self.history[-1][2]

    # ------------------------------------------------------------ pictures
    def activations(self, x):
        """Each hidden layer's activations and the output on inputs ``x`` (eval mode, no grad)."""
        self.model.eval()
        layers, current = [], soma.tensor(x)
        with soma.no_grad():
            modules = list(self.model)
            for index, module in enumerate(modules):
                current = module(current)
                following = modules[index + 1] if index + 1 < len(modules) else None
                if following is None or isinstance(following, nn.Linear):
                    layers.append(current.numpy())
        return layers[:-1], layers[-1][:, 0]

    def heatmaps(self):
        hidden, output = self.activations(self.grid_x)
        scale = np.maximum(np.abs(self.grid_x).max(0), 1e-12)
        return {
            "output": _encode_map(output),
            "neurons": [[_encode_map(layer[:, j]) for j in range(layer.shape[1])] for layer in hidden],
            "features": [_encode_map(self.grid_x[:, i] / scale[i]) for i in range(self.grid_x.shape[1])],
        }

    def network(self):
        return {
            "layers": [len(self.settings.features), *self.settings.hidden, 1],
            "weights": [m.weight.detach().numpy().tolist() for m in self.linears],
            "biases": [m.bias.detach().numpy().tolist() for m in self.linears],
        }

    def snapshot(self):
        """Everything the page draws; the points and old loss-curve entries only when new to it."""
        message = {
            "type": "state",
            "epoch": self.epoch,
            "playing": self.playing,
            "train_loss": self.train_loss,
            "test_loss": self.test_loss,
            "settings": asdict(self.settings) | {"problem": self.settings.problem},
            "network": self.network(),
            "grid": GRID,
            "heatmaps": self.heatmaps(),
            "history_reset": self._history_reset,
            "history": self.history if self._history_reset else self.history[self._history_sent :],
        }
        self._history_reset, self._history_sent = False, len(self.history)
        if self._data_sent < 0:  # the first picture: a thumbnail of every data set for its button
            message["previews"] = {
                name: np.column_stack(datasets.make(name, 150, 0, 0)).round(2).tolist() for name in datasets.DATASETS
            }
        if self._data_sent != self._data_version:
            message["points"] = {
                "train": np.column_stack([self.train_points, self.train_t]).round(4).tolist(),
                "test": np.column_stack([self.test_points, self.test_t]).round(4).tolist(),
            }
            self._data_sent = self._data_version
        return message

    # ------------------------------------------------------------ editing
    def _linear(self, layer, neuron):
        if layer >= len(self.linears):
            raise ValueError(f"layer {layer}: the network has layers 0..{len(self.linears) - 1}")
        linear = self.linears[layer]
        if neuron >= linear.out_features:
            raise ValueError(f"neuron {neuron}: layer {layer} has neurons 0..{linear.out_features - 1}")
        return linear

    def set_weight(self, layer, neuron, source, value):
        """Set weight[neuron, source] of Linear ``layer`` (``source`` −1: its bias) to ``value``."""
        linear = self._linear(layer, neuron)
        if source >= linear.in_features:
            raise ValueError(f"input {source}: layer {layer} has inputs 0..{linear.in_features - 1}")
        name = "bias" if source < 0 else "weight"
        array = getattr(linear, name).detach().numpy().copy()
        array[(neuron,) if source < 0 else (neuron, source)] = value
        linear.load_state_dict({name: array}, strict=False)  # in place: the optimizer keeps its parameters
        self._record_losses()

    def explain_model(self):
        """The network without its Dropout layers (the same modules): what explain sees in eval mode."""
        return nn.Sequential(*[m for m in self.model if not isinstance(m, nn.Dropout)])
