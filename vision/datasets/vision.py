"""``VisionDataset`` (``torchvision.datasets.VisionDataset``) and its batch path.

Every dataset here holds its images in memory as a uint8 array and returns PIL images from
``__getitem__``, as torchvision does. ``__getitems__`` (what :class:`autograd.data.DataLoader`
calls for a whole batch) runs the transform once on the batch when it can: when ``transform``
is a chain of this package's transforms that have a per-sample batch path (crops, flips, pads,
``ToTensor``, ``Normalize``, ``RandomErasing``...), the batch goes through one NumPy call per
transform, each image drawing its own random parameters, which gives what ``default_collate``
of the per-image results would (for random transforms: the same distribution). Other transforms
fall back to the per-image loop.
"""

import os

import numpy as np

import autograd
from autograd.data import Dataset, default_collate

__all__ = ["VisionDataset", "StandardTransform"]


def _apply_transforms(transform, target_transform, input, target):
    """``(transform(input), target_transform(target))``, each only where given: what
    :class:`StandardTransform` and the datasets' ``__getitem__`` return."""
    if transform is not None:
        input = transform(input)
    if target_transform is not None:
        target = target_transform(target)
    return input, target


class StandardTransform:
    """Applies ``transform`` to the input and ``target_transform`` to the target."""

    def __init__(self, transform=None, target_transform=None):
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input, target):
        return _apply_transforms(self.transform, self.target_transform, input, target)

    def _format_transform_repr(self, transform, head):
        lines = repr(transform).splitlines()
        return [f"{head}{lines[0]}"] + [" " * len(head) + line for line in lines[1:]]

    def __repr__(self):
        body = [type(self).__name__]
        if self.transform is not None:
            body += self._format_transform_repr(self.transform, "Transform: ")
        if self.target_transform is not None:
            body += self._format_transform_repr(self.target_transform, "Target transform: ")
        return "\n".join(body)


class VisionDataset(Dataset):
    """Base class of the datasets (``torchvision.datasets.VisionDataset``).

    Args:
        root (str or os.PathLike, optional): the dataset's directory (``~`` is expanded).
        transforms (callable, optional): ``(image, target) -> (image, target)``.
        transform (callable, optional): applied to each image (a PIL image).
        target_transform (callable, optional): applied to each target.

    Raises:
        ValueError: both ``transforms`` and ``transform``/``target_transform`` given.
    """

    _repr_indent = 4

    def __init__(self, root=None, transforms=None, transform=None, target_transform=None):
        if isinstance(root, (str, os.PathLike)):
            root = os.path.expanduser(os.fspath(root))
        self.root = root
        has_transforms = transforms is not None
        has_separate = transform is not None or target_transform is not None
        if has_transforms and has_separate:
            raise ValueError("Only transforms or transform/target_transform can be passed as "
                             "argument")
        self.transform = transform
        self.target_transform = target_transform
        if has_separate:
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def _transformed(self, input, target):
        """One item's ``(input, target)`` through ``transform`` and ``target_transform`` (each
        where given): the end of every dataset's ``__getitem__``."""
        return _apply_transforms(self.transform, self.target_transform, input, target)

    def extra_repr(self):
        return ""

    def __repr__(self):
        head = "Dataset " + type(self).__name__
        body = [f"Number of datapoints: {self.__len__()}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if getattr(self, "transforms", None) is not None:
            body += [repr(self.transforms)]
        return "\n".join([head] + [" " * self._repr_indent + line for line in body])

    # --- the batch path -------------------------------------------------------------------------
    def _check_indices(self, indices):
        idx = np.asarray(indices, dtype=np.intp).reshape(-1)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx[(idx < -n) | (idx >= n)][0]
            raise IndexError(f"{type(self).__name__}: index {int(bad)} is out of range for a "
                             f"dataset of {n} images")
        return idx

    def _batch_from_arrays(self, images, targets, indices):
        """``__getitems__`` for in-memory datasets: ``images`` uint8 (B, C, H, W) (what the
        per-image PIL images hold), ``targets`` a list of per-item targets. Returns
        ``[images, targets]`` collated, through the transform's batch path, or ``None`` when the
        transform has none (the caller then loops over items)."""
        if self.transforms is not None and not isinstance(self.transforms, StandardTransform):
            return None
        from ..transforms._batch import apply_batch
        if self.transform is None:
            return None  # per-image results are PIL images: nothing to stack
        out = apply_batch(self.transform, autograd.Tensor(images), pil=True)
        if out is None:
            return None
        if self.target_transform is not None:
            targets = [self.target_transform(t) for t in targets]
        return [out, default_collate(targets)]

    def __getitems__(self, indices):
        """A batch: what ``default_collate([self[i] for i in indices])`` gives, made with the
        transform's batch path where there is one (see the module docstring)."""
        return default_collate([self[i] for i in indices])
