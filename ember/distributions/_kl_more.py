"""KL divergences for the second batch of families (registered into ``kl``'s table on import)."""
from __future__ import annotations

import math

from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .cauchy import Cauchy
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import _EULER, Gumbel
from .half_normal import HalfNormal
from .kl import _inf_where, _kl_normal_normal, kl_divergence, register_kl
from .laplace import Laplace
from .lowrank_multivariate_normal import LowRankMultivariateNormal, _lowrank_logdet, _lowrank_mahalanobis
from .multivariate_normal import MultivariateNormal, _batch_mahalanobis, _half_log_det
from .normal import Normal
from .pareto import Pareto
from .poisson import Poisson
from .transformed_distribution import TransformedDistribution
from .uniform import Uniform
from .utils import _sum_rightmost

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _infinite_like(t):
    import ember
    return ember.full_like(t, math.inf)


def _x_log_x(t):
    import ember
    return ember.xlogy(t, t)


def _sq_frobenius(x):
    """``|x|_F^2`` over the two last dims (the trace of x x^T)."""
    return x.pow(2).sum((-2, -1))


# -- same family ---------------------------------------------------------------------------------------------
@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError("KL between Binomials where q.total_count > p.total_count is not implemented")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return _inf_where(p.total_count > q.total_count, kl)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_cb_cb(p, q):
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + (-p.probs).log1p()
    t3 = -q._cont_bern_log_norm() - (-q.probs).log1p()
    return t1 + t2 + t3


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    sp, sq = p.concentration.sum(-1), q.concentration.sum(-1)
    t1 = sp.lgamma() - sq.lgamma()
    t2 = (p.concentration.lgamma() - q.concentration.lgamma()).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = p.concentration.digamma() - sp.digamma().unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p, q):
    import ember
    if type(p) is not type(q):
        raise NotImplementedError("The cross KL-divergence between different exponential families cannot be "
                                  "computed using Bregman divergences")
    p_nat = [t.detach().requires_grad_() for t in p._natural_params]
    q_nat = q._natural_params
    with ember.enable_grad():
        lg = p._log_normalizer(*p_nat)
        grads = ember.autograd.grad(lg.sum(), p_nat, create_graph=True)
    result = q._log_normalizer(*q_nat) - lg
    for pn, qn, g in zip(p_nat, q_nat, grads):
        result = result - _sum_rightmost((qn - pn) * g, len(q.event_shape))
    return result


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p, q):
    ct1 = p.scale / q.scale
    ct2 = q.loc / q.scale
    ct3 = p.loc / q.scale
    t1 = -ct1.log() - ct2 + ct3
    t2 = ct1 * _EULER
    t3 = (ct2 + (1 + ct1).lgamma() - ct3).exp()
    return t1 + t2 + t3 - (1 + _EULER)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p, q):
    return _kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p, q):
    scale_ratio = p.scale / q.scale
    alpha_ratio = q.alpha / p.alpha
    result = q.alpha * scale_ratio.log() - alpha_ratio.log() + alpha_ratio - 1
    return _inf_where(p.scale < q.scale, result)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q):
    if p.transforms != q.transforms:
        raise NotImplementedError
    if p.event_shape != q.event_shape:
        raise NotImplementedError
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p, q):
    num = (p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)
    return (num / (4 * p.scale * q.scale)).log()


# -- low-rank Gaussians: KL = (tr(Sq^-1 Sp) + mahalanobis + logdet Sq - logdet Sp - n) / 2 --------------------
def _check_events(p, q, what):
    if p.event_shape != q.event_shape:
        raise ValueError(f"KL-divergence between two {what} with different event shapes cannot be computed")


