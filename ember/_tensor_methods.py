"""Binds the ops of ``ember.ops`` to ``Tensor`` as methods, operators and in-place variants.

The binding table lives here and the methods' implementations in ``_tensor_method_impls``:
kept in one place so that ``_tensor.py`` stays about the data structure and each op has one home.
"""
from __future__ import annotations

import numpy as np

from . import _dtype as D
from ._tensor import Tensor, _wrap
from .ops import comparison as Cmp
from .ops import creation as C
from .ops import elementwise as E
from .ops import indexing as I
from .ops import inplace as IP
from .ops import join as J
from .ops import linalg as L
from .ops import rearrange as RA
from .ops import reduction as R
from .ops import scatter_gather as SG
from .ops import shape as S
from .ops import sorting as SO
from .ops import unary as U
from ._tensor_method_impls import (to, cpu, cuda, type_, type_as, new_tensor, _new_factory, new_full,  # noqa: F401
                                   _inplace_of, _fast_inplace, zero_, fill_, copy_, set_, uniform_,
                                   normal_, bernoulli_, random_, exponential_, geometric_, log_normal_,
                                   cauchy_, _shape_inplace, _rsub, _rtruediv, _rfloordiv, _rmod, _rpow,
                                   _rmatmul, _eq, _ne, _and, _or, _xor, _invert, _iop, _view_method,
                                   _reshape_method, _expand_method, _permute_method, _repeat_method,
                                   _tile_method, _flip_method, _sum_to_size, _masked_fill_, _apply_,
                                   _map_, bind_operators, _top_level, _addr, _parse_to)


