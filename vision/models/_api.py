"""Weights handling of the model builders: ``weights=`` is a local safetensors file (or None).

There is no hub download. A file written by torchvision's side with
``safetensors.torch.save_file(model.state_dict(), path)`` (or by ``autograd.save``) is read with
``autograd.load`` and loaded strictly into the model. torchvision's weight enums
(``ResNet18_Weights.IMAGENET1K_V1``), their names as strings (``"DEFAULT"``) and URLs are
refused with an error that says how to export the weights instead.
"""

import enum
import os

import autograd

__all__ = ["WeightsEnum", "load_weights", "get_model", "list_models", "register_model"]

_HOW = ("vision.models loads no weights from the network: export them once where torchvision "
        "and the weights are available, e.g.\n"
        "    import torchvision, safetensors.torch\n"
        "    m = torchvision.models.{name}(weights='{weights}')\n"
        "    safetensors.torch.save_file(m.state_dict(), '{name}.safetensors')\n"
        "and pass weights='{name}.safetensors'.")


class WeightsEnum(enum.Enum):
    """Stand-in for torchvision's weight enums, so that ``ResNet18_Weights.DEFAULT`` still
    names something; passing a member to a builder raises the "export the weights" error."""

    @classmethod
    def verify(cls, obj):
        return obj


def _refuse(name, weights):
    label = weights.name if isinstance(weights, enum.Enum) else str(weights)
    raise ValueError(f"{name}: weights={weights!r} would need a download, which vision.models "
                     "does not do.\n" + _HOW.format(name=name, weights=label))


def load_weights(model, weights, name, progress=True):
    """Load ``weights`` (a path to a safetensors file, or None) into ``model`` (strict).

    Args:
        model (nn.Module): the freshly built model. weights: None, a str or os.PathLike path.
        name (str): the builder's name (for messages). progress (bool): accepted and ignored.

    Returns:
        nn.Module: ``model``.

    Raises:
        ValueError: a weight enum, a weight name or a URL (no download); FileNotFoundError: a
            path that does not exist; RuntimeError: keys or shapes that do not match
            (``load_state_dict``'s error); ``autograd.load``'s SerializationError for a file
            that is not safetensors.
    """
    if weights is None:
        return model
    if isinstance(weights, enum.Enum) or type(weights).__name__.endswith("Weights") or \
            hasattr(weights, "url"):
        _refuse(name, weights)
    if isinstance(weights, (str, os.PathLike)):
        path = os.fspath(weights)
        if "://" in path:
            _refuse(name, weights)
        if not os.path.exists(path):
            if os.sep not in path and "." not in path:
                _refuse(name, weights)  # "DEFAULT", "IMAGENET1K_V1", ...
            raise FileNotFoundError(f"{name}: weights file {path} does not exist")
        state = autograd.load(path)
        if not isinstance(state, dict):
            raise ValueError(f"{name}: {path} does not hold a state dict (found "
                             f"{type(state).__name__})")
        model.load_state_dict(state)
        return model
    raise TypeError(f"{name}: weights must be None or a path to a safetensors file, got "
                    f"{type(weights).__name__}")


def _weights_enum(cls_name, members):
    return WeightsEnum(cls_name, {m: m for m in members} | {"DEFAULT": members[-1]})


_MODELS = {}


def register_model(fn):
    """Decorator: list ``fn`` in :func:`list_models` / :func:`get_model` under its name."""
    _MODELS[fn.__name__] = fn
    return fn


def _model_builder(name, build, doc, *args, **defaults):
    """A registered model builder ``name(*, weights=None, progress=True, **kwargs)``
    (torchvision's signature) returning ``build(name, *args, weights, progress, **kwargs)``;
    ``defaults`` are keyword arguments the caller's ``kwargs`` may override (ResNeXt's
    ``groups``). One line per builder of a family (vgg11, resnet50, ...)."""
    def builder(*, weights=None, progress=True, **kwargs):
        return build(name, *args, weights, progress, **{**defaults, **kwargs})
    builder.__name__ = builder.__qualname__ = name
    builder.__module__ = build.__module__
    builder.__doc__ = doc
    return register_model(builder)


def list_models():
    """The names of the model builders, sorted (``torchvision.models.list_models``)."""
    return sorted(_MODELS)


def get_model(name, **config):
    """Build model ``name`` with ``config`` (``torchvision.models.get_model``).

    Raises:
        ValueError: an unknown name.
    """
    if name not in _MODELS:
        raise ValueError(f"Unknown model {name!r}; available: {', '.join(list_models())}")
    return _MODELS[name](**config)
