"""autograd.utils.tensorboard.SummaryWriter: the event files it writes, read back with
TensorBoard's own EventAccumulator."""

import os
import subprocess
import sys

import numpy as np
import pytest

import autograd
import nn

pytest.importorskip("tensorboardX")
ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

from autograd.utils.tensorboard import SummaryWriter  # noqa: E402


def _load(path):
    acc = ea.EventAccumulator(str(path), size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0,
                                                        ea.IMAGES: 0, ea.TENSORS: 0})
    acc.Reload()
    return acc


def test_scalars_histograms_images_text(tmp_path):
    rng = np.random.default_rng(0)
    with SummaryWriter(str(tmp_path)) as w:
        assert w.get_logdir() == str(tmp_path)
        for step in range(5):
            w.add_scalar("train/loss", autograd.tensor(1.0 / (step + 1)), step)
            w.add_scalar("lr", 0.1 * step, step)
        values = autograd.tensor(rng.standard_normal(1000).astype(np.float32))
        w.add_histogram("weights", values, 3)
        w.add_image("one", autograd.rand(3, 8, 6), 0)
        w.add_image("hwc", np.zeros((5, 4, 3), np.uint8), 0, dataformats="HWC")
        w.add_images("batch", autograd.rand(4, 1, 8, 8), 1)
        w.add_text("notes", "hello **tensorboard**", 2)
    acc = _load(tmp_path)
    loss = acc.Scalars("train/loss")
    assert [e.step for e in loss] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose([e.value for e in loss], [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5],
                               rtol=1e-6)
    assert [round(e.value, 6) for e in acc.Scalars("lr")] == [0.0, 0.1, 0.2, 0.3, 0.4]
    hist = acc.Histograms("weights")[0]
    assert hist.step == 3 and hist.histogram_value.num == 1000
    assert hist.histogram_value.min == pytest.approx(float(values.min()))
    assert hist.histogram_value.max == pytest.approx(float(values.max()))
    img = acc.Images("one")[0]
    assert (img.height, img.width) == (8, 6) and img.encoded_image_string[:4] == b"\x89PNG"
    assert (acc.Images("hwc")[0].height, acc.Images("hwc")[0].width) == (5, 4)
    assert acc.Images("batch")[0].step == 1
    text_tags = acc.Tags()["tensors"]
    tag = next(t for t in text_tags if t.startswith("notes"))
    text = acc.Tensors(tag)[0]
    assert text.step == 2 and b"hello **tensorboard**" in text.tensor_proto.string_val[0]


def test_add_scalars_and_hparams_write_sub_runs(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        for step in range(3):
            w.add_scalars("loss", {"train": 1.0 - 0.1 * step, "test": 2.0 - 0.1 * step}, step)
        w.add_hparams({"lr": 0.01, "bs": 32, "opt": "adam"}, {"hparam/accuracy": 0.9},
                      run_name="hp")
    runs = sorted(os.listdir(tmp_path))
    assert "loss_train" in runs and "loss_test" in runs and "hp" in runs
    train = _load(tmp_path / "loss_train").Scalars("loss")
    assert [round(e.value, 6) for e in train] == [1.0, 0.9, 0.8]
    hp = _load(tmp_path / "hp")
    assert hp.Scalars("hparam/accuracy")[0].value == pytest.approx(0.9)
    plugin = hp.PluginTagToContent("hparams")
    assert plugin  # the experiment / session summaries of the HParams plugin
    with pytest.raises(TypeError, match="dictionary"):
        SummaryWriter(str(tmp_path / "x")).add_hparams([("lr", 1)], {})


def test_add_figure(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(2, 2))
    plt.plot([0, 1], [1, 0])
    with SummaryWriter(str(tmp_path)) as w:
        w.add_figure("fig", fig, 7)
    img = _load(tmp_path).Images("fig")[0]
    assert img.step == 7 and img.width > 0


def test_add_graph(tmp_path):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.fc = nn.Linear(2 * 4 * 4, 3)

        def forward(self, x):
            return self.fc(self.conv(x).relu().flatten(1))

    with SummaryWriter(str(tmp_path)) as w:
        w.add_graph(Net(), autograd.randn(2, 1, 6, 6))
    graph = _load(tmp_path).Graph()
    by_name = {n.name: n for n in graph.node}
    conv = next(n for n in graph.node if n.op == "aten::conv2d")
    fc = next(n for n in graph.node if n.op == "aten::linear")
    assert conv.name.startswith("Net/Conv2d[conv]/") and fc.name.startswith("Net/Linear[fc]/")
    assert "input/input.0" in conv.input and "Net/conv/weight" in conv.input
    shape = [d.size for d in fc.attr["_output_shapes"].list.shape[0].dim]
    assert shape == [2, 3]
    out = by_name["output/output.0"]
    assert out.input == [fc.name]
    relu = next(n for n in graph.node if n.op == "aten::relu")
    assert relu.input == [conv.name] and relu.name.startswith("Net/")


def test_no_torch_import_and_lazy_submodule(tmp_path):
    code = ("import sys, autograd; w = autograd.utils.tensorboard.SummaryWriter(sys.argv[1]); "
            "w.add_scalar('a', 1.0, 0); w.close(); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, timeout=300, cwd=os.path.dirname(os.path.dirname(
                             os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
