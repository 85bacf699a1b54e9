"""Smoke tests of the curriculum examples in ``examples/``: each runs its ``--smoke`` setting (a few
steps on a small slice of the real data, one thread) in a temporary directory, on tapegrad and on
PyTorch, and the test checks that the loss fell and the PNG was written. The full runs are not
tested here (the README's table lists what they reach).

The examples are imported and their ``main(argv)`` called in this process, so that the data and
the compiled kernels are loaded once. MNIST and Fashion-MNIST are read from ``$TAPEGRAD_DATA`` or
``../shared/data``; the tests skip when they are not there.
"""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
_common = importlib.import_module("_common")
HAVE_DATA = all((_common.DEFAULT_DATA / name / "train-images-idx3-ubyte.gz").is_file()
                for name in ("mnist", "fashion-mnist"))


def fell(values):
    """The last value is below the first."""
    return values[-1] < values[0]


def check_xor(r, tmp):
    assert fell(r["train_loss"])


def check_gan(r, tmp):
    assert np.mean(r["loss_d"][-4:]) < r["loss_d"][0]
    assert (tmp / "out_epoch2.png").is_file()


def check_transfer_learning(r, tmp):
    for name, run in r.items():
        if name != "pretrain":                  # one epoch in the smoke setting
            assert fell(run["train_loss"]), name
    assert list(tmp.glob("fashion_resnet.*"))


def check_early_stopping(r, tmp):
    assert fell(r["train_loss"])
    assert len(r["train_loss"]) >= 2            # the epochs before and after the interruption
    assert 1 <= r["best_epoch"] <= len(r["train_loss"])
    assert len(list((tmp / "checkpoints").iterdir())) == 2


def check_metrics(r, tmp):
    assert fell(r["train_loss"])
    assert r["confusion"].sum() == 1000 and r["f1"].shape == (10,)


def check_saliency(r, tmp):
    assert fell(r["train_loss"])
    assert r["completeness_error"].max() < 0.2   # integrated gradients add up to the logit gap


def check_gradient_descent(r, tmp):
    for curve in r.values():
        assert fell(curve)


def check_activations(r, tmp):
    for name in ("GELU", "SiLU", "Mish", "Softplus", "Sigmoid", "Tanh"):
        assert r["gaps"][name].max() < 1e-6, name       # smooth: autograd = central difference
    for name, gaps in r["gaps"].items():
        assert np.median(gaps) < 1e-6, name             # away from the kinks, everywhere


def check_runs(r, tmp):
    for run in r.values():
        assert fell(run["train_loss"])


def check_hyperparameter_search(r, tmp):
    assert len(r["trials"]) == 3
    for trial in r["trials"]:
        assert fell(trial["train_loss"])


CHECKS = {
    "xor": check_xor, "moons": check_xor, "gan": check_gan, "autoencoder": check_xor,
    "transfer_learning": check_transfer_learning, "early_stopping": check_early_stopping,
    "metrics": check_metrics, "saliency": check_saliency,
    "gradient_descent": check_gradient_descent, "activations": check_activations,
    "augmentation": check_runs, "regularization": check_runs,
    "hyperparameter_search": check_hyperparameter_search,
}
NEEDS_DATA = set(CHECKS) - {"xor", "moons", "gradient_descent"}
NEEDS_TORCHVISION = {"gan", "transfer_learning", "augmentation"}


@pytest.mark.parametrize("backend", ["tapegrad", "torch"])
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_example_smoke(name, backend, tmp_path, monkeypatch, request):
    if backend == "torch":
        torch = request.getfixturevalue("torch")
        if name in NEEDS_TORCHVISION:
            try:
                _common.import_torchvision()
            except SystemExit as e:
                pytest.skip(str(e))
        lib = torch
    else:
        lib = importlib.import_module("autograd")
    threads = lib.get_num_threads()                  # --threads 1 sets it for the process
    request.addfinalizer(lambda: lib.set_num_threads(threads))
    if name in NEEDS_DATA and not HAVE_DATA:
        pytest.skip(f"MNIST/Fashion-MNIST not under {_common.DEFAULT_DATA}")
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    out = tmp_path / "out.png"
    result = module.main(["--smoke", "--backend", backend, "--threads", "1", "--out", str(out)])
    assert out.is_file() and out.stat().st_size > 10_000
    CHECKS[name](result, tmp_path)
