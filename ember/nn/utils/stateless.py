"""``torch.nn.utils.stateless``: ``functional_call``, as ``ember.func.functional_call``."""
from __future__ import annotations

__all__ = ["functional_call"]


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights: bool = True,
                    strict: bool = False):
    """Call ``module`` with some of its parameters and buffers replaced by ``parameters_and_buffers``
    (a dict name -> Tensor) for this call only."""
    import warnings
    from ...func import functional_call as _fc
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed "
                  "in a future version of PyTorch. Please use `torch.func.functional_call` instead which is a "
                  "drop-in replacement.", FutureWarning, stacklevel=2)
    return _fc(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
