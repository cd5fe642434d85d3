"""The implementations behind ``Tensor``'s methods that are not plain ops: device / dtype moves, the
in-place variants and random fills, and the operator forms (reflected, in-place, fast-path binary).

``_tensor_methods.bind`` attaches them (and the ops of ``ember.ops``) to ``Tensor``.
"""
from __future__ import annotations

import numpy as np

from . import _dtype as D
from ._device import device as Device
from ._tensor import Tensor
from .autograd.function import Function
from .autograd.grad_mode import state
from .backends import namespace_of, to_device
from .ops import comparison as Cmp
from .ops import creation as C
from .ops import elementwise as E
from .ops import indexing as I
from .ops import inplace as IP
from .ops import linalg as L
from .ops import rearrange as RA
from .ops import shape as S


# --------------------------------------------------------------------------- device / dtype moves
class ToDevice(Function):
    raw = True
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dev):
        ctx.src = _dev_of(x)
        return to_device(x, dev)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return to(g, ctx.src), None
        return to_device(g, ctx.src), None


def _dev_of(arr):
    from .backends import device_of
    return device_of(arr)


def _parse_to(args, kwargs):
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    for a in args:
        if isinstance(a, Tensor):
            dev, dtype = a.device, a.dtype
        elif isinstance(a, D.dtype):
            dtype = a
        elif isinstance(a, (str, Device, int)) and not isinstance(a, bool):
            dev = a
        elif isinstance(a, bool):
            continue  # non_blocking / copy positional
        elif a is None:
            continue
        else:
            try:
                dtype = D.as_dtype(a)
            except TypeError:
                raise TypeError(f"to() received an invalid combination of arguments - got ({type(a).__name__})") from None
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {list(kwargs)}")
    return (Device(dev) if dev is not None and not isinstance(dev, Device) else dev), dtype, copy


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """``to(dtype)``, ``to(device)``, ``to(other)``, ``to(device, dtype)``: returns ``self`` when nothing changes."""
    dev, dtype, copy = _parse_to(args, kwargs)
    t = self
    if dev is not None:
        cur = self.device
        want = dev
        if want.type == "cuda" and want.index is None:
            want = Device("cuda", 0) if cur.type != "cuda" else cur
        if want != cur:
            t = ToDevice.apply(t, want)
    if dtype is not None:
        t = E.to_dtype(t, dtype)
    if copy and t is self:
        t = E.clone(self)
    return t


def cpu(self, memory_format=None):
    return to(self, "cpu")


def cuda(self, device=None, non_blocking=False, memory_format=None):
    return to(self, Device("cuda", device) if isinstance(device, int) else (device or "cuda"))


def type_(self, dtype=None, non_blocking=False):
    if dtype is None:
        return "torch." + {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                           "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                           "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}.get(self.dtype.name, "Tensor")
    if isinstance(dtype, str):
        name = dtype.replace("torch.", "").replace("cuda.", "")
        dtype = {"FloatTensor": D.float32, "DoubleTensor": D.float64, "HalfTensor": D.float16, "BFloat16Tensor": D.bfloat16,
                 "LongTensor": D.int64,
                 "IntTensor": D.int32, "ShortTensor": D.int16, "CharTensor": D.int8, "ByteTensor": D.uint8,
                 "BoolTensor": D.bool_}.get(name) or D.as_dtype(name)
    return E.to_dtype(self, dtype)


def type_as(self, other):
    return to(self, other.dtype) if self.device == other.device else to(self, other)


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    return C.tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def _new_factory(fn):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
    method.__name__ = "new_" + fn.__name__
    return method


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    return C.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


# --------------------------------------------------------------------------- in-place variants
def _inplace_of(fn):
    def method(self, *args, **kwargs):
        return IP.inplace(self, fn(self, *args, **kwargs))
    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}``: writes into this tensor and bumps its version."
    return method


