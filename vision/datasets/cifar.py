"""CIFAR-10 and CIFAR-100 (``torchvision.datasets.CIFAR10``, ``CIFAR100``).

Krizhevsky (2009), "Learning Multiple Layers of Features from Tiny Images"; the files are those
of www.cs.toronto.edu/~kriz/cifar.html, in either of their two official versions:

- the *python* version (``cifar-10-batches-py/``: ``data_batch_1`` .. ``data_batch_5``,
  ``test_batch``, ``batches.meta``; ``cifar-100-python/``: ``train``, ``test``, ``meta``),
  torchvision's layout. Each file is a Python 2 pickle of a dict. It is read by
  :class:`RestrictedUnpickler`, which builds only dicts, lists, strings, bytes, numbers and NumPy
  arrays (``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``, ``numpy.dtype``, plus
  ``_codecs.encode`` for bytes in Python 3 protocol-2 pickles) and refuses every other global, so a hostile file cannot run code; the result is then checked
  against the known layout (keys, dtypes, shapes, label range).
- the *binary* version (``cifar-10-batches-bin/``: ``data_batch_1.bin`` .. ``_5.bin``,
  ``test_batch.bin``, ``batches.meta.txt``; ``cifar-100-binary/``: ``train.bin``, ``test.bin``,
  ``fine_label_names.txt``), records of 1 label byte (CIFAR-100: coarse then fine label) and
  3072 pixel bytes (1024 red, 1024 green, 1024 blue, rows of 32). The file size must be a whole
  number of records, checked before anything is read.

The python version is used when its folder is there, else the binary one.

Differences from torchvision: the binary version is also accepted; files are checked by parsing
(layout, sizes, label range), not by MD5 (a file with the right layout but other bytes loads);
``__getitems__`` runs the transform once per batch where it can.
"""

import io
import os
import pickle

import numpy as np

from .._pil import pil_image
from .utils import DatasetFileError, check_integrity
from .vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100", "RestrictedUnpickler"]

_PIXELS = 3 * 32 * 32


class RestrictedUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that builds only the objects of CIFAR's python archives.

    Allowed globals: ``numpy.core.multiarray._reconstruct`` (and its NumPy 2 home
    ``numpy._core.multiarray._reconstruct``), ``numpy.ndarray``, ``numpy.dtype``, and
    ``_codecs.encode`` (str to bytes, how Python 3 writes bytes at protocol 2). Everything else
    the pickle may build is a builtin container or scalar (dict, list, tuple, str, bytes, int,
    float, bool, None), which the pickle protocol makes without a global.

    Raises:
        pickle.UnpicklingError: on any other global (a file that tries to call ``os.system``,
            ``builtins.eval``, ``numpy.load``...).
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how Python 3's protocol-2 pickles spell bytes: str -> bytes
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global '{module}.{name}' is not allowed in a CIFAR file")


