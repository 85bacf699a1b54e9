"""``DatasetFolder`` and ``ImageFolder`` (``torchvision.datasets.folder``): one sub-directory per
class, images read with Pillow (the extra ``vision``).

Layout (torchvision's): ``root/<class>/**/<file>``; classes are the sub-directories in sorted
order, samples every file below them (following links) whose extension is allowed, in sorted
order.
"""

import os

from .._pil import pil_image
from .vision import VisionDataset

__all__ = ["DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "default_loader", "pil_loader",
           "find_classes", "make_dataset", "has_file_allowed_extension"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename, extensions):
    """True if ``filename`` ends with one of ``extensions`` (case-insensitive)."""
    return filename.lower().endswith(extensions if isinstance(extensions, str)
                                     else tuple(extensions))


def find_classes(directory):
    """``(classes, class_to_idx)``: the sorted sub-directory names of ``directory``.

    Raises:
        FileNotFoundError: no sub-directory.
    """
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {c: i for i, c in enumerate(classes)}


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None,
                 allow_empty=False):
    """The list of ``(path, class_index)`` samples below ``directory`` (torchvision's).

    Raises:
        ValueError: both or neither of ``extensions`` and ``is_valid_file``; an empty
            ``class_to_idx``.
        FileNotFoundError: a class with no valid file (unless ``allow_empty``).
    """
    directory = os.path.expanduser(os.fspath(directory))
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the "
                         "same time")
    if extensions is not None:
        def is_valid_file(x):
            return has_file_allowed_extension(x, extensions)
    instances, found = [], set()
    for target_class in sorted(class_to_idx):
        class_index = class_to_idx[target_class]
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for root, _, fnames in sorted(os.walk(target_dir, followlinks=True)):
            for fname in sorted(fnames):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    found.add(target_class)
    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            exts = extensions if isinstance(extensions, str) else ", ".join(extensions)
            msg += f"Supported extensions are: {exts}"
        raise FileNotFoundError(msg)
    return instances


def pil_loader(path):
    """Open ``path`` with Pillow and convert it to RGB (the file is closed at once)."""
    Image = pil_image("pil_loader")
    with open(path, "rb") as f:
        img = Image.open(f)
        return img.convert("RGB")


def default_loader(path):
    """The default image loader: :func:`pil_loader`."""
    return pil_loader(path)


class DatasetFolder(VisionDataset):
    """A generic folder dataset (``torchvision.datasets.DatasetFolder``).

    Args:
        root (str or os.PathLike): the root directory (one sub-directory per class).
        loader (callable): ``path -> sample``.
        extensions (tuple[str], optional): allowed extensions (exclusive with
            ``is_valid_file``).
        transform, target_transform (callable, optional): as every dataset.
        is_valid_file (callable, optional): ``path -> bool``.
        allow_empty (bool): accept classes with no file (default False).

    Attributes:
        classes (list[str]), class_to_idx (dict[str, int]), samples (list[(path, index)]),
        targets (list[int]), loader, extensions.

    Raises:
        FileNotFoundError: no class folder, or a class without files.
        ValueError: see :func:`make_dataset`.
    """

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx=class_to_idx, extensions=extensions,
                                    is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.samples = samples
        self.targets = [s[1] for s in samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None,
                     allow_empty=False):
        """See :func:`make_dataset` (``class_to_idx`` is required here).

        Raises:
            ValueError: ``class_to_idx`` is None.
        """
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions=extensions,
                            is_valid_file=is_valid_file, allow_empty=allow_empty)

    def find_classes(self, directory):
        """See :func:`find_classes`."""
        return find_classes(directory)

    def __getitem__(self, index):
        path, target = self.samples[index]
        sample = self.loader(path)
        return self._transformed(sample, target)

    def __len__(self):
        return len(self.samples)


class ImageFolder(DatasetFolder):
    """Images in class folders (``torchvision.datasets.ImageFolder``): a :class:`DatasetFolder`
    with ``loader=default_loader`` (Pillow, RGB) and ``extensions=IMG_EXTENSIONS``.

    Attributes:
        imgs (list[(path, index)]): same as ``samples``.
    """

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
