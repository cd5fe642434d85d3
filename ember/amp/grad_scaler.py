"""``GradScaler``: dynamic loss scaling for mixed-precision training, with PyTorch's numbers.

One iteration: ``scaler.scale(loss).backward()``; optionally ``scaler.unscale_(opt)`` (to clip gradients);
``scaler.step(opt)`` (unscales if needed, skips ``opt.step()`` when a gradient holds inf/nan);
``scaler.update()`` (backs the scale off by ``backoff_factor`` after an overflow, grows it by
``growth_factor`` after ``growth_interval`` clean steps in a row). The scale and the growth tracker are
float32 / int32 tensors, as PyTorch's, so the arithmetic is the same.
"""
from __future__ import annotations

import warnings
from enum import Enum
from typing import Any

__all__ = ["GradScaler", "OptState"]


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state() -> dict[str, Any]:
    return {"stage": OptState.READY, "found_inf_per_device": {}}


class GradScaler:
    """``GradScaler(device="cuda", init_scale=2.**16, growth_factor=2., backoff_factor=.5, growth_interval=2000,
    enabled=True)``. ``device`` is "cpu" or "cuda" (a "cuda" scaler without a GPU disables itself, warning)."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = device
        self._enabled = enabled
        if self._device == "cuda" and enabled:
            from .. import cuda
            if not cuda.is_available():
                warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                              UserWarning, stacklevel=2)
                self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None  # a float32 tensor of shape (), made on first use on the outputs' device
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------------ internals
    def _check_scale_growth_tracker(self, funcname: str):
        fix = "This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration."
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  {fix}")
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  {fix}")
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self, dev) -> None:
        from .. import float32, full, int32
        self._scale = full((), self._init_scale, dtype=float32, device=dev)
        self._growth_tracker = full((), self._init_growth_tracker, dtype=int32, device=dev)

    def _state(self, optimizer) -> dict[str, Any]:
        st = self._per_optimizer_states.get(id(optimizer))
        if st is None:
            st = self._per_optimizer_states[id(optimizer)] = _refresh_per_optimizer_state()
        return st

    # ------------------------------------------------------------------ the API
    def scale(self, outputs):
        """``outputs * scale``: a tensor, or (recursively) a list/tuple of them; another iterable gives a ``map``."""
        if not self._enabled:
            return outputs
        from .._tensor import Tensor
        if isinstance(outputs, Tensor):
            if self._scale is None:
                self._lazy_init_scale_growth_tracker(outputs.device)
            return outputs * self._scale.to(device=outputs.device)

        def apply_scale(val):
            if isinstance(val, Tensor):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker(val.device)
                return val * self._scale.to(device=val.device)
            if isinstance(val, (list, tuple)):
                out = [apply_scale(v) for v in val]
                return type(val)(out)
            if hasattr(val, "__iter__"):
                return map(apply_scale, val)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")
        return apply_scale(outputs)

    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16: bool) -> dict:
        """Multiply every gradient by ``inv_scale`` in place; ``found_inf`` becomes 1.0 if any is inf/nan."""
        from .. import _dtype as D
        from ..backends import namespace_of
        per_device: dict[str, Any] = {}
        for group in optimizer.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if not allow_fp16 and g.dtype is D.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                arr = g._data
                xp = namespace_of(arr)
                dev = str(g.device)
                if dev not in per_device:
                    per_device[dev] = found_inf.to(device=g.device) if dev != str(found_inf.device) else found_inf
                if not bool(xp.isfinite(arr).all()):
                    per_device[dev]._data[...] = 1.0
                inv = inv_scale._data
                if arr.dtype == inv.dtype:
                    arr *= inv
                else:  # half-precision gradients: multiply in float32, round once (PyTorch's opmath)
                    arr[...] = (arr.astype(inv.dtype) * inv).astype(arr.dtype)
                g._vc[0] += 1
        return per_device

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale, in place (call before clipping); once per step."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        st = self._state(optimizer)
        if st["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        from .. import float32, full
        # the reciprocal in float64, rounded once to float32, as PyTorch computes it
        inv_scale = self._scale.double().reciprocal().float()
        found_inf = full((), 0.0, dtype=float32, device=self._scale.device)
        st["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, found_inf, False)
        st["stage"] = OptState.UNSCALED

    def _maybe_opt_step(self, optimizer, optimizer_state, *args, **kwargs):
        if not sum(float(v.item()) for v in optimizer_state["found_inf_per_device"].values()):
            return optimizer.step(*args, **kwargs)
        return None

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless ``unscale_`` already did) and run ``optimizer.step()`` unless a gradient is inf/nan;
        returns what ``optimizer.step`` returned (None when skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        st = self._state(optimizer)
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if st["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(st["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = self._maybe_opt_step(optimizer, st, *args, **kwargs)
        st["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None) -> None:
        """Back off after an overflow seen by any optimizer this iteration, else count towards growth;
        ``new_scale`` (a float or a one-element tensor) sets the scale instead."""
        if not self._enabled:
            return
        scale, tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            from .._tensor import Tensor
            if isinstance(new_scale, (int, float)):
                scale._data[...] = new_scale
            else:
                reason = "new_scale should be a float or a 1-element torch.cuda.FloatTensor or torch.FloatTensor " \
                         "with requires_grad=False."
                if not (isinstance(new_scale, Tensor) and new_scale.numel() == 1 and not new_scale.requires_grad):
                    raise AssertionError(reason)
                scale._data[...] = new_scale._data.reshape(())
            scale._vc[0] += 1
        else:
            found = [f for st in self._per_optimizer_states.values() for f in st["found_inf_per_device"].values()]
            if len(found) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            found_inf = any(float(f.item()) != 0.0 for f in found)
            self._update_scale(scale, tracker, found_inf)
        self._per_optimizer_states = {}

    def _update_scale(self, scale, tracker, found_inf: bool) -> None:
        """PyTorch's ``_amp_update_scale_``: float32 scale, int32 count of clean steps."""
        import numpy as np
        s = scale._data
        if found_inf:
            s[...] = s * s.dtype.type(self._backoff_factor)
            tracker._data[...] = 0
        else:
            successful = int(tracker._data) + 1
            if successful == self._growth_interval:
                grown = s * s.dtype.type(self._growth_factor)
                if bool(np.isfinite(float(grown))):
                    s[...] = grown
                tracker._data[...] = 0
            else:
                tracker._data[...] = successful
        scale._vc[0] += 1
        tracker._vc[0] += 1

    # ------------------------------------------------------------------ accessors
    def _get_scale_async(self):
        return self._scale

    def get_scale(self) -> float:
        """The current scale as a Python float (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale.item())

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else int(self._growth_tracker.item())

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval``, ``_growth_tracker``
        (empty when disabled), PyTorch's keys."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        missing = [k for k in ("scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker")
                   if k not in state_dict]
        if missing:
            raise KeyError(missing[0])
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale._data[...] = state_dict["scale"]
            self._scale._vc[0] += 1
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker._data[...] = state_dict["_growth_tracker"]
            self._growth_tracker._vc[0] += 1

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError("A GradScaler instance may only be pickled at the beginning of an iteration, "
                                     "or at the end after scaler.update().")
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