def _unpickle(path):
    """Read one python-version file with :class:`RestrictedUnpickler` (latin1, as torchvision)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        obj = RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
    except pickle.UnpicklingError as e:
        raise DatasetFileError(f"corrupt CIFAR file {path}: {e}") from None
    except Exception as e:  # truncated or malformed pickles raise many types
        raise DatasetFileError(f"corrupt CIFAR file {path}: not a readable pickle "
                               f"({type(e).__name__}: {e})") from None
    if not isinstance(obj, dict):
        raise DatasetFileError(f"corrupt CIFAR file {path}: expected a dict, got "
                               f"{type(obj).__name__}")
    return obj


class CIFAR10(VisionDataset):
    """CIFAR-10 (``torchvision.datasets.CIFAR10``): 60,000 32x32 colour images in 10 classes.

    Args:
        root (str or os.PathLike): the directory holding ``cifar-10-batches-py`` (or
            ``cifar-10-batches-bin``).
        train (bool): the 50,000 training images if True, else the 10,000 test images.
        transform (callable, optional): applied to each image (a PIL RGB image).
        target_transform (callable, optional): applied to each label (an ``int``).
        download (bool): fetch and extract ``cifar-10-python.tar.gz`` (MD5-checked) into
            ``root`` when no version is there.

    Attributes:
        data (numpy.ndarray): uint8, shape (N, 32, 32, 3) (HWC, as torchvision).
        targets (list[int]): labels in 0..9 (CIFAR-100: the fine labels, 0..99).
        classes (list[str]), class_to_idx (dict[str, int]): from the meta file.

    Raises:
        RuntimeError: no version found ("Dataset not found", with what to copy where), or a
            file is corrupt (:class:`DatasetFileError`: truncated, a pickle with another layout
            or a forbidden global, sizes or labels out of range).
    """

    base_folder = "cifar-10-batches-py"
    binary_folder = "cifar-10-batches-bin"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names",
            "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    binary_train = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                    "data_batch_4.bin", "data_batch_5.bin"]
    binary_test = ["test_batch.bin"]
    binary_meta = "batches.meta.txt"
    _label_bytes = 1          # binary records: label bytes before the pixels
    _label_key = "labels"     # python version
    num_classes = 10
    #: examples per split (a different count means a wrong or cut file).
    split_sizes = {"train": 50000, "test": 10000}

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = bool(train)
        if download:
            self.download()
        py_dir = os.path.join(self.root, self.base_folder)
        bin_dir = os.path.join(self.root, self.binary_folder)
        if os.path.isdir(py_dir):
            data, targets, classes = self._load_python(py_dir)
        elif os.path.isdir(bin_dir):
            data, targets, classes = self._load_binary(bin_dir)
        else:
            raise RuntimeError(
                f"Dataset not found: {type(self).__name__} looked for {py_dir} (python version) "
                f"and {bin_dir} (binary version). You can use download=True to download it, or "
                f"extract {self.filename} from www.cs.toronto.edu/~kriz/cifar.html into "
                f"{self.root}.")
        expected = self.split_sizes["train" if self.train else "test"]
        if data.shape[0] != expected:
            raise DatasetFileError(
                f"{type(self).__name__}: the {'training' if self.train else 'test'} files hold "
                f"{data.shape[0]} images, expected {expected}: a file is cut short or is not "
                "this dataset's")
        self.data = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # HWC, as torchvision
        self.targets = [int(t) for t in targets]
        self._targets = np.asarray(targets, dtype=np.int64)
        self.classes = classes
        self.class_to_idx = {c: i for i, c in enumerate(classes)}

    # --- the python version ---------------------------------------------------------------------
    def _load_python(self, folder):
        files = self.train_list if self.train else self.test_list
        chunks, targets = [], []
        for name, _ in files:
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                raise RuntimeError(f"Dataset not found or incomplete: {path} is missing. You can "
                                   "use download=True to download it")
            entry = _unpickle(path)
            data = entry.get("data")
            labels = entry.get(self._label_key)
            if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
                    or data.shape[1] != _PIXELS:
                desc = (f"{data.dtype} array of shape {data.shape}"
                        if isinstance(data, np.ndarray) else type(data).__name__)
                raise DatasetFileError(f"corrupt CIFAR file {path}: 'data' must be a uint8 "
                                       f"array of shape (N, {_PIXELS}), got {desc}")
            if not isinstance(labels, list) or len(labels) != data.shape[0] \
                    or not all(type(v) is int for v in labels):
                raise DatasetFileError(f"corrupt CIFAR file {path}: '{self._label_key}' must be "
                                       f"a list of {data.shape[0]} ints")
            chunks.append(data)
            targets.extend(labels)
        targets = self._check_labels(np.asarray(targets, dtype=np.int64), folder)
        meta_path = os.path.join(folder, self.meta["filename"])
        if not os.path.isfile(meta_path):
            raise RuntimeError(f"Dataset metadata file not found: {meta_path}. You can use "
                               "download=True to download it")
        names = _unpickle(meta_path).get(self.meta["key"])
        if not isinstance(names, list) or len(names) != self.num_classes \
                or not all(isinstance(n, str) for n in names):
            raise DatasetFileError(f"corrupt CIFAR file {meta_path}: '{self.meta['key']}' must "
                                   f"be a list of {self.num_classes} class names")
        return np.concatenate(chunks), targets, names

    # --- the binary version ---------------------------------------------------------------------
    def _load_binary(self, folder):
        files = self.binary_train if self.train else self.binary_test
        record = self._label_bytes + _PIXELS
        chunks, targets = [], []
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                raise RuntimeError(f"Dataset not found or incomplete: {path} is missing")
            size = os.path.getsize(path)
            if size == 0 or size % record:
                raise DatasetFileError(
                    f"corrupt CIFAR file {path}: {size} bytes is not a whole number of "
                    f"{record}-byte records ({self._label_bytes} label byte(s) + {_PIXELS} "
                    "pixels): it is truncated or not a CIFAR binary file")
            raw = np.fromfile(path, dtype=np.uint8).reshape(-1, record)
            chunks.append(raw[:, self._label_bytes:])
            targets.append(raw[:, self._label_bytes - 1].astype(np.int64))
        targets = self._check_labels(np.concatenate(targets), folder)
        meta_path = os.path.join(folder, self.binary_meta)
        if not os.path.isfile(meta_path):
            raise RuntimeError(f"Dataset metadata file not found: {meta_path}")
        with open(meta_path, "rb") as f:
            text = f.read(1 << 16).decode("utf-8", errors="replace")
        names = [line.strip() for line in text.splitlines() if line.strip()]
        if len(names) != self.num_classes:
            raise DatasetFileError(f"corrupt CIFAR file {meta_path}: {len(names)} class names, "
                                   f"expected {self.num_classes}")
        return np.ascontiguousarray(np.concatenate(chunks)), targets, names

    def _check_labels(self, targets, where):
        if targets.size and (targets.min() < 0 or targets.max() >= self.num_classes):
            bad = targets[(targets < 0) | (targets >= self.num_classes)][0]
            raise DatasetFileError(f"corrupt CIFAR files in {where}: label {int(bad)} is out of "
                                   f"range (there are {self.num_classes} classes)")
        return targets

    # --- download --------------------------------------------------------------------------------
    def _check_integrity(self):
        """True if every python-version file is present with torchvision's MD5."""
        return all(check_integrity(os.path.join(self.root, self.base_folder, f), md5)
                   for f, md5 in self.train_list + self.test_list)

    def download(self):
        """Fetch ``url`` (MD5-checked) into ``root`` and extract it (``tarfile``'s ``data``
        filter: no absolute paths, links or devices), unless a version is already there.

        Raises:
            RuntimeError: the download failed (the message says what to copy where).
        """
        if os.path.isdir(os.path.join(self.root, self.base_folder)) or \
                os.path.isdir(os.path.join(self.root, self.binary_folder)):
            return
        import tarfile

        from .utils import download_url
        download_url(self.url, self.root, filename=self.filename, md5=self.tgz_md5)
        with tarfile.open(os.path.join(self.root, self.filename), "r:gz") as tar:
            tar.extractall(self.root, filter="data")

    # --- Dataset ----------------------------------------------------------------------------------
    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = self.data[index], self.targets[index]
        img = pil_image(f"{type(self).__name__}.__getitem__").fromarray(img)
        return self._transformed(img, target)

    def __getitems__(self, indices):
        """A batch, as ``default_collate([self[i] for i in indices])``; the transform runs once
        on the uint8 (B, 3, 32, 32) batch where it has a batch path."""
        idx = self._check_indices(indices)
        batch = self._batch_from_arrays(self.data[idx].transpose(0, 3, 1, 2),
                                        [self.targets[i] for i in idx], idx)
        return batch if batch is not None else super().__getitems__(idx.tolist())

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100 (``torchvision.datasets.CIFAR100``): as :class:`CIFAR10` with 100 classes;
    ``targets`` are the fine labels. Folders ``cifar-100-python`` or ``cifar-100-binary`` (whose
    records carry a coarse then a fine label byte)."""

    base_folder = "cifar-100-python"
    binary_folder = "cifar-100-binary"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names",
            "md5": "7973b15100ade9c7d40fb424638fde48"}
    binary_train = ["train.bin"]
    binary_test = ["test.bin"]
    binary_meta = "fine_label_names.txt"
    _label_bytes = 2
    _label_key = "fine_labels"
    num_classes = 100
