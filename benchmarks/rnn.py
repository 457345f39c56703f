"""Recurrent layers: LSTM and GRU (input 32, hidden 128, seq 50, batch 32, batch_first).

Training step = forward, MSE loss on the outputs, backward, SGD step; inference =
forward under no_grad. soma runs each layer as one fused kernel with a hand-written
backward through time; PyTorch runs its native CPU kernels.
"""

import numpy as np

from benchmarks.harness import Workload

INPUT, HIDDEN, SEQ, BATCH = 32, 128, 50, 32


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SEQ, INPUT)).astype(np.float32)
    y = rng.standard_normal((BATCH, SEQ, HIDDEN)).astype(np.float32)
    return x, y


def _soma(kind, train):
    def build():
        import soma
        import soma.nn.functional as F
        import soma.optim
        from soma import nn

        soma.manual_seed(0)
        model = getattr(nn, kind)(INPUT, HIDDEN, batch_first=True)
        x, y = (soma.tensor(a) for a in _data())
        if not train:

            def infer():
                with soma.no_grad():
                    model(x)

            return infer
        optimizer = soma.optim.SGD(model.parameters(), lr=0.01)

        def step():
            optimizer.zero_grad()
            output, _ = model(x)
            F.mse_loss(output, y).backward()
            optimizer.step()

        return step

    return build


def _torch(kind, train):
    def build():
        import torch

        torch.manual_seed(0)
        model = getattr(torch.nn, kind)(INPUT, HIDDEN, batch_first=True)
        x, y = (torch.from_numpy(a) for a in _data())
        if not train:

            def infer():
                with torch.no_grad():
                    model(x)

            return infer
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

        def step():
            optimizer.zero_grad()
            output, _ = model(x)
            torch.nn.functional.mse_loss(output, y).backward()
            optimizer.step()

        return step

    return build


def workloads():
    shape = f"T={SEQ} B={BATCH} I={INPUT} H={HIDDEN}"
    return [
        Workload(
            f"{kind} {mode} ({shape})",
            soma=_soma(kind, mode == "train"),
            torch=_torch(kind, mode == "train"),
        )
        for kind in ("LSTM", "GRU")
        for mode in ("train", "infer")
    ]
