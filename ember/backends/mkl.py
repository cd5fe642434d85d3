"""``ember.backends.mkl``: whether Intel MKL does the math.

Ember calls no MKL itself; its CPU linear algebra is NumPy's, so ``is_available()`` answers whether the
installed NumPy is built against MKL (OpenBLAS builds answer False).
"""

__all__ = ["is_available"]


def is_available() -> bool:
    import numpy as np
    try:
        cfg = np.show_config(mode="dicts")
    except (TypeError, ValueError, ImportError):  # NumPy < 1.25: no machine-readable config
        return False
    blas = (cfg or {}).get("Build Dependencies", {}).get("blas", {})
    return "mkl" in str(blas.get("name", "")).lower()
