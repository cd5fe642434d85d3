"""PyTorch's legacy tensor types: ``FloatTensor``, ``DoubleTensor``, ``LongTensor`` ... as constructors
(``FloatTensor(2, 3)`` uninitialised, ``FloatTensor([1, 2])`` from data, ``FloatTensor()`` empty) and as
``isinstance`` checks (a CPU tensor of that dtype). Tensors themselves stay plain ``Tensor``s, as in PyTorch.
"""
from __future__ import annotations

from .. import _dtype as _D
from .._tensor import Tensor as _Tensor, Size as _Size

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


def _legacy_new(dtype, name, args, device):
    """PyTorch's legacy constructor: sizes (ints or a ``Size``), a sequence of data, a same-dtype tensor, or
    nothing."""
    from . import creation as C
    if not args:
        return C.empty(0, dtype=dtype, device=device)
    if len(args) == 1 and isinstance(args[0], _Tensor):
        t = args[0]
        if t.dtype != dtype:
            raise TypeError(f"expected {dtype} (got {t.dtype})")
        return t
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args) or \
            (len(args) == 1 and isinstance(args[0], _Size)):
        return C.empty(*args, dtype=dtype, device=device)
    if len(args) == 1:
        return C.tensor(args[0], dtype=dtype, device=device)
    raise TypeError(f"{name}() received an invalid combination of arguments")


class _LegacyType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, _Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"

    def __call__(cls, *args, device=None):
        return _legacy_new(cls.dtype, cls.__name__, args, device)

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


def _make(name, dtype):
    return _LegacyType(name, (), {"dtype": dtype, "is_cuda": False, "is_sparse": False,
                                  "__module__": "torch", "__doc__": f"Legacy constructor of {dtype} CPU tensors."})


FloatTensor = _make("FloatTensor", _D.float32)
DoubleTensor = _make("DoubleTensor", _D.float64)
HalfTensor = _make("HalfTensor", _D.float16)
BFloat16Tensor = _make("BFloat16Tensor", _D.bfloat16)
LongTensor = _make("LongTensor", _D.int64)
IntTensor = _make("IntTensor", _D.int32)
ShortTensor = _make("ShortTensor", _D.int16)
CharTensor = _make("CharTensor", _D.int8)
ByteTensor = _make("ByteTensor", _D.uint8)
BoolTensor = _make("BoolTensor", _D.bool_)


def tensor_new(self, *args):
    """``Tensor.new(...)``: the legacy constructor with ``self``'s dtype and device."""
    return _legacy_new(self.dtype, "new", args, self.device)


def get_device(self):
    """-1 for a CPU tensor, else the CUDA device's index."""
    d = self.device
    return -1 if d.type == "cpu" else (d.index or 0)
