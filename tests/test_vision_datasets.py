"""vision.datasets: the readers on small files they write themselves (valid and hostile:
truncated, wrong magic, lying headers, forbidden pickle globals), the batch path of
``__getitems__``, and, where torchvision and the real files are present, indexing equal to
torchvision's."""

import gzip
import io
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd
from _torchvision import torchvision  # noqa: F401  (fixture)
from autograd.data import DataLoader, default_collate
from vision import datasets, transforms
from vision.datasets import (CIFAR10, CIFAR100, EMNIST, KMNIST, MNIST, SVHN, DatasetFileError,
                             FakeData, FashionMNIST, ImageFolder)
from vision.datasets.mnist import read_idx, read_image_file

PIL = pytest.importorskip("PIL.Image")
SHARED = Path(os.environ.get("TAPEGRAD_SHARED_DATA",
                            Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def idx_bytes(arr, magic=None, dims=None):
    """IDX bytes of ``arr`` written with struct from LeCun's description; ``dims`` overrides
    the sizes written in the header (a lying header)."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}
    code = codes[arr.dtype]
    dims = arr.shape if dims is None else dims
    if magic is None:
        magic = (code << 8) | len(dims)
    return (struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims)
            + arr.astype(arr.dtype.newbyteorder(">")).tobytes())


def write(path, payload, gz=True):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


# --- the IDX reader against hostile files -------------------------------------------------------
@pytest.mark.parametrize("gz", [False, True])
def test_idx_lying_header_raises_before_allocating(tmp_path, gz):
    # 16 bytes claiming 60000 x 5000 x 5000 uint8 = 1.5 TB: must not try to allocate it.
    p = write(tmp_path / "liar", struct.pack(">IIII", 0x803, 60000, 5000, 5000), gz=gz)
    with pytest.raises(DatasetFileError, match="header lies|truncated") as e:
        read_idx(p)
    assert "liar" in str(e.value) and "1500000000000 bytes" in str(e.value)
    assert isinstance(e.value, RuntimeError)


def test_idx_lying_header_small_claims_are_truncation(tmp_path):
    p = write(tmp_path / "short", idx_bytes(np.zeros((2, 4, 4), np.uint8), dims=(3, 4, 4)),
              gz=False)
    with pytest.raises(DatasetFileError, match="holds only 32"):
        read_image_file(p)
    p = write(tmp_path / "short.gz", idx_bytes(np.zeros((2, 4, 4), np.uint8), dims=(3, 4, 4)))
    with pytest.raises(DatasetFileError, match="truncated"):
        read_image_file(p)


@pytest.mark.parametrize("ndim", [0, 4, 255])
def test_idx_rank_outside_1_to_3_is_refused(tmp_path, ndim):
    p = write(tmp_path / "rank", struct.pack(">I", 0x800 | ndim) + struct.pack(">I", 1) * ndim
              + b"\x00", gz=False)
    with pytest.raises(DatasetFileError, match=f"declares {ndim} dimensions"):
        read_idx(p)


@pytest.mark.parametrize("head", [b"\x00\x00\x07\x01", b"\x01\x00\x08\x01", b"PK\x03\x04"])
def test_idx_bad_magic_or_type_code(tmp_path, head):
    p = write(tmp_path / "bad", head + struct.pack(">I", 3) + b"abc", gz=False)
    with pytest.raises(DatasetFileError, match="not an IDX magic number"):
        read_idx(p)


def test_idx_empty_and_header_only_files(tmp_path):
    for payload in (b"", b"\x00\x00", idx_bytes(np.zeros(3, np.uint8))[:6]):
        p = write(tmp_path / "cut", payload, gz=False)
        with pytest.raises(DatasetFileError, match="cut"):
            read_idx(p)


def test_idx_valid_int32_and_float32(tmp_path):
    a = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "i.gz", idx_bytes(a))), a)
    f = np.linspace(-1, 1, 10, dtype=np.float32)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "f", idx_bytes(f), gz=False)), f)


# --- MNIST family -------------------------------------------------------------------------------
def _mnist_files(root, n_train=6, n_test=4, prefix=("train", "t10k"), labels_max=10, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in zip(prefix, (n_train, n_test)):
        x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, labels_max, size=n).astype(np.uint8)
        write(Path(root) / f"{split}-images-idx3-ubyte.gz", idx_bytes(x))
        write(Path(root) / f"{split}-labels-idx1-ubyte.gz", idx_bytes(y))
        out[split] = (x, y)
    return out


@pytest.fixture
def small_mnist(tmp_path, monkeypatch):
    monkeypatch.setattr(MNIST, "split_sizes", {"train": 6, "test": 4})
    monkeypatch.setattr(FashionMNIST, "system_dirs", [])
    return tmp_path, _mnist_files(tmp_path)


def test_mnist_returns_pil_images_like_torchvision(small_mnist):
    root, arrays = small_mnist
    ds = MNIST(root, train=True)
    x, y = arrays["train"]
    img, label = ds[2]
    assert isinstance(img, PIL.Image) and img.mode == "L" and img.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(img), x[2])
    assert type(label) is int and label == y[2]
    assert ds.data.dtype == autograd.uint8 and tuple(ds.data.shape) == (6, 28, 28)
    assert ds.targets.dtype == autograd.int64
    assert "Split: Train" in repr(ds) and "Number of datapoints: 6" in repr(ds)


def test_mnist_batch_path_equals_per_item_for_deterministic_transforms(small_mnist):
    root, arrays = small_mnist
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    ds = MNIST(root, transform=tf, target_transform=lambda t: t + 1)
    idx = [5, 0, 3, -1]
    images, labels = ds.__getitems__(idx)
    per_item = default_collate([ds[i] for i in idx])
    np.testing.assert_allclose(images.numpy(), per_item[0].numpy(), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(labels.numpy(), per_item[1].numpy())
    assert images.dtype == autograd.float32 and tuple(images.shape) == (4, 1, 28, 28)
    with pytest.raises(IndexError, match="out of range"):
        ds.__getitems__([0, 6])


def test_mnist_batch_path_random_crops_are_valid_and_independent(small_mnist):
    root, arrays = small_mnist
    tf = transforms.Compose([transforms.RandomCrop(28, padding=4),
                             transforms.RandomHorizontalFlip(), transforms.ToTensor()])
    ds = MNIST(root, transform=tf)
    autograd.manual_seed(0)
    idx = [1] * 64
    images, _ = ds.__getitems__(idx)
    padded = np.pad(arrays["train"][0][1], 4) / np.float32(255)
    seen = set()
    for out in images.numpy()[:, 0]:
        match = [(i, j, f) for i in range(9) for j in range(9) for f in (0, 1)
                 if np.array_equal((padded[i:i + 28, j:j + 28][:, ::-1] if f else
                                    padded[i:i + 28, j:j + 28]).astype(np.float32), out)]
        assert match, "a batch image is not a crop (or flipped crop) of the padded input"
        seen.add(match[0])
    assert len(seen) > 20  # each image drew its own parameters
    autograd.manual_seed(0)
    again, _ = ds.__getitems__(idx)
    np.testing.assert_array_equal(again.numpy(), images.numpy())


def test_mnist_loader_uses_batch_path(small_mnist, monkeypatch):
    root, _ = small_mnist
    ds = MNIST(root, transform=transforms.ToTensor())
    calls = []
    monkeypatch.setattr(type(ds), "__getitem__", lambda self, i: calls.append(i))
    batches = list(DataLoader(ds, batch_size=4))
    assert calls == [] and [tuple(b[0].shape) for b in batches] == [(4, 1, 28, 28),
                                                                    (2, 1, 28, 28)]


def test_mnist_transform_without_batch_path_falls_back(small_mnist):
    root, arrays = small_mnist
    ds = MNIST(root, transform=transforms.Compose([transforms.Lambda(np.asarray)]))
    out = ds.__getitems__([0, 1])
    np.testing.assert_array_equal(out[0].numpy(), arrays["train"][0][:2])


def test_kmnist_and_emnist_file_names(tmp_path, monkeypatch):
    monkeypatch.setattr(KMNIST, "split_sizes", {"train": 6, "test": 4})
    arrays = _mnist_files(tmp_path / "KMNIST" / "raw")
    ds = KMNIST(tmp_path, train=False)
    np.testing.assert_array_equal(ds.targets.numpy(), arrays["t10k"][1])
    assert ds.classes[1] == "ki"
    monkeypatch.setitem(EMNIST._sizes, "letters", (6, 4))
    root = tmp_path / "e"
    arrays = _mnist_files(root / "EMNIST" / "raw" / "gzip", prefix=("emnist-letters-train",
                                                                    "emnist-letters-test"),
                          labels_max=27)
    ds = EMNIST(root, split="letters", train=True)
    assert ds.classes[0] == "N/A" and ds.classes[26] == "z" and len(ds) == 6
    np.testing.assert_array_equal(ds.data.numpy(), arrays["emnist-letters-train"][0])
    with pytest.raises(ValueError, match="split"):
        EMNIST(root, split="nope")


def test_legacy_autograd_datasets_alias(small_mnist):
    root, arrays = small_mnist
    from autograd.datasets import MNIST as LegacyMNIST
    ds = LegacyMNIST(root)
    img, _ = ds[0]
    assert isinstance(img, autograd.Tensor) and tuple(img.shape) == (1, 28, 28)
    assert isinstance(ds, MNIST)
    code = ("import sys, autograd, autograd.datasets; "
            "assert not any(m == 'vision' or m.startswith('vision.') for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1],
                   timeout=120)


# --- CIFAR ----------------------------------------------------------------------------------------
def _cifar_python(root, n_per_file=3, bad=None):
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    files = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    arrays = {}
    for name in files:
        data = rng.integers(0, 256, size=(n_per_file, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=n_per_file)]
        entry = {"batch_label": name, "labels": labels, "data": data,
                 "filenames": [f"{i}.png" for i in range(n_per_file)]}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
        arrays[name] = (data, labels)
    meta = {"label_names": [f"c{i}" for i in range(10)], "num_cases_per_batch": n_per_file}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return folder, arrays


@pytest.fixture
def small_cifar_sizes(monkeypatch):
    monkeypatch.setattr(CIFAR10, "split_sizes", {"train": 15, "test": 3})
    monkeypatch.setattr(CIFAR100, "split_sizes", {"train": 4, "test": 2})


def test_cifar10_python_version(tmp_path, small_cifar_sizes):
    _, arrays = _cifar_python(tmp_path)
    ds = CIFAR10(tmp_path, train=True)
    assert len(ds) == 15 and ds.data.shape == (15, 32, 32, 3) and ds.data.dtype == np.uint8
    first = arrays["data_batch_1"][0][0].reshape(3, 32, 32).transpose(1, 2, 0)
    img, label = ds[0]
    np.testing.assert_array_equal(np.asarray(img), first)
    assert label == arrays["data_batch_1"][1][0] and ds.classes[3] == "c3"
    test = CIFAR10(tmp_path, train=False, transform=transforms.ToTensor())
    batch, labels = test.__getitems__([0, 2])
    np.testing.assert_allclose(batch.numpy()[1], arrays["test_batch"][0][2].reshape(3, 32, 32)
                               / np.float32(255), atol=0)
    assert labels.numpy().tolist() == [arrays["test_batch"][1][0], arrays["test_batch"][1][2]]


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch EVIL_RAN",))


def test_cifar_restricted_unpickler_refuses_code(tmp_path, small_cifar_sizes, monkeypatch):
    folder, _ = _cifar_python(tmp_path)
    (folder / "data_batch_3").write_bytes(pickle.dumps({"data": _Evil()}, protocol=2))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetFileError, match="'posix.system' is not allowed|not allowed"):
        CIFAR10(tmp_path)
    assert not (tmp_path / "EVIL_RAN").exists()
    (folder / "data_batch_3").write_bytes(pickle.dumps({"data": io.BytesIO}, protocol=2))
    with pytest.raises(DatasetFileError, match="not allowed"):
        CIFAR10(tmp_path)


@pytest.mark.parametrize("damage", ["truncated", "float_data", "short_labels", "list_payload",
                                    "label_range", "wrong_count"])
def test_cifar_python_bad_layouts(tmp_path, small_cifar_sizes, damage):
    folder, arrays = _cifar_python(tmp_path)
    path = folder / "data_batch_2"
    data, labels = arrays["data_batch_2"]
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:-40])
    elif damage == "float_data":
        path.write_bytes(pickle.dumps({"data": data.astype(np.float32), "labels": labels}, 2))
    elif damage == "short_labels":
        path.write_bytes(pickle.dumps({"data": data, "labels": labels[:-1]}, 2))
    elif damage == "list_payload":
        path.write_bytes(pickle.dumps([1, 2, 3], 2))
    elif damage == "label_range":
        path.write_bytes(pickle.dumps({"data": data, "labels": [10] * len(labels)}, 2))
    else:
        path.write_bytes(pickle.dumps({"data": data[:1], "labels": labels[:1]}, 2))
    with pytest.raises(DatasetFileError):
        CIFAR10(tmp_path)


def _cifar100_binary(root, n=4, n_test=2):
    folder = Path(root) / "cifar-100-binary"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(2)
    out = {}
    for name, count in (("train.bin", n), ("test.bin", n_test)):
        rec = rng.integers(0, 256, size=(count, 2 + 3072), dtype=np.uint8)
        rec[:, 0] = rng.integers(0, 20, size=count)
        rec[:, 1] = rng.integers(0, 100, size=count)
        (folder / name).write_bytes(rec.tobytes())
        out[name] = rec
    (folder / "fine_label_names.txt").write_text("\n".join(f"f{i}" for i in range(100)) + "\n")
    return folder, out


def test_cifar100_binary_version_and_hostile_sizes(tmp_path, small_cifar_sizes):
    folder, recs = _cifar100_binary(tmp_path)
    ds = CIFAR100(tmp_path, train=True)
    assert ds.targets == recs["train.bin"][:, 1].tolist() and ds.classes[99] == "f99"
    np.testing.assert_array_equal(ds.data[3], recs["train.bin"][3, 2:].reshape(3, 32, 32)
                                  .transpose(1, 2, 0))
    (folder / "test.bin").write_bytes(recs["test.bin"].tobytes()[:-1])
    with pytest.raises(DatasetFileError, match="whole number of 3074-byte records"):
        CIFAR100(tmp_path, train=False)
    (folder / "test.bin").write_bytes(b"")
    with pytest.raises(DatasetFileError):
        CIFAR100(tmp_path, train=False)


def test_cifar_missing_says_what_to_do(tmp_path):
    with pytest.raises(RuntimeError, match="download=True") as e:
        CIFAR10(tmp_path)
    assert "cifar-10-batches-py" in str(e.value) and "cifar-10-batches-bin" in str(e.value)


# --- SVHN -------------------------------------------------------------------------------------------
def _svhn(root, n=5, labels=None):
    import scipy.io as sio
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8)
    y = (rng.integers(1, 11, size=(n, 1)) if labels is None else labels).astype(np.uint8)
    sio.savemat(str(Path(root) / "test_32x32.mat"), {"X": x, "y": y})
    return x, y


def test_svhn_reads_and_maps_label_10_to_0(tmp_path):
    x, y = _svhn(tmp_path, labels=np.array([[10], [1], [5], [10], [9]]))
    ds = SVHN(tmp_path, split="test")
    assert ds.labels.tolist() == [0, 1, 5, 0, 9] and ds.data.shape == (5, 3, 32, 32)
    img, label = ds[1]
    np.testing.assert_array_equal(np.asarray(img), x[..., 1])
    batch, labels = SVHN(tmp_path, split="test", transform=transforms.PILToTensor()) \
        .__getitems__([0, 4])
    np.testing.assert_array_equal(batch.numpy()[1], x[..., 4].transpose(2, 0, 1))


@pytest.mark.parametrize("damage", ["truncated", "garbage", "labels", "shape", "no_y"])
def test_svhn_hostile_files(tmp_path, damage):
    import scipy.io as sio
    x, y = _svhn(tmp_path)
    path = tmp_path / "test_32x32.mat"
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    elif damage == "garbage":
        path.write_bytes(os.urandom(300))
    elif damage == "labels":
        sio.savemat(str(path), {"X": x, "y": np.zeros((5, 1), np.uint8)})
    elif damage == "shape":
        sio.savemat(str(path), {"X": x[:16], "y": y})
    else:
        sio.savemat(str(path), {"X": x})
    with pytest.raises(DatasetFileError, match="test_32x32.mat"):
        SVHN(tmp_path, split="test")


# --- folders, FakeData --------------------------------------------------------------------------------
def _image_tree(root):
    rng = np.random.default_rng(4)
    for cls, n in (("cat", 2), ("dog", 3)):
        (root / cls / "sub").mkdir(parents=True)
        for i in range(n):
            arr = rng.integers(0, 256, size=(9, 7, 3), dtype=np.uint8)
            PIL.fromarray(arr).save(root / cls / ("sub" if i == 2 else "") / f"{i}.png")
        (root / cls / "notes.txt").write_text("not an image")


def test_image_folder(tmp_path):
    _image_tree(tmp_path)
    ds = ImageFolder(tmp_path, transform=transforms.ToTensor())
    assert ds.classes == ["cat", "dog"] and ds.targets == [0, 0, 1, 1, 1]
    img, label = ds[4]
    assert tuple(img.shape) == (3, 9, 7) and label == 1
    assert all(p.endswith(".png") for p, _ in ds.samples)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        ImageFolder(tmp_path)
    assert len(ImageFolder(tmp_path, allow_empty=True)) == 5


def test_image_folder_matches_torchvision(tmp_path, torchvision):
    _image_tree(tmp_path)
    ours, theirs = ImageFolder(tmp_path), torchvision.datasets.ImageFolder(str(tmp_path))
    assert ours.samples == theirs.samples and ours.class_to_idx == theirs.class_to_idx
    np.testing.assert_array_equal(np.asarray(ours[3][0]), np.asarray(theirs[3][0]))


def test_fake_data():
    ds = FakeData(size=4, image_size=(3, 8, 6), num_classes=3)
    a, b = ds[1], ds[1]
    assert isinstance(a[0], PIL.Image) and a[0].size == (6, 8)
    np.testing.assert_array_equal(np.asarray(a[0]), np.asarray(b[0]))
    assert 0 <= a[1] < 3
    with pytest.raises(IndexError):
        ds[4]


def test_pillow_missing_is_a_clear_error(small_mnist, monkeypatch):
    root, _ = small_mnist
    ds = MNIST(root)
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(ImportError, match=r"tapegrad\[vision\]") as e:
        ds[0]
    assert "MNIST.__getitem__" in str(e.value)


# --- the real files, against torchvision -------------------------------------------------------------
@pytest.mark.skipif(not (SHARED / "mnist" / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="real MNIST files not present")
def test_real_mnist_indexing_matches_torchvision(tmp_path, torchvision):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / stem).write_bytes(gzip.decompress((SHARED / "mnist" / (stem + ".gz"))
                                                 .read_bytes()))
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / stem).write_bytes(b"")  # torchvision only checks that they exist
    theirs = torchvision.datasets.MNIST(str(tmp_path), train=False)
    ours = datasets.MNIST(SHARED / "mnist", train=False)
    assert len(ours) == len(theirs) == 10000
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    np.testing.assert_array_equal(ours.targets.numpy(), theirs.targets.numpy())
    for i in (0, 1234, 9999):
        (a, la), (b, lb) = ours[i], theirs[i]
        assert la == lb and a.mode == b.mode
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    ttf = torchvision.transforms.Compose([torchvision.transforms.ToTensor(),
                                          torchvision.transforms.Normalize((0.1307,), (0.3081,))])
    ours.transform, theirs.transform = tf, ttf
    batch, labels = ours.__getitems__([3, 77, 5000])
    ref = np.stack([theirs[i][0].numpy() for i in (3, 77, 5000)])
    np.testing.assert_allclose(batch.numpy(), ref, rtol=0, atol=1e-6)


@pytest.mark.skipif(not (SHARED / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").exists(),
                    reason="real Fashion-MNIST files not present")
def test_real_fashion_mnist():
    ds = FashionMNIST(SHARED / "fashion-mnist", train=False)
    assert len(ds) == 10000 and ds.classes[9] == "Ankle boot"
    assert np.bincount(ds.targets.numpy()).tolist() == [1000] * 10
