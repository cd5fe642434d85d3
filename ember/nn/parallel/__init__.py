"""``ember.nn.parallel``: DistributedDataParallel (over ``ember.distributed``)."""
from .distributed import DistributedDataParallel  # noqa: F401
