"""``Tensor``: a backend array plus the autograd fields.

Fields: ``_data`` (NumPy or CuPy array, never a NumPy scalar), ``requires_grad``, ``grad``,
``grad_fn`` (the Node that made it, None for leaves), ``_output_nr`` (which output of grad_fn),
``_vc`` (version counter, a one-element list shared by views), ``_retains_grad``, ``_hooks``
(a leaf's gradient hooks), ``_accum`` (the leaf's AccumulateGrad node, made on first use).
Methods that are ops live in ``ember.ops.*`` and are bound at the bottom of this file.
"""
from __future__ import annotations

import numpy as np

from . import _dtype as D
from .autograd.grad_mode import state
from .backends import device_of, namespace_of, to_host


class Size(tuple):
    """``torch.Size``: a tuple of ints."""

    def __repr__(self):
        return f"torch.Size([{', '.join(str(int(s)) for s in self)}])"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __reduce__(self):
        return (Size, (tuple(self),))


class Tensor:
    """A multi-dimensional array with autograd. Build one with ``ember.tensor(...)``."""

    __slots__ = ("_data", "_rg", "_grad", "_gfn", "_output_nr", "_vc", "_retains_grad",
                 "_hooks", "_accum", "_base", "_vv", "__dict__", "__weakref__")
    # _vv (views only, set with _base): the base's grad_fn this view's grad_fn was built on
    # _gfn: the grad_fn as stored; the ``grad_fn`` property brings a view's up to date first (see below)

    __array_priority__ = 1000  # NumPy defers to our reflected operators
    _mv = False  # True (in the instance dict) on an output of split/chunk/unbind made under grad

    def __new__(cls, *args, **kwargs):
        # Legacy constructor: Tensor(2, 3) is uninitialised float, Tensor([1, 2]) copies data.
        dev = kwargs.pop("device", None)
        if kwargs:
            raise TypeError(f"Tensor.__new__ got unexpected keyword arguments {list(kwargs)}")
        if len(args) == 1 and not isinstance(args[0], int):
            from .ops.creation import tensor as _tensor_fn
            src = args[0]
            if isinstance(src, Tensor):
                arr = src._data
            else:
                arr = _tensor_fn(src, dtype=D.get_default_dtype())._data
            if arr.dtype != D.default_float_np() and not isinstance(src, Tensor):
                arr = arr.astype(D.default_float_np())
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            arr = np.empty(tuple(int(s) for s in shape), dtype=D.default_float_np())
        t = object.__new__(cls)
        _init(t, arr, False)
        if dev is not None:
            return t.to(dev)
        return t

    # -- basic attributes -----------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> D.dtype:
        return D._BY_NP[self._data.dtype]

    @property
    def device(self):
        return device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return type(self._data) is not np.ndarray

    @property
    def is_cpu(self) -> bool:
        return type(self._data) is np.ndarray

    is_sparse = False
    is_quantized = False
    is_meta = False
    layout = "torch.strided"

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self) -> int:
        base = self._data.base if self._data.base is not None else self._data
        try:
            off = self._data.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        except AttributeError:
            return 0
        return off // self._data.itemsize

    def data_ptr(self) -> int:
        if type(self._data) is np.ndarray:
            return self._data.__array_interface__["data"][0]
        return int(self._data.data.ptr)

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind in "fV"  # V: bfloat16 (ml_dtypes), Ember's only void-kind dtype

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_signed(self) -> bool:
        return self._data.dtype.kind in "fic"

    @property
    def is_leaf(self) -> bool:
        return self._gfn is None

    @property
    def grad_fn(self):
        """The Node that made this tensor (None for leaves). A view whose base was changed in place through
        another view gets its new ``AsStridedBackward0`` here, on access, as in PyTorch."""
        b = self._base
        if b is not None and self._rg and self._vv is not b._gfn:
            from .ops.view_inplace import regenerate
            regenerate(self)
        return self._gfn

    @grad_fn.setter
    def grad_fn(self, node):
        self._gfn = node

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's array, detached from the graph (its own version counter)."""
        return _wrap(self._data)

    @data.setter
    def data(self, value: "Tensor"):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = value._data

    @property
    def T(self) -> "Tensor":
        from .ops.shape import permute
        if self._data.ndim <= 2:
            return permute(self, tuple(range(self._data.ndim))[::-1])
        return permute(self, tuple(range(self._data.ndim))[::-1])

    @property
    def mT(self) -> "Tensor":
        from .ops.shape import transpose
        if self._data.ndim < 2:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got "
                               f"{self._data.ndim}-D tensor.")
        return transpose(self, -2, -1)

    @property
    def H(self):
        return self.T.conj() if self.is_complex() else self.T

    @property
    def mH(self):
        return self.mT.conj() if self.is_complex() else self.mT

    @property
    def real(self):
        from .ops.elementwise import real
        return real(self)

    @property
    def imag(self):
        from .ops.elementwise import imag
        return imag(self)

    # -- Python protocol ------------------------------------------------------------------
    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        from .ops.join import unbind
        return iter(unbind(self, 0))

    def __hash__(self):
        return id(self)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous" if self._data.size == 0
                               else "Boolean value of Tensor with more than one value is ambiguous")
        a = self._data
        return bool(a.reshape(()) if type(a) is np.ndarray else to_host(a).reshape(()))

    def _scalar(self, kind):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        a = self._data
        return kind((a if type(a) is np.ndarray else to_host(a)).reshape(())[()].item())

    def __float__(self):
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __complex__(self):
        return self._scalar(complex)

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return self._scalar(int)

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        a = self._data
        if type(a) is not np.ndarray:
            a = to_host(a)
        return a.reshape(-1)[0].item()

    def tolist(self):
        return self._cpu_array().tolist()

    def _cpu_array(self):
        a = self._data
        return a if type(a) is np.ndarray else to_host(a)

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if type(self._data) is not np.ndarray:
            if not force:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                                "copy the tensor to host memory first.")
            return self._data.get()
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self._data.dtype.kind == "V":
            raise TypeError("Got unsupported ScalarType BFloat16")  # as PyTorch: NumPy has no bfloat16
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self._cpu_array()
        return a if dtype is None else a.astype(dtype)

    def __dlpack__(self, *args, **kwargs):
        if self.requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        # Views of one array pickle its memory once and share it again after loading.
        from .serialization import reduce_tensor
        return reduce_tensor(self)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        if self._gfn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol at the moment.  If you were attempting to deepcopy a "
                               "module, this may be because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        import copy
        arr = _deepcopy_array(self._data, memo)
        t = object.__new__(type(self))
        _init(t, arr, self._rg)
        # views copied together keep sharing memory and one version counter, as in PyTorch
        t._vc = memo.setdefault(("ember.vc", id(self._vc)), [self._vc[0]])
        memo[id(self)] = t
        if self.grad is not None:
            t.grad = copy.deepcopy(self.grad, memo)
        if self.__dict__:
            t.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return t

    # -- autograd -------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place (leaves only, floating point only); returns ``self``."""
        if requires_grad and self._data.dtype.kind not in "fcV":  # V: bfloat16
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        _set_requires_grad(self, requires_grad)
        return self

    def _accumulator(self):
        acc = self._accum
        if acc is None:
            from .autograd.function import AccumulateGrad
            acc = self._accum = AccumulateGrad(self)
        return acc

    def retain_grad(self) -> None:
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._gfn is None or self._retains_grad:
            return
        self._retains_grad = True
        import weakref
        ref = weakref.ref(self)

        def _retain(g):
            t = ref()
            if t is None:
                return None
            if state.trace is not None:
                state.trace.on_retain(t, g)
            if t._grad is None:
                t._grad = _wrap(g._data.copy()) if not g.requires_grad else g.clone()
            else:
                t._grad = t._grad + g
            return None

        # PyTorch runs the retain-grad capture after the tensor's other hooks.
        self.grad_fn._register_tensor_hook(self._output_nr, _retain)
        self.__dict__["_retain_hook_last"] = True

    def register_hook(self, hook):
        """``hook(grad) -> Tensor or None`` runs when this tensor's gradient is computed."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            node = self.grad_fn
            handle = node._register_tensor_hook(self._output_nr, hook)
            hooks = node._tensor_pre_hooks[self._output_nr]
            # keep a retain_grad capture last, as PyTorch does
            for hid, fn in list(hooks.items()):
                if getattr(fn, "__name__", "") == "_retain":
                    hooks.pop(hid)
                    hooks[hid] = fn
            return handle
        from .utils.hooks import RemovableHandle
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle.add(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        if self._gfn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        from .utils.hooks import RemovableHandle
        d = self.__dict__.setdefault("_post_acc_hooks", {})
        return RemovableHandle.add(d, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see ``ember.autograd.backward``)."""
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        t = _wrap(self._data)
        t._vc = self._vc
        return t

    def detach_(self) -> "Tensor":
        """Detach in place: this tensor becomes a leaf that does not require grad. Not for views."""
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead. If you are using "
                               "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                               "as True, gradients are views of DDP buckets, and hence detach_() cannot be called "
                               "on these gradients. To fix this error, please refer to the Optimizer.zero_grad() "
                               "function in torch/optim/optimizer.py as the solution.")
        self._gfn = None
        self._output_nr = 0
        self._rg = False
        return self

    def _check_inplace(self):
        """In-place writes must not touch a leaf that requires grad (or a view of one) while grad mode is on."""
        if state.enabled and self._rg:
            if self._gfn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
            b = self._base
            if b is not None and b._gfn is None and b._rg:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                                   "operation.")
            if self._mv:
                import re
                op = re.sub(r"Backward\d*$", "", self._gfn.name())
                raise RuntimeError(f"Output {self._output_nr} of {op} is a view and is being modified inplace. This "
                                   "view is the output of a function that returns multiple views. Such functions do "
                                   "not allow the output views to be modified inplace. You should replace the "
                                   "inplace operation by an out-of-place one.")
        elif state.enabled:
            b = self._base
            if b is not None and b._rg and self._vv is b._gfn:
                # a view that does not require grad of a base that did when it was made: made under no_grad
                raise RuntimeError("A view was created in no_grad mode and is being modified inplace with grad mode "
                                   "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. "
                                   "You can clarify your code by moving both the view and the inplace either both "
                                   "inside the no_grad block (if you don't want the inplace to be tracked) or both "
                                   "outside (if you want the inplace to be tracked).")


