"""``torch.nn.modules``' layout, so code that names a layer by its PyTorch module path ports by
renaming: ``nn.modules.linear.Linear``, ``nn.modules.rnn.LSTM``, ``from nn.modules.loss import
_Loss``-free uses such as ``nn.modules.activation.MultiheadAttention`` (the word-language-model
example lists these for ``autograd.serialization.safe_globals``).

Each ``nn.modules.<name>`` is a small module object holding the classes PyTorch keeps in
``torch.nn.modules.<name>``; the classes themselves are tapegrad's (``nn.modules.linear.Linear
is nn.Linear``), so ``isinstance`` checks and the ``weights_only`` allow-list agree. The classes'
``__module__`` stays where tapegrad defines them (``nn.linear``), which is what pickles record.
"""

import sys
import types

from .. import (activation, attention, batchnorm, container, conv, dropout, linear, loss,
                module, normalization, pixelshuffle, pooling, rnn, sparse, transformer,
                upsampling)

#: PyTorch's submodule name -> the tapegrad modules whose public names it holds (with extras
#: PyTorch keeps there although tapegrad defines them elsewhere).
_LAYOUT = {
    "activation": ((activation,), {"MultiheadAttention": attention.MultiheadAttention}),
    "batchnorm": ((batchnorm,), {}),
    "container": ((container,), {}),
    "conv": ((conv,), {}),
    "distance": ((), {"PairwiseDistance": loss.PairwiseDistance,
                      "CosineSimilarity": loss.CosineSimilarity}),
    "dropout": ((dropout,), {}),
    "flatten": ((), {"Flatten": linear.Flatten, "Unflatten": linear.Unflatten}),
    "linear": ((linear,), {}),
    "loss": ((loss,), {}),
    "module": ((module,), {}),
    "normalization": ((normalization,), {}),
    "pixelshuffle": ((pixelshuffle,), {}),
    "pooling": ((pooling,), {}),
    "rnn": ((rnn,), {}),
    "sparse": ((sparse,), {}),
    "transformer": ((transformer,), {}),
    "upsampling": ((upsampling,), {}),
}


#: names PyTorch keeps in another submodule than tapegrad's file of that name (or has none)
_ELSEWHERE = {"Flatten", "Unflatten", "PairwiseDistance", "CosineSimilarity", "ModelSummary"}


def _build(name, sources, extras):
    mod = types.ModuleType(f"{__name__}.{name}",
                           f"``torch.nn.modules.{name}``'s names, from tapegrad's "
                           + (", ".join(f"``{s.__name__}``" for s in sources) or "``nn``") + ".")
    names = {}
    for src in sources:
        names.update({n: getattr(src, n) for n in getattr(src, "__all__", ())
                      if n not in _ELSEWHERE})
    names.update(extras)
    mod.__dict__.update(names)
    mod.__all__ = sorted(names)
    sys.modules[mod.__name__] = mod  # `import nn.modules.rnn` as well as attribute access
    return mod


for _name, (_sources, _extras) in _LAYOUT.items():
    globals()[_name] = _build(_name, _sources, _extras)
del _name, _sources, _extras

# torch.nn.modules also re-exports every layer (nn.modules.Linear is nn.Linear).
_nn = sys.modules[__name__.rpartition(".")[0]]
_layers = [n for n in _nn.__all__ if n not in ("functional", "init", "utils")]
globals().update({n: getattr(_nn, n) for n in _layers})
__all__ = sorted(_LAYOUT) + _layers
