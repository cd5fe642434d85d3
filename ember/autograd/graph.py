"""``ember.autograd.graph``: the Node type, as in ``torch.autograd.graph``."""
from .function import Node  # noqa: F401
