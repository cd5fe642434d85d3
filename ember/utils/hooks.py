"""``RemovableHandle``: what every ``register_*hook`` returns."""
from __future__ import annotations

import itertools

_ids = itertools.count()


class RemovableHandle:
    """Removes the hook it was returned for: ``handle.remove()`` or ``with handle: ...``."""

    __slots__ = ("hooks_dict", "id")

    def __init__(self, hooks_dict):
        self.hooks_dict = hooks_dict
        self.id = next(_ids)

    @classmethod
    def add(cls, hooks_dict, fn):
        h = cls(hooks_dict)
        hooks_dict[h.id] = fn
        return h

    def remove(self) -> None:
        self.hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
