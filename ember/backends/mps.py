"""``ember.backends.mps``: Apple's Metal backend, which Ember does not have."""

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False: Ember runs on NumPy (CPU) and CuPy (NVIDIA GPUs) only."""
    return False


def is_built() -> bool:
    return False
