"""``ember.autograd.forward_ad``: forward-mode AD with dual tensors, on the reverse-mode engine.

``make_dual(x, t)`` returns an alias of ``x`` recorded in the autograd graph from a private "seed"
leaf; ``unpack_dual(y).tangent`` is the Jacobian-vector product of ``y`` with respect to the seeds,
along their tangents, computed by the double-vjp trick (``d<J^T u, t>/du = J t``: two backward passes,
cached per tensor and level). The numbers are those of forward-mode AD.

What differs from PyTorch's native forward AD (documented, not hidden):
- a dual tensor has ``requires_grad=True`` (it hangs from its seed in the graph);
- tangents flow only through operations recorded in the autograd graph: an operation run under
  ``no_grad()`` (or on ``.detach()``-ed data) drops them, where PyTorch would keep them;
- ``unpack_dual`` costs two backward passes over the graph from the seeds, not O(1).
"""

from collections import namedtuple as _namedtuple

from .function import Function as _Function

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "dual_level"]


class UnpackedDualTensor(_namedtuple("UnpackedDualTensor", ["primal", "tangent"])):
    """``(primal, tangent)`` of a dual tensor, as returned by :func:`unpack_dual`."""

    __slots__ = ()


class _Level:
    __slots__ = ("index", "seeds", "duals", "cache")

    def __init__(self, index):
        self.index = index
        self.seeds = []  # (seed leaf, tangent)
        self.duals = {}  # id(dual) -> (dual, tangent): make_dual's own outputs
        self.cache = {}  # id(tensor) -> (tensor, version, tangent)


_levels = []
_blocking = [0]  # > 0 while unpack_dual runs its backward passes: primals cut the tangent's path


def enter_dual_level():
    """Open a forward-AD level and return its index (0: levels do not nest, as in PyTorch)."""
    if _levels:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _levels.append(_Level(0))
    return 0


def exit_dual_level(*, level=None):
    """Close the current level: its dual tensors lose their tangents."""
    if not _levels:
        raise RuntimeError("Dual level must be a positive number.")
    if level is not None and level != _levels[-1].index:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. This is "
                           "not supported.")
    _levels.pop()


class dual_level:
    """Context manager (and decorator) for a forward-AD level: every dual tensor made inside it loses its
    tangent at exit. ``with dual_level(): ...``"""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with dual_level():
                return fn(*args, **kwargs)
        return wrapper


def _level_for(level, api):
    if not _levels:
        return None
    lvl = _levels[-1]
    if level is not None and level != lvl.index:
        raise RuntimeError(f"{api}: level {level} is not the current forward AD level ({lvl.index}).")
    return lvl


def _size(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


class _MakeDual(_Function):
    """The dual tensor: an alias of the primal that also hangs from the level's seed leaf."""

    node_name = "AliasBackward0"

    @staticmethod
    def forward(ctx, tensor, seed):
        return tensor

    @staticmethod
    def backward(ctx, grad):
        return (grad if ctx.needs_input_grad[0] else None), grad


class _Primal(_Function):
    """``unpack_dual``'s primal: the same values, through which no tangent flows (its backward is cut
    while unpack_dual differentiates with respect to the seeds; user backward passes go through)."""

    node_name = "AliasBackward0"

    @staticmethod
    def forward(ctx, tensor):
        return tensor

    @staticmethod
    def backward(ctx, grad):
        return None if _blocking[0] else grad


def make_dual(tensor, tangent, *, level=None):
    """A dual tensor with primal ``tensor`` and tangent ``tangent`` (same shape, floating point), inside
    a :class:`dual_level`. Operations on it carry the tangent; read it back with :func:`unpack_dual`."""
    from .._tensor import Tensor
    from .grad_mode import enable_grad
    lvl = _level_for(level, "make_dual")
    if lvl is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(f"make_dual: expected Tensors, got {type(tensor).__name__} and {type(tangent).__name__}")
    if not (tensor.dtype.is_floating_point or tensor.dtype.is_complex):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not (tangent.dtype.is_floating_point or tangent.dtype.is_complex):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {_size(tensor.shape)} while the given "
                           f"forward gradient is of size {_size(tangent.shape)}.")
    known = lvl.duals.get(id(tensor))
    if known is not None and known[0] is tensor:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward gradient at the same "
                           f"level {lvl.index} is not supported.")
    seed = tensor.detach().requires_grad_(True)
    with enable_grad():
        dual = _MakeDual.apply(tensor, seed)
    lvl.seeds.append((seed, tangent))
    lvl.duals[id(dual)] = (dual, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """``UnpackedDualTensor(primal, tangent)``: the tangent is ``None`` for a tensor that does not depend
    on a dual tensor of the current level (or outside any level). The primal carries no tangent."""
    from .._tensor import Tensor
    lvl = _level_for(level, "unpack_dual")
    if lvl is None or not isinstance(tensor, Tensor):
        return UnpackedDualTensor(tensor, None)
    known = lvl.duals.get(id(tensor))
    if known is not None and known[0] is tensor:
        return UnpackedDualTensor(_primal_of(tensor, lvl), known[1])
    if not tensor.requires_grad or not lvl.seeds:
        return UnpackedDualTensor(tensor, None)
    hit = lvl.cache.get(id(tensor))
    if hit is not None and hit[0] is tensor and hit[1] == tensor._version:
        tangent = hit[2]
    else:
        tangent = _tangent_of(tensor, lvl)
        lvl.cache[id(tensor)] = (tensor, tensor._version, tangent)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_primal_of(tensor, lvl), tangent)


def _primal_of(tensor, lvl):
    """The primal without a tangent: detached where only the seeds make ``tensor`` require grad, else
    an alias whose backward reaches the user's graph but not the seeds."""
    from ..func._ad import _reaches_outside
    from .grad_mode import enable_grad
    if not _reaches_outside([tensor], {id(s) for s, _ in lvl.seeds}):
        return tensor.detach()
    with enable_grad():
        return _Primal.apply(tensor)


def _tangent_of(y, lvl):
    """``J_y(seeds) . tangents`` by the double-vjp trick; None where ``y`` does not depend on a seed."""
    from ..func._ad import _release, _reaches_outside
    from ..ops.creation import zeros_like
    from . import grad as autograd_grad
    from .grad_mode import enable_grad, is_grad_enabled
    outer = is_grad_enabled()
    seeds = [s for s, _ in lvl.seeds]
    _blocking[0] += 1
    try:
        with enable_grad():
            u = zeros_like(y).requires_grad_(True)
            gs = autograd_grad([y], seeds, [u], retain_graph=True, create_graph=True, allow_unused=True)
            pairs = [(g, t) for g, (_, t) in zip(gs, lvl.seeds) if g is not None]
            if not pairs:
                return None
            pairs = [(g, t) for g, t in pairs if g.requires_grad]
            if not pairs:
                return zeros_like(y).detach()
            inner = {id(s) for s in seeds} | {id(u)}
            need = outer and (_reaches_outside([g for g, _ in pairs], inner) or any(t.requires_grad for _, t in pairs))
            res = autograd_grad([g for g, _ in pairs], [u], [t for _, t in pairs], retain_graph=need,
                                create_graph=need, allow_unused=True)[0]
    finally:
        _blocking[0] -= 1
    if res is None:
        return zeros_like(y).detach()
    return _release(res, need, inner)
