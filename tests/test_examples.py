"""Every example runs in its quick mode and checks its own result."""
import importlib.util
import os
import sys

import numpy as np
import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(EXAMPLES, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", ["seed_walkthrough", "autograd_basics", "polynomial_fit", "custom_function",
                                  "grad_accumulation", "graph_network", "char_transformer"])
def test_example_runs_quick(name, capsys):
    assert load(name).main(["--quick"]) == 0
    assert capsys.readouterr().out.strip()


def test_finetune_round_trip_with_pytorch(tmp_path):
    mod = load("finetune_from_pytorch")
    torch.manual_seed(0)
    src = mod.make_model(torch.nn)
    ckpt = tmp_path / "torch.pt"
    torch.save(src.state_dict(), ckpt)
    out = mod.main([str(ckpt), "--out", str(tmp_path / "ember.pt"), "--quick"])
    back = torch.load(out, weights_only=True)
    assert list(back.keys()) == list(src.state_dict().keys())
    for k, v in src.state_dict().items():
        assert back[k].shape == v.shape and back[k].dtype == v.dtype
    changed = any(not np.allclose(back[k].numpy(), v.numpy()) for k, v in src.state_dict().items())
    assert changed, "training in Ember should have moved the weights"
    model = mod.make_model(torch.nn)
    model.load_state_dict(back)
