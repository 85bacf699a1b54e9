"""The per-sample batch path: a transform applied to a batch ``(N, C, H, W)`` as if it were
applied to each image on its own (each its own random parameters), in one NumPy call per step.

This is what ``DataLoader`` + ``dataset.transform`` computes image by image; doing it once per
batch removes the per-image Python cost that dominates a CPU input pipeline. Each transform's
``_batch(array, pil)`` returns ``(array, pil)`` or ``None`` (no batch path: the caller falls back
to the per-image loop). ``pil`` says whether the per-image value at that point would be a PIL
image (held in the batch as its uint8 (C, H, W) pixels): before ``ToTensor`` only transforms
whose Pillow result is the same pixel operation (crops, flips, pads) take the batch path; after
it, any transform with a batch path does.

The random parameters are drawn with the same distributions as the per-image transforms', but
in another order (all crops, then all flips, ...), so a seeded batch is not the same numbers as
the seeded per-image loop.
"""

import numpy as np

import autograd

from . import functional as F
from .functional import InterpolationMode

__all__ = ["apply_batch"]


def _batch_step(t, a, pil):
    method = getattr(t, "_batch", None)
    if method is None:
        return None
    return method(a, pil)


def apply_batch(transform, batch, pil=False):
    """Apply ``transform`` to each image of ``batch`` with independent random parameters.

    Args:
        transform (callable): a transform of this package or a ``Compose`` of them.
        batch (Tensor): ``(N, C, H, W)``.
        pil (bool): the per-image inputs would be PIL images (``batch`` holds their uint8
            pixels); the result must then have passed ``ToTensor``/``PILToTensor``.

    Returns:
        Tensor or None: the stacked per-image results, or None when some step has no batch path
        (or the result would still be PIL images).
    """
    a = batch._data if isinstance(batch, autograd.Tensor) else np.asarray(batch)
    if a.ndim != 4:
        raise ValueError(f"apply_batch: expected a batch of shape (N, C, H, W), got "
                         f"{tuple(a.shape)}")
    res = _batch_step(transform, a, pil)
    if res is None or res[1]:
        return None
    return autograd.Tensor(np.ascontiguousarray(res[0]))


def gather_crops(a, i, j, th, tw):
    """``out[n] = a[n, :, i[n]:i[n]+th, j[n]:j[n]+tw]`` with one fancy index."""
    n = a.shape[0]
    rows = i[:, None] + np.arange(th)[None, :]
    cols = j[:, None] + np.arange(tw)[None, :]
    return a[np.arange(n)[:, None, None, None], np.arange(a.shape[1])[None, :, None, None],
             rows[:, None, :, None], cols[:, None, None, :]]


def _weights_batched(start, length, n_full, n_out, mode, antialias, dtype):
    """Per-sample interpolation matrices ``(N, n_out, n_full)`` that resize the segment
    ``[start[n], start[n] + length[n])`` of an axis of size ``n_full`` to ``n_out`` (the same
    taps as :func:`functional._resample_weights`, vectorised over samples and rows)."""
    start = np.asarray(start, dtype=np.int64)
    length = np.asarray(length, dtype=np.int64)
    n = start.shape[0]
    scale = (length / n_out)[:, None]                     # (N, 1)
    rows = np.arange(n_out)[None, :]
    out = np.zeros((n, n_out, n_full), dtype=np.float64)
    if mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        src = np.stack([F._nearest_src(int(L), n_out, mode is InterpolationMode.NEAREST_EXACT)
                        for L in length])
        np.put_along_axis(out, (src + start[:, None])[..., None], 1.0, axis=2)
        return out.astype(dtype)
    if antialias and mode in (InterpolationMode.BILINEAR, InterpolationMode.BICUBIC):
        support_half, fn = F._aa_filter(mode)
        support = np.where(scale >= 1.0, support_half * scale, support_half)
        invscale = np.where(scale >= 1.0, 1.0 / scale, 1.0)
        center = scale * (rows + 0.5)
        xmin = np.maximum((center - support + 0.5).astype(np.int64), 0)
        xmax = np.minimum((center + support + 0.5).astype(np.int64), length[:, None])
        k = int((xmax - xmin).max()) if xmax.size else 0
        taps = xmin[..., None] + np.arange(k)                # (N, n_out, K)
        valid = taps < xmax[..., None]
        w = np.where(valid, fn((taps - center[..., None] + 0.5) * invscale[..., None]), 0.0)
        total = w.sum(axis=-1, keepdims=True)
        w = np.where(total != 0, w / np.where(total == 0, 1.0, total), w)
        idx = np.where(valid, taps, 0) + start[:, None, None]
        np.add.at(out, (np.arange(n)[:, None, None], rows[..., None], idx), w)
        return out.astype(dtype)
    for s in range(n):  # plain (non-antialiased) bilinear / bicubic: per sample
        wm = F._resample_weights(int(length[s]), n_out, mode, False, np.float64)
        out[s, :, start[s]:start[s] + length[s]] = wm
    return out.astype(dtype)


