"""Recurrent layers: LSTM and GRU (input 32, hidden 128, seq 50, batch 32, batch_first).

Training step = forward, MSE loss on the outputs, backward, SGD step; inference =
forward under no_grad. soma runs each layer as one fused kernel with a hand-written
backward through time; PyTorch runs its native CPU kernels.

``python -m benchmarks.rnn`` runs these four alone and prints, besides the median
soma/PyTorch ratio of the interleaved rounds, its spread (lowest and highest round).
``--cpu-time`` times by process CPU time instead of the wall clock: with ``--threads 1``
that is the measure least moved by other processes on a shared machine.
"""

import argparse
import time

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


def flops(kind, train):
    """The GEMMs of one step: per time step and gate block, (H, I)·(I, B) and (H, H)·(H, B), 2 FLOPs a
    multiply-add; a training step three times that (forward, then the input and the weight gradients)."""
    gates = {"LSTM": 4, "GRU": 3}[kind]
    forward = 2.0 * SEQ * BATCH * gates * HIDDEN * (INPUT + HIDDEN)
    return forward * (3 if train else 1)


def workloads():
    shape = f"T={SEQ} B={BATCH} I={INPUT} H={HIDDEN}"
    return [
        Workload(
            f"{kind} {mode} ({shape})",
            soma=_soma(kind, mode == "train"),
            torch=_torch(kind, mode == "train"),
            flops=flops(kind, mode == "train"),
        )
        for kind in ("LSTM", "GRU")
        for mode in ("train", "infer")
    ]


def main(argv=None):
    from benchmarks.harness import measure, set_threads

    parser = argparse.ArgumentParser(prog="python -m benchmarks.rnn", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--block", type=float, default=1.0, help="seconds per timed block")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cpu-time", action="store_true", help="time by process CPU time (use with --threads 1)")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    clock = time.process_time if args.cpu_time else time.perf_counter
    print(f"{args.threads} thread(s), {args.rounds} interleaved rounds of {args.block:.1f} s "
          f"({'CPU' if args.cpu_time else 'wall'} time)")
    for workload in workloads():
        r = measure(workload, args.rounds, args.block, clock=clock)
        print(f"{workload.name:<36} soma {r['soma']:6.1f}/s torch {r['torch']:6.1f}/s"
              f"  soma/torch {r['soma/torch']:.2f}x [{r['spread']}]")


if __name__ == "__main__":
    main()
