"""``ember.backends.openmp``: Ember has no OpenMP code path (NumPy's BLAS runs its own threads)."""

__all__ = ["is_available"]


def is_available() -> bool:
    """False: Ember's own code is single-threaded Python over NumPy."""
    return False
