"""Shared by the scripts that ``mpiexec`` runs: run named checks, write each rank's results as JSON.

``python worker.py RESULTS_DIR [check ...]``: rank ``r`` writes ``RESULTS_DIR/rank<r>.json``, a list of
``{"check", "ok", "error"}`` (one file per rank, since the ranks' printed lines interleave).
"""

import json
import os
import sys
import traceback

import numpy as np

import soma
import soma.distributed as dist

OUT = None  # the results folder, also a scratch folder every rank can read


def run_checks(checks, argv=None):
    """Run ``checks`` (name -> function) on this rank; rewrite the results file after each one."""
    global OUT
    out, *names = argv if argv is not None else sys.argv[1:]
    OUT = out
    dist.init_process_group("mpi")
    rank = dist.get_rank()
    results = []
    for name in names or list(checks):
        try:
            checks[name]()
            results.append({"check": name, "ok": True, "error": ""})
        except Exception:  # report it and go on to the next check
            results.append({"check": name, "ok": False, "error": traceback.format_exc()})
        with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
            json.dump(results, f)
    dist.barrier()
    dist.destroy_process_group()


def gathered(array):
    """Every rank's copy of ``array`` (float64), as a (W, ...) NumPy array."""
    tensor = soma.tensor(np.asarray(array, dtype=np.float64))
    out = soma.tensor(np.zeros((dist.get_world_size(), *tensor.shape)))
    dist.all_gather_into_tensor(out, tensor)
    return out.numpy()
