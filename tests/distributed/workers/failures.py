"""Run under mpiexec: one rank fails; the job must fail with that rank's error, not hang.

``python failures.py raise``: the last rank raises in the middle of training, while the
others wait in the next gradient all-reduce.
``python failures.py stall``: the last rank never reaches a collective (it sleeps); the
others' collective times out (SOMA_DISTRIBUTED_TIMEOUT) and fails the job.
"""

import sys
import time

import soma
import soma.distributed as dist
from soma import nn
from soma.nn.parallel import DistributedDataParallel

dist.init_process_group("mpi")
rank, last = dist.get_rank(), dist.get_world_size() - 1
model = DistributedDataParallel(nn.Linear(3, 2))
for step in range(3):
    if step == 1 and rank == last:
        if sys.argv[1] == "raise":
            raise ValueError(f"rank {rank} fails on purpose at step {step}")
        time.sleep(600)
    model(soma.randn(4, 3)).sum().backward()
dist.barrier()
print("every rank finished", flush=True)
