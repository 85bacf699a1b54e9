"""Workloads of ``vision``: an input pipeline and a ResNet-18 training step.

- ``pipeline``: one batch of 128 Fashion-MNIST training images through ``RandomCrop(28,
  padding=4)``, ``RandomHorizontalFlip()``, ``ToTensor()``, ``Normalize((0.2860,), (0.3530,))``
  from a shuffled ``DataLoader`` with 0 workers: tapegrad's ``vision.datasets.FashionMNIST`` +
  ``autograd.data.DataLoader`` (whose ``__getitems__`` runs the transforms once per batch) against
  torchvision's ``FashionMNIST`` + ``torch.utils.data.DataLoader`` (per-image PIL transforms).
  Both read the same IDX files, written to a temporary directory from the real files in
  ``../shared/data/fashion-mnist`` when they are there (else from random images of the same
  shape). images/s = 128 000 / (ms per step).
- ``resnet18``: one training step (forward, cross-entropy, backward, SGD(0.1, momentum 0.9)) of
  ``resnet18(num_classes=10)`` on (32, 3, 32, 32), tapegrad's ``vision.models`` against
  torchvision's, with the same initial weights (the module trees are the same).

torchvision 0.28's only wheel is the CUDA build; beside torch's CPU build it needs the two
operator schemas that ``tests/_torchvision.py`` explains, declared here the same way.

Run ``python -m benchmarks --only pipeline,resnet18 --compare torch``, or
``python -c "from benchmarks.pipeline import main; main()"`` for the images/s table of the
pipeline alone. ``TAPEGRAD_SHARED_DATA`` overrides where the real data is looked for.
"""

import atexit
import os
import importlib
import shutil
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

from .workloads import Setup, Workload, _train_step

__all__ = ["PIPELINE_WORKLOADS", "PIPELINE_BATCH", "import_torchvision", "main"]

PIPELINE_BATCH = 128
RESNET_BATCH = 32
FASHION_MEAN, FASHION_STD = (0.2860,), (0.3530,)
_SHARED = Path(os.environ.get("TAPEGRAD_SHARED_DATA",
                             Path(__file__).resolve().parents[1].parent / "shared" / "data")) \
    / "fashion-mnist"
_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
_LIB = []


def import_torchvision():
    """torchvision, declaring ``torchvision::nms``/``qnms`` first when its C extension does not
    load beside the CPU torch (see ``tests/_torchvision.py``).

    Raises:
        ImportError: torch or torchvision missing, or the import still fails.
    """
    if "torchvision" in sys.modules:
        return sys.modules["torchvision"]
    torch = importlib.import_module("torch")
    try:
        return importlib.import_module("torchvision")
    except RuntimeError as e:
        if "torchvision::" not in str(e):
            raise ImportError(f"torchvision cannot be imported: {e}") from e
        for name in [m for m in sys.modules if m.split(".")[0] == "torchvision"]:
            del sys.modules[name]
    if not _LIB:
        lib = torch.library.Library("torchvision", "FRAGMENT")
        for name in ("nms", "qnms"):
            try:
                torch._C._dispatch_find_schema_or_throw("torchvision::" + name, "")
            except RuntimeError:
                lib.define(f"{name}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        _LIB.append(lib)
    try:
        return importlib.import_module("torchvision")
    except Exception as e:  # noqa: BLE001
        raise ImportError(f"torchvision cannot be imported: {type(e).__name__}: {e}") from e


# ---- pipeline -----------------------------------------------------------------------------------
def _fashion_arrays(rng):
    """(images uint8 (60000, 28, 28), labels uint8) from the real files, or random ones."""
    try:
        from vision.datasets.mnist import read_image_file, read_label_file
        return (read_image_file(_SHARED / (_FILES[0] + ".gz")),
                read_label_file(_SHARED / (_FILES[1] + ".gz")), "fashion-mnist")
    except (FileNotFoundError, RuntimeError, ImportError):
        return (rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8),
                rng.integers(0, 10, 60000).astype(np.uint8), "random")


def _write_idx(path, arr):
    code = {1: 0x801, 3: 0x803}[arr.ndim]
    with open(path, "wb") as f:
        f.write(struct.pack(">I", code) + struct.pack(f">{arr.ndim}I", *arr.shape))
        f.write(arr.tobytes())


