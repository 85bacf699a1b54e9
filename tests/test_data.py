"""Tests of autograd.data (datasets, samplers, collation, DataLoader) and autograd.datasets, the
legacy alias of vision.datasets' MNIST family with Tensor images (IDX parsing, MNIST /
Fashion-MNIST lookup, download, the real files when present). vision.datasets itself is tested
in test_vision_datasets.py."""

import collections
import functools
import gzip
import hashlib
import http.server
import math
import os
import socket
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import import_torch

from autograd.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset,
                           RandomSampler, SequentialSampler, Subset, SubsetRandomSampler,
                           TensorDataset, WeightedRandomSampler, default_collate,
                           default_convert, random_split)
from autograd.datasets import MNIST, FashionMNIST, read_idx, read_image_file, read_label_file
from autograd.random import Generator, manual_seed
from autograd.tensor import Tensor

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


# --- helpers: an IDX writer independent of the reader ----------------------------------------

def idx_bytes(arr, magic=None):
    """IDX encoding of ``arr`` written from LeCun's description with struct."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
             np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}
    code = codes[arr.dtype]
    if magic is None:
        magic = (code << 8) | arr.ndim
    header = struct.pack(">I", magic) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write(path, payload, gz=True):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def fake_split(rng, n):
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    return images, labels


@pytest.fixture
def small_sizes(monkeypatch):
    """Let MNIST/FashionMNIST accept 6 training and 4 test examples; no system directories."""
    monkeypatch.setattr(MNIST, "split_sizes", {"train": 6, "test": 4})
    monkeypatch.setattr(FashionMNIST, "split_sizes", {"train": 6, "test": 4})
    monkeypatch.setattr(FashionMNIST, "system_dirs", [])


@pytest.fixture
def fake_files(tmp_path):
    """The four files of a small MNIST (6 train, 4 test) as bytes, plus the arrays."""
    rng = np.random.default_rng(0)
    tr_x, tr_y = fake_split(rng, 6)
    te_x, te_y = fake_split(rng, 4)
    raw = {FILES[0]: idx_bytes(tr_x), FILES[1]: idx_bytes(tr_y),
           FILES[2]: idx_bytes(te_x), FILES[3]: idx_bytes(te_y)}
    return raw, {"train": (tr_x, tr_y), "test": (te_x, te_y)}


def write_all(root, raw, gz=True):
    for name, payload in raw.items():
        write(Path(root) / (name + (".gz" if gz else "")), payload, gz=gz)


# --- IDX parsing ------------------------------------------------------------------------------

@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip_mnist_layout(tmp_path, gz):
    rng = np.random.default_rng(1)
    images, labels = fake_split(rng, 7)
    pi = write(tmp_path / "img", idx_bytes(images), gz=gz)
    pl = write(tmp_path / "lab", idx_bytes(labels), gz=gz)
    got_i, got_l = read_image_file(pi), read_label_file(pl)
    assert got_i.shape == (7, 28, 28) and got_i.dtype == np.uint8
    assert got_l.shape == (7,) and got_l.dtype == np.uint8
    np.testing.assert_array_equal(got_i, images)
    np.testing.assert_array_equal(got_l, labels)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_other_types_are_big_endian(tmp_path, dtype):
    arr = (np.arange(24).reshape(2, 3, 4) - 11).astype(dtype) * 3
    got = read_idx(write(tmp_path / "x.gz", idx_bytes(arr)))
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, arr)


def test_idx_gzip_is_detected_by_content(tmp_path):
    arr = np.arange(10, dtype=np.uint8)
    plain_named_gz = write(tmp_path / "labels.gz", idx_bytes(arr), gz=False)
    np.testing.assert_array_equal(read_idx(plain_named_gz), arr)


def test_idx_bad_magic(tmp_path):
    labels = np.zeros(5, np.uint8)
    p = write(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(labels, magic=2051))
    with pytest.raises(RuntimeError, match="magic number 2051") as e:
        read_label_file(p)
    assert str(p) in str(e.value)
    p2 = write(tmp_path / "junk.gz", b"\x12\x34\x56\x78" + bytes(20))
    with pytest.raises(RuntimeError, match="junk.gz"):
        read_idx(p2)
    with pytest.raises(RuntimeError, match="magic number 2049"):  # labels given as images
        read_image_file(write(tmp_path / "l.gz", idx_bytes(labels)))


def test_idx_truncated_and_overlong_payload(tmp_path):
    images = np.ones((3, 28, 28), np.uint8)
    data = idx_bytes(images)
    p = write(tmp_path / "short-images.gz", data[:-10])
    with pytest.raises(RuntimeError, match="truncated") as e:
        read_image_file(p)
    assert "short-images.gz" in str(e.value)
    p = write(tmp_path / "long-images", data + b"\x00", gz=False)
    with pytest.raises(RuntimeError, match="more bytes follow") as e:
        read_image_file(p)
    assert "long-images" in str(e.value)
    p = write(tmp_path / "header-only", data[:9], gz=False)  # cut inside the dimensions
    with pytest.raises(RuntimeError, match="header-only"):
        read_image_file(p)


def test_idx_broken_gzip_stream(tmp_path):
    blob = gzip.compress(idx_bytes(np.arange(2000, dtype=np.int32)))
    p = tmp_path / "cut.gz"
    p.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(RuntimeError, match="cut.gz"):
        read_idx(p)


def test_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        read_idx(tmp_path / "nothing-here.gz")


# --- MNIST / FashionMNIST on small files ------------------------------------------------------

@pytest.mark.parametrize("layout", ["root", "torchvision", "plain"])
def test_mnist_small_files(tmp_path, small_sizes, fake_files, layout):
    raw, arrays = fake_files
    if layout == "root":
        write_all(tmp_path, raw)
    elif layout == "torchvision":
        write_all(tmp_path / "MNIST" / "raw", raw)
    else:
        write_all(tmp_path, raw, gz=False)
    for train, key in [(True, "train"), (False, "test")]:
        ds = MNIST(str(tmp_path), train=train)
        x, y = arrays[key]
        assert len(ds) == len(y) and ds.train is train
        assert ds.data.dtype == np.uint8 and ds.data.shape == x.shape
        assert ds.targets.dtype == np.int64 and ds.targets.shape == y.shape
        np.testing.assert_array_equal(ds.data._data, x)
        np.testing.assert_array_equal(ds.targets._data, y)
        img, label = ds[1]
        assert isinstance(img, Tensor) and img.shape == (1, 28, 28) and img.dtype == np.float32
        assert type(label) is int and label == y[1]
        np.testing.assert_array_equal(img._data[0], x[1].astype(np.float32) / np.float32(255))
        img_last, label_last = ds[-1]
        np.testing.assert_array_equal(img_last._data[0] * 255, x[-1])
        assert label_last == y[-1]
        with pytest.raises(IndexError):
            ds[len(ds)]
    assert ds.classes[3] == "3 - three" and ds.class_to_idx["9 - nine"] == 9
    assert "Number of datapoints: 4" in repr(ds)


def test_mnist_getitems_matches_getitem_and_transforms(tmp_path, small_sizes, fake_files):
    raw, arrays = fake_files
    write_all(tmp_path, raw)
    ds = MNIST(tmp_path)
    idx = [5, 0, 3, 3, -1]
    images, labels = ds.__getitems__(idx)
    assert images.shape == (5, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (5,) and labels.dtype == np.int64
    per_item = default_collate([ds[i] for i in idx])
    np.testing.assert_array_equal(images._data, per_item[0]._data)
    np.testing.assert_array_equal(labels._data, per_item[1]._data)
    assert 0.0 <= images._data.min() and images._data.max() <= 1.0
    with pytest.raises(IndexError):
        ds.__getitems__([0, 6])

    tds = MNIST(tmp_path, transform=lambda t: Tensor(t._data * 2 - 1),
                target_transform=lambda y: y + 100)
    img, label = tds[2]
    np.testing.assert_allclose(img._data[0], arrays["train"][0][2] / 255 * 2 - 1, atol=1e-6)
    assert label == arrays["train"][1][2] + 100
    b_img, b_lab = tds.__getitems__([2, 4])
    np.testing.assert_array_equal(b_img._data[0], img._data)
    assert b_lab._data.tolist() == [arrays["train"][1][2] + 100, arrays["train"][1][4] + 100]


def test_mnist_cache_is_shared_and_read_only(tmp_path, small_sizes, fake_files, monkeypatch):
    raw, _ = fake_files
    write_all(tmp_path, raw)
    a = MNIST(tmp_path)
    import vision.datasets.mnist as mod  # where the readers live (autograd.datasets aliases it)
    calls = []
    real = mod.read_idx
    monkeypatch.setattr(mod, "read_idx", lambda *a, **k: calls.append(1) or real(*a, **k))
    b = MNIST(tmp_path)
    assert calls == [] and b.data._data is a.data._data
    assert not a.data._data.flags.writeable
    # A changed file is read again.
    rng = np.random.default_rng(5)
    x, y = fake_split(rng, 6)
    write(tmp_path / (FILES[0] + ".gz"), idx_bytes(x) + b"")
    os.utime(tmp_path / (FILES[0] + ".gz"), ns=(1, 1))
    c = MNIST(tmp_path)
    assert calls and np.array_equal(c.data._data, x)


def test_mnist_missing_file_names_file_places_and_remedy(tmp_path, small_sizes):
    with pytest.raises(FileNotFoundError) as e:
        MNIST(tmp_path / "empty")
    msg = str(e.value)
    assert "train-images-idx3-ubyte" in msg
    assert str(tmp_path / "empty" / "train-images-idx3-ubyte.gz") in msg
    assert str(tmp_path / "empty" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz") in msg
    assert "download=True" in msg


def test_fashion_mnist_missing_mentions_debian_package(tmp_path, monkeypatch):
    sysdir = tmp_path / "usr-share-datasets-fashion-mnist"
    monkeypatch.setattr(FashionMNIST, "system_dirs", [str(sysdir)])
    with pytest.raises(FileNotFoundError) as e:
        FashionMNIST(tmp_path / "nothing", train=False)
    msg = str(e.value)
    assert "t10k-images-idx3-ubyte" in msg
    assert str(sysdir / "t10k-images-idx3-ubyte.gz") in msg
    assert str(tmp_path / "nothing" / "FashionMNIST" / "raw") in msg
    assert "dataset-fashion-mnist" in msg and "download=True" in msg
    # The real default still points at Debian's install location.
    monkeypatch.undo()
    assert "/usr/share/datasets/fashion-mnist" in [str(d) for d in FashionMNIST.system_dirs]


def test_fashion_mnist_found_in_system_dir(tmp_path, small_sizes, fake_files, monkeypatch):
    raw, arrays = fake_files
    sysdir = tmp_path / "sys"
    write_all(sysdir, raw)
    monkeypatch.setattr(FashionMNIST, "system_dirs", [str(sysdir)])
    ds = FashionMNIST(tmp_path / "elsewhere", train=False)
    np.testing.assert_array_equal(ds.targets._data, arrays["test"][1])
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"


def test_mnist_count_mismatch_and_bad_files(tmp_path, small_sizes, fake_files):
    raw, arrays = fake_files
    write_all(tmp_path, raw)
    labels5 = tmp_path / (FILES[1] + ".gz")
    write(labels5, idx_bytes(arrays["train"][1][:5]))
    with pytest.raises(RuntimeError, match="disagree") as e:
        MNIST(tmp_path)
    assert FILES[0] in str(e.value) and FILES[1] in str(e.value)
    assert "6 images" in str(e.value) and "5 labels" in str(e.value)

    # Consistent but not the expected split size (a cut file).
    write(tmp_path / (FILES[0] + ".gz"), idx_bytes(arrays["train"][0][:5]))
    with pytest.raises(RuntimeError, match="expected 6"):
        MNIST(tmp_path)

    # Wrong image size.
    write(tmp_path / (FILES[2] + ".gz"), idx_bytes(np.zeros((4, 27, 28), np.uint8)))
    with pytest.raises(RuntimeError, match="27x28") as e:
        MNIST(tmp_path, train=False)
    assert FILES[2] in str(e.value)

    # Label out of range.
    write(tmp_path / (FILES[2] + ".gz"), idx_bytes(arrays["test"][0]))
    write(tmp_path / (FILES[3] + ".gz"), idx_bytes(np.array([0, 1, 10, 2], np.uint8)))
    with pytest.raises(RuntimeError, match="label 10") as e:
        MNIST(tmp_path, train=False)
    assert FILES[3] in str(e.value)

    # Bad magic, through the dataset.
    write(tmp_path / (FILES[3] + ".gz"), idx_bytes(arrays["test"][1], magic=2051))
    with pytest.raises(RuntimeError, match="magic") as e:
        MNIST(tmp_path, train=False)
    assert FILES[3] in str(e.value)


# --- download from a local HTTP server --------------------------------------------------------

class _Server:
    def __init__(self, directory):
        self.requests = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served(tmp_path, fake_files):
    """The four small files gzipped under <server>/good/, and their MD5s."""
    raw, arrays = fake_files
    www = tmp_path / "www"
    write_all(www / "good", raw)
    (www / "empty").mkdir()
    md5 = {name + ".gz": hashlib.md5((www / "good" / (name + ".gz")).read_bytes()).hexdigest()
           for name in raw}
    server = _Server(www)
    yield server, md5, arrays
    server.close()


def closed_port_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/"


def test_download_from_mirrors_checks_md5_and_writes_atomically(tmp_path, small_sizes, served,
                                                                  monkeypatch):
    server, md5, arrays = served
    monkeypatch.setattr(MNIST, "mirrors", [server.url + "empty/", server.url + "good/"])
    monkeypatch.setattr(MNIST, "resources", [(name, md5[name]) for name in md5])
    root = tmp_path / "root"
    root.mkdir()
    # One file is already there (directly in root): it must not be fetched.
    (root / "t10k-labels-idx1-ubyte.gz").write_bytes(
        (tmp_path / "www" / "good" / "t10k-labels-idx1-ubyte.gz").read_bytes())
    ds = MNIST(root, train=True, download=True)
    np.testing.assert_array_equal(ds.data._data, arrays["train"][0])
    np.testing.assert_array_equal(ds.targets._data, arrays["train"][1])
    raw = root / "MNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(n + ".gz" for n in FILES[:3])
    for name in os.listdir(raw):
        assert hashlib.md5((raw / name).read_bytes()).hexdigest() == md5[name]
    assert "/good/t10k-labels-idx1-ubyte.gz" not in server.requests
    assert "/empty/train-images-idx3-ubyte.gz" in server.requests  # first mirror tried first
    test = MNIST(root, train=False)  # the test split now loads offline
    np.testing.assert_array_equal(test.targets._data, arrays["test"][1])

    # Everything present: download=True makes no request at all.
    n = len(server.requests)
    MNIST(root, train=True, download=True)
    assert len(server.requests) == n


def test_download_md5_mismatch_leaves_no_file(tmp_path, small_sizes, served, monkeypatch):
    server, md5, _ = served
    bad = dict(md5)
    bad["train-images-idx3-ubyte.gz"] = "0" * 32
    monkeypatch.setattr(MNIST, "mirrors", [server.url + "good/"])
    monkeypatch.setattr(MNIST, "resources", [(name, bad[name]) for name in bad])
    root = tmp_path / "root"
    with pytest.raises(RuntimeError) as e:
        MNIST(root, download=True)
    msg = str(e.value)
    assert "train-images-idx3-ubyte.gz" in msg and "MD5" in msg and "0" * 32 in msg
    assert md5["train-images-idx3-ubyte.gz"] in msg
    assert os.listdir(root / "MNIST" / "raw") == []  # no partial, no temporary file


def test_download_without_network_is_a_clear_error(tmp_path, small_sizes, monkeypatch):
    url = closed_port_url()
    monkeypatch.setattr(FashionMNIST, "mirrors", [url])
    with pytest.raises(RuntimeError) as e:
        FashionMNIST(tmp_path, download=True)
    msg = str(e.value)
    assert "could not download train-images-idx3-ubyte.gz" in msg
    assert url + "train-images-idx3-ubyte.gz" in msg
    assert "dataset-fashion-mnist" in msg
    assert os.listdir(tmp_path / "FashionMNIST" / "raw") == []


def test_real_mirror_lists_and_md5s():
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/" in MNIST.mirrors
    assert dict(MNIST.resources)["train-images-idx3-ubyte.gz"] == \
        "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert dict(FashionMNIST.resources) == {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"}


# --- datasets ---------------------------------------------------------------------------------

def arange_ds(n, feat=3):
    x = Tensor(np.arange(n * feat, dtype=np.float32).reshape(n, feat))
    y = Tensor(np.arange(n, dtype=np.int64))
    return TensorDataset(x, y)


def test_tensor_dataset_items_and_size_check():
    ds = arange_ds(5)
    assert len(ds) == 5
    x, y = ds[2]
    assert x.shape == (3,) and x._data.tolist() == [6.0, 7.0, 8.0]
    assert y.shape == () and y.dtype == np.int64 and int(y) == 2
    assert int(ds[-1][1]) == 4
    with pytest.raises(IndexError):
        ds[5]
    with pytest.raises(ValueError, match=r"\[5, 4\]"):
        TensorDataset(Tensor(np.zeros((5, 2))), Tensor(np.zeros(4)))


def test_tensor_dataset_fast_path_equals_per_item_path():
    rng = np.random.default_rng(0)
    ds = TensorDataset(Tensor(rng.standard_normal((23, 2, 3)).astype(np.float32)),
                       Tensor(rng.integers(0, 5, 23)), Tensor(rng.standard_normal(23)))

    class NoFastPath(Dataset):
        def __getitem__(self, i):
            return ds[i]

        def __len__(self):
            return len(ds)

    calls = []

    class Counting(TensorDataset):
        def __getitems__(self, indices):
            calls.append(list(indices))
            return super().__getitems__(indices)

    counted = Counting(*ds.tensors)
    for shuffle in (False, True):
        fast = list(DataLoader(counted, batch_size=5, shuffle=shuffle,
                               generator=Generator().manual_seed(3)))
        slow = list(DataLoader(NoFastPath(), batch_size=5, shuffle=shuffle,
                               generator=Generator().manual_seed(3)))
        assert len(fast) == len(slow) == 5
        for a, b in zip(fast, slow):
            assert isinstance(a, list) and isinstance(b, list) and len(a) == len(b) == 3
            for ta, tb in zip(a, b):
                assert ta.shape == tb.shape and ta.dtype == tb.dtype
                np.testing.assert_array_equal(ta._data, tb._data)
    assert len(calls) == 10 and sorted(sum(calls[:5], [])) == list(range(23))


def test_subset_concat_and_add():
    a, b = arange_ds(4), arange_ds(3)
    sub = Subset(a, [3, 1])
    assert len(sub) == 2 and int(sub[0][1]) == 3 and int(sub[1][1]) == 1
    xb, yb = sub.__getitems__([1, 0])
    assert yb._data.tolist() == [1, 3]
    cat = a + b
    assert isinstance(cat, ConcatDataset) and len(cat) == 7 and cat.cumulative_sizes == [4, 7]
    assert [int(cat[i][1]) for i in range(7)] == [0, 1, 2, 3, 0, 1, 2]
    assert int(cat[-1][1]) == 2 and int(cat[-7][1]) == 0
    with pytest.raises(IndexError):
        cat[7]
    with pytest.raises(ValueError):
        cat[-8]
    with pytest.raises(ValueError):
        ConcatDataset([])
    batches = list(DataLoader(cat, batch_size=3))
    assert [bt[1]._data.tolist() for bt in batches] == [[0, 1, 2], [3, 0, 1], [2]]


def test_random_split_sizes_disjoint_reproducible():
    ds = arange_ds(10)
    parts = random_split(ds, [3, 7], generator=Generator().manual_seed(0))
    assert [len(p) for p in parts] == [3, 7]
    idx = [p.indices for p in parts]
    assert sorted(idx[0] + idx[1]) == list(range(10))
    again = random_split(ds, [3, 7], generator=Generator().manual_seed(0))
    assert [p.indices for p in again] == idx
    other = random_split(ds, [3, 7], generator=Generator().manual_seed(1))
    assert [p.indices for p in other] != idx
    for fracs in ([0.5, 0.5], [0.3, 0.3, 0.4], [0.1, 0.2, 0.7], [1 / 3] * 3, [0.25] * 4):
        parts = random_split(ds, fracs, generator=Generator().manual_seed(0))
        assert sum(len(p) for p in parts) == 10
        flat = [i for p in parts for i in p.indices]
        assert sorted(flat) == list(range(10))
    # PyTorch's remainder rule: floor each, then +1 round-robin from the first.
    assert [len(p) for p in random_split(arange_ds(11), [0.3, 0.3, 0.4])] == [4, 3, 4]
    with pytest.warns(UserWarning, match="index 1 is 0"):
        assert [len(p) for p in random_split(arange_ds(5), [0.9, 0.1])] == [5, 0]
    with pytest.raises(ValueError, match="sum"):
        random_split(ds, [3, 3])
    with pytest.raises(ValueError):
        random_split(ds, [1.5, -0.5])


def test_random_split_sizes_match_pytorch():
    torch = import_torch()
    for n, fracs in [(10, [0.3, 0.3, 0.4]), (11, [0.3, 0.3, 0.4]), (7, [1 / 3] * 3),
                     (101, [0.8, 0.1, 0.1]), (20, [0.9, 0.1]), (9, [0.05, 0.95])]:
        ours = [len(p) for p in random_split(arange_ds(n), fracs)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fracs)]
        assert ours == theirs, (n, fracs)


# --- samplers ---------------------------------------------------------------------------------

def test_samplers():
    ds = arange_ds(10)
    assert list(SequentialSampler(ds)) == list(range(10))
    g = Generator().manual_seed(0)
    rs = RandomSampler(ds, generator=g)
    e1, e2 = list(rs), list(rs)
    assert sorted(e1) == sorted(e2) == list(range(10)) and e1 != e2
    rr = list(RandomSampler(ds, replacement=True, num_samples=50, generator=g))
    assert len(rr) == 50 and all(0 <= i < 10 for i in rr) and 5 <= len(set(rr)) < 50
    many = list(RandomSampler(ds, num_samples=25, generator=g))
    assert len(many) == 25 and sorted(many[:10]) == list(range(10))
    assert sorted(SubsetRandomSampler([7, 2, 5], generator=g)) == [2, 5, 7]
    w = list(WeightedRandomSampler([0, 0, 1, 0], 20, generator=g))
    assert w == [2] * 20
    assert sorted(WeightedRandomSampler([1, 1, 1], 3, replacement=False, generator=g)) == [0, 1, 2]
    bs = BatchSampler(SequentialSampler(range(10)), 4, drop_last=False)
    assert list(bs) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(bs) == 3
    bs = BatchSampler(range(10), 4, drop_last=True)  # any iterable of indices
    assert list(bs) == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(bs) == 2
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError):
            BatchSampler(range(3), bad, False)
    with pytest.raises(ValueError):
        BatchSampler(range(3), 2, 1)
    with pytest.raises(ValueError):
        RandomSampler(ds, num_samples=0)
    with pytest.raises(TypeError):
        RandomSampler(ds, replacement=1)
    with pytest.raises(ValueError):
        WeightedRandomSampler([1, 1], 3, replacement=False)


# --- DataLoader -------------------------------------------------------------------------------

def batch_ids(loader):
    return [b[1]._data.tolist() for b in loader]


@pytest.mark.parametrize("n,bs", [(10, 3), (10, 5), (10, 1), (10, 10), (10, 20), (1, 4)])
def test_loader_batch_sizes_and_len(n, bs):
    ds = arange_ds(n)
    full = DataLoader(ds, batch_size=bs)
    got = batch_ids(full)
    assert len(full) == len(got) == math.ceil(n / bs)
    assert [len(b) for b in got[:-1]] == [bs] * (len(got) - 1)
    assert len(got[-1]) == (n % bs or bs)  # the last, partial batch is kept
    assert sum(got, []) == list(range(n))
    dropped = DataLoader(ds, batch_size=bs, drop_last=True)
    got = batch_ids(dropped)
    assert len(dropped) == len(got) == n // bs
    assert all(len(b) == bs for b in got)
    assert sum(got, []) == list(range(n // bs * bs))
    xb, yb = next(iter(full))
    assert xb.shape == (min(bs, n), 3) and xb.dtype == np.float32 and yb.dtype == np.int64


def test_loader_len_matches_pytorch():
    torch = import_torch()
    for n in (1, 7, 64, 100):
        for bs in (1, 3, 64, 128):
            for drop_last in (False, True):
                ours = DataLoader(arange_ds(n), batch_size=bs, drop_last=drop_last)
                theirs = torch.utils.data.DataLoader(range(n), batch_size=bs,
                                                     drop_last=drop_last)
                assert len(ours) == len(theirs) == len(list(ours))


def test_loader_shuffle_every_index_once_reproducible_and_new_each_epoch():
    ds = arange_ds(100)
    loader = DataLoader(ds, batch_size=16, shuffle=True, generator=Generator().manual_seed(7))
    epochs = [sum(batch_ids(loader), []) for _ in range(3)]
    for e in epochs:
        assert len(e) == 100 and sorted(e) == list(range(100))
    assert epochs[0] != epochs[1] != epochs[2] and epochs[0] != list(range(100))
    again = DataLoader(ds, batch_size=16, shuffle=True, generator=Generator().manual_seed(7))
    assert [sum(batch_ids(again), []) for _ in range(3)] == epochs
    other = DataLoader(ds, batch_size=16, shuffle=True, generator=Generator().manual_seed(8))
    assert sum(batch_ids(other), []) != epochs[0]
    # Features follow their labels through the shuffle.
    for xb, yb in loader:
        np.testing.assert_array_equal(xb._data[:, 0], yb._data * 3)
    dropped = DataLoader(ds, batch_size=16, shuffle=True, drop_last=True,
                         generator=Generator().manual_seed(7))
    ids = sum(batch_ids(dropped), [])
    assert len(ids) == 96 and len(set(ids)) == 96


def test_loader_default_generator_follows_manual_seed():
    ds = arange_ds(50)
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    manual_seed(123)
    first = [sum(batch_ids(loader), []) for _ in range(2)]
    manual_seed(123)
    second = [sum(batch_ids(loader), []) for _ in range(2)]
    assert first == second and first[0] != first[1]


def test_loader_options_and_errors():
    ds = arange_ds(10)
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(ds, batch_sampler=BatchSampler(range(10), 2, False), batch_size=2)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    # batch_sampler
    loader = DataLoader(ds, batch_sampler=[[0, 1], [9], [4, 5, 6]])
    assert batch_ids(loader) == [[0, 1], [9], [4, 5, 6]] and len(loader) == 3
    # sampler
    assert batch_ids(DataLoader(ds, batch_size=4, sampler=[9, 8, 7, 6, 5])) == \
        [[9, 8, 7, 6], [5]]
    # default batch_size is 1
    loader = DataLoader(ds)
    assert len(loader) == 10 and next(iter(loader))[0].shape == (1, 3)
    # batch_size=None: samples one at a time, arrays converted
    plain = [(np.full(2, i), i) for i in range(3)]
    items = list(DataLoader(plain, batch_size=None))
    assert len(items) == 3 and isinstance(items[1][0], Tensor)
    assert items[1][0]._data.tolist() == [1, 1] and items[1][1] == 1
    # worker processes give the same batches as the main process
    assert batch_ids(DataLoader(ds, batch_size=3, num_workers=2, pin_memory=True,
                                persistent_workers=True)) == batch_ids(DataLoader(ds, 3))
    # a custom collate_fn gets the list of samples (no fast path)
    seen = []
    out = list(DataLoader(ds, batch_size=4, collate_fn=lambda b: seen.append(len(b)) or len(b)))
    assert out == seen == [4, 4, 2]
    it = iter(DataLoader(ds, batch_size=4))
    assert len(it) == 3


def test_loader_over_plain_list_and_iterable_dataset():
    samples = [{"x": np.float32(i), "y": i % 2} for i in range(7)]
    batches = list(DataLoader(samples, batch_size=3))
    assert [b["y"]._data.tolist() for b in batches] == [[0, 1, 0], [1, 0, 1], [0]]
    assert batches[0]["x"].dtype == np.float32

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    loader = DataLoader(Stream(), batch_size=3)
    assert [b._data.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    loader = DataLoader(Stream(), batch_size=3, drop_last=True)
    assert [b._data.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(TypeError):
        len(loader)
    with pytest.raises(ValueError):
        DataLoader(Stream(), shuffle=True)


# --- collation --------------------------------------------------------------------------------

def test_default_collate_types():
    b = default_collate([(Tensor(np.ones((2, 2), np.float32)), 1, 0.5),
                         (Tensor(np.zeros((2, 2), np.float32)), 2, 1.5)])
    assert isinstance(b, list) and len(b) == 3
    assert b[0].shape == (2, 2, 2) and b[0].dtype == np.float32
    np.testing.assert_array_equal(b[0]._data[0], 1)
    np.testing.assert_array_equal(b[0]._data[1], 0)
    assert b[1].dtype == np.int64 and b[1]._data.tolist() == [1, 2]
    assert b[2].dtype == np.float32 and b[2]._data.tolist() == [0.5, 1.5]

    d = default_collate([{"a": np.arange(3, dtype=np.int16), "b": "s1", "c": True},
                         {"a": np.arange(3, 6, dtype=np.int16), "b": "s2", "c": False}])
    assert d["a"].shape == (2, 3) and d["a"].dtype == np.int16
    assert d["a"]._data.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert d["b"] == ["s1", "s2"]
    assert d["c"].dtype == np.bool_ and d["c"]._data.tolist() == [True, False]

    n = default_collate([np.float64(1.5), np.float64(2.5)])
    assert n.dtype == np.float64 and n._data.tolist() == [1.5, 2.5]
    assert default_collate([3, 4])._data.tolist() == [3, 4]

    Point = collections.namedtuple("Point", "x y")
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x._data.tolist() == [1, 3] and p.y.dtype == np.float32

    nested = default_collate([[(1, 2), {"k": [5]}], [(3, 4), {"k": [6]}]])
    assert nested[0][0]._data.tolist() == [1, 3] and nested[0][1]._data.tolist() == [2, 4]
    assert nested[1]["k"][0]._data.tolist() == [5, 6]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([Tensor(np.zeros(2)), Tensor(np.zeros(3))])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1, 2, 3)])
    with pytest.raises(TypeError, match="NoneType"):
        default_collate([None, None])
    with pytest.raises(TypeError):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(ValueError):
        default_collate([])


def test_default_collate_matches_pytorch():
    torch = import_torch()
    from torch.utils.data import default_collate as torch_collate
    rng = np.random.default_rng(0)
    samples = [(rng.standard_normal((2, 3)).astype(np.float32), int(i), {"m": np.int32(i)})
               for i in range(4)]
    ours = default_collate(samples)
    theirs = torch_collate(samples)
    assert type(ours) is type(theirs) is list
    np.testing.assert_array_equal(ours[0]._data, theirs[0].numpy())
    np.testing.assert_array_equal(ours[1]._data, theirs[1].numpy())
    assert ours[1].dtype == np.int64 and theirs[1].dtype == torch.int64
    np.testing.assert_array_equal(ours[2]["m"]._data, theirs[2]["m"].numpy())
    assert str(ours[2]["m"].dtype) == "int32" and theirs[2]["m"].dtype == torch.int32


def test_default_convert():
    out = default_convert({"a": np.ones(2), "b": (np.int64(3), "s", 4)})
    assert isinstance(out["a"], Tensor) and out["a"].shape == (2,)
    assert isinstance(out["b"], list) and isinstance(out["b"][0], Tensor)
    assert out["b"][1:] == ["s", 4]


# --- the real data ----------------------------------------------------------------------------

MNIST_DIR = SHARED_DATA / "mnist"
FASHION_DIR = SHARED_DATA / "fashion-mnist"
needs_mnist = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"{MNIST_DIR} absent")
needs_fashion = pytest.mark.skipif(not FASHION_DIR.is_dir(), reason=f"{FASHION_DIR} absent")


@needs_mnist
def test_real_mnist():
    train = MNIST(MNIST_DIR, train=True)
    test = MNIST(MNIST_DIR, train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    assert test.targets.shape == (10000,) and test.targets.dtype == np.int64
    # Class counts published for MNIST (shared/data/mnist/README.md).
    assert np.bincount(train.targets._data).tolist() == \
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(test.targets._data).tolist() == \
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    # The usual normalisation constants, through the loader's fast path.
    total = total_sq = 0.0
    count = 0
    for images, labels in DataLoader(train, batch_size=10000):
        assert images.shape[1:] == (1, 28, 28) and images.dtype == np.float32
        assert labels._data.min() >= 0 and labels._data.max() <= 9
        x = images._data.astype(np.float64)
        total += x.sum()
        total_sq += (x * x).sum()
        count += x.size
    mean = total / count
    std = math.sqrt(total_sq / count - mean * mean)
    assert abs(mean - 0.1307) < 1e-4 and abs(std - 0.3081) < 1e-4
    img, label = train[0]
    assert label == 5 and img.shape == (1, 28, 28)  # the famous first digit
    np.testing.assert_array_equal(img._data[0], train.data._data[0] / np.float32(255))


@needs_mnist
def test_real_mnist_matches_torch_to_tensor():
    torch = import_torch()
    test = MNIST(MNIST_DIR, train=False)
    idx = [0, 1, 9999, 4321]
    images, labels = test.__getitems__(idx)
    expected = torch.from_numpy(np.array(test.data._data[idx])).float().div(255).unsqueeze(1)
    np.testing.assert_array_equal(images._data, expected.numpy())
    assert labels._data.tolist() == [7, 2, 6, int(test.targets._data[4321])]


@needs_fashion
def test_real_fashion_mnist():
    train = FashionMNIST(FASHION_DIR, train=True)
    test = FashionMNIST(FASHION_DIR, train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    # Fashion-MNIST is balanced: 6000 / 1000 per class.
    assert np.bincount(train.targets._data).tolist() == [6000] * 10
    assert np.bincount(test.targets._data).tolist() == [1000] * 10
    assert 0.28 < train.data._data.mean() / 255 < 0.29  # 0.2860, the published mean


def test_grad_flows_through_tensor_dataset_and_collate():
    w = Tensor(np.arange(6, dtype=np.float32).reshape(3, 2), requires_grad=True)
    ds = TensorDataset(w, Tensor(np.arange(3)))
    xb, yb = ds.__getitems__([2, 0, 2])
    assert xb.requires_grad and not yb.requires_grad
    xb.sum().backward()
    np.testing.assert_array_equal(w.grad._data, [[1, 1], [0, 0], [2, 2]])
    w.grad = None
    b = default_collate([ds[0][0], ds[2][0]])
    assert b.requires_grad and b.shape == (2, 2)
    (b * b).sum().backward()
    np.testing.assert_array_equal(w.grad._data, [[0, 2], [0, 0], [8, 10]])


# --- DataLoader worker processes ---------------------------------------------------------------
# Each scenario is a script run as a user's would be (``python script.py``, with its
# ``if __name__ == "__main__":`` guard, which the spawn and forkserver start methods need), in a
# fresh interpreter under a hard timeout; it prints one JSON line.

import json  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

_WORKER_DATASETS = '''
import json, os, random, sys, time
import numpy as np
import autograd
from autograd.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info

class Probe(Dataset):
    """Sample i: (i, worker id, worker seed, draws from random / numpy / autograd, threads)."""
    def __init__(self, n=16):
        self.n, self.offset = n, 0
    def __len__(self):
        return self.n
    def __getitem__(self, i):
        info = get_worker_info()
        return {"i": i + self.offset, "wid": info.id if info else -1,
                "nw": info.num_workers if info else 0, "seed": info.seed if info else -1,
                "same": info is not None and info.dataset is self,  # the worker's copy
                "py": random.random(), "np": float(np.random.rand()),
                "tg": float(autograd.rand(1).item()), "threads": autograd.get_num_threads(),
                "pid": os.getpid()}

class Shards(IterableDataset):
    """0..n-1, each worker its share (PyTorch's documented get_worker_info pattern)."""
    def __init__(self, n):
        self.n = n
    def __iter__(self):
        info = get_worker_info()
        k, m = (info.id, info.num_workers) if info else (0, 1)
        return iter(range(k, self.n, m))

class Failing(Dataset):
    def __init__(self, exc):
        self.exc = exc
    def __len__(self):
        return 8
    def __getitem__(self, i):
        if i == 5:
            raise self.exc(f"sample {i} is broken")
        return i

class Slow(Dataset):
    def __init__(self, seconds):
        self.seconds = seconds
    def __len__(self):
        return 1000
    def __getitem__(self, i):
        time.sleep(self.seconds)
        return i

class Dies(Dataset):
    def __len__(self):
        return 8
    def __getitem__(self, i):
        if i == 3:
            os._exit(7)
        return i

def shift_init(worker_id):
    get_worker_info().dataset.offset = 1000 * (worker_id + 1)

def rows(batches):
    return [{k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in b.items()}
            for b in batches]

def alive(pids):
    return [p for p in pids if os.path.exists(f"/proc/{p}") and
            open(f"/proc/{p}/stat").read().split()[2] != "Z"]
'''


def _scenario(tmp_path, body, timeout=240, args=()):
    script = tmp_path / "scenario.py"
    script.write_text(_WORKER_DATASETS + "\nif __name__ == '__main__':\n"
                      + textwrap.indent(textwrap.dedent(body), "    "))
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def workers_run(tmp_path_factory):
    """One script covering the worker behaviours that need no failure (start-up is the slow
    part, so they share it)."""
    body = '''
    out = {}
    autograd.manual_seed(7)
    loader = DataLoader(Probe(), batch_size=4, num_workers=2)
    out["epoch"] = rows(loader)
    autograd.manual_seed(7)
    out["again"] = rows(loader)
    out["main_info"] = get_worker_info() is None
    autograd.manual_seed(7)
    gen_order = [b["i"].tolist() for b in DataLoader(Probe(), batch_size=4, shuffle=True)]
    autograd.manual_seed(7)
    out["shuffle_same_as_main"] = gen_order == [
        b["i"].tolist() for b in DataLoader(Probe(), batch_size=4, shuffle=True, num_workers=2)]
    out["init"] = rows(DataLoader(Probe(6), batch_size=3, num_workers=2,
                                  worker_init_fn=shift_init))
    out["stream"] = [b.tolist() for b in DataLoader(Shards(23), batch_size=4, num_workers=3)]
    out["stream_unbatched"] = sorted(int(x) for x in DataLoader(Shards(7), batch_size=None,
                                                               num_workers=2))
    out["stream_drop_last"] = [b.tolist() for b in DataLoader(Shards(10), batch_size=3,
                                                              num_workers=2, drop_last=True)]
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    tb = list(DataLoader(TensorDataset(x, np.arange(20)), batch_size=6, num_workers=2,
                         pin_memory=True, prefetch_factor=3, multiprocessing_context="spawn"))
    out["tensors"] = [[b[0].tolist(), b[1].tolist()] for b in tb]
    tb[0][0][0, 0] = -1.0   # the arrays that crossed are ordinary writable memory
    out["writable"] = float(tb[0][0][0, 0].item())
    out["unordered"] = sorted(i for b in DataLoader(Probe(), batch_size=3, num_workers=2,
                                                   in_order=False) for i in b["i"].tolist())
    persistent = DataLoader(Probe(8), batch_size=2, num_workers=2, persistent_workers=True)
    out["persistent_pids"] = [sorted({p for b in persistent for p in b["pid"].tolist()})
                              for _ in range(2)]
    ps = DataLoader(Shards(9), batch_size=2, num_workers=2, persistent_workers=True)
    out["persistent_stream"] = [sorted(x for b in ps for x in b.tolist()) for _ in range(2)]
    it = iter(persistent)
    next(it)                                   # abandon an epoch half-way ...
    out["after_abandon"] = sorted(i for b in persistent for i in b["i"].tolist())
    pids = out["persistent_pids"][0]
    del it, persistent
    import gc; gc.collect()
    time.sleep(0.5)
    out["persistent_left"] = alive(pids)
    print(json.dumps(out))
    '''
    return _scenario(tmp_path_factory.mktemp("workers"), body)


def test_workers_give_the_main_process_batches_in_order(workers_run):
    epoch = workers_run["epoch"]
    assert [b["i"] for b in epoch] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11],
                                       [12, 13, 14, 15]]
    # round-robin: batch k comes from worker k % 2, whose info is PyTorch's
    assert [b["wid"] for b in epoch] == [[0] * 4, [1] * 4, [0] * 4, [1] * 4]
    assert all(b["nw"] == [2] * 4 and all(b["same"]) for b in epoch)
    assert workers_run["main_info"]
    assert workers_run["shuffle_same_as_main"]
    assert workers_run["unordered"] == list(range(16))


def test_workers_are_seeded_like_pytorch(workers_run):
    epoch = workers_run["epoch"]
    seeds = {b["wid"][0]: b["seed"][0] for b in epoch}
    assert seeds[1] == seeds[0] + 1                      # base_seed + worker_id
    for lib in ("py", "np", "tg"):
        w0 = [x for b in epoch if b["wid"][0] == 0 for x in b[lib]]
        w1 = [x for b in epoch if b["wid"][0] == 1 for x in b[lib]]
        assert len(set(w0 + w1)) == len(w0 + w1), lib   # the workers' streams differ
    # and the whole epoch repeats under the same manual_seed
    strip = lambda batches: [{k: v for k, v in b.items() if k != "pid"} for b in batches]  # noqa
    assert strip(workers_run["again"]) == strip(epoch)
    assert all(t == 1 for b in epoch for t in b["threads"])  # one thread per worker


def test_worker_init_fn_sees_its_own_dataset_copy(workers_run):
    got = {b["wid"][0]: b["i"] for b in workers_run["init"]}
    assert got == {0: [1000, 1001, 1002], 1: [2003, 2004, 2005]}


def test_iterable_dataset_sharded_with_get_worker_info(workers_run):
    stream = workers_run["stream"]
    assert sorted(x for b in stream for x in b) == list(range(23))   # each sample once
    assert all(len(b) <= 4 for b in stream)
    assert workers_run["stream_unbatched"] == list(range(7))
    # drop_last applies to each worker's stream (PyTorch): 0,2,4,6,8 -> [0,2,4]; 1,3,5,7,9 ->
    # [1,3,5]
    assert sorted(workers_run["stream_drop_last"]) == [[0, 2, 4], [1, 3, 5]]


def test_tensors_cross_processes_intact(workers_run):
    tensors = workers_run["tensors"]
    xs = [row for b in tensors for row in b[0]]
    ys = [y for b in tensors for y in b[1]]
    assert xs == np.arange(40, dtype=np.float32).reshape(20, 2).tolist()
    assert ys == list(range(20))
    assert workers_run["writable"] == -1.0


def test_persistent_workers_live_across_epochs_then_go(workers_run):
    first, second = workers_run["persistent_pids"]
    assert first == second and len(first) == 2
    assert workers_run["persistent_stream"] == [list(range(9))] * 2
    assert workers_run["after_abandon"] == list(range(8))  # leftovers of the old epoch dropped
    assert workers_run["persistent_left"] == []


@pytest.mark.parametrize("exc", ["ValueError", "KeyError"])
def test_worker_exception_is_raised_in_main_with_its_traceback(tmp_path, exc):
    body = f'''
    try:
        list(DataLoader(Failing({exc}), batch_size=2, num_workers=2))
    except {exc} as e:
        print(json.dumps({{"type": type(e).__name__, "msg": str(e)}}))
    '''
    got = _scenario(tmp_path, body)
    assert got["type"] == exc
    msg = got["msg"]
    assert msg.startswith(f"Caught {exc} in DataLoader worker process 0.\nOriginal Traceback")
    assert "scenario.py" in msg and "sample 5 is broken" in msg and "__getitem__" in msg


def test_worker_timeout_and_death_are_errors(tmp_path):
    body = '''
    out = {}
    try:
        list(DataLoader(Slow(5.0), batch_size=1, num_workers=1, timeout=0.5))
    except RuntimeError as e:
        out["timeout"] = str(e)
    try:
        list(DataLoader(Dies(), batch_size=1, num_workers=2))
    except RuntimeError as e:
        out["died"] = str(e)
    print(json.dumps(out))
    '''
    got = _scenario(tmp_path, body)
    assert got["timeout"] == "DataLoader timed out after 0.5 seconds"
    assert got["died"].startswith("DataLoader worker (pid(s) ") and "exited unexpectedly" in \
        got["died"]


def test_no_workers_left_after_break_or_garbage_collection(tmp_path):
    body = '''
    import gc
    loader = DataLoader(Slow(0.01), batch_size=2, num_workers=2)
    it = iter(loader)
    next(it)
    pids = [p.pid for p in it._pool.procs]
    before = alive(pids)
    for b in loader:       # a loop left with break
        break
    del it
    gc.collect()
    time.sleep(0.5)
    print(json.dumps({"before": before, "after": alive(pids)}))
    '''
    got = _scenario(tmp_path, body)
    assert len(got["before"]) == 2 and got["after"] == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_leaves_no_orphaned_workers(tmp_path):
    script = tmp_path / "interrupted.py"
    script.write_text(_WORKER_DATASETS + textwrap.dedent('''
    if __name__ == "__main__":
        loader = DataLoader(Slow(0.05), batch_size=1, num_workers=2)
        it = iter(loader)
        next(it)
        print(json.dumps([p.pid for p in it._pool.procs]), flush=True)
        for _ in it:
            pass
    '''))
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pids = json.loads(proc.stdout.readline())
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "KeyboardInterrupt" in err
    assert "Caught" not in err        # the workers ignored Ctrl-C: no worker tracebacks
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
        time.sleep(0.1)
    assert [p for p in pids if os.path.exists(f"/proc/{p}")] == []


def test_worker_options_are_checked_like_pytorch():
    ds = TensorDataset(Tensor(np.arange(4.0)))
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="multiprocessing_context can only be used"):
        DataLoader(ds, multiprocessing_context="spawn")
    with pytest.raises(ValueError, match="valid start method"):
        DataLoader(ds, num_workers=1, multiprocessing_context="teleport")
    with pytest.raises(TypeError, match="multiprocessing_context option should be"):
        DataLoader(ds, num_workers=1, multiprocessing_context=3)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, num_workers=1, prefetch_factor=0)
    assert DataLoader(ds, num_workers=2).prefetch_factor == 2
    # a start method that pickles the loader (spawn; forkserver too): a lambda cannot travel.
    # (Under fork, the default before Numba's OpenMP has started, it runs, as in PyTorch.)
    loader = DataLoader(ds, num_workers=1, collate_fn=lambda b: b, multiprocessing_context="spawn")
    with pytest.raises(Exception, match="must be defined at the top level"):
        next(iter(loader))


# ---- the default start method ---------------------------------------------------------------------
def test_default_start_method_forks_until_openmp_runs_then_needs_a_guard(monkeypatch):
    from autograd.data import dataloader as dl

    if "fork" not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip("no fork on this platform")
    monkeypatch.setattr(dl._runtime, "_numba_omp_started", lambda: False)
    assert dl._default_context().get_start_method() == "fork"
    monkeypatch.setattr(dl._runtime, "_numba_omp_started", lambda: True)
    monkeypatch.setattr(dl, "_main_is_guarded", lambda: True)
    assert dl._default_context().get_start_method() == dl.DEFAULT_START_METHOD
    monkeypatch.setattr(dl, "_main_is_guarded", lambda: False)
    assert dl._default_context().get_start_method() == "fork"


def test_main_guard_detection(tmp_path, monkeypatch):
    import sys
    import types

    from autograd.data import dataloader as dl

    guarded, bare = tmp_path / "guarded.py", tmp_path / "bare.py"
    guarded.write_text("x = 1\n\nif __name__ == '__main__':\n    print(x)\n")
    bare.write_text("print('__name__ == \"__main__\"')\n")
    for path, expected in ((guarded, True), (bare, False)):
        fake = types.ModuleType("__main__")
        fake.__file__ = str(path)
        monkeypatch.setitem(sys.modules, "__main__", fake)
        assert dl._main_is_guarded() is expected
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))  # python -c
    assert dl._main_is_guarded() is True


def test_a_script_without_a_main_guard_loads_with_workers(tmp_path):
    """pytorch/examples' DCGAN has no ``__main__`` guard and uses 2 workers: as with PyTorch's
    fork on Linux, the script must run once, not again in each worker."""
    import subprocess
    import sys

    script = tmp_path / "bare.py"
    script.write_text(
        "import autograd, nn\n"
        "from autograd.data import DataLoader, TensorDataset\n"
        "print('program started')\n"
        "conv = nn.Conv2d(3, 8, 3)\n"
        "conv(autograd.randn(8, 3, 16, 16)).sum().backward()  # Numba's parallel loops ran\n"
        "ds = TensorDataset(autograd.arange(40.0).reshape(20, 2))\n"
        "for epoch in range(2):\n"
        "    total = sum(float(b[0].sum()) for b in DataLoader(ds, batch_size=5, num_workers=2))\n"
        "    print('epoch', epoch, total)\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count("program started") == 1, out.stdout
    assert out.stdout.count("epoch") == 2 and "780.0" in out.stdout, out.stdout
