"""MNIST-family datasets (``torchvision.datasets.MNIST``, ``FashionMNIST``, ``KMNIST``,
``EMNIST``) and the IDX reader they share.

The files are the IDX files their authors distribute, parsed here with NumPy (no pickle). The
IDX format is described on Yann LeCun's MNIST page (yann.lecun.com/exdb/mnist, "FILE FORMATS FOR
THE MNIST DATABASE"):

- a 4-byte magic number ``0x00 0x00 <type> <ndim>``, where ``<type>`` is ``0x08`` unsigned byte,
  ``0x09`` signed byte, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64;
- ``ndim`` big-endian unsigned 32-bit sizes, one per dimension;
- the values, big-endian, in C (row-major) order, nothing after them.

MNIST's images are magic 2051 (``0x00000803``: unsigned bytes, 3 dimensions: count, 28 rows,
28 columns) and its labels magic 2049 (``0x00000801``: unsigned bytes, 1 dimension: count).
Fashion-MNIST (Xiao, Rasul & Vollgraf 2017), KMNIST (Clanuwat et al. 2018) and EMNIST (Cohen et
al. 2017) use the same layout.

The reader trusts nothing in the header: the rank must be 1 to 3 (torchvision's limit), and the
declared payload is checked against the file's size (plain files: exactly; gzip files: against
the most that deflate can expand the compressed bytes, 1032:1) *before* any memory is allocated,
so a 16-byte file that claims 1.5 TiB raises :class:`DatasetFileError`, not ``MemoryError``.

Differences from torchvision:

- the files are also looked for directly in ``root`` (and, for Fashion-MNIST, where Debian's
  package ``dataset-fashion-mnist`` installs them), not only in ``root/<Name>/raw``, and they may
  stay gzipped (nothing is extracted);
- parsed arrays are cached in memory (read-only, shared by every instance over the same files),
  never written to a ``processed`` folder;
- ``__getitems__`` (the DataLoader's batch call) runs the transform once per batch where it can
  (see :mod:`vision.datasets.vision`).
"""

import gzip
import http.client
import operator
import os
import string
import sys
import urllib.error
import zlib

import numpy as np

import autograd
from autograd.data import default_collate

from .._pil import pil_image
from .utils import DatasetFileError, _Corrupt, _download_file, verify_str_arg
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "read_idx", "read_image_file",
           "read_label_file", "DatasetFileError"]

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
MAX_RANK = 3         # torchvision's read_sn3_pascalvincent_tensor accepts 1 to 3 dimensions

_GZIP_MAGIC = b"\x1f\x8b"
# Deflate's largest expansion is 1032:1 (zlib's technical notes, "Maximum compression factor");
# gzip adds at least 18 bytes of header and trailer.
_DEFLATE_MAX_RATIO = 1032


def _read_exact(f, n, what="header"):
    """Read exactly ``n`` bytes from ``f`` or raise ``_Corrupt`` saying how many there were."""
    buf = f.read(n)
    if len(buf) != n:
        raise _Corrupt(f"the file ends after {len(buf)} of the {n} {what} bytes expected")
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
    """Open an IDX file, gzipped or not (decided by the content, not the name): returns
    ``(stream, raw file, is_gzip)``."""
    f = open(path, "rb")
    head = f.read(2)
    f.seek(0)
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=f, mode="rb"), f, True
    return f, f, False


