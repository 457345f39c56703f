"""The playground's toy data sets and input features (TensorFlow Playground's, written for soma).

Every data set lives on the square [-6, 6]²; classification labels are ±1 (the output
neuron is a tanh), regression targets lie in [-1, 1] (the output neuron is linear).

- ``circle``: a disc of one class inside a ring of the other;
- ``xor``: the four quadrants, label = sign(x₁·x₂);
- ``gauss``: two Gaussian clouds around (2, 2) and (−2, −2);
- ``spiral``: two interleaved spirals;
- ``reg-plane``: t = (x₁ + x₂)/10, a tilted plane;
- ``reg-gauss``: bumps of alternating sign.

``noise`` (0-50, percent) jitters the points (and the regression targets); the same
``seed`` always gives the same points.
"""

import numpy as np

__all__ = ["DATASETS", "CLASSIFICATION", "REGRESSION", "FEATURES", "make", "split", "features", "DOMAIN"]

DOMAIN = 6.0
CLASSIFICATION = ("circle", "xor", "gauss", "spiral")
REGRESSION = ("reg-plane", "reg-gauss")
DATASETS = CLASSIFICATION + REGRESSION

# name → (label shown on the page, the NumPy expression in x1, x2 an exported script writes, its function)
FEATURES = {
    "x1": ("X₁", "x1", lambda a, b: a),
    "x2": ("X₂", "x2", lambda a, b: b),
    "x1sq": ("X₁²", "x1 * x1", lambda a, b: a * a),
    "x2sq": ("X₂²", "x2 * x2", lambda a, b: b * b),
    "x1x2": ("X₁X₂", "x1 * x2", lambda a, b: a * b),
    "sinx1": ("sin(X₁)", "np.sin(x1)", lambda a, b: np.sin(a)),
    "sinx2": ("sin(X₂)", "np.sin(x2)", lambda a, b: np.sin(b)),
}


def _circle(rng, n, noise):
    radius = 5.0
    r = np.concatenate([rng.uniform(0, radius * 0.5, n // 2), rng.uniform(radius * 0.7, radius, n - n // 2)])
    angle = rng.uniform(0, 2 * np.pi, n)
    points = np.stack([r * np.cos(angle), r * np.sin(angle)], 1)
    points += rng.uniform(-radius, radius, (n, 2)) * noise
    labels = np.where(np.hypot(points[:, 0], points[:, 1]) < radius * 0.5, 1.0, -1.0)
    return points, labels


def _xor(rng, n, noise):
    points = rng.uniform(-5, 5, (n, 2))
    points += np.where(points > 0, 0.3, -0.3)  # keep the points off the axes
    labels = np.where(points[:, 0] * points[:, 1] >= 0, 1.0, -1.0)
    points += rng.uniform(-5, 5, (n, 2)) * noise
    return points, labels


def _gauss(rng, n, noise):
    spread = 0.5 + 3.5 * noise / 0.5
    half = n // 2
    centers = np.concatenate([np.tile([2.0, 2.0], (half, 1)), np.tile([-2.0, -2.0], (n - half, 1))])
    points = centers + rng.normal(0, np.sqrt(spread), (n, 2))
    labels = np.concatenate([np.ones(half), -np.ones(n - half)])
    return points, labels


def _spiral(rng, n, noise):
    half = n // 2
    t = np.concatenate([np.arange(half), np.arange(n - half)]) / half
    delta = np.concatenate([np.zeros(half), np.full(n - half, np.pi)])
    r = t * 5.0
    angle = 1.75 * t * 2 * np.pi + delta
    points = np.stack([r * np.sin(angle), r * np.cos(angle)], 1)
    points += rng.uniform(-1, 1, (n, 2)) * noise * 5
    labels = np.concatenate([np.ones(half), -np.ones(n - half)])
    return points, labels


def _reg_plane(rng, n, noise):
    points = rng.uniform(-DOMAIN, DOMAIN, (n, 2))
    targets = (points[:, 0] + points[:, 1]) / (2 * DOMAIN) + rng.uniform(-1, 1, n) * noise
    return points, np.clip(targets, -1, 1)


def _reg_gauss(rng, n, noise):
    points = rng.uniform(-DOMAIN, DOMAIN, (n, 2))
    bumps = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]
    targets = np.zeros(n)
    for cx, cy, sign in bumps:
        targets += sign * np.exp(-((points[:, 0] - cx) ** 2 + (points[:, 1] - cy) ** 2) / 2)
    targets += rng.uniform(-1, 1, n) * noise
    return points, np.clip(targets, -1, 1)


_MAKERS = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
    "reg-plane": _reg_plane,
    "reg-gauss": _reg_gauss,
}


def make(name, n=500, noise=0, seed=0):
    """``(points (n, 2), targets (n,))`` of data set ``name`` with ``noise`` percent (0-50)."""
    if name not in _MAKERS:
        raise ValueError(f"playground data: unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    rng = np.random.default_rng(seed)
    points, targets = _MAKERS[name](rng, n, noise / 100)
    return points.astype(np.float64), targets.astype(np.float64)


def split(points, targets, train_ratio, seed=0):
    """Shuffle and cut into ``(train_x, train_t), (test_x, test_t)``; ``train_ratio`` in percent."""
    order = np.random.default_rng(seed + 1).permutation(len(points))
    cut = max(1, min(len(points) - 1, round(len(points) * train_ratio / 100)))
    train, test = order[:cut], order[cut:]
    return (points[train], targets[train]), (points[test], targets[test])


def features(points, names):
    """The input columns ``names`` (keys of ``FEATURES``) computed from ``points`` (n, 2)."""
    a, b = points[:, 0], points[:, 1]
    return np.stack([FEATURES[name][2](a, b) for name in names], 1)
