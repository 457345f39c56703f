"""``nn.DataParallel``: PyTorch's single-process, many-GPU wrapper, as PyTorch runs it without GPUs.

soma runs one device per process, so ``DataParallel(model)`` holds the model as ``.module`` and calls it
unchanged, exactly what PyTorch does on a machine without CUDA: scripts written for it run, and their
state_dicts carry the ``module.`` prefix they expect. To train on many processes use
:class:`~soma.nn.parallel.DistributedDataParallel`.
"""

from typing import Any

from soma.nn.module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    """``module`` wrapped: forward is ``module(*inputs, **kwargs)``; ``device_ids`` is empty, as in PyTorch
    without CUDA.

    Shape: whatever ``module`` takes and gives.
    """

    def __init__(self, module: Module, device_ids: list[Any] | None = None, output_device: Any = None,
                 dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list[Any] = []
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """The functional form: ``module(*inputs, **module_kwargs)`` (one device)."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return module(*inputs, **(module_kwargs or {}))