def read_idx(path, magic=None):
    """Parse one IDX file (gzipped or plain) into a NumPy array.

    The format is LeCun's IDX (see the module docstring): a big-endian magic number whose third
    byte is the value type and fourth the number of dimensions (1 to 3), the dimension sizes as
    big-endian uint32, then exactly ``prod(sizes)`` values. Gzip is detected from the content.
    The sizes are checked against the file's size before anything is allocated.

    Args:
        path (str or os.PathLike): the file.
        magic (int, optional): the magic number required (2051 for MNIST images, 2049 for
            labels); ``None`` accepts any valid IDX type.

    Returns:
        numpy.ndarray: shape = the sizes in the header; dtype the header's type in native byte
        order (``uint8`` for MNIST). The array is writable and owns its memory.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        DatasetFileError: (a ``RuntimeError``) if the file is not valid IDX: bad magic number,
            unknown type code, rank 0 or above 3, a header or payload shorter than the header
            says (or a declared size the file cannot hold), bytes left over after the payload,
            a broken gzip stream. The message names the file and what is wrong.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"read_idx: no such file: {path}")
    try:
        stream, raw, is_gzip = _open(path)
        try:
            size = os.fstat(raw.fileno()).st_size
            limit = size * _DEFLATE_MAX_RATIO if is_gzip else size
            return _parse_idx(stream, magic, limit, exact=not is_gzip)
        finally:
            stream.close()
            raw.close()
    except _Corrupt as e:
        raise DatasetFileError(f"corrupt IDX file {path}: {e}. Delete it and download it again "
                               "(download=True) or copy a good copy in its place.") from None
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise DatasetFileError(f"corrupt IDX file {path}: the gzip stream cannot be read ({e}). "
                               "Delete it and download it again (download=True) or copy a good "
                               "copy in its place.") from None


def _parse_idx(f, magic, limit, exact):
    """Parse an open IDX stream; ``limit`` is the most bytes the stream can hold (``exact``:
    it holds exactly that many). Raise ``_Corrupt`` on any mismatch, before allocating."""
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
    if not 1 <= ndim <= MAX_RANK:
        raise _Corrupt(f"the header declares {ndim} dimensions; IDX data sets have 1 to "
                       f"{MAX_RANK}")
    head_bytes = 4 + 4 * ndim
    if exact and limit < head_bytes:
        raise _Corrupt(f"the file holds {limit} bytes, fewer than the {head_bytes} header bytes "
                       f"of a rank-{ndim} IDX file")
    dims = _dims(_read_exact(f, 4 * ndim), ndim)
    count = 1
    for d in dims:
        count *= d  # Python ints: no overflow
    nbytes = count * dtype.itemsize
    if exact and head_bytes + nbytes != limit:
        if head_bytes + nbytes > limit:
            raise _Corrupt(f"the header gives shape {dims} of {dtype.name}, {nbytes} bytes of "
                           f"values, but the file holds only {limit - head_bytes}: it is "
                           "truncated or the header lies")
        raise _Corrupt(f"the header gives shape {dims} of {dtype.name}, {nbytes} bytes of "
                       "values, but more bytes follow them")
    if not exact and nbytes > limit:
        raise _Corrupt(f"the header gives shape {dims} of {dtype.name}, {nbytes} bytes of "
                       f"values, more than a gzip file of {limit // _DEFLATE_MAX_RATIO} bytes "
                       "can hold: it is truncated or the header lies")
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


def _dims(raw, ndim):
    """The ``ndim`` big-endian uint32 sizes in ``raw``, as Python ints."""
    return tuple(int.from_bytes(raw[4 * i:4 * i + 4], "big") for i in range(ndim))


def read_image_file(path):
    """Read an MNIST-style IDX image file: magic 2051, shape (N, rows, cols), uint8.

    Returns:
        numpy.ndarray: uint8, shape (N, rows, cols).

    Raises:
        FileNotFoundError: if the file does not exist.
        DatasetFileError: if it is not a valid IDX image file (see :func:`read_idx`).
    """
    return read_idx(path, magic=IMAGES_MAGIC)


def read_label_file(path):
    """Read an MNIST-style IDX label file: magic 2049, shape (N,), uint8.

    Returns:
        numpy.ndarray: uint8, shape (N,).

    Raises:
        FileNotFoundError: if the file does not exist.
        DatasetFileError: if it is not a valid IDX label file (see :func:`read_idx`).
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


_IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _idx_resources(train_images, train_labels, test_images, test_labels):
    """torchvision's ``resources`` of a dataset in MNIST's four files (:data:`_IDX_FILES`):
    ``[(file name, MD5 of the .gz), ...]``, each MD5 given for the file it names."""
    return list(zip(_IDX_FILES, (train_images, train_labels, test_images, test_labels)))