def resize_crops(a, i, j, h, w, size, mode, antialias):
    """Each image's crop (i, j, h, w) resized to ``size`` (h, w): two batched matmuls."""
    x, dtype = F._to_float(a)
    oh, ow = size
    wh = _weights_batched(i, h, a.shape[-2], oh, mode, antialias, x.dtype)  # (N, oh, H)
    ww = _weights_batched(j, w, a.shape[-1], ow, mode, antialias, x.dtype)  # (N, ow, W)
    out = np.matmul(np.matmul(wh[:, None], x), np.swapaxes(ww, 1, 2)[:, None])
    if mode is InterpolationMode.BICUBIC and dtype == np.uint8:
        out = np.clip(out, 0, 255)
    if mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        return out.astype(dtype)
    return F._cast_back(out, dtype)


def affine_batch(a, matrices, mode, fill):
    """Each image through its own inverse affine matrix (``F._grid_transform`` per sample,
    vectorised: one grid of shape (N, H, W) and one gather)."""
    x, dtype = F._to_float(a)
    n, c, h, w = x.shape
    ft = x.dtype.type
    theta = np.asarray(matrices, dtype=x.dtype).reshape(n, 2, 3)
    xs = np.linspace(-w * 0.5 + 0.5, w * 0.5 + 0.5 - 1, w, dtype=x.dtype)
    ys = np.linspace(-h * 0.5 + 0.5, h * 0.5 + 0.5 - 1, h, dtype=x.dtype)
    resc = np.swapaxes(theta, 1, 2) / np.asarray([0.5 * w, 0.5 * h], dtype=x.dtype)  # (N,3,2)
    gx = xs[None, None, :] * resc[:, 0, 0, None, None] + ys[None, :, None] * \
        resc[:, 1, 0, None, None] + resc[:, 2, 0, None, None]
    gy = xs[None, None, :] * resc[:, 0, 1, None, None] + ys[None, :, None] * \
        resc[:, 1, 1, None, None] + resc[:, 2, 1, None, None]
    ix = ((gx + ft(1)) * ft(w) - ft(1)) / ft(2)
    iy = ((gy + ft(1)) * ft(h) - ft(1)) / ft(2)
    nidx = np.arange(n)[:, None, None, None]
    cidx = np.arange(c)[None, :, None, None]
    if mode is InterpolationMode.NEAREST:
        jx, jy = np.rint(ix).astype(np.int64), np.rint(iy).astype(np.int64)
        valid = (jx >= 0) & (jx < w) & (jy >= 0) & (jy < h)
        vals = x[nidx, cidx, np.clip(jy, 0, h - 1)[:, None], np.clip(jx, 0, w - 1)[:, None]]
        out = np.where(valid[:, None], vals, ft(0))
        mask = valid.astype(x.dtype)[:, None]
    elif mode is InterpolationMode.BILINEAR:
        x0, y0 = np.floor(ix), np.floor(iy)
        out = np.zeros((n, c, h, w), dtype=x.dtype)
        mask = np.zeros((n, 1, h, w), dtype=x.dtype)
        for dx in (0, 1):
            for dy in (0, 1):
                cx, cy = x0 + dx, y0 + dy
                wx = (ix - x0) if dx else (x0 + 1 - ix)
                wy = (iy - y0) if dy else (y0 + 1 - iy)
                valid = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
                wv = np.where(valid, (wx * wy).astype(x.dtype), ft(0))[:, None]
                jx = np.clip(cx, 0, w - 1).astype(np.int64)[:, None]
                jy = np.clip(cy, 0, h - 1).astype(np.int64)[:, None]
                out = out + x[nidx, cidx, jy, jx] * wv
                mask = mask + wv
    else:
        raise ValueError(f"affine/rotate: interpolation {mode.value} is not supported for "
                         "tensors (nearest or bilinear)")
    if fill is not None:
        vals = np.asarray(fill, dtype=x.dtype).reshape(1, -1, 1, 1)
        out = np.where(mask < 0.5, vals, out) if mode is InterpolationMode.NEAREST else \
            out * mask + (ft(1) - mask) * vals
    return F._cast_back(out, dtype)


