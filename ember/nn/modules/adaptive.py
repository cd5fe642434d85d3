"""``AdaptiveLogSoftmaxWithLoss``: the adaptive softmax of Grave et al. (2016) for large vocabularies.

Frequent classes (below ``cutoffs[0]``) sit in the head with one extra logit per tail cluster;
each tail cluster projects the input down by ``div_value ** (i + 1)`` and scores its classes.
``log p(y) = log p_head(cluster(y)) + log p_cluster(y)`` for tail classes.
"""
from __future__ import annotations

from collections import namedtuple

from ..._tensor import Tensor, _wrap
from ...backends import namespace_of
from ...ops.join import cat
from ..functional.activation import log_softmax
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """``forward(input (N, in_features), target (N,))`` -> ``(output (N,), loss)``: ``output`` holds each
    target's log-probability and ``loss`` is their negated mean. ``log_prob(input)`` gives the full
    (N, n_classes) log-probabilities and ``predict(input)`` the most likely class.

    Parameters: ``head`` (Linear in_features -> cutoffs[0] + n_clusters) and ``tail[i]`` (Sequential of
    two bias-free Linears: in_features -> in_features // div_value**(i+1) -> cluster size)."""

    def __init__(self, in_features: int, n_classes: int, cutoffs, div_value: float = 4.0, head_bias: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > (n_classes - 1)
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                             "order, where each value is between 1 and n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, device=device, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, device=device, dtype=dtype),
                                        Linear(hsz, osz, bias=False, device=device, dtype=dtype)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        targ_dim = target_.dim()
        if targ_dim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input_.dim() != 2:
                raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs with size "
                                   f"{list(input_.shape)}")
        elif targ_dim == 0:
            if input_.dim() != 1:
                raise RuntimeError("0D target tensor expects 1D input tensors, but found inputs with size "
                                   f"{list(input_.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = targ_dim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        t = target._data
        lo, hi = self.cutoffs[0], self.cutoffs[-1]
        if t.size and (int(t.min()) < 0 or int(t.max()) >= hi):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{int(t.min())}, {int(t.max())}] were found. ")
        # the head column each row reads: its own class in the shortlist, else its cluster's logit
        xp = namespace_of(t)
        edges = xp.asarray(self.cutoffs[:-1], dtype=t.dtype)
        cluster = (t[:, None] >= edges[None, :]).sum(axis=1) - 1
        head_col = xp.where(t >= lo, self.shortlist_size + cluster, t)
        head_logprob = log_softmax(self.head(input), 1)
        output = head_logprob.gather(1, _index_tensor(head_col[:, None], target)).squeeze(1)
        for i in range(self.n_clusters):
            low, high = self.cutoffs[i], self.cutoffs[i + 1]
            rows = ((t >= low) & (t < high)).nonzero()[0]
            if rows.size == 0:
                continue
            rows_t = _index_tensor(rows, target)
            cluster_logprob = log_softmax(self.tail[i](input.index_select(0, rows_t)), 1)
            local = cluster_logprob.gather(1, _index_tensor((t[rows] - low)[:, None], target)).squeeze(1)
            output = output.index_add(0, rows_t, local)
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        head_logprob = log_softmax(head_output, 1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = log_softmax(self.tail[i](input), 1)
            parts.append(cluster_logprob + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, 1)

    def log_prob(self, input: Tensor) -> Tensor:
        """(N, in_features) -> (N, n_classes) log-probabilities of every class."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:
        """(N, in_features) -> (N,) the most likely class. Rows whose head argmax is a shortlist class
        need no tail computation."""
        head_output = self.head(input)
        output = head_output.argmax(1)
        not_in_shortlist = output >= self.shortlist_size
        if not bool(not_in_shortlist.any()):
            return output
        if bool(not_in_shortlist.all()):
            return self._get_full_log_prob(input, head_output).argmax(1)
        log_prob = self._get_full_log_prob(input[not_in_shortlist], head_output[not_in_shortlist])
        output[not_in_shortlist] = log_prob.argmax(1)
        return output


def _index_tensor(arr, like: Tensor) -> Tensor:
    """An int64 index tensor on ``like``'s device."""
    return _wrap(arr.astype("int64", copy=False))