class MNIST(VisionDataset):
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
        transform (callable, optional): applied to each image (a PIL image, mode ``"L"``).
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

    ``dataset[i]`` returns ``(image, label)`` as torchvision: ``image`` a PIL image (mode
    ``"L"``, 28x28; needs Pillow, the extra ``vision``) passed through ``transform``, ``label``
    an ``int`` passed through ``target_transform``. ``__getitems__`` returns a whole batch
    ``[images, labels]``; when ``transform`` has a batch path (``Compose([ToTensor(),
    Normalize(...)])``, crops, flips...) it runs once on the (B, 1, 28, 28) uint8 batch, without
    PIL.

    Raises:
        FileNotFoundError: a file is missing (and ``download`` is False); the message names the
            file, every place it was looked for, and how to get it.
        RuntimeError: a file is corrupt (:class:`DatasetFileError`: bad magic number, wrong
            dimensions, truncated or too long, lying header, broken gzip, labels out of range,
            image and label counts that disagree or are not 60,000 / 10,000); or
            ``download=True`` could not fetch a file (no network, every mirror failed, MD5
            mismatch). The message names the file.

    Differences from torchvision: files are also found directly in ``root`` and may stay
    gzipped; nothing is written besides downloads.

    Example::

        train = MNIST("../shared/data/mnist", train=True,
                      transform=transforms.Compose([transforms.ToTensor(),
                                                    transforms.Normalize((0.1307,), (0.3081,))]))
        loader = DataLoader(train, batch_size=64, shuffle=True)
        for images, labels in loader:   # (64, 1, 28, 28) float32, (64,) int64
            ...
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = _idx_resources(train_images="f68b3c2dcbeaaa9fbdd348bbdeb94873",
                               train_labels="d53e105ee54ea40749a09fcbcd1e9432",
                               test_images="9fb629c4189551a2d022fa330f9573f3",
                               test_labels="ec29112dd5afa0611ce80d1b7f02629c")
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

    #: how each image is handed to ``transform``: "pil" (torchvision's), or "tensor" (the
    #: legacy ``autograd.datasets`` classes: a float32 (1, H, W) Tensor in [0, 1]).
    _image_kind = "pil"

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.root = os.path.expanduser(os.fspath(root))
        self.train = bool(train)
        if download:
            self.download()
        image_path = self._find(self._file_stem("images"))
        label_path = self._find(self._file_stem("labels"))
        self._images, self._labels = self._load(image_path, label_path)
        self.data = autograd.Tensor(self._images)
        self.targets = autograd.Tensor(self._labels)

    def _file_stem(self, kind):
        """The file name (without ``.gz``) of the split's ``"images"`` or ``"labels"``."""
        split = "train" if self.train else "t10k"
        return f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"

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
            raise DatasetFileError(
                f"{name}: corrupt image file {image_path}: images are "
                f"{images.shape[1]}x{images.shape[2]}, expected "
                f"{self.image_size[0]}x{self.image_size[1]}")
        if labels.shape[0] != images.shape[0]:
            raise DatasetFileError(
                f"{name}: the image and label files disagree: {image_path} holds "
                f"{images.shape[0]} images but {label_path} holds {labels.shape[0]} labels")
        expected = self.split_sizes.get("train" if self.train else "test")
        if expected is not None and images.shape[0] != expected:
            raise DatasetFileError(
                f"{name}: {image_path} and {label_path} hold {images.shape[0]} examples, "
                f"expected {expected} for the {'training' if self.train else 'test'} set: "
                "the files are cut short or are not this dataset's")
        if labels.size and int(labels.max()) >= len(self.classes):
            raise DatasetFileError(
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

    def _image(self, array):
        """The per-item image handed to ``transform``: a PIL image (or the legacy Tensor)."""
        if self._image_kind == "tensor":
            return autograd.Tensor(np.divide(array, 255, dtype=np.float32)[None])
        return pil_image(f"{type(self).__name__}.__getitem__").fromarray(array)

    def __getitem__(self, index):
        i = operator.index(index)
        n = self._images.shape[0]
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__}: index {i} is out of range for a dataset "
                             f"of {n} images")
        img = self._image(self._images[i])
        target = int(self._labels[i])
        return self._transformed(img, target)

    def __getitems__(self, indices):
        """A batch: ``[images, labels]``, what ``default_collate([self[i] for i in indices])``
        gives. When ``transform`` has a batch path (see :mod:`vision.datasets.vision`) it runs
        once on the uint8 (B, 1, 28, 28) batch; labels are int64 (B,).

        Raises:
            IndexError: if an index is out of range.
        """
        idx = self._check_indices(indices)
        if self._image_kind == "tensor":
            if self.transform is None and self.target_transform is None:
                images = np.divide(self._images[idx], 255, dtype=np.float32)[:, None]
                return [autograd.Tensor(images), autograd.Tensor(self._labels[idx])]
            return default_collate([self[int(i)] for i in idx])
        batch = self._batch_from_arrays(self._images[idx][:, None],
                                        [int(t) for t in self._labels[idx]], idx)
        if batch is not None:
            return batch
        return default_collate([self[int(i)] for i in idx])

    @property
    def class_to_idx(self):
        """Class name -> label."""
        return {c: i for i, c in enumerate(self.classes)}

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"


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
    resources = _idx_resources(train_images="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                               train_labels="25c81989df183df01b3e8a0aad5dffbe",
                               test_images="bef4ecab320f06d8554ea6380940ec79",
                               test_labels="bb300cfdad3c16e7a12a480ee83cd310")
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



