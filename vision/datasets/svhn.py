"""SVHN (``torchvision.datasets.SVHN``): the Street View House Numbers, cropped-digit format.

Netzer et al. (2011), "Reading Digits in Natural Images with Unsupervised Feature Learning";
ufldl.stanford.edu/housenumbers. Each split is a MATLAB 5 ``.mat`` file (read with
``scipy.io.loadmat``) holding ``X``, uint8 of shape (32, 32, 3, N), and ``y``, shape (N, 1),
labels 1..10 where 10 stands for the digit 0 (mapped to 0, as torchvision does).

Differences from torchvision: the file is checked by its content (variable names, dtypes,
shapes, label range), not by MD5, and anything ``loadmat`` cannot read is a
:class:`DatasetFileError` naming the file.
"""

import os

import numpy as np

from .._pil import pil_image
from .utils import DatasetFileError, check_integrity, download_url, verify_str_arg
from .vision import VisionDataset

__all__ = ["SVHN"]


class SVHN(VisionDataset):
    """SVHN, cropped digits (``torchvision.datasets.SVHN``).

    Args:
        root (str or os.PathLike): the directory holding ``train_32x32.mat`` etc.
        split (str): ``"train"`` (73,257 images), ``"test"`` (26,032) or ``"extra"`` (531,131).
        transform (callable, optional): applied to each image (a PIL RGB 32x32 image).
        target_transform (callable, optional): applied to each label (an ``int`` in 0..9).
        download (bool): fetch the split's file (MD5-checked) if it is missing.

    Attributes:
        data (numpy.ndarray): uint8, shape (N, 3, 32, 32) (as torchvision).
        labels (numpy.ndarray): int64, shape (N,), in 0..9.

    Raises:
        ValueError: an unknown ``split``.
        RuntimeError: the file is missing ("Dataset not found", with what to copy where) or is
            not a valid SVHN file (:class:`DatasetFileError`).
    """

    split_list = {
        "train": ["http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "train_32x32.mat",
                  "e26dedcc434d2e4c54c9b2d4a06d8373"],
        "test": ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "test_32x32.mat",
                 "eb5a983be6a315427106f1b164d9cef3"],
        "extra": ["http://ufldl.stanford.edu/housenumbers/extra_32x32.mat", "extra_32x32.mat",
                  "a93ce644f1a588dc4d68dda5feec44a7"],
    }

    def __init__(self, root, split="train", transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, "split", tuple(self.split_list))
        self.url, self.filename, self.file_md5 = self.split_list[split]
        if download:
            self.download()
        path = os.path.join(self.root, self.filename)
        if not os.path.isfile(path):
            raise RuntimeError(f"Dataset not found: {path}. You can use download=True to "
                               f"download it, or copy {self.filename} from "
                               f"ufldl.stanford.edu/housenumbers into {self.root}.")
        self.data, self.labels = _read_svhn(path)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = self.data[index], int(self.labels[index])
        img = pil_image("SVHN.__getitem__").fromarray(np.transpose(img, (1, 2, 0)))
        return self._transformed(img, target)

    def __getitems__(self, indices):
        """A batch, as ``default_collate([self[i] for i in indices])``; the transform runs once
        on the uint8 (B, 3, 32, 32) batch where it has a batch path."""
        idx = self._check_indices(indices)
        batch = self._batch_from_arrays(self.data[idx], [int(t) for t in self.labels[idx]], idx)
        return batch if batch is not None else super().__getitems__(idx.tolist())

    def _check_integrity(self):
        return check_integrity(os.path.join(self.root, self.filename), self.file_md5)

    def download(self):
        """Fetch the split's ``.mat`` file into ``root`` (MD5-checked) unless it is there."""
        if self._check_integrity():
            return
        download_url(self.url, self.root, self.filename, self.file_md5)

    def extra_repr(self):
        return f"Split: {self.split}"


def _read_svhn(path):
    """``(data uint8 (N, 3, 32, 32), labels int64 (N,))`` from an SVHN .mat file.

    Raises:
        DatasetFileError: whatever ``loadmat`` cannot read, or variables of the wrong layout.
    """
    import scipy.io as sio
    try:
        mat = sio.loadmat(path, variable_names=["X", "y"])
    except Exception as e:  # scipy raises ValueError, TypeError, MatReadError, OSError...
        raise DatasetFileError(f"corrupt SVHN file {path}: scipy.io.loadmat cannot read it "
                               f"({type(e).__name__}: {e})") from None
    x, y = mat.get("X"), mat.get("y")
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 4 \
            or x.shape[:3] != (32, 32, 3):
        desc = f"{x.dtype} {x.shape}" if isinstance(x, np.ndarray) else "missing"
        raise DatasetFileError(f"corrupt SVHN file {path}: 'X' must be uint8 of shape "
                               f"(32, 32, 3, N), got {desc}")
    if not isinstance(y, np.ndarray) or y.size != x.shape[3] or y.dtype.kind not in "uif":
        desc = f"{y.dtype} {y.shape}" if isinstance(y, np.ndarray) else "missing"
        raise DatasetFileError(f"corrupt SVHN file {path}: 'y' must hold {x.shape[3]} labels, "
                               f"got {desc}")
    labels = y.astype(np.int64).reshape(-1)
    if labels.size and (labels.min() < 1 or labels.max() > 10):
        raise DatasetFileError(f"corrupt SVHN file {path}: labels must be 1..10, found "
                               f"{int(labels.min())}..{int(labels.max())}")
    labels[labels == 10] = 0  # SVHN's label 10 is the digit 0 (torchvision does the same)
    return np.ascontiguousarray(np.transpose(x, (3, 2, 0, 1))), labels
