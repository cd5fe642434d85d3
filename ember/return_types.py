"""Named tuples returned by ops with several results (``max(dim)`` -> ``(values, indices)``)."""
from __future__ import annotations

from collections import namedtuple


def _nt(name, fields=("values", "indices")):
    cls = namedtuple(name, fields)
    cls.__repr__ = lambda self: (f"torch.return_types.{name}(\n" +
                                 ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields) + ")")
    cls.__module__ = __name__
    return cls


max = _nt("max")
min = _nt("min")
sort = _nt("sort")
topk = _nt("topk")
kthvalue = _nt("kthvalue")
median = _nt("median")
nanmedian = _nt("nanmedian")
mode = _nt("mode")
cummax = _nt("cummax")
cummin = _nt("cummin")
aminmax = _nt("aminmax", ("min", "max"))
eigh = _nt("eigh", ("eigenvalues", "eigenvectors"))
qr = _nt("qr", ("Q", "R"))
svd = _nt("svd", ("U", "S", "Vh"))
svd_legacy = _nt("svd", ("U", "S", "V"))
lstsq = _nt("lstsq", ("solution", "residuals", "rank", "singular_values"))
triangular_solve = _nt("triangular_solve", ("solution", "cloned_coefficient"))
slogdet = _nt("slogdet", ("sign", "logabsdet"))
