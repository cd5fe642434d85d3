"""``ember.nn.modules``: every layer class. Each family lives in its own file; this list exports them."""
from .module import Module  # noqa: F401
from .container import Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict  # noqa: F401
from .linear import Identity, Linear, Bilinear, LazyLinear, Flatten, Unflatten  # noqa: F401
