"""``ember.distributed``: process groups and collectives over MPI (mpi4py), with PyTorch's API.

Start ranks with ``mpiexec -n N python train.py`` or ``python -m ember.distributed.run --nproc N
train.py``, call ``init_process_group(backend="mpi")``, and use the collectives on tensors in place.
mpi4py is imported on first use only; ``import ember`` never loads MPI.
"""

# module imports are private (``_np``, ``_os`` ...): dir(ember.distributed) holds torch.distributed's names only
import os as _os
import sys as _sys
import time as _time
import traceback as _traceback
from enum import Enum as _Enum

import numpy as _np

_MPI = None
_world = None  # the default ProcessGroup once initialised


def _mpi():
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise RuntimeError("ember.distributed needs mpi4py and an MPI library: "
                               "pip install 'ember-autograd[mpi]' (mpi4py + MPICH wheels)") from e
        _MPI = MPI
    return _MPI


def is_available() -> bool:
    """True when mpi4py can be imported (an MPI library is present)."""
    try:
        _mpi()
        return True
    except RuntimeError:
        return False


def is_mpi_available() -> bool:
    return is_available()


def is_initialized() -> bool:
    return _world is not None


class ReduceOp(_Enum):
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


def _mpi_op(op):
    MPI = _mpi()
    if isinstance(op, str):
        op = ReduceOp(op.lower())
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}[op]


class Backend:
    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"


class ProcessGroup:
    """A set of ranks sharing one MPI communicator."""

    def __init__(self, comm, ranks=None):
        self.comm = comm
        self.ranks = ranks  # global ranks, in group order (None for the world)

    def rank(self) -> int:
        return self.comm.Get_rank()

    def size(self) -> int:
        return self.comm.Get_size()

    def __repr__(self):
        return f"ProcessGroup(mpi, rank={self.rank()}, size={self.size()})"


class GroupMember:
    WORLD = None
    NON_GROUP_MEMBER = object()


group = GroupMember


def _excepthook(exc_type, exc, tb):
    """A rank that raises prints its traceback and aborts the whole job instead of hanging the others."""
    rank = _world.rank() if _world is not None else "?"
    text = (f"[ember.distributed rank {rank}] uncaught exception; aborting all ranks\n" +
            "".join(_traceback.format_exception(exc_type, exc, tb)))
    _sys.stderr.flush()
    _os.write(2, text.encode("utf-8", "replace"))  # one unbuffered write: all of it reaches the launcher
    _time.sleep(0.5)  # let the launcher forward it before Abort tears the job down
    try:
        _mpi().COMM_WORLD.Abort(1)
    finally:
        _os._exit(1)


def init_process_group(backend: str | None = "mpi", init_method: str | None = None, timeout=None,
                       world_size: int = -1, rank: int = -1, store=None, group_name: str = "",
                       pg_options=None, device_id=None) -> None:
    """Join the default process group. Rank and world size come from MPI; where ``RANK`` /
    ``WORLD_SIZE`` (env://) or the arguments are given they must agree with MPI's."""
    global _world
    if _world is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    if backend not in (None, "mpi", "gloo", Backend.MPI):
        raise ValueError(f"ember.distributed supports the 'mpi' backend (got {backend!r}); 'gloo' is accepted "
                         "as an alias for CPU training scripts")
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    env_rank = _os.environ.get("RANK")
    env_size = _os.environ.get("WORLD_SIZE")
    want_rank = rank if rank >= 0 else (int(env_rank) if env_rank is not None else None)
    want_size = world_size if world_size > 0 else (int(env_size) if env_size is not None else None)
    if want_size is not None and want_size != comm.Get_size():
        raise RuntimeError(f"init_process_group: world_size {want_size} (argument or WORLD_SIZE) does not match "
                           f"the MPI job's size {comm.Get_size()}; start the job with mpiexec -n {want_size}")
    if want_rank is not None and want_rank != comm.Get_rank():
        raise RuntimeError(f"init_process_group: rank {want_rank} (argument or RANK) does not match MPI rank "
                           f"{comm.Get_rank()}")
    _world = ProcessGroup(comm)
    GroupMember.WORLD = _world
    if comm.Get_size() > 1:
        _sys.excepthook = _excepthook


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    global _world
    if group is None or group is _world:
        _world = None
        GroupMember.WORLD = None
        if _sys.excepthook is _excepthook:
            _sys.excepthook = _sys.__excepthook__


