"""``ember.linalg``: PyTorch's ``torch.linalg`` namespace. Norms, inverse, determinant, solve, decompositions
(SVD, QR, eigh, Cholesky), pinv, lstsq, triangular solves, matrix functions; all differentiable for real dtypes.

This module only names the public functions: their autograd Functions and helpers live in
ops/linalg_matrix.py and ops/linalg_decomp.py, so ``dir(ember.linalg)`` lists torch.linalg's names and nothing else."""
from .ops.linalg_decomp import lstsq, pinv, qr, solve_triangular, svd, svdvals
from .ops.linalg_matrix import (cholesky, cross, det, eigh, eigvalsh, inv, matmul, matrix_exp, matrix_norm,
                                matrix_power, norm, slogdet, solve, vector_norm)

__all__ = ["cholesky", "cross", "det", "eigh", "eigvalsh", "inv", "lstsq", "matmul", "matrix_exp", "matrix_norm",
           "matrix_power", "norm", "pinv", "qr", "slogdet", "solve", "solve_triangular", "svd", "svdvals",
           "vector_norm"]
