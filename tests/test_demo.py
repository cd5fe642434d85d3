"""`make demo`'s training in quick mode: accuracy, and every output file exists and is valid."""
import xml.dom.minidom

import torch

from ember import demo


def test_demo_quick_trains_and_writes_valid_artifacts(tmp_path):
    r = demo.train(epochs=4, out=str(tmp_path), quiet=True)
    assert r["test_acc"] >= 0.9, r["history"]
    p = r["paths"]
    sd = torch.load(p["checkpoint"], weights_only=True)
    nn = torch.nn
    twin = nn.Module()  # the same architecture written in PyTorch loads the checkpoint strictly
    twin.features = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
    twin.classifier = nn.Sequential(nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.25),
                                    nn.Linear(64, 10))
    twin.load_state_dict(sd, strict=True)
    with open(p["curves"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    doc = xml.dom.minidom.parse(p["graph"])
    assert doc.documentElement.tagName == "svg"
    assert "ConvolutionBackward0" in open(p["graph"]).read() or "Conv" in open(p["graph"]).read()


def test_demo_help_exits_cleanly(capsys):
    import pytest
    with pytest.raises(SystemExit) as e:
        demo.main(["--help"])
    assert e.value.code == 0
    assert "--epochs" in capsys.readouterr().out
