"""``autograd.compile`` and ``autograd.jit``: PyTorch's compilers, as the identity.

tapegrad has no graph compiler: ``autograd.compile(model)`` returns ``model`` itself, so code
written as ``model = torch.compile(model)`` runs unchanged (eagerly, at tapegrad's usual speed).
Likewise ``autograd.jit.script`` and ``autograd.jit.trace`` return what they are given, and
``ignore``/``unused``/``export`` are pass-through decorators. ``jit.save``/``jit.load`` (which
need TorchScript's format) raise; save weights with ``autograd.save(model.state_dict(), f)``.
"""

import builtins

__all__ = ["compile", "script", "trace", "ignore", "unused", "export", "is_scripting",
           "is_tracing", "annotate", "save", "load"]


def compile(model=None, *, fullgraph=False, dynamic=None,  # noqa: A001 - PyTorch's name
            backend="inductor", mode=None, options=None, disable=False):
    """``torch.compile`` as the identity: returns ``model`` (a Module or a function)
    unchanged; called without ``model`` (``@autograd.compile(mode="max-autotune")``) it returns
    a decorator that does the same. The keyword arguments are accepted and ignored.

    Raises:
        RuntimeError: if ``model`` is neither callable nor ``None`` (as PyTorch).
    """
    if model is None:
        return lambda m: compile(m)
    if not builtins.callable(model):
        raise RuntimeError(f"compile: model must be callable (a Module or a function), got "
                           f"{type(model).__name__}")
    return model


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``torch.jit.script`` as the identity: returns ``obj`` (no TorchScript here)."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """``torch.jit.trace`` as the identity: returns ``func`` (no tracing here).

    Raises:
        TypeError: if ``func`` is not callable.
    """
    if not builtins.callable(func):
        raise TypeError(f"trace: expected a callable (a Module or a function), got "
                        f"{type(func).__name__}")
    return func


def ignore(fn=None, **kwargs):
    """Pass-through decorator (``@torch.jit.ignore``, also with arguments)."""
    return fn if fn is not None else (lambda f: f)


def unused(fn):
    """Pass-through decorator (``@torch.jit.unused``)."""
    return fn


def export(fn):
    """Pass-through decorator (``@torch.jit.export``)."""
    return fn


def is_scripting():
    """``False``: nothing is ever scripted."""
    return False


def is_tracing():
    """``False``: nothing is ever traced."""
    return False


def annotate(the_type, the_value):
    """``the_value`` (``torch.jit.annotate`` only informs TorchScript's type checker)."""
    return the_value


def save(m, f, _extra_files=None):
    """Raises: there is no TorchScript format.

    Raises:
        NotImplementedError: always; save the weights with ``autograd.save(m.state_dict(), f)``.
    """
    raise NotImplementedError("autograd.jit.save: tapegrad has no TorchScript; save the weights "
                              "with autograd.save(model.state_dict(), path)")


def load(f, map_location=None, _extra_files=None):
    """Raises: there is no TorchScript format.

    Raises:
        NotImplementedError: always; rebuild the model and load its state dict instead.
    """
    raise NotImplementedError("autograd.jit.load: tapegrad cannot read TorchScript archives; "
                              "build the model in Python and load_state_dict(autograd.load(path))")
