"""Matrix products: matmul (with batching and 1-D promotion), mm, bmm, addmm, dot, outer, einsum."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..backends import namespace_of, same_device
from . import _bw as B
from ..amp.autocast_mode import _ACTIVE as _AUTOCAST, cast_lower as _cast_lower
from ..amp.autocast_mode import float32_call as _float32_call, plain_call as _plain_call


class Mm(Function):
    raw = True
    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        gb = None
        if need[1]:
            # a transposed operand (weight.t()) gets its gradient in the same layout: contiguous .grad
            gb = (g.T @ a).T if _is_transposed(b) else B.swap_last(a) @ g
        return (g @ B.swap_last(b) if need[0] else None), gb


class Bmm(Mm):
    node_name = "BmmBackward0"


class Matmul(Function):
    """General matmul: broadcast batch dims; 1-D operands are promoted and squeezed back."""

    raw = True
    node_name = "MatmulBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        a2 = a.reshape((1,) + tuple(a.shape)) if a.ndim == 1 else a
        b2 = b.reshape(tuple(b.shape) + (1,)) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = g2.reshape(tuple(g2.shape[:-1]) + (1,) + tuple(g2.shape[-1:])) if b.ndim > 1 else g2.reshape((1,) * 1 + tuple(g2.shape))
        if b.ndim == 1:
            g2 = g2.reshape(tuple(g2.shape) + (1,))
        ga = gb = None
        if need[0]:
            ga = B.sum_to(g2 @ B.swap_last(b2), tuple(a2.shape)).reshape(tuple(a.shape))
        if need[1]:
            if a2.ndim == 2 and _is_transposed(b2):
                gb = (g2.T @ a2).T    # contiguous gradient for a transposed (weight.t()) operand
            else:
                gb = B.sum_to(B.swap_last(a2) @ g2, tuple(b2.shape))
            gb = gb.reshape(tuple(b.shape))
        return ga, gb


def _is_transposed(m) -> bool:
    """A 2-D backend array that is the transpose of a C-contiguous one (never a Tensor: create_graph
    formulas keep the generic form)."""
    return getattr(m, "ndim", 0) == 2 and not isinstance(m, Tensor) and m.flags.f_contiguous \
        and not m.flags.c_contiguous


class Dot(Function):
    raw = True
    node_name = "DotBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return namespace_of(a).asarray(a @ b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (g * b if need[0] else None), (g * a if need[1] else None)


def _check_same_dtype(a, b, op):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype.name.replace('float32', 'float')} "
                           f"!= {b.dtype.name.replace('float32', 'float')}" if op != "dot" else
                           f"dot : expected both vectors to have same dtype, but found {a.dtype.name.capitalize()} and "
                           f"{b.dtype.name.capitalize()}")


def _check_device(a, b):
    if type(a._data) is not type(b._data):
        same_device(a, b)


def matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Matrix product with NumPy/PyTorch broadcasting rules (shapes (..., n, k) @ (..., k, m))."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 1) must be Tensor, not {type(other).__name__}")
    if _AUTOCAST[0]:
        input, other = _cast_lower(input, other)
    a, b = input._data, other._data
    _check_device(input, other)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.dtype != b.dtype:
        _check_same_dtype(input, other, "matmul")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have "
                               "the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
        sa = "x".join(map(str, a.shape if a.ndim == 2 else (int(np.prod(a.shape[:-1])), a.shape[-1])))
        sb = "x".join(map(str, b.shape))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")
    if a.ndim == 2 and b.ndim == 2:
        return Mm.apply(input, other)
    if a.ndim == 1 and b.ndim == 1:
        return Dot.apply(input, other)
    try:
        return _matmul_fn(a.ndim, b.ndim).apply(input, other)
    except ValueError:
        from .elementwise import _raise_broadcast
        _raise_broadcast(_wrap_shape(a.shape[:-2]), _wrap_shape(b.shape[:-2]))
        raise


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"{'self' if input.dim() != 2 else 'mat2'} must be a matrix")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.dim() != 3 or mat2.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input.dim() != 3 else "batch2 must be a 3D tensor")
    if _AUTOCAST[0]:
        input, mat2 = _cast_lower(input, mat2)
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{input.shape[0]}, "
                           f"{input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    _check_same_dtype(input, mat2, "bmm") if input._data.dtype != mat2._data.dtype else None
    return Bmm.apply(input, mat2)


class Addmm(Function):
    """``beta * bias + alpha * (m1 @ m2)``: the workhorse of ``nn.Linear``."""

    raw = True
    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, bias, m1, m2, beta, alpha):
        need = ctx.needs_input_grad
        if need:  # save only what the wanted gradients use, as PyTorch does (saved-tensor hooks see it)
            ctx.save_for_backward(m1 if need[2] else None, m2 if need[1] else None)
            ctx.m2_t = need[2] and _is_transposed(m2)
        ctx.bshape = bias.shape
        ctx.beta, ctx.alpha = beta, alpha
        y = m1 @ m2
        if alpha != 1:
            y *= alpha
        y += bias if beta == 1 else beta * bias
        return y

    @staticmethod
    def backward(ctx, g):
        m1, m2 = ctx.saved_tensors
        need = ctx.needs_input_grad
        gb = g1 = g2 = None
        if need[0]:
            gb = B.sum_to(g, ctx.bshape)
            if ctx.beta != 1:
                gb = gb * ctx.beta
        if need[1]:
            g1 = g @ B.swap_last(m2)
            if ctx.alpha != 1:
                g1 = g1 * ctx.alpha
        if need[2]:
            if ctx.m2_t and not isinstance(m1, Tensor):  # (create_graph keeps the generic form)
                # nn.Linear's weight.t(): produce the gradient in the transposed layout too, so the
                # weight's .grad comes out contiguous (as PyTorch's; optimizers then stream it)
                g2 = (g.T @ m1).T
            else:
                g2 = B.swap_last(m1) @ g
            if ctx.alpha != 1:
                g2 = g2 * ctx.alpha
        return gb, g1, g2, None, None


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError("mat1 must be a matrix" if mat1.dim() != 2 else "mat2 must be a matrix")
    if _AUTOCAST[0]:
        input, mat1, mat2 = _cast_lower(input, mat1, mat2)
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    if mat1._data.dtype != mat2._data.dtype:
        _check_same_dtype(mat1, mat2, "addmm")
    return Addmm.apply(input, mat1, mat2, beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    if _AUTOCAST[0]:
        return _plain_call(addmv, input, mat, vec, beta=beta, alpha=alpha)
    return beta * input + alpha * matmul(mat, vec)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    if _AUTOCAST[0]:
        input, batch1, batch2 = _cast_lower(input, batch1, batch2)
    return beta * input + alpha * bmm(batch1, batch2)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    if _AUTOCAST[0]:
        input, batch1, batch2 = _cast_lower(input, batch1, batch2)
    return beta * input + alpha * bmm(batch1, batch2).sum(0)


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src [{other.shape[0]}] "
                           f"to have the same number of elements, but got {input.shape[0]} and {other.shape[0]} "
                           "elements respectively")
    if input._data.dtype != other._data.dtype:
        _check_same_dtype(input, other, "dot")
    return Dot.apply(input, other)


def inner(input, other, *, out=None):
    """Sum of products over the last dims: ``dot`` for 1-D, ``a.shape[:-1] + b.shape[:-1]`` for N-d, a plain
    product when either is 0-d."""
    if input.dim() == 0 or other.dim() == 0:
        r = input * other
    elif input.dim() == 1 and other.dim() == 1:
        r = dot(input, other)
    else:
        if input.shape[-1] != other.shape[-1]:
            raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                               f"{list(input.shape)} and {list(other.shape)}")
        r = tensordot(input, other, dims=([input.dim() - 1], [other.dim() - 1]))
    return r if out is None else out.copy_(r)
vdot = dot


def mv(input, vec):
    if _AUTOCAST[0]:
        return _plain_call(mv, input, vec)
    return matmul(input, vec)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def _einsum_arr(spec, *ops):
    """The backend's einsum; bfloat16 (ml_dtypes, which NumPy's einsum rejects) runs in float32, rounded once."""
    xp = namespace_of(ops[0])
    if ops[0].dtype.kind == "V":
        return xp.einsum(spec, *[o.astype(xp.float32) for o in ops], optimize=len(ops) > 2).astype(ops[0].dtype)
    return xp.einsum(spec, *ops, optimize=len(ops) > 2)


class Einsum(Function):
    raw = True
    node_name = "EinsumBackward0"

    @staticmethod
    def forward(ctx, spec, *ops):
        ctx.spec = spec
        ctx.save_for_backward(*ops)
        return _einsum_arr(spec, *ops)

    @staticmethod
    def backward(ctx, g):
        ops = ctx.saved_tensors
        ins, out = ctx.spec.split("->")
        subs = ins.split(",")
        need = ctx.needs_input_grad
        grads = [None]
        for i, s in enumerate(subs):
            if not need[i + 1]:
                grads.append(None)
                continue
            others = [o for j, o in enumerate(ops) if j != i]
            other_subs = [t for j, t in enumerate(subs) if j != i]
            avail = set(out).union(*other_subs) if other_subs else set(out)
            target = "".join(c for c in dict.fromkeys(s) if c in avail)
            spec = ",".join([out] + other_subs) + "->" + target
            r = einsum(spec, g, *others) if isinstance(g, Tensor) else _einsum_arr(spec, g, *others)
            if target != s:
                # indices only in this operand were summed out in forward: broadcast back;
                # a repeated index (a diagonal) is rebuilt with an identity mask
                shape_of = dict(zip(s, ops[i].shape))
                full = "".join(dict.fromkeys(s))
                exp_shape = [shape_of[c] if c in target else 1 for c in full]
                r = r.reshape(tuple(shape_of[c] if c in target else 1 for c in full)) if target == "".join(c for c in full if c in target) else r
                r = B.broadcast_to(r, tuple(shape_of[c] for c in full)) if exp_shape else r
                if full != s:
                    r = _to_diagonal(r, full, s, shape_of)
            grads.append(r)
        return tuple(grads)


def _to_diagonal(r, full, s, shape_of):
    """Place ``r`` (subscripts ``full``, each letter once) on the diagonals of an operand whose
    subscripts ``s`` repeat letters: every repeat gets a fresh letter tied by an identity matrix."""
    letters = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in s]
    seen, s_out, eye_subs = set(), [], []
    for c in s:
        if c in seen:
            f = letters.pop(0)
            s_out.append(f)
            eye_subs.append(c + f)
        else:
            seen.add(c)
            s_out.append(c)
    arr = r._data if isinstance(r, Tensor) else r
    xp = namespace_of(arr)
    eyes = [xp.eye(shape_of[e[0]], dtype=arr.dtype) for e in eye_subs]
    spec = ",".join([full] + eye_subs) + "->" + "".join(s_out)
    if isinstance(r, Tensor):
        from .._tensor import _wrap
        return einsum(spec, r, *[_wrap(e) for e in eyes])
    return xp.einsum(spec, r, *eyes)


def _matmul_fn(nda, ndb):
    """PyTorch decomposes matmul; its outermost node names the grad_fn. Ember runs one fused
    node under the same name."""
    if nda == 2 and ndb == 1:
        return _Mv
    if nda == 1 and ndb == 2:
        return _MatmulSqueeze
    if nda == 2:
        return _MatmulClone
    return _MatmulUnsafeView


class _Mv(Matmul):
    node_name = "MvBackward0"


class _MatmulSqueeze(Matmul):
    node_name = "SqueezeBackward4"


class _MatmulClone(Matmul):
    node_name = "CloneBackward0"


class _MatmulUnsafeView(Matmul):
    node_name = "UnsafeViewBackward0"


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation over tensors (``'ij,jk->ik'``); implicit output (no ``->``) supported."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    if "..." in eq:
        # let NumPy resolve the ellipsis into explicit letters
        eq = _expand_ellipsis(eq, operands)
    if "->" not in eq:
        ins = eq.split(",")
        counts = {}
        for c in "".join(ins):
            counts[c] = counts.get(c, 0) + 1
        eq = eq + "->" + "".join(sorted(c for c, n in counts.items() if n == 1))
    if _AUTOCAST[0]:
        operands = tuple(_cast_lower(*operands))
    if len({o._data.dtype for o in operands}) > 1:
        from .._dtype import result_type
        rd = result_type(*operands)
        operands = tuple(o.to(rd) for o in operands)
    return Einsum.apply(eq, *operands)


def _expand_ellipsis(eq, operands):
    ins, _, out = eq.partition("->")
    subs = ins.split(",")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used]
    max_ell = 0
    new_subs = []
    for s, o in zip(subs, operands):
        if "..." in s:
            n = o.dim() - (len(s) - 3)
            max_ell = max(max_ell, n)
    ell = "".join(free[:max_ell])
    for s, o in zip(subs, operands):
        if "..." in s:
            n = o.dim() - (len(s) - 3)
            s = s.replace("...", ell[max_ell - n:])
        new_subs.append(s)
    if "->" in eq:
        out = out.replace("...", ell)
    else:
        counts = {}
        for c in "".join(new_subs):
            counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return ",".join(new_subs) + "->" + out


def _wrap_shape(shape):
    """A stand-in with only ``.shape``, for the broadcast error of batch dims."""
    from types import SimpleNamespace
    return SimpleNamespace(shape=tuple(shape))


def tensordot(a, b, dims=2):
    if isinstance(dims, int):
        da = list(range(a.dim() - dims, a.dim()))
        db = list(range(dims))
    else:
        da, db = [list(d) if not isinstance(d, int) else [d] for d in dims]
    letters = "abcdefghijklmnopqrstuvwxyz"
    sa = list(letters[: a.dim()])
    sb = list(letters[a.dim(): a.dim() + b.dim()])
    for i, j in zip(da, db):
        sb[j] = sa[i]
    out = [c for k, c in enumerate(sa) if k not in da] + [c for k, c in enumerate(sb) if k not in db]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out), a, b)


def kron(a, b):
    if _AUTOCAST[0]:  # on neither list: its einsum must not run in bfloat16
        return _plain_call(kron, a, b)
    r = einsum("ij,kl->ikjl", a.reshape(a.shape[0], -1) if a.dim() > 1 else a.reshape(1, -1),
               b.reshape(b.shape[0], -1) if b.dim() > 1 else b.reshape(1, -1))
    s = r.shape
    out = r.reshape(s[0] * s[1], s[2] * s[3])
    return out.reshape(-1) if a.dim() == 1 and b.dim() == 1 else out


def trace(input):
    if _AUTOCAST[0]:
        return _float32_call(trace, input)
    return einsum("ii->", input)


def diagonal(input, offset=0, dim1=0, dim2=1):
    if offset == 0 and input.dim() == 2 and {dim1, dim2} == {0, 1} and input.shape[0] == input.shape[1]:
        return einsum("ii->i", input)
    from .creation import tensor
    xp = namespace_of(input._data)
    n = xp.diagonal(input._data, offset, dim1, dim2).shape[-1]
    rows = np.arange(n) + max(-offset, 0)
    cols = np.arange(n) + max(offset, 0)
    moved = input.movedim((dim1, dim2), (-2, -1))
    return moved[..., tensor(rows), tensor(cols)]


def diag(input, diagonal=0):
    if input.dim() == 1:
        n = input.shape[0] + abs(diagonal)
        from .creation import zeros
        z = zeros(n, n, dtype=input.dtype, device=input.device)
        from .creation import tensor
        rows = tensor(np.arange(input.shape[0]) + max(-diagonal, 0))
        cols = tensor(np.arange(input.shape[0]) + max(diagonal, 0))
        from .indexing import index_put
        return index_put(z, (rows, cols), input)
    return globals()["diagonal"](input, diagonal)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    n = input.shape[-1]
    from .creation import eye
    e = eye(n, dtype=input.dtype, device=input.device)
    return input.unsqueeze(-1) * e
