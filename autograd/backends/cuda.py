"""``autograd.backends.cuda``: PyTorch's CUDA backend flags with their defaults
(``matmul.allow_tf32 = False``, ``matmul.allow_fp16_reduced_precision_reduction = True`` ...),
settable and unused; ``is_built()`` is False. The scaled-dot-product-attention switches
(``enable_flash_sdp`` ...) are recorded as well."""

import types

matmul = types.SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                               allow_bf16_reduced_precision_reduction=True)

_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def is_built():
    """``False``: tapegrad is not built with CUDA."""
    return False


def enable_flash_sdp(enabled):
    """Record the flag (tapegrad's attention kernel is its own)."""
    _sdp["flash"] = bool(enabled)


def flash_sdp_enabled():
    """The flag last set (default ``True``)."""
    return _sdp["flash"]


def enable_mem_efficient_sdp(enabled):
    """Record the flag."""
    _sdp["mem_efficient"] = bool(enabled)


def mem_efficient_sdp_enabled():
    """The flag last set (default ``True``)."""
    return _sdp["mem_efficient"]


def enable_math_sdp(enabled):
    """Record the flag."""
    _sdp["math"] = bool(enabled)


def math_sdp_enabled():
    """The flag last set (default ``True``)."""
    return _sdp["math"]