def _init(t, arr, requires_grad):
    t._data = arr
    t._rg = requires_grad
    t._grad = None
    t._gfn = None
    t._output_nr = 0
    t._vc = [0]
    t._retains_grad = False
    t._hooks = None
    t._accum = None
    t._base = None


_new = object.__new__


def _set_requires_grad(t, value) -> None:
    """The ``requires_grad`` setter: PyTorch's checks, then the slot."""
    value = bool(value)
    if not value and getattr(t, "_gfn", None) is not None:
        raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                           "computed variable in a subgraph that doesn't require differentiation use "
                           "var_no_grad = var.detach().")
    if value and t._data.dtype.kind not in "fcV":  # V: bfloat16
        raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
    t._rg = value


# ``requires_grad`` reads the ``_rg`` slot through its C getter (no Python frame); writes are checked.
# Ember's own hot paths read and write ``_rg`` directly.
Tensor.requires_grad = property(Tensor.__dict__["_rg"].__get__, _set_requires_grad,
                                doc="Whether autograd records operations on this tensor.")

_NON_LEAF_GRAD = ("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                  "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                  "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor "
                  "by mistake, make sure you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 "
                  "for more information.")


def _get_grad(t):
    g = t._grad
    if g is None and t._gfn is not None and not t._retains_grad:
        import warnings
        warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
    return g


