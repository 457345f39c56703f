"""Shared by the differential fuzz suites in tests/fuzz: the tally, soma/torch conversion, outcome comparison.

API (``from fuzz_common import ...``; tests/fuzz is on sys.path for its test files):

- ``record(suite, problem)``: count one case of ``suite`` ("layer", "op", ...); ``problem`` is None when soma
  and torch agreed, else a one-line description. conftest.py prints ``<suite> fuzz: N cases, K disagreements``
  for every suite at the end of the session (merged over xdist workers too).
- ``attempt(fn)``: call ``fn()`` under ignored warnings and NumPy float errors; an exception is returned
  as a ``Raised`` instead of propagating.
- ``compare(name, soma_outcome, torch_outcome, rtol=None, atol=None, values=True, also=())``: None or the disagreement: error
  or not, exception type (soma's must be an instance of torch's), the error naming ``name``, then per
  output (nested tuples flattened) shape, dtype and values (NaN equal to NaN).
- ``to_torch(x)`` / ``to_soma(x)``: a tensor or array of one library as the other's (values copied).
- ``TOLERANCE``: rtol/atol per float dtype name.
"""

import json
import math
import warnings

import numpy as np
import torch

import soma

TALLY = {}  # suite -> {"cases": n, "disagreements": [problem, ...]}
TOLERANCE = {"float16": (1e-2, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-9, 1e-11)}


def record(suite, problem, intentional=False):
    """Count a case; a disagreement that is an intentional, documented difference is counted apart."""
    entry = TALLY.setdefault(suite, {"cases": 0, "disagreements": [], "intentional": []})
    entry["cases"] += 1
    if problem:
        entry["intentional" if intentional else "disagreements"].append(problem)
    return problem


def merge(serialized):
    """Add a worker's ``json.dumps(TALLY)`` into this process's tally (xdist)."""
    for suite, entry in json.loads(serialized).items():
        own = TALLY.setdefault(suite, {"cases": 0, "disagreements": [], "intentional": []})
        own["cases"] += entry["cases"]
        own["disagreements"].extend(entry["disagreements"])
        own["intentional"].extend(entry.get("intentional", []))


def tally_lines():
    lines = []
    for suite, e in sorted(TALLY.items()):
        line = f"{suite} fuzz: {e['cases']} cases, {len(e['disagreements'])} disagreements"
        if e.get("intentional"):
            line += f" (and {len(e['intentional'])} intentional, documented in docs/pytorch-parity.md)"
        lines.append(line)
    return lines


class Raised:
    def __init__(self, error):
        self.error = error

    def __repr__(self):
        return f"{type(self.error).__name__}({str(self.error)[:160]!r})"


def attempt(fn):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return fn()
        except Exception as error:  # noqa: BLE001  (every error is an outcome to compare)
            return Raised(error)


def to_torch(x):
    if isinstance(x, soma.Tensor):
        x = x.detach().numpy()
    return torch.from_numpy(np.array(x))


def to_soma(x):
    if isinstance(x, torch.Tensor):
        x = x.detach().numpy()
    return soma.tensor(np.array(x))


def flatten(out):
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in flatten(item)]
    return [out]


def _normalized(text):
    return text.lower().replace("_", "").replace(" ", "")


def compare(name, s, t, rtol=None, atol=None, values=True, also=()):
    """None when the outcomes agree, else a description of the first difference (``values=False``: shapes
    and dtypes only, for random outputs such as dropout's; ``also``: other names soma's error may give,
    such as a loss module's functional form)."""
    if isinstance(s, Raised) or isinstance(t, Raised):
        if not isinstance(t, Raised):
            return f"{name}: soma raised {s!r} but torch returned"
        if not isinstance(s, Raised):
            return f"{name}: torch raised {t!r} but soma returned"
        if not isinstance(s.error, type(t.error)):
            return f"{name}: soma raised {s!r}, torch {t!r}"
        if not any(_normalized(n) in _normalized(str(s.error)) for n in (name, *also)):
            return f"{name}: soma's error does not name {name}: {s!r}"
        return None
    s_leaves, t_leaves = flatten(s), flatten(t)
    if len(s_leaves) != len(t_leaves):
        return f"{name}: soma returned {len(s_leaves)} outputs, torch {len(t_leaves)}"
    for i, (a, b) in enumerate(zip(s_leaves, t_leaves)):
        problem = _same(a, b, rtol, atol, values)
        if problem:
            return f"{name}: output {i}: {problem}"
    return None


def _same(a, b, rtol, atol, values=True):
    if isinstance(b, torch.Tensor):
        if not isinstance(a, soma.Tensor):
            return f"soma returned {type(a).__name__}, not a Tensor"
        sa, ta = np.asarray(a.detach().numpy()), b.detach().numpy()
        if sa.shape != ta.shape:
            return f"shape soma {sa.shape} vs torch {ta.shape}"
        if sa.dtype != ta.dtype:
            return f"dtype soma {sa.dtype} vs torch {ta.dtype}"
        if not values:
            return None
        if sa.dtype.kind == "f":
            r, t = TOLERANCE.get(sa.dtype.name, (1e-5, 1e-6))
            r, t = r if rtol is None else rtol, t if atol is None else atol
            if not np.allclose(sa, ta, rtol=r, atol=t, equal_nan=True):
                return f"values differ: soma {sa.ravel()[:5]} vs torch {ta.ravel()[:5]}"
        elif not np.array_equal(sa, ta):
            return f"values differ: soma {sa.ravel()[:5]} vs torch {ta.ravel()[:5]}"
        return None
    if a is None and b is None:
        return None
    if isinstance(b, float) and math.isnan(b) and isinstance(a, float) and math.isnan(a):
        return None
    return None if a == b else f"soma {a!r} vs torch {b!r}"