def bind():
    T = Tensor
    methods = {
        # elementwise
        "add": E.add, "sub": E.sub, "subtract": E.sub, "mul": E.mul, "multiply": E.mul, "div": E.div,
        "divide": E.div, "true_divide": E.div, "floor_divide": E.floor_divide, "remainder": E.remainder,
        "fmod": E.fmod, "pow": E.pow, "neg": E.neg, "negative": E.neg, "square": E.square, "abs": U.abs,
        "absolute": U.abs, "clamp": E.clamp, "clip": E.clamp, "clamp_min": E.clamp_min,
        "clamp_max": E.clamp_max, "maximum": E.maximum, "minimum": E.minimum, "fmax": E.fmax, "fmin": E.fmin,
        "where": lambda self, cond, other: E.where(cond, self, other), "lerp": E.lerp, "addcmul": E.addcmul,
        "addcdiv": E.addcdiv, "atan2": E.atan2, "arctan2": E.atan2, "nan_to_num": E.nan_to_num, "clone": E.clone,
        "round": U.round, "logit": U.logit, "xlogy": U.xlogy, "conj": E.conj, "rsub": E.rsub,
        "eq": Cmp.eq, "ne": Cmp.ne, "lt": Cmp.lt, "le": Cmp.le, "gt": Cmp.gt, "ge": Cmp.ge, "greater": Cmp.gt,
        "greater_equal": Cmp.ge, "less": Cmp.lt, "less_equal": Cmp.le, "not_equal": Cmp.ne,
        "logical_and": Cmp.logical_and, "logical_or": Cmp.logical_or, "logical_xor": Cmp.logical_xor,
        "logical_not": Cmp.logical_not, "bitwise_and": Cmp.bitwise_and, "bitwise_or": Cmp.bitwise_or,
        "bitwise_xor": Cmp.bitwise_xor, "bitwise_not": Cmp.bitwise_not, "isnan": Cmp.isnan, "isinf": Cmp.isinf,
        "isfinite": Cmp.isfinite, "isposinf": Cmp.isposinf, "isneginf": Cmp.isneginf, "signbit": Cmp.signbit,
        "equal": Cmp.equal, "allclose": Cmp.allclose, "isclose": Cmp.isclose,
        # reductions
        "sum": R.sum, "nansum": R.nansum, "mean": R.mean, "nanmean": R.nanmean, "prod": R.prod, "max": R.max,
        "min": R.min, "amax": R.amax, "amin": R.amin, "aminmax": R.aminmax, "argmax": R.argmax,
        "argmin": R.argmin, "var": R.var, "std": R.std, "logsumexp": R.logsumexp, "norm": R.norm,
        "cumsum": R.cumsum, "cumprod": R.cumprod, "cummax": R.cummax, "all": R.all, "any": R.any,
        "count_nonzero": R.count_nonzero, "sort": SO.sort, "argsort": SO.argsort, "topk": SO.topk,
        "kthvalue": SO.kthvalue, "median": SO.median, "unique": SO.unique,
        # shape
        "view": _view_method, "reshape": _reshape_method, "flatten": S.flatten, "unflatten": S.unflatten,
        "permute": _permute_method, "transpose": S.transpose, "swapaxes": S.transpose, "swapdims": S.transpose,
        "t": S.t, "adjoint": S.adjoint, "movedim": S.movedim, "moveaxis": S.movedim, "expand": _expand_method,
        "expand_as": S.expand_as, "broadcast_to": S.broadcast_to, "squeeze": S.squeeze,
        "unsqueeze": S.unsqueeze, "contiguous": S.contiguous, "split": J.split, "chunk": J.chunk,
        "tensor_split": J.tensor_split, "unbind": J.unbind, "flip": _flip_method, "fliplr": RA.fliplr,
        "flipud": RA.flipud, "roll": RA.roll, "repeat": _repeat_method, "tile": _tile_method,
        "repeat_interleave": RA.repeat_interleave, "narrow": S.narrow, "tril": RA.tril, "triu": RA.triu,
        "view_as": lambda self, other: S.view(self, tuple(other.shape)),
        "reshape_as": lambda self, other: S.reshape(self, tuple(other.shape)), "sum_to_size": _sum_to_size,
        # indexing
        "gather": SG.gather, "scatter": SG.scatter, "scatter_add": SG.scatter_add,
        "scatter_reduce": SG.scatter_reduce, "index_select": SG.index_select, "index_add": SG.index_add,
        "index_copy": SG.index_copy, "index_fill": SG.index_fill, "index_put": I.index_put,
        "masked_fill": I.masked_fill, "masked_select": I.masked_select, "masked_scatter": I.masked_scatter,
        "nonzero": I.nonzero, "argwhere": I.argwhere, "take": I.take, "take_along_dim": SG.take_along_dim,
        # linalg
        "matmul": L.matmul, "mm": L.mm, "bmm": L.bmm, "addmm": L.addmm, "addmv": L.addmv,
        "baddbmm": L.baddbmm, "addbmm": L.addbmm, "dot": L.dot, "inner": L.inner, "vdot": L.vdot,
        "mv": L.mv, "outer": L.outer, "ger": L.outer, "diagonal": L.diagonal, "diag": L.diag,
        "trace": L.trace, "diag_embed": L.diag_embed, "kron": L.kron,
        # conversions
        "to": to, "cpu": cpu, "cuda": cuda, "type": type_, "type_as": type_as,
        "float": lambda self, memory_format=None: E.to_dtype(self, D.float32),
        "double": lambda self, memory_format=None: E.to_dtype(self, D.float64),
        "half": lambda self, memory_format=None: E.to_dtype(self, D.float16),
        "bfloat16": lambda self, memory_format=None: E.to_dtype(self, D.bfloat16),
        "long": lambda self, memory_format=None: E.to_dtype(self, D.int64),
        "int": lambda self, memory_format=None: E.to_dtype(self, D.int32),
        "short": lambda self, memory_format=None: E.to_dtype(self, D.int16),
        "char": lambda self, memory_format=None: E.to_dtype(self, D.int8),
        "byte": lambda self, memory_format=None: E.to_dtype(self, D.uint8),
        "bool": lambda self, memory_format=None: E.to_dtype(self, D.bool_),
        "cfloat": lambda self: E.to_dtype(self, D.complex64),
        "cdouble": lambda self: E.to_dtype(self, D.complex128),
        "new_tensor": new_tensor, "new_zeros": _new_factory(C.zeros), "new_ones": _new_factory(C.ones),
        "new_empty": _new_factory(C.empty), "new_full": new_full,
        # in-place specials
        "zero_": zero_, "fill_": fill_, "copy_": copy_, "set_": set_, "uniform_": uniform_, "normal_": normal_,
        "bernoulli_": bernoulli_, "random_": random_, "exponential_": exponential_, "geometric_": geometric_,
        "log_normal_": log_normal_, "cauchy_": cauchy_, "masked_fill_": _masked_fill_, "apply_": _apply_,
        "map_": _map_,
        "bernoulli": lambda self, p=None, generator=None: C.bernoulli(self, p, generator=generator),
        "multinomial": C.multinomial,
        # operators
        "__getitem__": I.getitem, "__setitem__": I.setitem,
        "__rsub__": _rsub, "__rtruediv__": _rtruediv, "__floordiv__": E.floor_divide,
        "__rfloordiv__": _rfloordiv, "__mod__": E.remainder, "__rmod__": _rmod, "__pow__": E.pow,
        "__rpow__": _rpow, "__matmul__": L.matmul, "__rmatmul__": _rmatmul, "__neg__": E.neg,
        "__pos__": lambda self: self, "__abs__": U.abs, "__invert__": _invert, "__and__": _and,
        "__rand__": _and, "__or__": _or, "__ror__": _or, "__xor__": _xor, "__rxor__": _xor,
        "__eq__": _eq, "__ne__": _ne, "__lt__": Cmp.lt, "__le__": Cmp.le, "__gt__": Cmp.gt, "__ge__": Cmp.ge,
        "__iadd__": _iop("add", E.add), "__isub__": _iop("subtract", E.sub),
        "__imul__": _iop("multiply", E.mul), "__itruediv__": _iop("true_divide", E.div),
    }
    for name, fn in U._UNARY_FUNCS.items():
        methods.setdefault(name, fn)
    for alias, name in (("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"), ("arcsinh", "asinh"),
                        ("arccosh", "acosh"), ("arctanh", "atanh"), ("fix", "trunc")):
        methods[alias] = U._UNARY_FUNCS[name]
    for name, fn in methods.items():
        setattr(T, name, fn)
    bind_operators(T)  # + - * / with their fast path
    # arithmetic in place: add_(other, alpha=...) etc. (NumPy ufuncs write straight in when no graph is recorded)
    T.add_ = _fast_inplace("add", E.add)
    T.sub_ = _fast_inplace("subtract", E.sub)
    T.subtract_ = T.sub_
    T.mul_ = _fast_inplace("multiply", E.mul)
    T.multiply_ = T.mul_
    T.div_ = _fast_inplace("true_divide", E.div)
    T.divide_ = T.div_
    T.true_divide_ = T.div_

    def _div_(self, other, *, rounding_mode=None):
        if rounding_mode is None:
            return _fast_inplace("true_divide", E.div)(self, other)
        return IP.inplace(self, E.div(self, other, rounding_mode=rounding_mode))
    T.div_ = _div_
    for name in ("pow", "clamp", "clip", "clamp_min", "clamp_max", "neg", "negative", "square", "abs", "round",
                 "lerp", "addcmul", "addcdiv", "remainder", "fmod", "floor_divide", "maximum", "minimum",
                 "nan_to_num", "logit", "atan2", "where", "scatter", "scatter_add", "scatter_reduce",
                 "index_add", "index_copy", "index_fill", "index_put", "masked_scatter", "tril", "triu",
                 "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
                 "bitwise_xor", "bitwise_not", "eq", "ne", "lt", "le", "gt", "ge", "xlogy"):
        setattr(T, name + "_", _inplace_of(methods[name]))
    for name in U._UNARY_FUNCS:
        setattr(T, name + "_", _inplace_of(U._UNARY_FUNCS[name]))
    for name in ("unsqueeze", "squeeze", "t", "transpose", "resize"):
        if name in methods:
            setattr(T, name + "_", _shape_inplace(methods[name]))
    T.__ipow__ = _inplace_of(E.pow)
    T.__ifloordiv__ = _inplace_of(E.floor_divide)
    T.__imod__ = _inplace_of(E.remainder)
    T.__iand__ = _inplace_of(_and)
    T.__ior__ = _inplace_of(_or)
    T.__ixor__ = _inplace_of(_xor)
    T.resize_ = lambda self, *size: set_(self, _wrap(np.resize(self._data, S._dims(size))))
    T.softmax = lambda self, dim, dtype=None: __import__("ember").nn.functional.softmax(self, dim, dtype=dtype)
    T.log_softmax = lambda self, dim, dtype=None: __import__("ember").nn.functional.log_softmax(self, dim, dtype=dtype)
    T.relu = U._UNARY_FUNCS["relu"]

    _bind_more(T, methods)