# ``grad`` reads through one small getter (PyTorch warns when a non-leaf's never-filled .grad is read);
# writes go straight to the ``_grad`` slot. Ember's own hot paths use ``_grad``.
Tensor.grad = property(_get_grad, Tensor.__dict__["_grad"].__set__, Tensor.__dict__["_grad"].__delete__,
                       doc="The gradient accumulated by backward() (leaves, and non-leaves after retain_grad()).")


def _wrap(arr, requires_grad=False) -> Tensor:
    """A Tensor around ``arr`` (no copy). NumPy scalars become 0-d arrays."""
    t = _new(Tensor)
    if type(arr) is not np.ndarray:
        if isinstance(arr, np.generic):
            arr = np.asarray(arr)
        elif not isinstance(arr, np.ndarray) and not hasattr(arr, "__cuda_array_interface__"):
            arr = np.asarray(arr)  # NumPy subclasses (memmap, device stand-ins) are kept as they are
    t._data = arr
    t._rg = requires_grad
    t._grad = None
    t._gfn = None
    t._output_nr = 0
    t._vc = [0]
    t._retains_grad = False
    t._hooks = None
    t._accum = None
    t._base = None
    return t


def _deepcopy_array(arr, memo):
    """Copy of ``arr``; arrays that view one NumPy buffer are copied onto one new buffer (once per memo)."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    if type(arr) is not np.ndarray or not (root.flags.c_contiguous or root.flags.f_contiguous):
        return arr.copy()
    key = ("ember.buffer", id(root))
    hit = memo.get(key)
    if hit is None:
        raw = np.empty(root.nbytes, dtype=np.uint8)
        if root.nbytes:
            raw[:] = root.reshape(-1, order="A").view(np.uint8)
        hit = memo[key] = (raw, root)  # keeping root alive keeps its id unique while memo lives
    off = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return np.ndarray(arr.shape, arr.dtype, buffer=hit[0], offset=off, strides=arr.strides)


def _wrap_dim(dim, ndim):
    if dim < -max(ndim, 1) or dim >= max(ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
                         f"{max(ndim, 1) - 1}], but got {dim})")
    return dim + ndim if dim < 0 else dim


from .autograd import function as _function  # noqa: E402
from .autograd import engine as _engine  # noqa: E402

_function._bind_tensor(Tensor, _wrap)
_engine._bind_tensor(Tensor, _wrap)


def zero_grads(tensors, set_to_none: bool = True) -> None:
    """Reset the ``.grad`` of each tensor (``Module.zero_grad`` and ``Optimizer.zero_grad``): drop it
    (``set_to_none``) or detach it and fill it with zeros in place."""
    for p in tensors:
        g = p._grad
        if g is None:
            continue
        if set_to_none:
            p._grad = None
            continue
        if g._gfn is not None:
            g.detach_()
        else:
            g.requires_grad = False
        g._data[...] = 0
        g._vc[0] += 1


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def namespace(t: Tensor):
    return namespace_of(t._data)
