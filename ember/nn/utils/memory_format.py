"""``convert_conv2d/3d_weight_memory_format``: Ember keeps one (contiguous) layout, so these return
the module unchanged; code written for channels_last runs as is."""
from __future__ import annotations

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def convert_conv2d_weight_memory_format(module, memory_format):
    """Return ``module``: there is no channels_last layout to convert to."""
    return module


def convert_conv3d_weight_memory_format(module, memory_format):
    """Return ``module``: there is no channels_last_3d layout to convert to."""
    return module