def _group(group):
    if _world is None:
        raise RuntimeError("Default process group has not been initialized, please make sure to call "
                           "init_process_group.")
    return _world if group is None else group


def get_rank(group: ProcessGroup | None = None) -> int:
    if _world is None:
        return -1 if group is None else -1
    g = _group(group)
    if g.comm == _mpi().COMM_NULL:
        return -1
    return g.rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    if _world is None:
        return -1
    g = _group(group)
    if g.comm == _mpi().COMM_NULL:
        return -1
    return g.size()


def get_backend(group=None) -> str:
    _group(group)
    return "mpi"


def new_group(ranks=None, timeout=None, backend=None, pg_options=None) -> ProcessGroup:
    """A sub-group of the given global ranks; every rank of the world must call it."""
    MPI = _mpi()
    world = _group(None).comm
    if ranks is None:
        return ProcessGroup(world.Dup())
    ranks = sorted(int(r) for r in ranks)
    g = world.Get_group().Incl(ranks)
    comm = world.Create(g)
    if comm == MPI.COMM_NULL:
        return ProcessGroup(MPI.COMM_NULL, ranks)
    return ProcessGroup(comm, ranks)


def get_process_group_ranks(group: ProcessGroup):
    return list(group.ranks) if group.ranks is not None else list(range(get_world_size()))


def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids=None):
    g = _group(group)
    if async_op:
        return Work(g.comm.Ibarrier())
    g.comm.Barrier()
    return None


# --------------------------------------------------------------------------- tensors <-> buffers
def _host(t):
    """A C-contiguous host array holding the tensor's values (the tensor's own array when possible)."""
    a = t._data
    if type(a) is not _np.ndarray:
        return _np.ascontiguousarray(a.get())
    return a if a.flags.c_contiguous else _np.ascontiguousarray(a)


def _write_back(t, buf):
    a = t._data
    if buf is a:
        t._vc[0] += 1
        return
    if type(a) is _np.ndarray:
        a[...] = buf
    else:
        from ..backends import to_device
        a[...] = to_device(buf, t.device)
    t._vc[0] += 1


class Work:
    """Handle of an asynchronous collective: ``wait()`` blocks until done and finishes the write-back."""

    def __init__(self, request=None, finish=None):
        self._req = request
        self._finish = finish
        self._done = request is None

    def wait(self, timeout=None) -> bool:
        if not self._done:
            if self._req is not None:
                self._req.Wait()
            self._done = True
            if self._finish is not None:
                self._finish()
        return True

    def is_completed(self) -> bool:
        if self._done:
            return True
        if self._req is not None and self._req.Test():
            self.wait()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def result(self):
        return []


def _run(g, blocking, nonblocking, finish, async_op):
    if async_op:
        return Work(nonblocking(), finish)
    blocking()
    finish()
    return None


