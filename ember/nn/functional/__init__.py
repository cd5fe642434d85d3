"""``ember.nn.functional``: the functional forms of layers and losses (one module per family).

Each family lives in its own submodule; this package re-exports all of their public names.
"""
from .activation import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,  # noqa: F401
                   conv_transpose3d)
from .padding import pad  # noqa: F401
from .pooling import (max_pool1d, max_pool2d, max_pool3d, max_pool1d_with_indices,  # noqa: F401
                      max_pool2d_with_indices, max_pool3d_with_indices, avg_pool1d, avg_pool2d, avg_pool3d,
                      adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool1d,
                      adaptive_max_pool2d, adaptive_max_pool3d, adaptive_max_pool1d_with_indices,
                      adaptive_max_pool2d_with_indices, adaptive_max_pool3d_with_indices, max_unpool1d,
                      max_unpool2d, max_unpool3d, lp_pool1d, lp_pool2d)
from .pooling_extra import (fractional_max_pool2d, fractional_max_pool3d,  # noqa: F401
                            fractional_max_pool2d_with_indices, fractional_max_pool3d_with_indices, lp_pool3d,
                            channel_shuffle, native_channel_shuffle)
from .vision import (interpolate, upsample, upsample_nearest, upsample_bilinear, pixel_shuffle,  # noqa: F401
                     pixel_unshuffle, unfold, fold)
from .sampling import grid_sample, affine_grid  # noqa: F401
from .ctc import ctc_loss  # noqa: F401
from .gumbel import gumbel_softmax  # noqa: F401
from .attention import scaled_dot_product_attention, multi_head_attention_forward  # noqa: F401
from ...ops.functional_aliases import pdist  # noqa: F401
# linear/bilinear live with their modules (nn/modules/linear.py); imported last to avoid a cycle
from ..modules.linear import linear, bilinear  # noqa: F401,E402