def _pipeline_data(rng):
    images, labels, source = _fashion_arrays(rng)
    root = tempfile.mkdtemp(prefix="tapegrad-pipeline-")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    raw = Path(root) / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    _write_idx(raw / _FILES[0], images)
    _write_idx(raw / _FILES[1], labels)
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / stem).write_bytes(b"")  # torchvision only checks that the test files exist
    return {"root": root, "source": source}


def _cycle(loader):
    while True:
        yield from loader


def _pipeline_loader(ns, data):
    """The shuffled DataLoader of the pipeline workload for library ``ns``."""
    if ns.name == "torch":
        tv = import_torchvision()
        T, datasets, DataLoader = tv.transforms, tv.datasets, ns.lib.utils.data.DataLoader
    else:
        from autograd.data import DataLoader
        from vision import datasets
        from vision import transforms as T
    tf = T.Compose([T.RandomCrop(28, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize(FASHION_MEAN, FASHION_STD)])
    ds = datasets.FashionMNIST(data["root"], train=True, transform=tf)
    return DataLoader(ds, batch_size=PIPELINE_BATCH, shuffle=True, num_workers=0)


def _pipeline_setup(ns, data):
    batches = _cycle(_pipeline_loader(ns, data))

    def step():
        images, _ = next(batches)
        return images[:1, 0, 0, :1].sum()
    return Setup(step)


# ---- resnet18 -----------------------------------------------------------------------------------
def _resnet_data(rng):
    return {"x": rng.standard_normal((RESNET_BATCH, 3, 32, 32), dtype=np.float32),
            "y": rng.integers(0, 10, RESNET_BATCH).astype(np.int64)}


def _resnet_setup(ns, data):
    if ns.name == "torch":
        model = import_torchvision().models.resnet18(num_classes=10)
    else:
        from vision import models
        model = models.resnet18(num_classes=10)
    model.train()
    opt = ns.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = ns.tensor(data["x"]), ns.tensor(data["y"])
    return Setup(_train_step(model, ns.nn.CrossEntropyLoss(), opt, x, y), model)


PIPELINE_WORKLOADS = [
    Workload("pipeline", f"Fashion-MNIST input pipeline: RandomCrop(28, padding=4) + "
             f"RandomHorizontalFlip + ToTensor + Normalize, shuffled DataLoader, 0 workers: one "
             f"batch of {PIPELINE_BATCH} (images/s = {PIPELINE_BATCH * 1000} / ms); tapegrad's "
             "vision vs torchvision", _pipeline_data, _pipeline_setup,
             requires=("lib.data.DataLoader",)),
    Workload("resnet18", f"resnet18(num_classes=10) on ({RESNET_BATCH}, 3, 32, 32), "
             "cross-entropy, SGD(0.1, momentum 0.9): one training step (vision.models vs "
             "torchvision.models)", _resnet_data, _resnet_setup),
]


def main(argv=None):
    """images/s of the pipeline for tapegrad and torchvision, interleaved (A B A B) in one
    process; ``argv``: ``[--repeat N] [--threads N]``."""
    import argparse
    import time

    p = argparse.ArgumentParser(prog="benchmarks.pipeline.main")
    p.add_argument("--repeat", type=int, default=30, help="batches timed per library")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    from .workloads import tapegrad_namespace, torch_namespace
    namespaces = [tapegrad_namespace()]
    try:
        namespaces.append(torch_namespace())
        import_torchvision()
    except ImportError as e:
        print(f"torch/torchvision not available ({e}); tapegrad only", file=sys.stderr)
        namespaces = namespaces[:1]
    if args.threads:
        namespaces[0].lib.set_num_threads(args.threads)
        if len(namespaces) > 1:
            namespaces[1].lib.set_num_threads(args.threads)
    data = _pipeline_data(np.random.default_rng(0))
    steps = {ns.name: _pipeline_setup(ns, data).step for ns in namespaces}
    for s in steps.values():
        s()
        s()
    times = {name: [] for name in steps}
    for _ in range(args.repeat):
        for name, s in steps.items():
            t0 = time.perf_counter()
            s()
            times[name].append(time.perf_counter() - t0)
    print(f"Fashion-MNIST pipeline ({data['source']} images), batch {PIPELINE_BATCH}, 0 workers, "
          f"median of {args.repeat} interleaved batches:")
    rates = {}
    for name, ts in times.items():
        rates[name] = PIPELINE_BATCH / float(np.median(ts))
        print(f"  {name:9s} {rates[name]:10.0f} images/s")
    if len(rates) == 2:
        print(f"  tapegrad / torchvision: {rates['tapegrad'] / rates['torch']:.2f}x")
    return 0