def _woodbury_factor(q):
    """A with Sq^{-1} = Dq^{-1} - A^T A (A = C^{-1/2} Wq^T Dq^{-1}, C the capacitance matrix)."""
    import ember
    W, D = q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag
    C = q._capacitance_tril
    rhs = W.mT / D.unsqueeze(-2)
    shape = tuple(ember.broadcast_shapes(tuple(C.shape[:-2]), tuple(rhs.shape[:-2])))
    return ember.linalg.solve_triangular(C.expand(shape + tuple(C.shape[-2:])),
                                         rhs.expand(shape + tuple(rhs.shape[-2:])), upper=False)


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank_lowrank(p, q):
    _check_events(p, q, "Low Rank Multivariate Normals")
    pW, pD = p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag
    qW, qD = q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag
    term1 = _lowrank_logdet(qW, qD, q._capacitance_tril) - _lowrank_logdet(pW, pD, p._capacitance_tril)
    term3 = _lowrank_mahalanobis(qW, qD, q.loc - p.loc, q._capacitance_tril)
    A = _woodbury_factor(q)
    trace = ((pD / qD).sum(-1) + _sq_frobenius(pW * qD.rsqrt().unsqueeze(-1))
             - _sq_frobenius(A * pD.sqrt().unsqueeze(-2)) - _sq_frobenius(A @ pW))
    return 0.5 * (term1 + trace + term3 - p.event_shape[0])


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_mvn_lowrank(p, q):
    _check_events(p, q, "(Low Rank) Multivariate Normals")
    Lp = p._unbroadcasted_scale_tril
    qW, qD = q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag
    term1 = _lowrank_logdet(qW, qD, q._capacitance_tril) - 2 * _half_log_det(Lp)
    term3 = _lowrank_mahalanobis(qW, qD, q.loc - p.loc, q._capacitance_tril)
    A = _woodbury_factor(q)
    trace = _sq_frobenius(qD.rsqrt().unsqueeze(-1) * Lp) - _sq_frobenius(A @ Lp)
    return 0.5 * (term1 + trace + term3 - p.event_shape[0])


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_lowrank_mvn(p, q):
    import ember
    _check_events(p, q, "(Low Rank) Multivariate Normals")
    pW, pD = p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag
    Lq = q._unbroadcasted_scale_tril
    term1 = 2 * _half_log_det(Lq) - _lowrank_logdet(pW, pD, p._capacitance_tril)
    term3 = _batch_mahalanobis(Lq, q.loc - p.loc)
    n = p.event_shape[0]
    rhs = ember.cat([pW, pD.sqrt().diag_embed()], -1)  # Sp = rhs rhs^T
    shape = tuple(ember.broadcast_shapes(tuple(Lq.shape[:-2]), tuple(rhs.shape[:-2])))
    sol = ember.linalg.solve_triangular(Lq.expand(shape + (n, n)), rhs.expand(shape + tuple(rhs.shape[-2:])),
                                        upper=False)
    return 0.5 * (term1 + _sq_frobenius(sol) + term3 - n)


# -- cross families ------------------------------------------------------------------------------------------
@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    ratio = q.rate / p.rate
    k = q.concentration
    return -k * ratio.log() + ratio + k.lgamma() + k * _EULER - (1 + _EULER)


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p, q):
    sr = p.rate * q.scale
    ls = q.loc / q.scale
    return sr.log() - 1 - ls + ls.exp() * sr / (sr + 1) + sr.reciprocal()


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    var = q.scale.pow(2)
    # E_p[(x - mu)^2] = 2 / rate^2 - 2 mu / rate + mu^2
    second = 2 * p.rate.pow(-2) - 2 * q.loc / p.rate + q.loc.pow(2)
    return p.rate.log() - 1 + q.scale.log() + _HALF_LOG_2PI + second / (2 * var)


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p, q):
    k, br = p.concentration, p.rate * q.scale
    ls = q.loc / q.scale
    t1 = (k - 1) * k.digamma() - k.lgamma() - k
    t2 = br.log() + k / br
    t3 = ls.exp() * (1 + br.reciprocal()).pow(-k) - ls
    return t1 + t2 + t3


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    k, b = p.concentration, p.rate
    second = k * (k + 1) / b.pow(2) - 2 * q.loc * k / b + q.loc.pow(2)
    return -p.entropy() + q.scale.log() + _HALF_LOG_2PI + second / (2 * q.scale.pow(2))


