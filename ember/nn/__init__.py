"""``ember.nn``: Parameter, Buffer, Module, containers, layers, losses, init, utils."""
from .parameter import Parameter, Buffer, UninitializedParameter  # noqa: F401
from .modules.module import Module  # noqa: F401
from .modules.container import Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict  # noqa: F401
from .modules.linear import Identity, Linear, Bilinear, LazyLinear, Flatten, Unflatten  # noqa: F401
