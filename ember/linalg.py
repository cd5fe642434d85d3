"""``ember.linalg``: PyTorch's ``torch.linalg`` namespace. Norms, inverse, determinant, solve, decompositions
(SVD, QR, eigh, eig, Cholesky, LU, LDL), pinv, lstsq, triangular solves, matrix functions, cond, rank;
differentiable for real dtypes (LDL forward only). Singular / non-positive-definite inputs raise ``LinAlgError``.

This module only names the public functions: their autograd Functions and helpers live in ops/linalg_matrix.py,
ops/linalg_decomp.py, ops/linalg_lu.py and ops/linalg_more.py, so ``dir(ember.linalg)`` lists torch.linalg's
names and nothing else."""
from .ops.linalg_decomp import lstsq, pinv, qr, solve_triangular, svd, svdvals
from .ops.linalg_lu import lu, lu_factor, lu_factor_ex, lu_solve, solve, solve_ex
from .ops.linalg_matrix import (LinAlgError, cholesky, cholesky_ex, cross, det, eigh, eigvalsh, inv, inv_ex, matmul,
                                matrix_exp, matrix_norm, matrix_power, norm, slogdet, vector_norm)
from .ops.linalg_more import (cond, diagonal, eig, eigvals, householder_product, ldl_factor, ldl_factor_ex,
                              ldl_solve, matrix_rank, multi_dot, tensorinv, tensorsolve, vander, vecdot)

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig", "eigh", "eigvals",
           "eigvalsh", "householder_product", "inv", "inv_ex", "ldl_factor", "ldl_factor_ex", "ldl_solve", "lstsq",
           "lu", "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm", "matrix_power",
           "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular",
           "svd", "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot", "vector_norm"]