def color_jitter_batch(a, brightness, contrast, saturation, hue):
    """ColorJitter with per-sample factors and per-sample order: for each of the 4 steps, each
    adjustment runs once on the samples that do it at that step."""
    rng = autograd.random.get_rng()
    n = a.shape[0]
    order = np.argsort(rng.random((n, 4)), axis=1)          # a uniform permutation per sample
    factors = []
    for rng_range in (brightness, contrast, saturation, hue):
        factors.append(None if rng_range is None else
                       rng.uniform(rng_range[0], rng_range[1], size=n))
    x = a.copy()
    for step in range(4):
        for op in range(4):
            f = factors[op]
            sel = np.nonzero(order[:, step] == op)[0]
            if f is None or sel.size == 0:
                continue
            x[sel] = _adjust(op, x[sel], f[sel])
    return x


def _adjust(op, x, f):
    r = f.reshape(-1, 1, 1, 1)
    c = x.shape[-3]
    if op == 0:
        return F._blend(x, np.zeros((), x.dtype), r)
    if op == 1:
        ft = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        src = F._gray(x) if c == 3 else x
        mean = src.astype(ft).mean(axis=(-3, -2, -1), keepdims=True, dtype=ft)
        return F._blend(x, mean, r)
    if c == 1:
        return x
    if op == 2:
        return F._blend(x, F._gray(x), r)
    xf = F._convert_dtype(x, np.float32)
    h, s, v = F._rgb2hsv(xf)
    h = np.fmod(h + f.astype(np.float32).reshape(-1, 1, 1), np.float32(1.0))
    h = np.where(h < 0, h + np.float32(1.0), h)
    return F._convert_dtype(F._hsv2rgb(h, s, v), x.dtype)


def gaussian_blur_batch(a, kernel_size, sigmas):
    """Gaussian blur with one sigma per sample (``kernel_size`` [kx, ky])."""
    x, dtype = F._to_float(a)
    kx_n, ky_n = kernel_size
    half_x, half_y = (kx_n - 1) * 0.5, (ky_n - 1) * 0.5
    tx = np.linspace(-half_x, half_x, kx_n, dtype=x.dtype)
    ty = np.linspace(-half_y, half_y, ky_n, dtype=x.dtype)
    s = sigmas.astype(x.dtype)[:, None]
    kx = np.exp(x.dtype.type(-0.5) * (tx[None] / s) ** 2)
    kx /= kx.sum(axis=1, keepdims=True)
    ky = np.exp(x.dtype.type(-0.5) * (ty[None] / s) ** 2)
    ky /= ky.sum(axis=1, keepdims=True)
    kernel = ky[:, :, None] * kx[:, None, :]                 # (N, ky, kx)
    px, py = kx_n // 2, ky_n // 2
    xp = np.pad(x, [(0, 0), (0, 0), (py, py), (px, px)], mode="reflect")
    win = np.lib.stride_tricks.sliding_window_view(xp, (ky_n, kx_n), axis=(-2, -1))
    out = np.einsum("nchwij,nij->nchw", win, kernel, optimize=True)
    return F._cast_back(out, dtype)


