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
inv_ex = _nt("linalg_inv_ex", ("inverse", "info"))
cholesky_ex = _nt("linalg_cholesky_ex", ("L", "info"))
solve_ex = _nt("linalg_solve_ex", ("result", "info"))
lu_factor = _nt("linalg_lu_factor", ("LU", "pivots"))
lu_factor_ex = _nt("linalg_lu_factor_ex", ("LU", "pivots", "info"))
lu = _nt("linalg_lu", ("P", "L", "U"))
lu_unpack = _nt("lu_unpack", ("P", "L", "U"))
lu_with_info = _nt("_lu_with_info", ("LU", "pivots", "info"))
eig = _nt("linalg_eig", ("eigenvalues", "eigenvectors"))
ldl_factor = _nt("linalg_ldl_factor", ("LD", "pivots"))
ldl_factor_ex = _nt("linalg_ldl_factor_ex", ("LD", "pivots", "info"))
