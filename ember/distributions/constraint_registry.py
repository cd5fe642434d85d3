"""``biject_to`` and ``transform_to``: from a constraint to a transform whose codomain it is.

``biject_to(c)`` gives a bijection from unconstrained space onto ``c`` (for HMC-style
reparameterisation: it must have a log-Jacobian); ``transform_to(c)`` only needs to land in ``c``
(for optimisation), so it may be simpler (softmax for the simplex, not stick breaking)."""
from __future__ import annotations

from numbers import Number

from . import constraints, transforms

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]


class ConstraintRegistry:
    """Maps constraints (instances or classes) to factories ``fn(constraint) -> Transform``."""

    def __init__(self):
        self._registry = {}

    def register(self, constraint, factory=None):
        """Register ``factory`` for a Constraint subclass or a singleton constraint (usable as a decorator)."""
        if factory is None:
            return lambda factory: self.register(constraint, factory)
        if isinstance(constraint, constraints.Constraint):
            constraint = type(constraint)
        if not isinstance(constraint, type) or not issubclass(constraint, constraints.Constraint):
            raise TypeError(f"Expected constraint to be either a Constraint subclass or instance, but got "
                            f"{constraint}")
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint):
        try:
            factory = self._registry[type(constraint)]
        except KeyError:
            raise NotImplementedError(f"Cannot transform {type(constraint).__name__} constraints") from None
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _real(constraint):
    return transforms.identity_transform


def _independent_biject(constraint):
    base = biject_to(constraint.base_constraint)
    return transforms.IndependentTransform(base, constraint.reinterpreted_batch_ndims)


def _independent_transform(constraint):
    base = transform_to(constraint.base_constraint)
    return transforms.IndependentTransform(base, constraint.reinterpreted_batch_ndims)


def _positive(constraint):
    return transforms.ExpTransform()


def _greater_than(constraint):
    return transforms.ComposeTransform([transforms.ExpTransform(),
                                        transforms.AffineTransform(constraint.lower_bound, 1)])


def _less_than(constraint):
    return transforms.ComposeTransform([transforms.ExpTransform(),
                                        transforms.AffineTransform(constraint.upper_bound, -1)])


def _interval(constraint):
    lb, ub = constraint.lower_bound, constraint.upper_bound
    if isinstance(lb, Number) and isinstance(ub, Number) and lb == 0 and ub == 1:
        return transforms.SigmoidTransform()
    return transforms.ComposeTransform([transforms.SigmoidTransform(), transforms.AffineTransform(lb, ub - lb)])


def _simplex_biject(constraint):
    return transforms.StickBreakingTransform()


def _simplex_transform(constraint):
    return transforms.SoftmaxTransform()


def _lower_cholesky(constraint):
    return transforms.LowerCholeskyTransform()


for _reg in (biject_to, transform_to):
    _reg.register(constraints.real, _real)
    _reg.register(constraints.positive, _positive)
    _reg.register(constraints.nonnegative, _positive)
    _reg.register(constraints.greater_than, _greater_than)
    _reg.register(constraints.greater_than_eq, _greater_than)
    _reg.register(constraints.less_than, _less_than)
    _reg.register(constraints.interval, _interval)
    _reg.register(constraints.half_open_interval, _interval)
biject_to.register(constraints.independent, _independent_biject)
transform_to.register(constraints.independent, _independent_transform)
biject_to.register(constraints.simplex, _simplex_biject)
transform_to.register(constraints.simplex, _simplex_transform)
transform_to.register(constraints.lower_cholesky, _lower_cholesky)
transform_to.register(constraints.positive_definite, lambda c: transforms.PositiveDefiniteTransform())
transform_to.register(constraints.positive_semidefinite, lambda c: transforms.PositiveDefiniteTransform())
for _reg in (biject_to, transform_to):
    _reg.register(constraints.corr_cholesky, lambda c: transforms.CorrCholeskyTransform())
