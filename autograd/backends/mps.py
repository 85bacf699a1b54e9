"""``autograd.backends.mps``: Apple's Metal backend does not exist here."""


def is_available():
    """``False``."""
    return False


def is_built():
    """``False``."""
    return False
