"""Runs Ember's CuPy ``ElementwiseKernel`` bodies on the CPU: the same C++ body, compiled with g++ into a
loop over the element index, called through ctypes on NumPy arrays. ``fake_cupy`` uses it as its
``ElementwiseKernel``, so the fused kernels of ``ember.backends.kernels`` are checked against PyTorch
on a machine without a GPU. ``cuda_source`` wraps the same body in a ``__global__`` function for
``nvcc`` (a compile check of the device code where nvcc is installed).

The semantics follow CuPy's: non-raw parameters broadcast together and are read (inputs) or written
(outputs) at the element index ``i``; ``raw`` parameters are whole C-ordered arrays indexed by a flat
index; ``T`` is the dtype of the first array argument declared with ``T``; missing outputs are
allocated; ``size=`` is required when every array parameter is raw.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile

import numpy as np

_CTYPES = {"float32": "float", "float64": "double", "int32": "int", "int64": "long long", "uint8": "unsigned char",
           "int8": "signed char", "bool": "bool", "uint32": "unsigned int", "uint64": "unsigned long long",
           "int16": "short", "uint16": "unsigned short"}
_DIR = tempfile.mkdtemp(prefix="ember_kernel_emu_")


def available() -> bool:
    return shutil.which("g++") is not None


def _parse(params: str):
    out = []
    for p in params.split(","):
        words = p.split()
        if not words:
            continue
        raw = words[0] == "raw"
        if raw:
            words = words[1:]
        typ, name = words
        out.append((raw, typ, name))
    return out


def _decls(params, outputs: bool, start: int):
    lines = []
    for k, (raw, typ, name) in enumerate(params):
        c = "T" if typ == "T" else _CTYPES[typ]
        a = f"_a[{start + k}]"
        if raw:
            lines.append(f"{c}* const {name} = ({c}*){a};")
        elif outputs:
            lines.append(f"{c}& {name} = (({c}*){a})[i];")
        else:
            lines.append(f"const {c} {name} = ((const {c}*){a})[i];")
    return "\n    ".join(lines)


def _source(ins, outs, body, preamble, ctype, gpu):
    head = ("" if gpu else "#include <cmath>\n#include <cstdint>\n#include <algorithm>\n#define __device__\n"
            "#define atomicAdd(p, v) (*(p) += (v))\n"
            "using std::min; using std::max; using std::isnan; using std::isinf; using std::sqrt; using std::exp;\n"
            "using std::log; using std::log1p; using std::expm1; using std::tanh; using std::abs; using std::floor;\n")
    decl = _decls(ins, False, 0) + "\n    " + _decls(outs, True, len(ins))
    loop = ("extern \"C\" __global__ void run(long long _n, void** _a) {\n"
            "  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n  if (i >= _n) return;\n  {"
            if gpu else "extern \"C\" void run(long long _n, void** _a) {\n  for (long long i = 0; i < _n; ++i) {")
    return (f"{head}typedef {ctype} T;\n"
            "struct _Index { long long n; __device__ long long size() const { return n; } };\n"
            f"{preamble}\n{loop}\n    _Index _ind = {{_n}};\n    {decl}\n    {{\n{body};\n    }}\n  }}\n}}\n")  # CuPy adds the ";" too


def cuda_source(kernel, dtype) -> str:
    """The kernel's body in a CUDA ``__global__`` function with ``T`` = ``dtype`` (for ``nvcc -ptx``)."""
    return _source(_parse(kernel.in_params), _parse(kernel.out_params), kernel.body, kernel.preamble,
                   _CTYPES[np.dtype(dtype).name], gpu=True)


_LIBS = {}


def _compile(src: str):
    key = hashlib.sha1(src.encode()).hexdigest()[:16]
    lib = _LIBS.get(key)
    if lib is None:
        path = os.path.join(_DIR, key)
        with open(path + ".cpp", "w") as f:
            f.write(src)
        r = subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-o", path + ".so", path + ".cpp"],
                           capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"kernel does not compile:\n{r.stderr}\n{src}")
        lib = _LIBS[key] = ctypes.CDLL(path + ".so")
        lib.run.argtypes = [ctypes.c_longlong, ctypes.POINTER(ctypes.c_void_p)]
    return lib


class ElementwiseKernel:
    """CuPy's ``ElementwiseKernel`` on NumPy arrays (the device-array subclass of the stand-in is kept)."""

    def __init__(self, in_params, out_params, operation, name="kernel", preamble="", **kw):
        self.ins, self.outs, self.body, self.name, self.preamble = (
            _parse(in_params), _parse(out_params), operation, name, preamble)
        self.calls = 0

    def __call__(self, *args, size=None):
        import fake_cupy
        if fake_cupy.counting[0]:
            fake_cupy._count(f"kernel {self.name}")
        params = self.ins + self.outs
        if len(args) not in (len(self.ins), len(params)):
            raise TypeError(f"{self.name}: wrong number of arguments ({len(args)})")
        tdt = None
        for (raw, typ, _), a in zip(params, args):
            if typ == "T" and isinstance(a, np.ndarray) and a.ndim >= 0 and not isinstance(a, np.generic):
                tdt = a.dtype
                break
        if tdt is None:
            raise TypeError(f"{self.name}: cannot resolve T")
        shapes = [np.shape(a) for (raw, _, _), a in zip(params, args) if not raw and isinstance(a, np.ndarray)]
        if shapes:
            shape = np.broadcast_shapes(*shapes)
        elif size is None:
            raise ValueError("Loop size is undecided")
        else:
            shape = (size,)
        n = int(np.prod(shape)) if size is None else size
        bufs, back, outs = [], [], []
        for k, ((raw, typ, name), a) in enumerate(zip(params, list(args) + [None] * (len(params) - len(args)))):
            dt = tdt if typ == "T" else np.dtype(typ)
            is_out = k >= len(self.ins)
            if a is None:
                a = np.empty(shape, dtype=dt)
                if type(args[0]) is not np.ndarray and isinstance(args[0], np.ndarray):
                    a = a.view(type(args[0]))
            if is_out:
                outs.append(a)
                if a.dtype != dt:
                    raise TypeError(f"{self.name}: output {name} has dtype {a.dtype}, expected {dt}")
                buf = a if (a.flags.c_contiguous and (raw or a.shape == tuple(shape))) else None
                if buf is None:
                    buf = np.ascontiguousarray(a if raw else np.broadcast_to(a, shape))
                    back.append((a, buf))
            else:
                arr = np.asarray(a).view(np.ndarray).astype(dt, copy=False)
                buf = np.ascontiguousarray(arr if raw else np.broadcast_to(arr, shape))
            bufs.append(buf)
        ptrs = (ctypes.c_void_p * len(bufs))(*[b.ctypes.data for b in bufs])
        lib = _compile(_source(self.ins, self.outs, self.body, self.preamble, _CTYPES[np.dtype(tdt).name], gpu=False))
        lib.run(n, ptrs)
        for a, buf in back:
            a[...] = buf
        self.calls += 1
        return outs[0] if len(outs) == 1 else tuple(outs)