def _fast_inplace(np_name, fn):
    """In-place arithmetic: with no graph to record, a NumPy ufunc writes straight into the array."""
    def method(self, other, *, alpha=1):
        if state.enabled and self._base is not None:
            self._check_inplace()  # a view made under no_grad of a base that requires grad
        if not state.enabled or not (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
            o = other._data if isinstance(other, Tensor) else other
            d = self._data
            if alpha != 1:
                o = o * alpha
            rd = np.result_type(d, o) if isinstance(o, np.ndarray) or not isinstance(o, (int, float, bool)) else None
            if (rd is None or rd == d.dtype or d.dtype.kind in "fc") and not (
                    isinstance(o, float) and d.dtype.kind in "iub") and np_name != "true_divide" or d.dtype.kind in "fc":
                xp = namespace_of(d)
                try:
                    getattr(xp, np_name)(d, o, out=d, casting="unsafe")
                except ValueError:
                    if not getattr(d.flags, "writeable", True):
                        raise RuntimeError("unsupported operation: more than one element of the written-to tensor "
                                           "refers to a single memory location. Please clone() the tensor before "
                                           "performing the operation.") from None
                    raise RuntimeError(f"output with shape {list(d.shape)} doesn't match the broadcast shape "
                                       f"{list(np.broadcast_shapes(d.shape, np.shape(o)))}") from None
                self._vc[0] += 1
                return self
        r = fn(self, other, alpha=alpha) if alpha != 1 else fn(self, other)
        return IP.inplace(self, r)
    method.__name__ = np_name + "_"
    return method


def zero_(self):
    self._check_inplace()
    if state.enabled and self.requires_grad:  # a graph op: no gradient reaches the old value
        return IP.inplace(self, E.Zero.apply(self, 0))
    self._data[...] = 0
    self._vc[0] += 1
    return self


def fill_(self, value):
    self._check_inplace()
    if isinstance(value, Tensor):
        if state.enabled and value.requires_grad:
            return IP.inplace(self, S.expand(value.to(self.dtype), tuple(self.shape)))
        value = value.item()
    if state.enabled and self.requires_grad:  # a graph op: no gradient reaches the old value
        return IP.inplace(self, E.Fill.apply(self, value))
    self._data[...] = value
    self._vc[0] += 1
    return self


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast, moved across devices) into this tensor; differentiable in ``src``."""
    if not isinstance(src, Tensor):
        src = C.tensor(src)
    if state.enabled and (src.requires_grad or self.requires_grad):
        self._check_inplace()
        s = to(src, self.device)
        try:
            return IP.inplace(self, E.CopyFrom.apply(self, s))  # grad_fn CopyBackwards
        except ValueError:
            E._raise_broadcast(self, s)
            raise
    self._check_inplace()
    arr = src._data
    if type(arr) is not type(self._data):
        arr = to_device(arr, self.device)
    try:
        self._data[...] = arr
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({self.shape[-1] if self.dim() else 1}) must match the size of tensor b "
                           f"({src.shape[-1] if src.dim() else 1}) at non-singleton dimension") from None
    self._vc[0] += 1
    if state.enabled and self.requires_grad and self.grad_fn is not None:
        self.grad_fn = None  # overwritten by a constant: no gradient flows to what it was
    return self


def set_(self, source):
    self._data = source._data
    self._vc[0] += 1
    return self


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    self._check_inplace()
    r = C._rng(generator).uniform(a, b, self._data.shape)
    self._data[...] = to_device(r.astype(self._data.dtype), self.device) if not self.is_cpu else r
    self._vc[0] += 1
    return self


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    self._check_inplace()
    r = C._rng(generator).normal(mean, std, self._data.shape)
    self._data[...] = to_device(r.astype(self._data.dtype), self.device) if not self.is_cpu else r
    self._vc[0] += 1
    return self


def bernoulli_(self, p=0.5, *, generator=None):
    self._check_inplace()
    pr = p._cpu_array() if isinstance(p, Tensor) else p
    r = (C._rng(generator).random(self._data.shape) < pr).astype(self._data.dtype)
    self._data[...] = to_device(r, self.device) if not self.is_cpu else r
    self._vc[0] += 1
    return self


def random_(self, from_=0, to=None, *, generator=None):
    self._check_inplace()
    if to is None:
        from_, to = 0, from_ if from_ else 2 ** 24
    self._data[...] = C._rng(generator).integers(from_, to, self._data.shape)
    self._vc[0] += 1
    return self


def exponential_(self, lambd=1.0, *, generator=None):
    self._data[...] = C._rng(generator).exponential(1.0 / lambd, self._data.shape)
    self._vc[0] += 1
    return self


def geometric_(self, p, *, generator=None):
    self._data[...] = C._rng(generator).geometric(p, self._data.shape)
    self._vc[0] += 1
    return self


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    self._data[...] = C._rng(generator).lognormal(mean, std, self._data.shape)
    self._vc[0] += 1
    return self


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    self._data[...] = median + sigma * C._rng(generator).standard_cauchy(self._data.shape)
    self._vc[0] += 1
    return self


def _shape_inplace(fn):
    def method(self, *args, **kwargs):
        r = fn(self, *args, **kwargs)
        self._data = r._data
        if r.grad_fn is not None:
            self.grad_fn, self._output_nr = r.grad_fn, r._output_nr
        return self
    method.__name__ = fn.__name__ + "_"
    return method


# --------------------------------------------------------------------------- operators
def _rsub(self, other):
    return E.sub(other, self)


def _rtruediv(self, other):
    return E.div(other, self)


def _rfloordiv(self, other):
    return E.floor_divide(other, self)


def _rmod(self, other):
    return E.remainder(other, self)


def _rpow(self, other):
    return E.pow(other, self)


def _rmatmul(self, other):
    return L.matmul(other, self)


def _eq(self, other):
    if other is None:
        return False
    return Cmp.eq(self, other)


def _ne(self, other):
    if other is None:
        return True
    return Cmp.ne(self, other)


def _and(self, other):
    return Cmp.bitwise_and(self, other) if self.dtype is not D.bool_ else Cmp.logical_and(self, other)


def _or(self, other):
    return Cmp.bitwise_or(self, other) if self.dtype is not D.bool_ else Cmp.logical_or(self, other)


def _xor(self, other):
    return Cmp.bitwise_xor(self, other) if self.dtype is not D.bool_ else Cmp.logical_xor(self, other)


def _invert(self):
    return Cmp.logical_not(self) if self.dtype is D.bool_ else Cmp.bitwise_not(self)


def _iop(np_name, fn):
    fast = _fast_inplace(np_name, fn)

    def method(self, other):
        return fast(self, other)
    method.__name__ = f"__i{np_name}__"
    return method


def _view_method(self, *shape):
    return S.view(self, *shape)


def _reshape_method(self, *shape):
    return S.reshape(self, *shape)


def _expand_method(self, *sizes):
    return S.expand(self, *sizes)


def _permute_method(self, *dims):
    return S.permute(self, *dims)


def _repeat_method(self, *sizes):
    return RA.repeat(self, *sizes)


def _tile_method(self, *dims):
    return RA.tile(self, *dims)


def _flip_method(self, *dims):
    return RA.flip(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)


def _sum_to_size(self, *size):
    from .ops._bw import sum_to
    size = size[0] if len(size) == 1 and not isinstance(size[0], int) else size
    return sum_to(self, tuple(size))


def _masked_fill_(self, mask, value):
    if not state.enabled or not (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        self._check_inplace()
        v = value.item() if isinstance(value, Tensor) else value
        m = mask._data
        if m.shape != self._data.shape:
            m = namespace_of(m).broadcast_to(m, self._data.shape)
        self._data[m] = v
        self._vc[0] += 1
        return self
    return IP.inplace(self, I.masked_fill(self, mask, value))


def _apply_(self, fn):
    flat = self._data.reshape(-1)
    for i in range(flat.size):
        flat[i] = fn(flat[i].item())
    self._vc[0] += 1
    return self


def _map_(self, other, fn):
    a, b = np.broadcast_arrays(self._data, other._data)
    flat, fo = a.reshape(-1), b.reshape(-1)
    for i in range(flat.size):
        flat[i] = fn(flat[i].item(), fo[i].item())
    self._vc[0] += 1
    return self


def _operator(fn_cls, general):
    """``tensor <op> other``: a same-dtype, same-device float Tensor, or a Python float with a float tensor,
    goes straight to the primitive (two Python calls fewer per op); anything else takes ``general``, which
    promotes and checks. ``fn_cls.apply`` is bound once, here: ember.profiler, which wraps ``Function.apply``
    while it collects, rebinds the operators (``bind_operators``) when it starts and stops."""
    apply = fn_cls.apply

    def op(self, other):
        oc = other.__class__
        if oc is Tensor:
            d, od = self._data, other._data
            if d.dtype is od.dtype and d.dtype.kind in "fc" and type(d) is type(od):
                try:
                    return apply(self, other)
                except ValueError:  # a broadcasting clash: PyTorch's RuntimeError
                    E._raise_broadcast(self, other)
                    raise
        elif oc is float and self._data.dtype.kind in "fc":
            return apply(self, other)
        return general(self, other)
    op.__name__ = general.__name__
    op.__doc__ = general.__doc__
    return op


_OPERATORS = {"__add__": ("Add", "add"), "__radd__": ("Add", "add"), "__sub__": ("Sub", "sub"),
              "__mul__": ("Mul", "mul"), "__rmul__": ("Mul", "mul"), "__truediv__": ("Div", "div")}


def bind_operators(T) -> None:
    """(Re)bind the fast-path operators of ``T`` to the current ``Function.apply``."""
    for name, (cls, fn) in _OPERATORS.items():
        setattr(T, name, _operator(getattr(E, cls), getattr(E, fn)))


def _top_level(name):
    def method(self, *args, **kwargs):
        return getattr(__import__("ember"), name)(self, *args, **kwargs)
    method.__name__ = name
    return method


def _addr(self, vec1, vec2, *, beta=1, alpha=1):
    """``beta * self + alpha * outer(vec1, vec2)``."""
    o = L.outer(vec1, vec2)
    if alpha != 1:
        o = o * alpha
    if beta == 0:  # self is ignored (NaN in it does not propagate), as in PyTorch
        return S.expand(o, tuple(np.broadcast_shapes(tuple(self.shape), tuple(o.shape))))
    return (self * beta if beta != 1 else self) + o
