"""``autograd.utils`` (``torch.utils``): ``autograd.utils.data`` is :mod:`autograd.data` (an alias
installed by :mod:`autograd._aliases`, so ``from torch.utils.data import DataLoader`` ports by
renaming ``torch`` to ``autograd``); ``autograd.utils.tensorboard`` is the TensorBoard writer,
loaded on first use; ``autograd.utils.benchmark`` is ``torch.utils.benchmark``'s
:class:`Timer`."""

import importlib


def __getattr__(name):
    if name == "data":
        module = importlib.import_module("autograd.data")
        globals()["data"] = module
        return module
    if name in ("tensorboard", "benchmark"):
        module = importlib.import_module(f"autograd.utils.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'autograd.utils' has no attribute '{name}'")
