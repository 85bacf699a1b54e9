"""Module aliases, so that PyTorch's module paths port by renaming ``torch`` to ``autograd``.

PyTorch code names the autograd namespace ``torch.autograd`` (``torch.autograd.Function``,
``from torch.autograd import Variable``, ``torch.autograd.functional.jacobian``) and the data
utilities ``torch.utils.data``. Renaming ``torch`` to ``autograd`` turns these into
``autograd.autograd`` and ``autograd.utils.data``. This module installs an import hook that
resolves every module path under such an alias to the real module (``autograd.autograd.functional``
*is* ``autograd.functional``: one module object, so classes and ``isinstance`` agree).

=============================  ==========================
alias (what renaming gives)    module it resolves to
=============================  ==========================
``autograd.autograd[.X]``      ``autograd[.X]``
``autograd.utils.data[.X]``    ``autograd.data[.X]``
``autograd.nn[.X]``            ``nn[.X]``
``autograd.optim[.X]``         ``optim[.X]``
=============================  ==========================

``autograd.nn`` and ``autograd.optim`` (what renaming ``torch.nn.Linear`` / ``torch.optim.SGD``
gives) are the top-level ``nn`` and ``optim`` packages. They are resolved lazily, on first
import or attribute access (``autograd.__getattr__``), so importing ``autograd`` never imports
``nn`` or ``optim`` (the layering rule: ``autograd`` sits below them).
"""

import importlib
import importlib.abc
import importlib.util
import sys

ALIASES = {
    "autograd.autograd": "autograd",
    "autograd.utils.data": "autograd.data",
    "autograd.nn": "nn",
    "autograd.optim": "optim",
}


def _target(fullname):
    for alias, real in ALIASES.items():
        if fullname == alias or fullname.startswith(alias + "."):
            return real + fullname[len(alias):]
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, real):
        self.real = real

    def create_module(self, spec):
        module = importlib.import_module(self.real)
        self.real_spec = module.__spec__
        return module

    def exec_module(self, module):
        # the real module is already executed; the import system has just stamped the alias's
        # spec on it: give it back its own (so ``nn.__spec__.name`` stays ``"nn"``)
        module.__spec__ = self.real_spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder mapping the alias names in :data:`ALIASES` to their real modules."""

    def find_spec(self, fullname, path=None, target=None):
        real = _target(fullname)
        if real is None:
            return None
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real))


def install():
    """Put the alias finder first on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
