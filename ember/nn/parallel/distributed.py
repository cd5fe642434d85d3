"""``DistributedDataParallel``: data-parallel training over MPI with gradient buckets.

At construction, rank 0's parameters and buffers are broadcast (after checking that every rank
has the same parameter shapes). During ``backward``, each parameter's post-accumulate hook marks it
ready; when every parameter of a bucket is ready, the bucket's gradients are flattened and an
asynchronous all-reduce starts, overlapping with the rest of the backward pass. When the backward
pass ends, the engine runs DDP's callback, which waits for the buckets and writes the averaged
gradients back. ``no_sync()`` skips all this so gradients accumulate locally.
"""
from __future__ import annotations

import contextlib

import numpy as np

from ... import distributed as dist
from ...autograd import engine
from ..modules.module import Module


class _Bucket:
    __slots__ = ("params", "pending", "buf", "work", "sizes")

    def __init__(self, params):
        self.params = params
        self.pending = set(range(len(params)))
        self.buf = None
        self.work = None
        self.sizes = [p.numel() for p in params]


class DistributedDataParallel(Module):
    """Wraps ``module``; gradients are averaged across the ranks of ``process_group`` during backward."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=25, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        if not dist.is_initialized():
            raise RuntimeError("Default process group has not been initialized, please make sure to call "
                               "init_process_group.")
        self.module = module
        self.process_group = process_group or dist._group(None)
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int(bucket_cap_mb * 1024 * 1024)
        self._params = [p for p in module.parameters() if p.requires_grad]
        self._check_shapes()
        self._sync_module_states()
        self._buckets = self._make_buckets()
        self._where = {}
        for bi, b in enumerate(self._buckets):
            for pi, p in enumerate(b.params):
                self._where[id(p)] = (bi, pi)
        self._armed = False
        self._handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in self._params]

    # -- construction ---------------------------------------------------------------------------
    def _check_shapes(self):
        comm = self.process_group.comm
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in self.module.named_parameters()]
        every = comm.allgather(mine)
        for r, theirs in enumerate(every):
            if theirs != every[0]:
                diff = [f"{a} vs {b}" for a, b in zip(every[0], theirs) if a != b]
                if len(theirs) != len(every[0]):
                    diff.append(f"{len(every[0])} parameters on rank 0 vs {len(theirs)} on rank {r}")
                raise RuntimeError("DistributedDataParallel: parameter shapes differ across ranks (rank 0 vs rank "
                                   f"{r}): " + "; ".join(diff[:5]))

    def _sync_module_states(self):
        with contextlib.ExitStack():
            for t in list(self.module.parameters()) + list(self.module.buffers()):
                dist.broadcast(t, 0, group=self.process_group)

    def _make_buckets(self):
        # reverse registration order approximates the order gradients become ready in backward
        buckets, cur, size = [], [], 0
        for p in reversed(self._params):
            nbytes = p.numel() * p.element_size()
            if cur and size + nbytes > self.bucket_bytes_cap:
                buckets.append(_Bucket(cur))
                cur, size = [], 0
            cur.append(p)
            size += nbytes
        if cur:
            buckets.append(_Bucket(cur))
        return buckets

    # -- forward --------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.training and self.process_group.size() > 1:
            for b in self.module.buffers():
                dist.broadcast(b, 0, group=self.process_group)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward accumulates gradients locally; the first backward after it syncs them."""
        prev = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = prev

    # -- backward -------------------------------------------------------------------------------
    def _grad_ready(self, p):
        if not self.require_backward_grad_sync or self.process_group.size() == 1:
            return
        if not self._armed:
            self._armed = True
            for b in self._buckets:
                b.pending = set(range(len(b.params)))
                b.work = None
            self._next_bucket = 0
            engine.queue_callback(self._finish)
        bi, pi = self._where[id(p)]
        self._buckets[bi].pending.discard(pi)
        self._launch_ready()

    def _launch_ready(self):
        """Start the all-reduces of complete buckets strictly in bucket order. MPI pairs non-blocking
        collectives by call order, and gradients may become ready in a different order on each rank."""
        buckets = self._buckets
        while self._next_bucket < len(buckets) and not buckets[self._next_bucket].pending:
            self._launch(buckets[self._next_bucket])
            self._next_bucket += 1

    def _launch(self, b):
        parts = []
        for p in b.params:
            g = p.grad
            parts.append(np.zeros(p.numel(), dtype=p._data.dtype) if g is None else g._cpu_array().reshape(-1))
        b.buf = np.concatenate(parts) if len(parts) > 1 else parts[0].copy()
        MPI = dist._mpi()
        b.work = self.process_group.comm.Iallreduce(MPI.IN_PLACE, b.buf, op=MPI.SUM)

    def _finish(self):
        self._armed = False
        unused = [b for b in self._buckets if b.pending]
        if unused and not self.find_unused_parameters:
            names = {id(p): n for n, p in self.module.named_parameters()}
            missing = [names.get(id(b.params[i]), "?") for b in unused for i in sorted(b.pending)]
            raise RuntimeError("DistributedDataParallel: these parameters received no gradient in this backward "
                               f"pass: {missing[:10]}. Pass find_unused_parameters=True if parts of the model are "
                               "unused in some iterations.")
        for b in unused:
            b.pending = set()  # their missing gradients are sent as zeros
        self._launch_ready()
        world = self.process_group.size()
        for b in self._buckets:
            if b.work is None:
                continue
            b.work.Wait()
            b.buf /= world
            off = 0
            for p, n in zip(b.params, b.sizes):
                avg = b.buf[off:off + n].reshape(tuple(p.shape))
                off += n
                if p.grad is None:
                    from ... import _tensor
                    p.grad = _tensor._wrap(avg.copy())
                else:
                    p.grad._data[...] = avg if p.grad.is_cpu else p.grad._data.__class__(avg)
                    p.grad._vc[0] += 1
            b.work = None
            b.buf = None

    def __getstate__(self):
        raise RuntimeError("DistributedDataParallel cannot be pickled; save .module.state_dict() instead")
