"""Scaling on one machine: 1 process x 2 threads against 2 processes x 1 thread (samples/s).

    python -m benchmarks.distributed [--rounds 5] [--seconds 3] [--only lenet]

Both configurations train the same model on the same global batch per step: one
process with NumPy's BLAS on 2 threads and batch B, or two MPI ranks (soma run /
mpiexec) with 1 thread each, batch B/2 each and DistributedDataParallel averaging
the gradients. Each runs as a fresh subprocess, the two alternate for ``rounds``
rounds (a shared machine drifts), and the table shows the median samples/s and the
median per-round ratio. Needs soma[distributed] (mpi4py + MPICH) and threadpoolctl.

Models: the benchmarks' MLP 784-256-128-10 (batch 128) and LeNet-5 on 1x28x28 (batch 64),
SGD with momentum, cross-entropy.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

MODELS = {"mlp": 128, "lenet": 64}  # name -> global batch


def _model(name):
    from soma import nn

    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    from benchmarks.cnn import _lenet

    return _lenet(nn)


def _worker(name, seconds):
    """One configuration's process (a rank under mpiexec): time training steps, print samples/s on rank 0."""
    import numpy as np

    import soma
    import soma.distributed as dist
    import soma.nn.functional as F
    from soma import optim
    from soma.nn.parallel import DistributedDataParallel

    dist.init_process_group("mpi")
    world, rank = dist.get_world_size(), dist.get_rank()
    batch = MODELS[name] // world
    soma.manual_seed(0)
    model = _model(name)
    trained = DistributedDataParallel(model) if world > 1 else model
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(rank)
    shape = (batch, 784) if name == "mlp" else (batch, 1, 28, 28)
    x = soma.tensor(rng.standard_normal(shape).astype(np.float32))
    y = soma.tensor(rng.integers(0, 10, batch))

    def step():
        optimizer.zero_grad()
        F.cross_entropy(trained(x), y).backward()
        optimizer.step()

    for _ in range(3):  # warm up
        step()
    start = time.perf_counter()
    for _ in range(3):
        step()
    steps = soma.tensor([max(1, int(seconds / ((time.perf_counter() - start) / 3)))])
    dist.broadcast(steps, 0)  # every rank runs the same number of steps (each one is a collective)
    dist.barrier()
    start = time.perf_counter()
    for _ in range(int(steps.item())):
        step()
    dist.barrier()
    elapsed = time.perf_counter() - start
    if rank == 0:
        print(json.dumps({"samples_per_s": int(steps.item()) * MODELS[name] / elapsed}), flush=True)


def _run(name, processes, threads, seconds):
    from soma.distributed.launch import mpiexec_command

    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), PYTHONPATH=os.getcwd())
    argv = ["-m", "benchmarks.distributed", "--worker", name, "--seconds", str(seconds)]
    command = mpiexec_command(processes, argv) if processes > 1 else [sys.executable, *argv]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60 + 10 * seconds)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["samples_per_s"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per run")
    parser.add_argument("--only", default="", help="models whose name contains this text")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args.worker, args.seconds)
    print(f"{'model':<8} {'batch':>6} {'1 proc x 2 thr':>15} {'2 proc x 1 thr':>15} {'ratio':>7}   samples/s")
    for name, batch in MODELS.items():
        if args.only not in name:
            continue
        one, two = [], []
        for _ in range(args.rounds):
            one.append(_run(name, 1, 2, args.seconds))
            two.append(_run(name, 2, 1, args.seconds))
        ratio = statistics.median(b / a for a, b in zip(one, two))
        print(f"{name:<8} {batch:>6} {statistics.median(one):>15,.0f} {statistics.median(two):>15,.0f} {ratio:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
