"""CNNs: LeNet-5 (batch 64, 1×28×28) and a small VGG-style net (batch 32, 3×32×32).

Training step = forward, cross-entropy, backward, SGD update; inference = forward
under no_grad. The same architecture and initial weights in both frameworks.
"""

import numpy as np

from benchmarks.harness import Workload, model_flops


def _lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def _vgg(nn):
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def _data(batch, shape):
    rng = np.random.default_rng(0)
    return rng.standard_normal((batch, *shape)).astype(np.float32), rng.integers(0, 10, batch)


def _soma(build, batch, shape, train):
    def builder():
        import soma
        import soma.nn as nn
        import soma.nn.functional as F
        import soma.optim

        soma.manual_seed(0)
        model = build(nn)
        x, y = _data(batch, shape)
        x, y = soma.tensor(x), soma.tensor(y)
        optimizer = soma.optim.SGD(model.parameters(), lr=0.01)

        def step():
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()

        def infer():
            with soma.no_grad():
                model(x)

        return step if train else infer

    return builder


def _torch(build, batch, shape, train):
    def builder():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        torch.manual_seed(0)
        model = build(nn)
        x, y = _data(batch, shape)
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

        def step():
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()

        def infer():
            with torch.no_grad():
                model(x)

        return step if train else infer

    return builder


def workloads():
    import soma.nn as nn

    cases = [("lenet5 b64", _lenet, 64, (1, 28, 28)), ("vgg-small b32", _vgg, 32, (3, 32, 32))]
    return [
        Workload(f"cnn {name} {'train step' if train else 'inference'}",
                 soma=_soma(build, batch, shape, train), torch=_torch(build, batch, shape, train),
                 flops=model_flops(build(nn), shape, batch, train))
        for name, build, batch, shape in cases
        for train in (True, False)
    ]
