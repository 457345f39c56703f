"""Side-by-side timing: soma against PyTorch (and a hand-written NumPy reference), in one process.

Absolute times on a shared 2-core machine drift between fast and slow modes within
seconds, so each workload runs its implementations in interleaved blocks (about
``block`` seconds each, ``rounds`` rounds), and the reported ratio is the median of
the per-round ratios: both sides of a ratio saw the same machine.
"""

import statistics
import time
from dataclasses import dataclass, field


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


def _rate(step, block):
    count = 0
    start = time.perf_counter()
    while True:
        step()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= block:
            return count / elapsed


def measure(workload, rounds=6, block=1.0, warmup=0.3):
    """Median rates and the median per-round ratios soma/torch and numpy/torch."""
    steps = {"soma": workload.soma(), "torch": workload.torch()}
    if workload.numpy is not None:
        steps["numpy"] = workload.numpy()
    for step in steps.values():
        _rate(step, warmup)
    rates = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            rates[name].append(_rate(step, block))
    result = {name: statistics.median(values) for name, values in rates.items()}
    result["soma/torch"] = statistics.median(
        s / t for s, t in zip(rates["soma"], rates["torch"])
    )
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
    out(f"{'workload':<40} {'soma':>12} {'torch':>12} {'soma/torch':>11} {'numpy/torch':>12}")
    results = {}
    for workload in workloads:
        r = measure(workload, rounds, block)
        results[workload.name] = r
        numpy_ratio = f"{r['numpy/torch']:.2f}x" if "numpy/torch" in r else "-"
        out(
            f"{workload.name:<40} {r['soma']:>10.1f}/s {r['torch']:>10.1f}/s "
            f"{r['soma/torch']:>10.2f}x {numpy_ratio:>12}"
        )
    return results
