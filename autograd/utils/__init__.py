"""``autograd.utils`` (``torch.utils``): ``autograd.utils.data`` is :mod:`autograd.data` (an alias
installed by :mod:`autograd._aliases`, so ``from torch.utils.data import DataLoader`` ports by
renaming ``torch`` to ``autograd``); ``autograd.utils.tensorboard`` is the TensorBoard writer,
loaded on first use."""

import importlib


def __getattr__(name):
    if name == "data":
        module = importlib.import_module("autograd.data")
        globals()["data"] = module
        return module
    if name == "tensorboard":
        module = importlib.import_module("autograd.utils.tensorboard")
        globals()["tensorboard"] = module
        return module
    raise AttributeError(f"module 'autograd.utils' has no attribute '{name}'")
