"""DataLoader throughput with worker processes: images/s on a transform-heavy pipeline.

    python benchmarks/loader_throughput.py --data-dir ../shared/data [--workers 0,2] [--torch]

The dataset is Fashion-MNIST's 60,000 training images with per-sample Python transforms, the
kind a torchvision pipeline runs (pad 4 + random 28x28 crop, random horizontal flip, random
erasing of an 8x8 patch, scaling to [0, 1] and normalisation), written in NumPy and returning
``(1, 28, 28) float32`` arrays, so the *same dataset code* runs under tapegrad's
``autograd.data.DataLoader`` and PyTorch's ``torch.utils.data.DataLoader`` (batch 64, shuffle,
``persistent_workers`` where workers are used, so start-up is timed separately). Each
configuration runs in a fresh process; the table gives images/s of one pass over
``--images`` images (median of ``--repeat`` passes after the first, which includes start-up,
reported as ``first batch`` time).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


_DATASET_CODE = r'''
import gzip, os


def load_images(data_dir):
    """Fashion-MNIST training images ``(60000, 28, 28) uint8`` and labels, read directly."""
    for base in (os.path.join(data_dir, "fashion-mnist"), data_dir):
        path = os.path.join(base, "train-images-idx3-ubyte.gz")
        if os.path.exists(path):
            import numpy as np
            with gzip.open(path) as f:
                images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
            with gzip.open(os.path.join(base, "train-labels-idx1-ubyte.gz")) as f:
                labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
            return images, labels
    raise FileNotFoundError(f"no Fashion-MNIST train-images-idx3-ubyte.gz under {data_dir}")


class Augmented:
    """Map-style dataset: image i through per-sample random transforms (NumPy's global random
    generator, which both loaders seed per worker)."""

    def __init__(self, images, labels, limit):
        self.n = min(limit, len(images))
        self.images, self.labels = images[:self.n].copy(), labels[:self.n].copy()

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        import numpy as np
        img = np.pad(self.images[i], 4)                     # (36, 36)
        y, x = np.random.randint(0, 9, size=2)
        img = img[y:y + 28, x:x + 28]
        if np.random.rand() < 0.5:
            img = img[:, ::-1]
        img = img.astype(np.float32) / 255.0
        if np.random.rand() < 0.5:
            ey, ex = np.random.randint(0, 21, size=2)
            img = img.copy()
            img[ey:ey + 8, ex:ex + 8] = np.random.rand(8, 8)
        img = (img - 0.2860) / 0.3530
        return img[None].copy(), int(self.labels[i])
'''
exec(_DATASET_CODE)  # load_images, Augmented: also written into each child script


_CHILD = r"""
import sys, time, json, statistics
lib, workers, data_dir, images, repeat, context = (sys.argv[1], int(sys.argv[2]), sys.argv[3],
                                                   int(sys.argv[4]), int(sys.argv[5]),
                                                   sys.argv[6])
if lib == "tapegrad":
    import autograd as L
    from autograd.data import DataLoader
else:
    import torch as L
    from torch.utils.data import DataLoader
if __name__ == "__main__":
    L.manual_seed(0)
    ds = Augmented(*load_images(data_dir), images)
    kw = dict(num_workers=workers, persistent_workers=True) if workers else {}
    if workers and context != "default":
        kw["multiprocessing_context"] = context
    loader = DataLoader(ds, batch_size=64, shuffle=True, **kw)
    t0 = time.perf_counter()
    it = iter(loader)
    next(it)
    first = time.perf_counter() - t0
    for _ in it:
        pass
    rates = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = sum(len(b[1]) for b in loader)
        rates.append(n / (time.perf_counter() - t0))
    print(json.dumps({"first_batch_s": first, "images_per_s": statistics.median(rates),
                      "rates": rates}))
"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=os.environ.get("TAPEGRAD_DATA", os.path.join(
        os.path.dirname(ROOT), "shared", "data")))
    p.add_argument("--workers", default="0,2", help="comma-separated num_workers values")
    p.add_argument("--images", type=int, default=10000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--torch", action="store_true", help="also PyTorch's DataLoader")
    p.add_argument("--context", default="default",
                   help="multiprocessing_context for the workers (default: each library's own: "
                        "tapegrad forkserver, PyTorch fork on Linux)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    libs = ["tapegrad"] + (["torch"] if args.torch else [])
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    results = []
    for workers in [int(w) for w in args.workers.split(",")]:
        for lib in libs:
            # the dataset's code lives in the child script itself (the workers' __main__), so a
            # PyTorch run never imports tapegrad
            with tempfile.TemporaryDirectory() as tmp:
                script = os.path.join(tmp, "loader_child.py")
                with open(script, "w") as f:
                    f.write(_DATASET_CODE + _CHILD)
                proc = subprocess.run([sys.executable, script, lib, str(workers), args.data_dir,
                                       str(args.images), str(args.repeat), args.context],
                                      env=env, cwd=tmp,
                                      capture_output=True, text=True, timeout=1800)
            if proc.returncode != 0:
                print(f"{lib} workers={workers}: failed: {proc.stderr.strip()[-500:]}",
                      file=sys.stderr)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r.update(library=lib, num_workers=workers, context=args.context)
            results.append(r)
            print(f"{lib:8s} num_workers={workers} ({args.context}): {r['images_per_s']:7.0f} images/s "
                  f"(passes {', '.join(f'{x:.0f}' for x in r['rates'])}), first batch "
                  f"{r['first_batch_s']:.2f} s", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
