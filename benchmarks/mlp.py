"""MLP 784-256-128-10 (ReLU, cross-entropy, SGD momentum 0.9, batch 128, float32).

Two workloads: one training step (zero_grad, forward, loss, backward, optimizer
step) and inference (forward under no_grad). The NumPy column is the same step
written by hand with no framework: the floor soma's overhead is measured against.
"""

import numpy as np

from benchmarks.harness import Workload, model_flops

SIZES = (784, 256, 128, 10)
BATCH = 128
LR = 0.01


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    return x, y


def _soma_model():
    import soma
    import soma.nn as nn

    soma.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def _torch_model():
    import torch

    torch.manual_seed(0)
    nn = torch.nn
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def _train_soma():
    import soma
    import soma.nn.functional as F
    import soma.optim as optim

    model = _soma_model()
    opt = optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    x, y = _data()
    x, y = soma.from_numpy(x), soma.from_numpy(y)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def _train_torch():
    import torch

    model = _torch_model()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    x, y = _data()
    x, y = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def _numpy_params():
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return params


def _train_numpy():
    params = _numpy_params()
    buffers = [np.zeros_like(p) for p in params]
    x, y = _data()
    rows = np.arange(BATCH)

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = x @ w1.T + b1
        a1 = np.maximum(h1, 0)
        h2 = a1 @ w2.T + b2
        a2 = np.maximum(h2, 0)
        z = a2 @ w3.T + b3
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        p[rows, y] -= 1
        g3 = p / BATCH
        grads = [None] * 6
        grads[4], grads[5] = g3.T @ a2, g3.sum(0)
        g2 = (g3 @ w3) * (h2 > 0)
        grads[2], grads[3] = g2.T @ a1, g2.sum(0)
        g1 = (g2 @ w2) * (h1 > 0)
        grads[0], grads[1] = g1.T @ x, g1.sum(0)
        for param, buf, grad in zip(params, buffers, grads):
            buf *= 0.9
            buf += grad
            param -= LR * buf

    return step


def _infer_soma():
    import soma

    model = _soma_model()
    x = soma.from_numpy(_data()[0])

    def step():
        with soma.no_grad():
            model(x)

    return step


def _infer_torch():
    import torch

    model = _torch_model()
    x = torch.from_numpy(_data()[0])

    def step():
        with torch.no_grad():
            model(x)

    return step


def _infer_numpy():
    w1, b1, w2, b2, w3, b3 = _numpy_params()
    x = _data()[0]

    def step():
        a1 = np.maximum(x @ w1.T + b1, 0)
        a2 = np.maximum(a1 @ w2.T + b2, 0)
        return a2 @ w3.T + b3

    return step


def workloads():
    def flops(train):
        return model_flops(_soma_model(), (SIZES[0],), BATCH, train)

    return [
        Workload("mlp 784-256-128-10 train step (b=128)", _train_soma, _train_torch, _train_numpy, flops=flops(True)),
        Workload("mlp 784-256-128-10 inference (b=128)", _infer_soma, _infer_torch, _infer_numpy,
                 flops=flops(False)),
    ]
