"""A small pytree: nested tuples, lists, dicts and namedtuples of leaves (tensors or other values).

``flatten(tree)`` -> ``(leaves, spec)``; ``unflatten(leaves, spec)`` rebuilds the same structure.
``None`` is a node without children (as in torch.utils._pytree), so it never becomes a leaf.
"""


class Spec:
    """The structure of a pytree: ``kind`` ('leaf', 'none', 'tuple', 'list', 'dict', 'namedtuple'),
    the node's ``context`` (dict keys or namedtuple class) and its ``children`` specs."""

    __slots__ = ("kind", "context", "children", "n_leaves")

    def __init__(self, kind, context=None, children=()):
        self.kind = kind
        self.context = context
        self.children = tuple(children)
        self.n_leaves = 1 if kind == "leaf" else sum(c.n_leaves for c in self.children)

    def __eq__(self, other):
        return (isinstance(other, Spec) and self.kind == other.kind and self.context == other.context
                and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, self.children))

    def __repr__(self):
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        inner = ", ".join(repr(c) for c in self.children)
        if self.kind == "dict":
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.context, self.children))
            return "{" + inner + "}"
        if self.kind == "list":
            return "[" + inner + "]"
        if self.kind == "namedtuple":
            return f"{self.context.__name__}({inner})"
        return "(" + inner + ("," if len(self.children) == 1 else "") + ")"


LEAF = Spec("leaf")


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def flatten(tree):
    """``(leaves, spec)`` for ``tree``."""
    leaves = []
    spec = _flatten(tree, leaves)
    return leaves, spec


def _flatten(tree, leaves):
    if tree is None:
        return Spec("none")
    if _is_namedtuple(tree):
        return Spec("namedtuple", type(tree), [_flatten(v, leaves) for v in tree])
    if isinstance(tree, tuple):
        return Spec("tuple", None, [_flatten(v, leaves) for v in tree])
    if isinstance(tree, list):
        return Spec("list", None, [_flatten(v, leaves) for v in tree])
    if isinstance(tree, dict):
        keys = tuple(tree.keys())
        return Spec("dict", keys, [_flatten(tree[k], leaves) for k in keys])
    leaves.append(tree)
    return LEAF


def unflatten(leaves, spec):
    """The pytree of ``spec`` with ``leaves`` in flatten order."""
    it = iter(leaves)
    out = _unflatten(it, spec)
    return out


def _unflatten(it, spec):
    kind = spec.kind
    if kind == "leaf":
        return next(it)
    if kind == "none":
        return None
    kids = [_unflatten(it, c) for c in spec.children]
    if kind == "tuple":
        return tuple(kids)
    if kind == "list":
        return kids
    if kind == "dict":
        return dict(zip(spec.context, kids))
    return spec.context(*kids)


def broadcast_prefix(prefix, spec, what):
    """Expand ``prefix`` (a pytree whose leaves are per-subtree values, e.g. vmap's in_dims) to one
    value per leaf of ``spec``; raises ValueError(``what``) where the structures do not match."""
    out = []
    _broadcast(prefix, spec, out, what)
    return out


def _broadcast(prefix, spec, out, what):
    if prefix is None or not isinstance(prefix, (tuple, list, dict)):
        out.extend([prefix] * spec.n_leaves)
        return
    if spec.kind == "leaf" or spec.kind == "none":
        raise ValueError(what)
    if isinstance(prefix, dict):
        if spec.kind != "dict" or set(prefix.keys()) != set(spec.context):
            raise ValueError(what)
        for k, c in zip(spec.context, spec.children):
            _broadcast(prefix[k], c, out, what)
        return
    if spec.kind == "dict" or len(prefix) != len(spec.children):
        raise ValueError(what)
    for p, c in zip(prefix, spec.children):
        _broadcast(p, c, out, what)