def _sample_boxes(rng, area, scale, ratio, n, tries=10):
    """The box sampling of RandomResizedCrop and RandomErasing (torchvision's), for ``n``
    images x ``tries`` at once: an area uniform in ``scale`` x ``area`` and an aspect ratio
    log-uniform in ``ratio``; returns the int sides ``round(sqrt(area * aspect))`` and
    ``round(sqrt(area / aspect))``, each ``(n, tries)``."""
    log_ratio = np.log(np.asarray(ratio, dtype=np.float64))
    target = area * rng.uniform(scale[0], scale[1], size=(n, tries))
    aspect = np.exp(rng.uniform(log_ratio[0], log_ratio[1], size=(n, tries)))
    return (np.round(np.sqrt(target * aspect)).astype(np.int64),
            np.round(np.sqrt(target / aspect)).astype(np.int64))


def _first_fit(ok, h, w):
    """Per image (row), the first try where ``ok``: ``(found, h, w)``, each ``(n,)`` (``h``,
    ``w`` of try 0 where none fits)."""
    rows = np.arange(ok.shape[0])
    first = np.argmax(ok, axis=1)
    return ok[rows, first], h[rows, first], w[rows, first]


def crop_params_batch(height, width, scale, ratio, n):
    """RandomResizedCrop's sampling for ``n`` images at once: 10 tries of area in ``scale`` x
    the image area and log-uniform aspect ratio in ``ratio``, the first that fits; else the
    central crop clamped to ``ratio`` (torchvision's fallback). Returns int arrays i, j, h, w."""
    rng = autograd.random.get_rng()
    w, h = _sample_boxes(rng, height * width, scale, ratio, n)
    ok = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    found, hh, ww = _first_fit(ok, h, w)
    in_ratio = float(width) / float(height)
    if in_ratio < min(ratio):
        fw, fh = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        fh, fw = height, int(round(height * max(ratio)))
    else:
        fw, fh = width, height
    hh = np.where(found, hh, fh)
    ww = np.where(found, ww, fw)
    u, v = rng.random(n), rng.random(n)
    i = np.where(found, np.floor(u * (height - hh + 1)).astype(np.int64), (height - fh) // 2)
    j = np.where(found, np.floor(v * (width - ww + 1)).astype(np.int64), (width - fw) // 2)
    return i, j, hh, ww


def erase_batch(a, p, scale, ratio, value):
    """RandomErasing per sample: with probability ``p`` a box drawn as ``get_params`` does (10
    tries of area and log-uniform ratio, the first that fits; none fitting erases nothing)."""
    rng = autograd.random.get_rng()
    n, c, img_h, img_w = a.shape
    apply = rng.random(n) < p
    h, w = _sample_boxes(rng, img_h * img_w, scale, ratio, n)
    found, h, w = _first_fit((h < img_h) & (w < img_w), h, w)
    found &= apply
    i = np.floor(rng.random(n) * (img_h - h + 1)).astype(np.int64)
    j = np.floor(rng.random(n) * (img_w - w + 1)).astype(np.int64)
    rows = np.arange(img_h)[None, :, None]
    cols = np.arange(img_w)[None, None, :]
    box = (rows >= i[:, None, None]) & (rows < (i + h)[:, None, None]) & \
        (cols >= j[:, None, None]) & (cols < (j + w)[:, None, None]) & found[:, None, None]
    if value is None:
        fill = rng.standard_normal(a.shape, dtype=np.float32).astype(a.dtype, copy=False)
    else:
        fill = np.asarray(value, dtype=np.float32).reshape(1, -1, 1, 1).astype(a.dtype)
    return np.where(box[:, None], fill, a)
