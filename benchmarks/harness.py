"""Side-by-side timing: soma against PyTorch (and a hand-written NumPy reference), in one process.

Absolute times on a shared 2-core machine drift between fast and slow modes within
seconds, so each workload runs its implementations in interleaved blocks (about
``block`` seconds each, ``rounds`` rounds), and the reported ratio is the median of
the per-round ratios: both sides of a ratio saw the same machine.
"""

import contextlib
import io
import platform
import statistics
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Workload:
    """One benchmark: a builder per implementation, each returning a zero-argument step."""

    name: str
    soma: object
    torch: object
    numpy: object = None
    unit: str = "steps/s"
    notes: str = ""
    extra: dict = field(default_factory=dict)
    flops: float = 0.0  # floating-point operations of one step (0: not counted)


def model_flops(model, sample_shape, batch, train):
    """FLOPs of one step: 2 per multiply-add of the forward (soma.train.summary's count), times 3 for a
    training step (the backward computes the input and the weight gradients: two more of each)."""
    from soma.train import summary

    with contextlib.redirect_stdout(io.StringIO()):
        macs = summary(model, sample_shape).total_mult_adds
    return 2.0 * macs * batch * (3 if train else 1)


def machine():
    """The CPU model and the BLAS that NumPy calls (name, version, kernel), for the report's header."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = "unknown BLAS"
    try:
        from threadpoolctl import threadpool_info

        np.ones((2, 2)) @ np.ones((2, 2))
        for lib in threadpool_info():
            if lib.get("user_api") == "blas":
                blas = f"{lib.get('internal_api')} {lib.get('version')} ({lib.get('architecture')} kernel)"
                break
    except ImportError:
        pass
    return cpu, blas


def sgemm_peak(size=1024, repeats=5):
    """This machine's float32 GEMM throughput now (GFLOP/s, best of ``repeats``): the roof for every workload."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size)).astype(np.float32) for _ in range(2))
    out = np.empty_like(a)
    np.matmul(a, b, out=out)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(3):
            np.matmul(a, b, out=out)
        best = min(best, (time.perf_counter() - start) / 3)
    return 2.0 * size**3 / best / 1e9


def _rate(step, block, clock=time.perf_counter):
    count = 0
    start = clock()
    while True:
        step()
        count += 1
        elapsed = clock() - start
        if elapsed >= block:
            return count / elapsed


def measure(workload, rounds=6, block=1.0, warmup=0.3, clock=time.perf_counter):
    """Median rates and the median per-round ratios soma/torch and numpy/torch.

    ``clock`` times each block: the wall clock, or ``time.process_time`` (with one thread, the
    measure least moved by other processes on a shared machine)."""
    steps = {"soma": workload.soma(), "torch": workload.torch()}
    if workload.numpy is not None:
        steps["numpy"] = workload.numpy()
    for step in steps.values():
        _rate(step, warmup, clock)
    rates = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            rates[name].append(_rate(step, block, clock))
    result = {name: statistics.median(values) for name, values in rates.items()}
    ratios = sorted(s / t for s, t in zip(rates["soma"], rates["torch"]))
    result["soma/torch"] = statistics.median(ratios)
    result["spread"] = f"{ratios[0]:.2f}-{ratios[-1]:.2f}"
    if "numpy" in rates:
        result["numpy/torch"] = statistics.median(
            n / t for n, t in zip(rates["numpy"], rates["torch"])
        )
    return result


def set_threads(count=2):
    """Same thread budget for both: PyTorch's intra-op pool and NumPy's BLAS."""
    import torch

    torch.set_num_threads(count)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(count)
    except ImportError:
        pass


def report(workloads, rounds=6, block=1.0, out=print):
    """One line per workload: rates, the median ratio and its spread, and the distance to the GEMM roof."""
    cpu, blas = machine()
    peak = sgemm_peak()
    out(f"machine: {cpu}; NumPy's BLAS: {blas}; measured sgemm peak {peak:.1f} GFLOP/s")
    out(f"{'workload':<44} {'soma':>10} {'torch':>10} {'soma/torch':>10} {'spread':>11} {'numpy/torch':>11} "
        f"{'MFLOP/step':>10} {'soma GF/s':>9} {'torch GF/s':>10} {'soma %pk':>8} {'torch %pk':>9}")
    results = {}
    for workload in workloads:
        r = measure(workload, rounds, block)
        r["peak"], r["machine"] = peak, (cpu, blas)
        results[workload.name] = r
        numpy_ratio = f"{r['numpy/torch']:.2f}x" if "numpy/torch" in r else "-"
        line = (f"{workload.name:<44} {r['soma']:>8.1f}/s {r['torch']:>8.1f}/s {r['soma/torch']:>9.2f}x "
                f"{r['spread']:>11} {numpy_ratio:>11}")
        if workload.flops:
            gf = {k: workload.flops * r[k] / 1e9 for k in ("soma", "torch")}
            line += (f" {workload.flops / 1e6:>10.1f} {gf['soma']:>9.2f} {gf['torch']:>10.2f} "
                     f"{100 * gf['soma'] / peak:>7.1f}% {100 * gf['torch'] / peak:>8.1f}%")
        out(line)
    return results


def markdown(workloads, results, out=print):
    """The README's speed table, from one run's results: ratio, spread and the distance to the GEMM roof."""
    first = next(iter(results.values()))
    (cpu, blas), peak = first["machine"], first["peak"]
    out(f"Machine: {cpu}, 2 threads; NumPy's BLAS: {blas}; measured sgemm peak {peak:.0f} GFLOP/s.\n")
    out("| workload | soma/PyTorch | spread | MFLOP/step | soma GF/s (% of peak) | PyTorch GF/s (% of peak) |")
    out("|---|---|---|---|---|---|")
    for workload in workloads:
        r = results[workload.name]
        cells = [workload.name, f"{r['soma/torch']:.2f}x", r["spread"]]
        if workload.flops:
            gf = {k: workload.flops * r[k] / 1e9 for k in ("soma", "torch")}
            cells += [f"{workload.flops / 1e6:.1f}", f"{gf['soma']:.1f} ({100 * gf['soma'] / peak:.0f}%)",
                      f"{gf['torch']:.1f} ({100 * gf['torch'] / peak:.0f}%)"]
        else:
            cells += ["-", "-", "-"]
        out("| " + " | ".join(cells) + " |")
