"""``soma.distributed``: many processes training one model, over MPI (``torch.distributed``'s API).

Launch ``W`` copies of a script, with ``soma run -n W script.py`` or
``mpiexec -n W python script.py``; in each, ``init_process_group("mpi")``
joins them and ``get_rank()`` tells them apart. Collectives work on soma
tensors in place::

    import soma, soma.distributed as dist
    dist.init_process_group("mpi")
    x = soma.tensor([float(dist.get_rank())])
    dist.all_reduce(x, op=dist.ReduceOp.SUM)   # every rank: 0 + 1 + ... + (W-1)

Data-parallel training sits on top: :class:`soma.nn.parallel.DistributedDataParallel`
averages the gradients, :class:`soma.utils.data.distributed.DistributedSampler`
gives each rank its share of the data, and ``soma.train.Trainer`` does both
when the group is initialized. Needs ``pip install soma[distributed]``
(mpi4py and the MPICH wheel); a system MPI works the same.
"""

from soma.distributed.collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    reduce,
)
from soma.distributed.process_group import (
    Backend,
    DistBackendError,
    DistError,
    GroupMember,
    ProcessGroup,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
)

group = GroupMember  # torch.distributed.group.WORLD

from soma.distributed import collectives as _collectives, process_group as _process_group

__all__ = sorted([*_collectives.__all__, *_process_group.__all__, "group"])