@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p, q):
    mean_diff = p.loc + p.scale * _EULER - q.loc
    var_p = (math.pi ** 2 / 6) * p.scale.pow(2)
    return -p.entropy() + q.scale.log() + _HALF_LOG_2PI + (var_p + mean_diff.pow(2)) / (2 * q.scale.pow(2))


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q):
    second = 2 * p.scale.pow(2) + (p.loc - q.loc).pow(2)
    return -(1 + (2 * p.scale).log()) + q.scale.log() + _HALF_LOG_2PI + second / (2 * q.scale.pow(2))


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p, q):
    z_mean = (p.loc - q.loc) / q.scale
    e_exp = (-z_mean + p.scale.pow(2) / (2 * q.scale.pow(2))).exp()
    return -p.entropy() + q.scale.log() + z_mean + e_exp


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q):
    d = p.loc - q.loc
    e_abs = p.scale * math.sqrt(2 / math.pi) * (-d.pow(2) / (2 * p.scale.pow(2))).exp() + d * (
        d / (p.scale * math.sqrt(2))).erf()
    return -p.entropy() + (2 * q.scale).log() + e_abs / q.scale


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p, q):
    sr = p.scale * q.rate
    result = (p.alpha / sr).log() - p.alpha.reciprocal() + p.alpha * sr / (p.alpha - 1) - 1
    return _inf_where(p.alpha <= 1, result)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p, q):
    e_log = p.scale.log() + p.alpha.reciprocal()  # E_p[log x]
    k = q.concentration
    result = (p.alpha.log() - e_log + k.lgamma() - k * q.rate.log() + (1 - k) * e_log
              + q.rate * p.alpha * p.scale / (p.alpha - 1) - 1)
    return _inf_where(p.alpha <= 1, result)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p, q):
    a = p.alpha
    mean = a * p.scale / (a - 1)
    var = a * (p.scale / (a - 1)).pow(2) / (a - 2)
    result = ((math.sqrt(2 * math.pi) * q.scale * a / p.scale).log() - a.reciprocal()
              + (var + (mean - q.loc).pow(2)) / (2 * q.scale.pow(2)) - 1)
    return _inf_where(a <= 2, result)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    result = q.rate * (p.high + p.low) / 2 - ((p.high - p.low) * q.rate).log()
    return _inf_where(p.low < 0, result)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    width = p.high - p.low
    e_log = (_x_log_x(p.high) - _x_log_x(p.low) - width) / width  # E_p[log x]
    k = q.concentration
    result = -width.log() + k.lgamma() - k * q.rate.log() + (1 - k) * e_log + q.rate * (p.high + p.low) / 2
    return _inf_where(p.low < 0, result)


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p, q):
    c = q.scale / (p.high - p.low)
    hi = (p.high - q.loc) / q.scale
    lo = (p.low - q.loc) / q.scale
    return c.log() + 0.5 * (hi + lo) - c * ((-hi).exp() - (-lo).exp())


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p, q):
    width = p.high - p.low
    e_log = (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    result = (q.alpha + 1) * e_log - (q.alpha * q.scale.pow(q.alpha) * width).log()
    return _inf_where(p.low < q.scale, result)


def _beta_mean(p):
    return p.concentration1 / (p.concentration1 + p.concentration0)


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_cb(p, q):
    return -p.entropy() - _beta_mean(p) * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * _beta_mean(p)


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    k = q.concentration
    e_log = p.concentration1.digamma() - (p.concentration1 + p.concentration0).digamma()  # E_p[log x]
    return -p.entropy() + k.lgamma() - k * q.rate.log() - (k - 1) * e_log + q.rate * _beta_mean(p)


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    m = _beta_mean(p)
    second = m * (1 - m) / (p.concentration1 + p.concentration0 + 1) + (m - q.loc).pow(2)
    return -p.entropy() + q.scale.log() + _HALF_LOG_2PI + second / (2 * q.scale.pow(2))


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    return _inf_where((q.low > 0) | (q.high < 1), result)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_cb_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_cb_normal(p, q):
    second = p.variance + (p.mean - q.loc).pow(2)
    return -p.entropy() + q.scale.log() + _HALF_LOG_2PI + second / (2 * q.scale.pow(2))


@register_kl(ContinuousBernoulli, Uniform)
def _kl_cb_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    # PyTorch's condition, bounds included: q.low = 0 or q.high = 1 also count as infinite
    return _inf_where((q.low >= 0) | (q.high <= 1), result)


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    width = p.high - p.low
    a, b = q.concentration1, q.concentration0
    e_log = (_x_log_x(p.high) - _x_log_x(p.low) - width) / width  # E_p[log x]
    e_log1m = (_x_log_x(1 - p.low) - _x_log_x(1 - p.high) - width) / width  # E_p[log(1 - x)]
    result = -width.log() - (a - 1) * e_log - (b - 1) * e_log1m + a.lgamma() + b.lgamma() - (a + b).lgamma()
    return _inf_where((p.high > 1) | (p.low < 0), result)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_cb(p, q):
    result = -p.entropy() - p.mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()
    return _inf_where((p.high >= 1) | (p.low <= 0), result)


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


def _register_infinite(pairs, param):
    def fn(p, q):
        return _infinite_like(getattr(p, param))
    for tp, tq in pairs:
        register_kl(tp, tq)(fn)


_register_infinite([(Exponential, Beta), (Exponential, ContinuousBernoulli), (Exponential, Pareto),
                    (Exponential, Uniform)], "rate")
_register_infinite([(Gamma, Beta), (Gamma, ContinuousBernoulli), (Gamma, Pareto), (Gamma, Uniform)],
                   "concentration")
_register_infinite([(Gumbel, t) for t in (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform)]
                   + [(Laplace, t) for t in (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform)]
                   + [(Normal, t) for t in (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform)],
                   "loc")
_register_infinite([(Pareto, Beta), (Pareto, ContinuousBernoulli), (Pareto, Uniform)], "scale")
_register_infinite([(Poisson, Bernoulli), (Poisson, Binomial)], "rate")
_register_infinite([(ContinuousBernoulli, Pareto)], "probs")
_register_infinite([(Beta, Pareto)], "concentration1")
