"""Random number generation: ``manual_seed``, ``Generator``, the default generator.

One default :class:`Generator` drives every random factory (``randn``, ``rand``, ``randint``,
``randperm``), dropout masks, ``nn.init`` and ``DataLoader`` shuffling, so ``manual_seed(s)``
makes a whole training run repeatable, as ``torch.manual_seed`` does. The streams are NumPy's
PCG64, so the numbers differ from PyTorch's for the same seed.
"""

import numpy as np

import contextlib
import json

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "default_generator",
           "get_rng_state", "set_rng_state", "fork_rng"]


class Generator:
    """A seeded random stream (``torch.Generator``), backed by ``numpy.random.Generator``.

    Args:
        device (str): only ``"cpu"`` (accepted for API compatibility).

    Attributes:
        np (numpy.random.Generator): the NumPy generator that draws the numbers.

    Example::

        g = autograd.Generator().manual_seed(0)
        loader = DataLoader(ds, batch_size=64, shuffle=True, generator=g)
    """

    def __init__(self, device="cpu"):
        if str(device) not in ("cpu", "cpu:0"):
            raise ValueError(f"Generator: only the 'cpu' device exists, got {device!r}")
        self._seed = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.np = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        """Re-seed with the integer ``seed``; returns ``self`` (as PyTorch does).

        Raises:
            TypeError: if ``seed`` is not an integer.
        """
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
        self._seed = int(seed) % (2 ** 64)
        self.np = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Re-seed from fresh OS entropy and return the new seed."""
        self._seed = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.np = np.random.default_rng(self._seed)
        return self._seed

    def initial_seed(self):
        """The seed last set."""
        return self._seed

    def get_state(self):
        """The generator's state (a dict, NumPy's bit-generator state)."""
        return self.np.bit_generator.state

    def set_state(self, state):
        """Restore a state returned by :meth:`get_state`."""
        self.np.bit_generator.state = state
        return self


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (``torch.manual_seed``); returns it."""
    return default_generator.manual_seed(seed)


def seed():
    """Seed the default generator from OS entropy and return the seed."""
    return default_generator.seed()


def initial_seed():
    """The seed of the default generator."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 Tensor (``torch.get_rng_state``), for
    :func:`set_rng_state`. (The bytes encode NumPy's PCG64 state, not PyTorch's.)"""
    from .tensor import Tensor
    raw = json.dumps(default_generator.get_state()).encode()
    return Tensor._make(np.frombuffer(raw, dtype=np.uint8).copy(), False, None)


def set_rng_state(new_state):
    """Restore the default generator from a state returned by :func:`get_rng_state`.

    Raises:
        TypeError: if ``new_state`` is not such a uint8 Tensor.
    """
    data = getattr(new_state, "_data", None)
    if data is None or data.dtype != np.uint8:
        raise TypeError("set_rng_state: expected the uint8 Tensor that get_rng_state() returned")
    try:
        state = json.loads(data.tobytes().decode())
        default_generator.set_state(state)
    except (ValueError, TypeError, KeyError) as e:
        raise TypeError(f"set_rng_state: not a state returned by get_rng_state() ({e})") from None


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, **kwargs):
    """``with autograd.random.fork_rng():`` restores the default generator's state on exit
    (``torch.random.fork_rng``; ``devices`` and ``device_type`` are accepted: there are no
    accelerator generators)."""
    if not enabled:
        yield
        return
    state = default_generator.get_state()
    try:
        yield
    finally:
        default_generator.set_state(state)


def get_rng(generator=None):
    """The ``numpy.random.Generator`` of ``generator``, or of the default generator."""
    return (generator or default_generator).np