def _bind_more(T, methods):
    """Methods of ``ops/special.py``, ``ops/shape_more.py``, ``ops/stats.py``, matrix functions, and the
    in-place variants PyTorch has for ops bound above."""
    from .ops import linalg_matrix as LA
    from .ops import shape_more as SM
    from .ops import special as SP
    from .ops import stats as ST

    more = dict(SP.SPECIAL_FUNCS)
    more.update(SM.SHAPE_FUNCS)
    more.update(ST.STATS_FUNCS)
    more.update(unfold=SM.unfold, det=LA.det, inverse=LA.inv, logdet=LA.logdet, slogdet=LA.slogdet,
                matrix_power=LA.matrix_power, matrix_exp=LA.matrix_exp, addr=_addr, fill_diagonal_=SM.fill_diagonal_)
    for name in ("cholesky", "qr", "svd", "pinverse", "triangular_solve", "cross", "is_nonzero", "lu", "lu_solve"):
        more[name] = _top_level(name)
    for name, fn in more.items():
        setattr(T, name, fn)
    for name in ("erfc", "erfinv", "lgamma", "digamma", "polygamma", "mvlgamma", "sinc", "deg2rad", "rad2deg",
                 "sgn", "hypot", "copysign", "heaviside", "float_power", "ldexp", "gcd", "lcm", "nextafter",
                 "index_reduce", "renorm", "addr"):
        setattr(T, name + "_", _inplace_of(more[name]))
    for name in ("cumsum", "cumprod", "fix", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
                 "absolute", "arctan2", "greater", "greater_equal", "less", "less_equal", "not_equal", "addmm",
                 "addbmm", "baddbmm", "addmv", "sign", "clip"):
        if not hasattr(T, name + "_") or name in ("fix", "arcsin", "arccos", "arctan", "arcsinh", "arccosh",
                                                    "arctanh"):
            setattr(T, name + "_", _inplace_of(methods[name]))
    T.swapaxes_ = T.swapdims_ = _shape_inplace(methods["transpose"])
    from .ops import extras
    extras.bind_methods(T)