def _check_tensor(t, name="tensor"):
    from .._tensor import Tensor
    if not isinstance(t, Tensor):
        raise TypeError(f"{name} must be a Tensor, got {type(t).__name__}")


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across ranks, in place, on every rank."""
    _check_tensor(tensor)
    g = _group(group)
    buf = _host(tensor)
    mop = _mpi_op(op)
    avg = op in (ReduceOp.AVG, "avg")
    MPI = _mpi()

    def finish():
        if avg:
            _np.divide(buf, g.size(), out=buf, casting="unsafe")
        _write_back(tensor, buf)
    return _run(g, lambda: g.comm.Allreduce(MPI.IN_PLACE, buf, op=mop),
                lambda: g.comm.Iallreduce(MPI.IN_PLACE, buf, op=mop), finish, async_op)


def broadcast(tensor, src: int, group=None, async_op=False):
    """Copy ``tensor`` from rank ``src`` to every rank, in place."""
    _check_tensor(tensor)
    g = _group(group)
    buf = _host(tensor)
    root = _group_rank(g, src)
    return _run(g, lambda: g.comm.Bcast(buf, root=root), lambda: g.comm.Ibcast(buf, root=root),
                lambda: _write_back(tensor, buf), async_op)


def _group_rank(g, global_rank):
    if g.ranks is None:
        return global_rank
    return g.ranks.index(global_rank)


def reduce(tensor, dst: int, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce into ``tensor`` on rank ``dst`` only."""
    _check_tensor(tensor)
    g = _group(group)
    MPI = _mpi()
    buf = _host(tensor)
    root = _group_rank(g, dst)
    mop = _mpi_op(op)
    is_root = g.rank() == root
    send = MPI.IN_PLACE if is_root else buf

    def finish():
        if is_root:
            if op in (ReduceOp.AVG, "avg"):
                _np.divide(buf, g.size(), out=buf, casting="unsafe")
            _write_back(tensor, buf)
    return _run(g, lambda: g.comm.Reduce(send, buf if is_root else None, op=mop, root=root),
                lambda: g.comm.Ireduce(send, buf if is_root else None, op=mop, root=root), finish, async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[i]`` with rank i's ``tensor``."""
    _check_tensor(tensor)
    g = _group(group)
    if len(tensor_list) != g.size():
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} entries but the group has {g.size()} ranks")
    buf = _host(tensor)
    out = _np.empty((g.size(),) + buf.shape, dtype=buf.dtype)

    def finish():
        for t, part in zip(tensor_list, out):
            _write_back(t, part)
    return _run(g, lambda: g.comm.Allgather(buf, out), lambda: g.comm.Iallgather(buf, out), finish, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Concatenate every rank's ``input_tensor`` along dim 0 (or stack) into ``output_tensor``."""
    g = _group(group)
    buf = _host(input_tensor)
    if output_tensor.numel() != buf.size * g.size():
        raise ValueError(f"all_gather_into_tensor: output has {output_tensor.numel()} elements, expected "
                         f"{buf.size * g.size()} (world {g.size()} x input {tuple(input_tensor.shape)})")
    out = _np.empty(buf.size * g.size(), dtype=buf.dtype)
    return _run(g, lambda: g.comm.Allgather(buf, out), lambda: g.comm.Iallgather(buf, out),
                lambda: _write_back(output_tensor, out.reshape(tuple(output_tensor.shape))), async_op)


_all_gather_base = all_gather_into_tensor


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` across ranks and give rank i the i-th equal chunk (along dim 0) in ``output``."""
    g = _group(group)
    buf = _host(input)
    if buf.size != output.numel() * g.size():
        raise ValueError(f"reduce_scatter_tensor: input has {buf.size} elements, expected "
                         f"{output.numel() * g.size()} (world {g.size()} x output {tuple(output.shape)})")
    out = _np.empty(output.numel(), dtype=buf.dtype)
    mop = _mpi_op(op)

    def finish():
        if op in (ReduceOp.AVG, "avg"):
            _np.divide(out, g.size(), out=out, casting="unsafe")
        _write_back(output, out.reshape(tuple(output.shape)))
    return _run(g, lambda: g.comm.Reduce_scatter_block(buf, out, op=mop),
                lambda: g.comm.Ireduce_scatter_block(buf, out, op=mop), finish, async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    from .. import cat
    return reduce_scatter_tensor(output, cat([t.reshape(-1) for t in input_list]), op, group, async_op)


def gather(tensor, gather_list=None, dst: int = 0, group=None, async_op=False):
    """Collect every rank's ``tensor`` into ``gather_list`` on rank ``dst``."""
    g = _group(group)
    root = _group_rank(g, dst)
    buf = _host(tensor)
    is_root = g.rank() == root
    if is_root and (gather_list is None or len(gather_list) != g.size()):
        raise ValueError("gather: the destination rank needs a gather_list with one tensor per rank")
    out = _np.empty((g.size(),) + buf.shape, dtype=buf.dtype) if is_root else None

    def finish():
        if is_root:
            for t, part in zip(gather_list, out):
                _write_back(t, part)
    return _run(g, lambda: g.comm.Gather(buf, out, root=root), lambda: g.comm.Igather(buf, out, root=root),
                finish, async_op)


def scatter(tensor, scatter_list=None, src: int = 0, group=None, async_op=False):
    """Rank ``src`` sends ``scatter_list[i]`` to rank i, which receives it into ``tensor``."""
    g = _group(group)
    root = _group_rank(g, src)
    is_root = g.rank() == root
    buf = _host(tensor)
    if is_root:
        if scatter_list is None or len(scatter_list) != g.size():
            raise ValueError("scatter: the source rank needs a scatter_list with one tensor per rank")
        send = _np.ascontiguousarray(_np.stack([_host(t) for t in scatter_list]))
    else:
        send = None
    return _run(g, lambda: g.comm.Scatter(send, buf, root=root), lambda: g.comm.Iscatter(send, buf, root=root),
                lambda: _write_back(tensor, buf), async_op)


def broadcast_object_list(object_list, src=0, group=None, device=None):
    g = _group(group)
    data = g.comm.bcast(list(object_list) if g.rank() == _group_rank(g, src) else None, root=_group_rank(g, src))
    object_list[:] = data


def all_gather_object(object_list, obj, group=None):
    g = _group(group)
    object_list[:] = g.comm.allgather(obj)


def send(tensor, dst: int, group=None, tag: int = 0):
    g = _group(group)
    g.comm.Send(_host(tensor), dest=_group_rank(g, dst), tag=tag)


def recv(tensor, src: int | None = None, group=None, tag: int = 0) -> int:
    """Receive into ``tensor``; returns the sender's rank (any sender when ``src`` is None)."""
    MPI = _mpi()
    g = _group(group)
    buf = _host(tensor)
    status = MPI.Status()
    g.comm.Recv(buf, source=MPI.ANY_SOURCE if src is None else _group_rank(g, src),
                tag=MPI.ANY_TAG if tag is None else tag, status=status)
    _write_back(tensor, buf)
    return status.Get_source()


def isend(tensor, dst: int, group=None, tag: int = 0) -> Work:
    g = _group(group)
    buf = _host(tensor)
    return Work(g.comm.Isend(buf, dest=_group_rank(g, dst), tag=tag))


def irecv(tensor, src: int | None = None, group=None, tag: int = 0) -> Work:
    MPI = _mpi()
    g = _group(group)
    buf = _host(tensor)
    req = g.comm.Irecv(buf, source=MPI.ANY_SOURCE if src is None else _group_rank(g, src), tag=tag)
    return Work(req, lambda: _write_back(tensor, buf))


__all__ = ["init_process_group", "destroy_process_group", "is_available", "is_initialized", "get_rank",
           "get_world_size", "barrier", "all_reduce", "broadcast", "reduce", "all_gather",
           "all_gather_into_tensor", "reduce_scatter_tensor", "gather", "scatter", "send", "recv", "isend",
           "irecv", "new_group", "ReduceOp", "Work", "ProcessGroup", "Backend", "GroupMember", "group",
           "get_backend", "get_process_group_ranks", "is_mpi_available", "reduce_scatter", "all_gather_object",
           "broadcast_object_list"]
