"""``DataParallel`` as PyTorch runs it without GPUs: a wrapper that calls its module.

Ember does not split a batch over several devices in one process (use ``DistributedDataParallel``
over ``ember.distributed`` for that); on one device PyTorch's DataParallel also just calls the
wrapped module, and that is what this class does. ``state_dict`` keys carry the ``module.`` prefix.
"""
from __future__ import annotations

from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


def _cuda_ids():
    from ... import cuda
    return list(range(cuda.device_count())) if cuda.is_available() else []


class DataParallel(Module):
    """Wraps ``module``; ``forward(*inputs, **kwargs)`` returns ``module(*inputs, **kwargs)``.

    With GPUs, ``device_ids`` defaults to all of them and more than one is refused (Ember runs one
    replica per process); the wrapped module must already sit on ``device_ids[0]``."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        ids = _cuda_ids()
        if not ids:   # no GPU: PyTorch keeps only the module and an empty device list
            self.device_ids = []
            return
        device_ids = ids if device_ids is None else [getattr(d, "index", d) for d in device_ids]
        if len(device_ids) > 1:
            raise NotImplementedError("DataParallel over several GPUs is not supported by Ember: run one process "
                                      "per GPU with DistributedDataParallel instead")
        self.dim = dim
        self.device_ids = device_ids
        self.output_device = getattr(output_device, "index", output_device) if output_device is not None \
            else device_ids[0]

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module: Module, inputs, device_ids=None, output_device=None, dim: int = 0, module_kwargs=None):
    """Functional form: ``module(*inputs, **module_kwargs)`` on this process's device."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
