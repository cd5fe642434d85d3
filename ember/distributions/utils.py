"""Helpers shared by the distributions: broadcasting parameters, probs <-> logits, lazy properties."""
from __future__ import annotations

from numbers import Number

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]


def broadcast_all(*values):
    """Tensors and Python numbers broadcast to one shape, as tensors.

    Numbers take the dtype and device of the first tensor among ``values`` (the default float dtype
    when all are numbers), so ``Normal(0., scale)`` follows ``scale``'s dtype. Raises ValueError for
    anything else, RuntimeError when the shapes do not broadcast."""
    import ember
    ref = None
    for v in values:
        if isinstance(v, ember.Tensor):
            ref = v
            break
        if not isinstance(v, Number):
            raise ValueError("Input arguments must all be instances of numbers.Number, "
                             "torch.Tensor or objects implementing __torch_function__.")
    for v in values:
        if not isinstance(v, (ember.Tensor, Number)):
            raise ValueError("Input arguments must all be instances of numbers.Number, "
                             "torch.Tensor or objects implementing __torch_function__.")
    if ref is None:
        dtype = ember.get_default_dtype()
        return tuple(ember.tensor(float(v), dtype=dtype) for v in values)
    values = [v if isinstance(v, ember.Tensor) else ember.tensor(v, dtype=ref.dtype, device=ref.device)
              for v in values]
    shape = tuple(ember.broadcast_shapes(*[tuple(v.shape) for v in values]))
    # tensors already of the full shape are kept as they are (no view): leaves stay leaves
    return tuple(v if tuple(v.shape) == shape else v.expand(shape) for v in values)


def _sum_rightmost(value, dim):
    """``value`` summed over its ``dim`` rightmost dims (unchanged for ``dim == 0``)."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary: bool = False):
    """Probabilities from logits: sigmoid when ``is_binary``, else softmax over the last dim."""
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def clamp_probs(probs):
    """``probs`` clamped into [eps, 1 - eps] (eps: the dtype's machine epsilon), so logs stay finite."""
    import ember
    eps = ember.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary: bool = False):
    """Logits from probabilities: ``log(p) - log1p(-p)`` when ``is_binary``, else ``log(p)``,
    computed on clamped probabilities."""
    ps = clamp_probs(probs)
    if is_binary:
        return ps.log() - (-ps).log1p()
    return ps.log()


class lazy_property:
    """A property computed on first access and then stored on the instance (in its ``__dict__``,
    where it shadows this descriptor). Computed with grad mode on, so a value derived from
    parameters that require grad stays differentiable even when first read under ``no_grad``."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        import ember
        with ember.enable_grad():
            value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


class _ProbsOrLogits:
    """Mixin of the families parameterised by exactly one of ``probs`` and ``logits``: the one given is
    stored (and kept as ``_param``), the other is derived lazily (sigmoid / ``log(p) - log1p(-p)`` when
    ``_binary``, else softmax / log over the last dim). ``param_shape`` is the stored parameter's shape."""

    _binary = True

    @staticmethod
    def _check_one_of(probs, logits):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")

    def _set_param(self, name, value):
        self.__dict__[name] = value
        self._param = value

    def _init_probs_or_logits(self, probs, logits, *others):
        """Checks that exactly one of ``probs``/``logits`` is given, broadcasts it with ``others`` (which
        come first, as in ``broadcast_all(*others, param)``) and stores it; returns ``others`` broadcast
        and cast to the parameter's dtype."""
        self._check_one_of(probs, logits)
        name, given = ("probs", probs) if probs is not None else ("logits", logits)
        *others, param = broadcast_all(*others, given)
        self._set_param(name, param)
        return tuple(o.type_as(param) for o in others)

    def _expand_probs_or_logits(self, cls, batch_shape, _instance, *names, keep=()):
        """``expand`` for these families: ``names`` (other parameter tensors) plus whichever of ``probs`` and
        ``logits`` are set, expanded; ``_param`` follows ``logits`` when both are set."""
        new = self._expand_params(cls, batch_shape, _instance, *names, "probs", "logits", keep=keep)
        for name in ("probs", "logits"):
            if name in new.__dict__:
                new._param = new.__dict__[name]
        return new

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=self._binary)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=self._binary)

    @property
    def param_shape(self):
        return self._param.size()
