from . import data  # noqa: F401
from . import checkpoint  # noqa: F401
from .summary import summary  # noqa: F401,E402  (the function shadows its module's name, as intended)
