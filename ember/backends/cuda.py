"""``ember.backends.cuda``: PyTorch's CUDA math switches, kept as plain flags.

``matmul.allow_tf32``, ``matmul.allow_fp16_reduced_precision_reduction`` and the scaled-dot-product-attention
switches can be read and set so that scripts run unchanged; none of them changes what Ember computes (CuPy's
matmul follows CuPy's own settings). ``is_built()`` says whether CuPy, Ember's GPU backend, is installed.
"""

__all__ = ["matmul", "is_built", "flash_sdp_enabled", "enable_flash_sdp", "mem_efficient_sdp_enabled",
           "enable_mem_efficient_sdp", "math_sdp_enabled", "enable_math_sdp", "cudnn_sdp_enabled",
           "enable_cudnn_sdp", "preferred_linalg_library"]


class _MatmulFlags:
    """``matmul``: the cuBLAS flags (plain attributes here)."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.allow_fp16_accumulation = False

    def __repr__(self):
        return f"<ember.backends.cuda.matmul allow_tf32={self.allow_tf32}>"


matmul = _MatmulFlags()


def is_built() -> bool:
    """True when CuPy (Ember's CUDA backend) is installed."""
    from . import cupy
    return cupy() is not None


_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def flash_sdp_enabled() -> bool:
    return _sdp["flash"]


def enable_flash_sdp(enabled: bool) -> None:
    _sdp["flash"] = bool(enabled)


def mem_efficient_sdp_enabled() -> bool:
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    _sdp["mem_efficient"] = bool(enabled)


def math_sdp_enabled() -> bool:
    return _sdp["math"]


def enable_math_sdp(enabled: bool) -> None:
    _sdp["math"] = bool(enabled)


def cudnn_sdp_enabled() -> bool:
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled: bool) -> None:
    _sdp["cudnn"] = bool(enabled)


def preferred_linalg_library(backend=None):
    """Accepted and ignored (Ember's linear algebra is NumPy's/CuPy's); returns ``"default"``."""
    return "default"