class KMNIST(MNIST):
    """Kuzushiji-MNIST (``torchvision.datasets.KMNIST``): cursive Japanese characters.

    Same files, format, shapes, arguments, attributes and errors as :class:`MNIST` (60,000
    training + 10,000 test 28x28 grey images, 10 classes), by Clanuwat et al. (2018),
    github.com/rois-codh/kmnist, CC BY-SA 4.0. Files are looked for in ``root`` and
    ``root/KMNIST/raw``.
    """

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = _idx_resources(train_images="bdb82020997e1d708af4cf47b453dcf7",
                               train_labels="e144d726b3acfaa3e44228e80efcd344",
                               test_images="5c965bf0a639b31b8f53240b1b52f4d7",
                               test_labels="7320c461ea6c1c855c0b718fb2a4b134")
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    _how_to_get = ("Pass download=True to fetch them (needs network access), or copy the four "
                   "IDX files (from github.com/rois-codh/kmnist) into {root}.")


class EMNIST(MNIST):
    """EMNIST (``torchvision.datasets.EMNIST``): handwritten letters and digits.

    Cohen, Afshar, Tapson & van Schaik (2017), "EMNIST: an extension of MNIST to handwritten
    letters". The NIST archive ``gzip.zip`` holds, for each split, IDX files named
    ``emnist-<split>-<train|test>-<images-idx3|labels-idx1>-ubyte.gz``; they are looked for in
    ``root``, ``root/EMNIST/raw`` and ``root/EMNIST/raw/gzip``. As in torchvision the images are
    stored transposed (the files' own orientation): ``transform`` may transpose them back.

    Args:
        root (str or os.PathLike): as :class:`MNIST`.
        split (str): ``"byclass"``, ``"bymerge"``, ``"balanced"``, ``"letters"``, ``"digits"`` or
            ``"mnist"``.
        train, transform, target_transform: as :class:`MNIST`.
        download (bool): fetch ``gzip.zip`` (about 560 MB, MD5-checked) into
            ``root/EMNIST/raw`` and extract the split's four files from it.

    Attributes:
        classes (list[str]): the split's classes (``letters``: ``"N/A"`` then a-z, labels 1-26).
        others as :class:`MNIST`.

    Raises:
        ValueError: an unknown ``split``.
        FileNotFoundError, RuntimeError: as :class:`MNIST`.
    """

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    _merged_classes = {"c", "i", "j", "k", "l", "m", "o", "p", "s", "u", "v", "w", "x", "y", "z"}
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        "byclass": sorted(_all_classes),
        "bymerge": sorted(_all_classes - _merged_classes),
        "balanced": sorted(_all_classes - _merged_classes),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }
    #: examples per split (train, test), from the EMNIST paper's Table II.
    _sizes = {"byclass": (697932, 116323), "bymerge": (697932, 116323),
              "balanced": (112800, 18800), "letters": (124800, 20800),
              "digits": (240000, 40000), "mnist": (60000, 10000)}
    _how_to_get = ("Pass download=True to fetch gzip.zip (needs network access), or copy the "
                   "split's four .gz files (from the NIST archive gzip.zip) into {root}.")

    def __init__(self, root, split, **kwargs):
        self.split = verify_str_arg(split, "split", self.splits)
        self.classes = self.classes_split_dict[self.split]
        super().__init__(root, **kwargs)

    @property
    def split_sizes(self):
        train, test = self._sizes[self.split]
        return {"train": train, "test": test}

    def _file_stem(self, kind):
        part = "train" if self.train else "test"
        return f"emnist-{self.split}-{part}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"

    def _search_dirs(self):
        return super()._search_dirs() + [os.path.join(self.raw_folder, "gzip")]

    def download(self):
        """Fetch ``gzip.zip`` into :attr:`raw_folder` and extract this split's files.

        Raises:
            RuntimeError: the archive could not be fetched (no network, MD5 mismatch) or lacks
                the split's files.
        """
        import zipfile

        from .utils import download_url
        stems = [self._file_stem(k) for k in ("images", "labels")]
        other = "test" if self.train else "train"
        stems += [s.replace("-train-" if self.train else "-test-", f"-{other}-") for s in stems]
        if all(self._is_present(s) for s in stems):
            return
        download_url(self.url, self.raw_folder, filename="gzip.zip", md5=self.md5)
        with zipfile.ZipFile(os.path.join(self.raw_folder, "gzip.zip")) as z:
            names = {os.path.basename(n): n for n in z.namelist()}
            for stem in stems:
                member = names.get(stem + ".gz")
                if member is None:
                    raise RuntimeError(f"EMNIST: gzip.zip has no {stem}.gz")
                dest = os.path.join(self.raw_folder, stem + ".gz")
                with z.open(member) as src, open(dest + ".part", "wb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
                os.replace(dest + ".part", dest)
