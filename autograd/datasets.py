"""Datasets on disk: MNIST and Fashion-MNIST (``torchvision.datasets`` equivalents).

Both are read from the IDX files their authors distribute, parsed here with NumPy (no PIL, no
torchvision, no pickle). The IDX format is described on Yann LeCun's MNIST page
(yann.lecun.com/exdb/mnist, "FILE FORMATS FOR THE MNIST DATABASE"):

- a 4-byte magic number ``0x00 0x00 <type> <ndim>``, where ``<type>`` is ``0x08`` unsigned byte,
  ``0x09`` signed byte, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64;
- ``ndim`` big-endian unsigned 32-bit sizes, one per dimension;
- the values, big-endian, in C (row-major) order, nothing after them.

MNIST's images are magic 2051 (``0x00000803``: unsigned bytes, 3 dimensions: count, 28 rows,
28 columns) and its labels magic 2049 (``0x00000801``: unsigned bytes, 1 dimension: count).
Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) uses the same files, names and layout.

Differences from torchvision:

- ``__getitem__`` returns the image as a float32 Tensor of shape (1, 28, 28) in [0, 1] (what
  ``transforms.ToTensor()`` gives), not a PIL image, so ``transform`` receives that Tensor;
- the files are also looked for directly in ``root`` (and, for Fashion-MNIST, where Debian's
  package ``dataset-fashion-mnist`` installs them), not only in ``root/<Name>/raw``;
- parsed arrays are cached in memory (read-only, shared by every instance over the same files),
  never written to a ``processed`` folder.
"""

import gzip
import hashlib
import http.client
import operator
import os
import sys
import tempfile
import urllib.error
import urllib.request
import zlib

import numpy as np

from .data import Dataset, default_collate
from .tensor import Tensor

__all__ = ["MNIST", "FashionMNIST", "read_idx", "read_image_file", "read_label_file"]

# IDX type byte -> the big-endian NumPy dtype of the values (LeCun's table).
_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension

_GZIP_MAGIC = b"\x1f\x8b"


class _Corrupt(Exception):
    """Internal: what is wrong with a file; turned into a RuntimeError naming the file."""


def _read_exact(f, n):
    """Read exactly ``n`` bytes from ``f`` or raise ``_Corrupt`` saying how many there were."""
    buf = f.read(n)
    if len(buf) != n:
        raise _Corrupt(f"the file ends after {len(buf)} of the {n} header bytes expected")
    return buf


def _readinto_exact(f, arr):
    """Fill the contiguous array ``arr`` from ``f``; return the number of bytes read."""
    view = memoryview(arr).cast("B")
    total = 0
    while total < len(view):
        n = f.readinto(view[total:])
        if not n:
            break
        total += n
    return total


def _open(path):
    """Open an IDX file, gzipped or not: decided by the content's first bytes, not the name."""
    f = open(path, "rb")
    head = f.read(2)
    f.seek(0)
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=f, mode="rb"), f
    return f, f


