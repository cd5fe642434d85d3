"""``ember.distributions``: probability distributions with sampling, log densities and KL divergences,
as ``torch.distributions``. Reparameterised samples (``rsample``) and every deterministic quantity
(``log_prob``, ``entropy``, ``cdf``, ``mean`` ...) are built from Ember's ops, so gradients flow to
the parameters; samples come from Ember's generator, so ``ember.manual_seed`` makes them repeatable
(the random streams differ from PyTorch's)."""
from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .pareto import Pareto
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import *  # noqa: F403
from .transforms import __all__ as _transforms_all
from .uniform import Uniform
from .weibull import Weibull

__all__ = [
    "Bernoulli", "Beta", "Categorical", "Distribution", "Exponential", "Gamma", "Independent", "Laplace", "MultivariateNormal",
    "Normal", "OneHotCategorical", "Uniform", "constraints", "kl_divergence", "register_kl",
    "Binomial", "Cauchy", "Chi2", "Dirichlet", "ExponentialFamily", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal",
    "LogNormal", "Multinomial", "NegativeBinomial", "Pareto", "Poisson", "StudentT", "TransformedDistribution",
    "Weibull", "transforms", "ContinuousBernoulli",
    "LowRankMultivariateNormal", "MixtureSameFamily", "RelaxedBernoulli", "RelaxedOneHotCategorical", "biject_to",
    "transform_to",
] + list(_transforms_all)
