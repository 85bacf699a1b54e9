"""``FakeData`` (``torchvision.datasets.FakeData``): random images for tests and benchmarks."""

import numpy as np

from .vision import VisionDataset

__all__ = ["FakeData"]


class FakeData(VisionDataset):
    """A dataset of random images (``torchvision.datasets.FakeData``).

    Item ``i`` is drawn from a NumPy generator seeded with ``i + random_offset``, so it is the
    same on every call and in every process: the image is N(0, 1) noise of shape
    ``image_size`` turned into a PIL image with ``ToPILImage`` (so values are ``x * 255``
    truncated to a byte, wrapping as torchvision's), the label uniform in
    ``0..num_classes-1``.

    Args:
        size (int): number of items (default 1000).
        image_size (tuple[int, int, int]): ``(C, H, W)`` (default ``(3, 224, 224)``).
        num_classes (int): default 10.
        transform, target_transform (callable, optional): as every dataset.
        random_offset (int): added to the index to seed each item (default 0).

    Raises:
        IndexError: an index outside ``0..size-1`` (as torchvision).

    Differences from torchvision: the numbers come from NumPy's PCG64, so they differ from
    torchvision's for the same index; the target is an ``int``, not a 0-d tensor.
    """

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        super().__init__(transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = tuple(image_size)
        self.random_offset = random_offset

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        from ..transforms import functional as F
        rng = np.random.default_rng(int(index) + int(self.random_offset))
        img = rng.standard_normal(self.image_size, dtype=np.float32)
        target = int(rng.integers(0, self.num_classes))
        import autograd
        img = F.to_pil_image(autograd.Tensor(img))
        return self._transformed(img, target)

    def __len__(self):
        return self.size