def read_idx(path, magic=None):
    """Parse one IDX file (gzipped or plain) into a NumPy array.

    The format is LeCun's IDX (see the module docstring): a big-endian magic number whose third
    byte is the value type and fourth the number of dimensions, the dimension sizes as
    big-endian uint32, then exactly ``prod(sizes)`` values. Gzip is detected from the content.

    Args:
        path (str or os.PathLike): the file.
        magic (int, optional): the magic number required (2051 for MNIST images, 2049 for
            labels); ``None`` accepts any valid IDX type.

    Returns:
        numpy.ndarray: shape = the sizes in the header; dtype the header's type in native byte
        order (``uint8`` for MNIST). The array is writable and owns its memory.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        RuntimeError: if the file is not valid IDX (bad magic number, unknown type, a header or
            payload shorter than the header says, bytes left over after the payload, a broken
            gzip stream); the message names the file and what is wrong.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"read_idx: no such file: {path}")
    try:
        stream, raw = _open(path)
        try:
            return _parse_idx(stream, magic)
        finally:
            stream.close()
            raw.close()
    except _Corrupt as e:
        raise RuntimeError(f"corrupt IDX file {path}: {e}. Delete it and download it again "
                           "(download=True) or copy a good copy in its place.") from None
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise RuntimeError(f"corrupt IDX file {path}: the gzip stream cannot be read ({e}). "
                           "Delete it and download it again (download=True) or copy a good "
                           "copy in its place.") from None


def _parse_idx(f, magic):
    """Parse an open IDX stream (header, sizes, payload); raise ``_Corrupt`` on any mismatch."""
    header = _read_exact(f, 4)
    found = int.from_bytes(header, "big")
    if magic is not None and found != magic:
        raise _Corrupt(f"magic number {found} (0x{found:08X}), expected {magic} "
                       f"(0x{magic:08X}); this is not the file it is named as")
    if header[0] != 0 or header[1] != 0 or header[2] not in _IDX_TYPES:
        raise _Corrupt(f"magic number {found} (0x{found:08X}) is not an IDX magic number "
                       "(expected 0x0000 then a type byte 08/09/0B/0C/0D/0E and the rank)")
    dtype = _IDX_TYPES[header[2]]
    ndim = header[3]
    dims = tuple(int(d) for d in np.frombuffer(_read_exact(f, 4 * ndim), dtype=">u4"))
    count = int(np.prod(dims, dtype=np.int64)) if ndim else 1
    nbytes = count * dtype.itemsize
    out = np.empty(count, dtype=dtype.newbyteorder("="))
    got = _readinto_exact(f, out)
    if got != nbytes:
        raise _Corrupt(f"the header gives shape {dims} of {dtype.name}, {nbytes} bytes of "
                       f"values, but the file holds only {got}: it is truncated")
    if f.read(1):
        raise _Corrupt(f"the header gives shape {dims} of {dtype.name}, {nbytes} bytes of "
                       "values, but more bytes follow them")
    if dtype.byteorder == ">" and sys.byteorder == "little":
        out.byteswap(inplace=True)  # the bytes were read in file (big-endian) order
    return out.reshape(dims)


def read_image_file(path):
    """Read an MNIST-style IDX image file: magic 2051, shape (N, rows, cols), uint8.

    Returns:
        numpy.ndarray: uint8, shape (N, rows, cols).

    Raises:
        FileNotFoundError: if the file does not exist.
        RuntimeError: if it is not a valid IDX image file (see :func:`read_idx`), or not
            3-dimensional.
    """
    arr = read_idx(path, magic=IMAGES_MAGIC)
    if arr.ndim != 3:  # can't happen with magic 2051, kept for clarity
        raise RuntimeError(f"corrupt IDX file {os.fspath(path)}: images must be 3-dimensional, "
                           f"got shape {arr.shape}")
    return arr


def read_label_file(path):
    """Read an MNIST-style IDX label file: magic 2049, shape (N,), uint8.

    Returns:
        numpy.ndarray: uint8, shape (N,).

    Raises:
        FileNotFoundError: if the file does not exist.
        RuntimeError: if it is not a valid IDX label file (see :func:`read_idx`).
    """
    return read_idx(path, magic=LABELS_MAGIC)


# --- the datasets -----------------------------------------------------------------------------

# (path, size, mtime_ns) of the image file and of the label file -> (images, labels int64),
# both read-only. Shared by every instance; memory only.
_CACHE = {}


def _file_key(path):
    """Cache key of a file: real path, size and modification time (a changed file is re-read)."""
    st = os.stat(path)
    return (os.path.realpath(path), st.st_size, st.st_mtime_ns)


class MNIST(Dataset):
    """The MNIST handwritten digits (``torchvision.datasets.MNIST``).

    60,000 training and 10,000 test images of the digits 0-9, 28x28 pixels, grey levels 0-255
    (0 is the background), by LeCun, Cortes & Burges, in the IDX format described on
    yann.lecun.com/exdb/mnist (see this module's docstring).

    Args:
        root (str or os.PathLike): where the files are. For each file the dataset looks, in
            order, directly in ``root``, then in torchvision's layout ``root/MNIST/raw``
            (``root/FashionMNIST/raw`` for Fashion-MNIST), then in :attr:`system_dirs`. Each
            file may be gzipped (``train-images-idx3-ubyte.gz``) or not
            (``train-images-idx3-ubyte``).
        train (bool): the training set (``train-*`` files, 60,000 images) if True, else the test
            set (``t10k-*`` files, 10,000 images).
        transform (callable, optional): applied to each image Tensor in ``__getitem__``.
        target_transform (callable, optional): applied to each label (an ``int``).
        download (bool): fetch the files that are not found anywhere from :attr:`mirrors` into
            ``root/MNIST/raw``, checking each file's MD5 and writing it atomically (a temporary
            file in the same directory, then ``os.replace``); files already present are not
            fetched again. All four files are fetched, as torchvision does.

    Attributes:
        data (Tensor): uint8, shape (N, 28, 28), the raw pixels (read-only memory, shared with
            every other instance reading the same files).
        targets (Tensor): int64, shape (N,), labels in 0..9.
        classes (list[str]): the class names, index = label.
        class_to_idx (dict[str, int]): name -> label.
        train (bool), root (str), transform, target_transform: as given.
        mirrors (list[str]): base URLs tried in order (class attribute; torchvision's).
        resources (list[tuple[str, str]]): (file name, MD5 of the .gz) (class attribute).

    ``dataset[i]`` returns ``(image, label)``: ``image`` a float32 Tensor of shape (1, 28, 28)
    equal to ``data[i] / 255`` (``transforms.ToTensor()``'s result) passed through
    ``transform``; ``label`` an ``int`` passed through ``target_transform``. ``__getitems__``
    returns a whole batch ``[images (B, 1, 28, 28) float32, labels (B,) int64]`` with two
    fancy-indexes when no transform is set (the :class:`~autograd.data.DataLoader` fast path).

    Raises:
        FileNotFoundError: a file is missing (and ``download`` is False); the message names the
            file, every place it was looked for, and how to get it.
        RuntimeError: a file is corrupt (bad magic number, wrong dimensions, truncated or too
            long, broken gzip, labels out of range, image and label counts that disagree or are
            not 60,000 / 10,000); or ``download=True`` could not fetch a file (no network, every
            mirror failed, MD5 mismatch). The message names the file.

    Differences from torchvision: images are Tensors, not PIL images (so ``transform`` receives
    a Tensor); files are also found directly in ``root``; nothing is written besides downloads.

    Example::

        train = MNIST("../shared/data/mnist", train=True)
        loader = DataLoader(train, batch_size=64, shuffle=True)
        for images, labels in loader:   # (64, 1, 28, 28) float32, (64,) int64
            ...
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    #: extra directories searched after ``root`` and ``root/<Name>/raw``.
    system_dirs = []
    #: how many images each split must have (a different count means a wrong or cut file).
    split_sizes = {"train": 60000, "test": 10000}
    #: image height and width.
    image_size = (28, 28)
    #: how to get the files, appended to the "not found" message.
    _how_to_get = ("Pass download=True to fetch them (needs network access), or copy the four "
                   "IDX files (from yann.lecun.com/exdb/mnist or a mirror) into {root}.")
    download_timeout = 60.0

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        if download:
            self.download()
        split = "train" if self.train else "t10k"
        image_path = self._find(f"{split}-images-idx3-ubyte")
        label_path = self._find(f"{split}-labels-idx1-ubyte")
        self._images, self._labels = self._load(image_path, label_path)
        self.data = Tensor(self._images)
        self.targets = Tensor(self._labels)

    # --- files --------------------------------------------------------------------------------
    @property
    def raw_folder(self):
        """torchvision's layout: ``root/<ClassName>/raw`` (where downloads go)."""
        return os.path.join(self.root, type(self).__name__, "raw")

    def _search_dirs(self):
        return [self.root, self.raw_folder] + [os.fspath(d) for d in self.system_dirs]

    def _candidates(self, stem):
        return [os.path.join(d, name) for d in self._search_dirs()
                for name in (stem + ".gz", stem)]

    def _find(self, stem):
        """The first existing candidate for ``stem`` (.gz first); FileNotFoundError listing all."""
        for path in self._candidates(stem):
            if os.path.isfile(path):
                return path
        looked = "\n  ".join(self._candidates(stem))
        raise FileNotFoundError(
            f"{type(self).__name__}: {stem}.gz not found. Looked for:\n  {looked}\n"
            + self._how_to_get.format(root=self.root))

    def _is_present(self, stem):
        return any(os.path.isfile(p) for p in self._candidates(stem))

    # --- parsing ------------------------------------------------------------------------------
    def _load(self, image_path, label_path):
        """Parse and check both files (or take them from the cache): (images uint8 (N, 28, 28),
        labels int64 (N,)), read-only. RuntimeError naming the file on any inconsistency."""
        key = (type(self).__name__, _file_key(image_path), _file_key(label_path))
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        images = read_image_file(image_path)
        labels = read_label_file(label_path)
        name = type(self).__name__
        if images.shape[1:] != self.image_size:
            raise RuntimeError(
                f"{name}: corrupt image file {image_path}: images are "
                f"{images.shape[1]}x{images.shape[2]}, expected "
                f"{self.image_size[0]}x{self.image_size[1]}")
        if labels.shape[0] != images.shape[0]:
            raise RuntimeError(
                f"{name}: the image and label files disagree: {image_path} holds "
                f"{images.shape[0]} images but {label_path} holds {labels.shape[0]} labels")
        expected = self.split_sizes.get("train" if self.train else "test")
        if expected is not None and images.shape[0] != expected:
            raise RuntimeError(
                f"{name}: {image_path} and {label_path} hold {images.shape[0]} examples, "
                f"expected {expected} for the {'training' if self.train else 'test'} set: "
                "the files are cut short or are not this dataset's")
        if labels.size and int(labels.max()) >= len(self.classes):
            raise RuntimeError(
                f"{name}: corrupt label file {label_path}: label {int(labels.max())} is out of "
                f"range (there are {len(self.classes)} classes)")
        labels = labels.astype(np.int64)
        images.flags.writeable = False
        labels.flags.writeable = False
        _CACHE[key] = (images, labels)
        return images, labels

    # --- download -----------------------------------------------------------------------------
    def download(self):
        """Fetch every file of :attr:`resources` that is not found, into :attr:`raw_folder`.

        Each file is tried from each of :attr:`mirrors` in turn; its MD5 is checked before it is
        moved into place with ``os.replace`` from a temporary file in the same directory, so a
        failed or corrupt download never leaves a partial file under the real name.

        Raises:
            RuntimeError: if a file could not be fetched from any mirror; the message names the
                file and each URL tried with its error (no network, HTTP error, MD5 mismatch).
        """
        missing = [(f, md5) for f, md5 in self.resources
                   if not self._is_present(f[:-3] if f.endswith(".gz") else f)]
        if not missing:
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in missing:
            errors = []
            for mirror in self.mirrors:
                url = mirror.rstrip("/") + "/" + filename
                try:
                    _download_file(url, os.path.join(self.raw_folder, filename), md5,
                                   timeout=self.download_timeout)
                    break
                except (OSError, ValueError, http.client.HTTPException, _Corrupt) as e:
                    reason = getattr(e, "reason", None) if isinstance(e, urllib.error.URLError) \
                        else None
                    errors.append(f"{url}: {reason if reason is not None else e}")
            else:
                tried = "\n  ".join(errors)
                raise RuntimeError(
                    f"{type(self).__name__}: could not download {filename}. Tried:\n  {tried}\n"
                    "Without network access, copy the files into "
                    f"{self.root} (or {self.raw_folder})" + self._offline_hint())

    def _offline_hint(self):
        return "."

    # --- Dataset ------------------------------------------------------------------------------
    def __len__(self):
        return self._images.shape[0]

    def __getitem__(self, index):
        i = operator.index(index)
        n = self._images.shape[0]
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__}: index {i} is out of range for a dataset "
                             f"of {n} images")
        img = Tensor(np.divide(self._images[i], 255, dtype=np.float32)[None])
        target = int(self._labels[i])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getitems__(self, indices):
        """A batch: ``[images, labels]``, what ``default_collate([self[i] for i in indices])``
        gives. Without transforms: images float32 (B, 1, 28, 28) in [0, 1], labels int64 (B,),
        made with one fancy-index each.

        Raises:
            IndexError: if an index is out of range.
        """
        if self.transform is not None or self.target_transform is not None:
            return default_collate([self[i] for i in indices])
        idx = np.asarray(indices, dtype=np.intp).reshape(-1)
        n = self._images.shape[0]
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx[(idx < -n) | (idx >= n)][0]
            raise IndexError(f"{type(self).__name__}: index {int(bad)} is out of range for a "
                             f"dataset of {n} images")
        images = np.divide(self._images[idx], 255, dtype=np.float32)[:, None]
        return [Tensor(images), Tensor(self._labels[idx])]

    @property
    def class_to_idx(self):
        """Class name -> label."""
        return {c: i for i, c in enumerate(self.classes)}

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}",
                 f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}",
                 f"    Split: {'Train' if self.train else 'Test'}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Fashion-MNIST (``torchvision.datasets.FashionMNIST``): Zalando's article images.

    Same files, format, shapes, dtypes, arguments, attributes and errors as :class:`MNIST`
    (60,000 training + 10,000 test 28x28 grey images, labels 0..9), by Xiao, Rasul & Vollgraf
    (2017), github.com/zalandoresearch/fashion-mnist, MIT license. The classes are
    ``T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot``.

    Files are looked for directly in ``root``, then in ``root/FashionMNIST/raw``, then in
    ``/usr/share/datasets/fashion-mnist`` (where Debian's package ``dataset-fashion-mnist``
    installs them: ``apt-get install dataset-fashion-mnist``). ``download=True`` fetches from
    Zalando's mirror (torchvision's) and checks the upstream MD5s; Debian recompressed its copies,
    so their gzip bytes have other MD5s, which is fine because found files are never MD5-checked
    (their content is checked by parsing).
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    system_dirs = ["/usr/share/datasets/fashion-mnist"]
    _how_to_get = ("Install Debian's package with `apt-get install dataset-fashion-mnist` "
                   "(it puts the files in /usr/share/datasets/fashion-mnist), pass download=True "
                   "(needs network access), or copy the four IDX files (from "
                   "github.com/zalandoresearch/fashion-mnist) into {root}.")

    def _offline_hint(self):
        return (", or install Debian's package: apt-get install dataset-fashion-mnist "
                "(files in /usr/share/datasets/fashion-mnist).")


def _download_file(url, dest, md5, timeout=60.0):
    """Fetch ``url`` into ``dest`` if its MD5 is ``md5``: stream into a temporary file in
    ``dest``'s directory, check, then ``os.replace``. On any failure nothing is left behind.

    Raises:
        urllib.error.URLError / OSError: network or HTTP failure.
        _Corrupt: MD5 mismatch.
    """
    directory = os.path.dirname(dest) or "."
    print(f"Downloading {url}", file=sys.stderr)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(dest) + ".",
                               suffix=".part")
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != md5:
            raise _Corrupt(f"MD5 mismatch: got {got}, expected {md5} (corrupt or wrong file)")
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise

