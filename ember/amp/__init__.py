"""``ember.amp``: automatic mixed precision (``autocast``) and dynamic loss scaling (``GradScaler``)."""
from . import autocast_mode  # noqa: F401
from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available", "GradScaler"]


def __getattr__(name):
    # GradScaler (and its module) load on first use: autocast alone does not need them
    if name in ("GradScaler", "grad_scaler"):
        import importlib
        mod = importlib.import_module(".grad_scaler", __name__)
        return mod if name == "grad_scaler" else mod.GradScaler
    raise AttributeError(f"module 'ember.amp' has no attribute '{name}'")
