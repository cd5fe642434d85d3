"""``ember.distributions``: probability distributions with sampling, log densities and KL divergences,
as ``torch.distributions``. Reparameterised samples (``rsample``) and every deterministic quantity
(``log_prob``, ``entropy``, ``cdf``, ``mean`` ...) are built from Ember's ops, so gradients flow to
the parameters; samples come from Ember's generator, so ``ember.manual_seed`` makes them repeatable
(the random streams differ from PyTorch's)."""
from . import constraints
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .uniform import Uniform

__all__ = [
    "Bernoulli", "Beta", "Categorical", "Distribution", "Exponential", "Gamma", "Independent", "Laplace", "MultivariateNormal",
    "Normal", "OneHotCategorical", "Uniform", "constraints", "kl_divergence", "register_kl",
]
