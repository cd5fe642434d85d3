"""``ember.nn.functional``: the functional forms of layers and losses (one module per family).

Each family lives in its own submodule; this package re-exports all of their public names.
"""
from .activation import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,  # noqa: F401
                   conv_transpose3d)
from .padding import pad  # noqa: F401
