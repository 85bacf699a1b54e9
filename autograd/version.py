"""``autograd.version`` (``torch.version``): ``__version__``, and ``cuda``/``hip`` as ``None``
(no GPU build), so ``print(torch.version.cuda)``-style diagnostics run."""

__all__ = ["__version__", "cuda", "hip", "git_version", "debug"]

__version__ = "0.1.0"
cuda = None
hip = None
git_version = None
debug = False
