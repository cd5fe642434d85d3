"""``ember.utils.summary``: a table of a model's layers with output shapes, parameter counts
(trainable and frozen) and memory estimates, in the spirit of the torchinfo summaries."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LayerInfo:
    name: str           # qualified name in the model ("features.0")
    class_name: str
    depth: int
    output_shape: list = field(default_factory=list)
    params: int = 0     # own parameters (not recursive)
    trainable: int = 0
    calls: int = 0


@dataclass
class ModelStatistics:
    """What ``summary`` measured; ``str()`` gives the table."""

    layers: list
    total_params: int
    trainable_params: int
    input_bytes: int
    forward_bytes: int
    param_bytes: int
    model_name: str
    depth: int

    @property
    def frozen_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.forward_bytes + self.param_bytes

    def __str__(self) -> str:
        rows = []
        for layer in self.layers:
            if layer.depth > self.depth:
                continue
            indent = "  " * max(layer.depth - 1, 0)
            label = f"{indent}{layer.class_name}" + (f" ({layer.name})" if layer.name else "")
            shape = str(layer.output_shape) if layer.output_shape else "--"
            params = f"{layer.params:,}" if layer.params else "--"
            if layer.params and layer.trainable != layer.params:
                params += " (frozen)" if layer.trainable == 0 else f" ({layer.params - layer.trainable:,} frozen)"
            rows.append((label, shape, params))
        w0 = max([len("Layer (type)")] + [len(r[0]) for r in rows])
        w1 = max([len("Output Shape")] + [len(r[1]) for r in rows])
        w2 = max([len("Param #")] + [len(r[2]) for r in rows])
        line = "=" * (w0 + w1 + w2 + 6)
        out = [line, f"{'Layer (type)':<{w0}}   {'Output Shape':<{w1}}   {'Param #':>{w2}}", line]
        out += [f"{a:<{w0}}   {b:<{w1}}   {c:>{w2}}" for a, b, c in rows]
        mb = 1024 ** 2
        out += [line,
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.frozen_params:,}",
                line,
                f"Input size (MB): {self.input_bytes / mb:.2f}",
                f"Forward/backward pass size (MB): {self.forward_bytes / mb:.2f}",
                f"Params size (MB): {self.param_bytes / mb:.2f}",
                f"Estimated Total Size (MB): {self.total_bytes / mb:.2f}",
                line]
        return "\n".join(out)

    __repr__ = __str__


def _shapes(out):
    from .._tensor import Tensor
    if isinstance(out, Tensor):
        return list(out.shape)
    if isinstance(out, (list, tuple)):
        shapes = [_shapes(o) for o in out if isinstance(o, (Tensor, list, tuple))]
        return shapes[0] if len(shapes) == 1 else shapes
    return []


def _numel_bytes(out):
    from .._tensor import Tensor
    if isinstance(out, Tensor):
        return out.numel() * out.element_size()
    if isinstance(out, (list, tuple)):
        return sum(_numel_bytes(o) for o in out)
    if isinstance(out, dict):
        return sum(_numel_bytes(o) for o in out.values())
    return 0


def summary(model, input_size=None, input_data=None, *, batch_dim: int | None = 0, dtypes=None, device=None,
            depth: int = 3, verbose: int = 1, mode: str = "eval") -> ModelStatistics:
    """Run one forward pass of ``model`` and tabulate its layers.

    ``input_size``: a shape (or list of shapes) *including* the batch dimension, e.g. ``(1, 1, 28, 28)``;
    or ``input_data``: the actual input tensor(s). Output shapes come from forward hooks; memory is an
    estimate (inputs + every layer output counted twice for the backward pass + parameters).
    """
    import ember
    if input_data is None and input_size is None:
        raise ValueError("summary() needs input_size or input_data")
    if input_data is None:
        sizes = [input_size] if isinstance(input_size[0], int) else list(input_size)
        dts = dtypes or [ember.float32] * len(sizes)
        input_data = [ember.zeros(*s, dtype=d, device=device) for s, d in zip(sizes, dts)]
    elif isinstance(input_data, ember.Tensor):
        input_data = [input_data]
    input_data = list(input_data)
    layers, index, handles = [], {}, []
    for name, m in model.named_modules():
        info = LayerInfo(name, type(m).__name__, name.count(".") + 1 if name else 0)
        own = list(m.parameters(recurse=False))
        info.params = sum(p.numel() for p in own)
        info.trainable = sum(p.numel() for p in own if p.requires_grad)
        index[id(m)] = info
        layers.append(info)

        def hook(mod, inp, out, info=info):
            info.output_shape = _shapes(out)
            info.calls += 1
            info._bytes = _numel_bytes(out)
        handles.append(m.register_forward_hook(hook))
    was_training = model.training
    model.train(mode == "train")
    try:
        with ember.no_grad():
            model(*input_data)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    seen, total, trainable, pbytes = set(), 0, 0, 0
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
        pbytes += p.numel() * p.element_size()
    fwd = 2 * sum(getattr(info, "_bytes", 0) for info in layers if info.name)
    stats = ModelStatistics(layers=layers, total_params=total, trainable_params=trainable,
                            input_bytes=sum(_numel_bytes(x) for x in input_data), forward_bytes=fwd,
                            param_bytes=pbytes, model_name=type(model).__name__, depth=depth)
    if verbose:
        print(stats)
    return stats
