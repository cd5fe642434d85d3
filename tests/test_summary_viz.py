"""ember.utils.summary, ember.viz.make_dot and `python -m ember`."""
import subprocess
import sys
import xml.dom.minidom

import numpy as np
import torch

import ember
from ember import nn


def _twin_models():
    def build(n):
        return n.Sequential(n.Conv2d(1, 4, 3, padding=1), n.ReLU(), n.MaxPool2d(2), n.Flatten(),
                            n.Linear(4 * 4 * 4, 10))
    return build(nn), build(torch.nn)


def test_summary_counts_and_shapes_match_torch():
    em, tm = _twin_models()
    em[4].bias.requires_grad_(False)
    stats = ember.utils.summary(em, input_size=(2, 1, 8, 8), verbose=0)
    assert stats.total_params == sum(p.numel() for p in tm.parameters())
    assert stats.trainable_params == stats.total_params - 10
    shapes = {}
    for name, m in tm.named_modules():
        m.register_forward_hook(lambda mod, i, o, name=name: shapes.__setitem__(name, list(o.shape)))
    tm(torch.zeros(2, 1, 8, 8))
    for layer in stats.layers:
        assert layer.output_shape == shapes[layer.name], layer.name
    text = str(stats)
    total = sum(p.numel() for p in tm.parameters())
    assert "Conv2d (0)" in text and f"Total params: {total:,}" in text and "Non-trainable params: 10" in text


def test_make_dot_names_leaves_and_ops(tmp_path):
    lin = nn.Linear(3, 2)
    x = ember.randn(4, 3)
    h = lin(x).tanh()
    h.retain_grad()
    loss = h.sum()
    g = ember.viz.make_dot(loss, params=dict(lin.named_parameters()))
    src = g.source
    for piece in ("SumBackward0", "TanhBackward0", "AddmmBackward0", "weight\\n(2, 3)", "bias\\n(2)",
                  "retains grad"):
        assert piece in src, piece
    # the graph's op names are PyTorch's for the same computation
    tl = torch.nn.Linear(3, 2)
    th = tl(torch.randn(4, 3)).tanh().sum()
    names, stack = set(), [th.grad_fn]
    while stack:
        n = stack.pop()
        if n is None:
            continue
        names.add(type(n).__name__)
        stack += [f for f, _ in n.next_functions]
    for n in names - {"AccumulateGrad", "TBackward0"}:
        assert n in src, n
    path = g.render(str(tmp_path / "g.svg"))
    assert xml.dom.minidom.parse(path).documentElement.tagName == "svg"
    assert g.render(str(tmp_path / "g.dot")).endswith(".dot")
    assert g._repr_svg_().startswith("<svg")


def test_show_saved_lists_saved_shapes():
    a = ember.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = (a * a).sum()
    src = ember.viz.make_dot(y, show_saved=True).source
    assert "saved (2, 3)" in src


def test_python_m_ember_reports_versions():
    out = subprocess.run([sys.executable, "-m", "ember"], capture_output=True, text=True, check=True).stdout
    assert "Ember " in out and "NumPy" in out and "cuda (CuPy)" in out and "MPI" in out and "Graphviz" in out
