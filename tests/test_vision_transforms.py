"""vision.transforms and vision.utils: deterministic ops equal to torchvision's on PIL, uint8 and
float inputs; random transforms equal to torchvision's functional op with the parameters our
``get_params`` drew; the per-sample batch path; seeding; errors."""

import sys

import numpy as np
import pytest

import autograd
from _torchvision import torchvision  # noqa: F401  (fixture)
from vision import transforms as T
from vision import utils as vutils
from vision.transforms import functional as F

PIL = pytest.importorskip("PIL.Image")

RNG = np.random.default_rng(0)
ARR = RNG.integers(0, 256, (23, 31, 3), dtype=np.uint8)      # H, W, C
GRAY = RNG.integers(0, 256, (19, 14), dtype=np.uint8)


def inputs(kind, arr=ARR):
    chw = arr.transpose(2, 0, 1) if arr.ndim == 3 else arr[None]
    if kind == "pil":
        return PIL.fromarray(arr)
    if kind == "u8":
        return autograd.Tensor(chw.copy())
    return autograd.Tensor((chw / 255).astype(np.float32))


def torch_inputs(kind, torch, arr=ARR):
    if kind == "pil":
        return PIL.fromarray(arr)
    x = inputs(kind, arr)
    return torch.from_numpy(x.numpy().copy())


def as_array(x):
    if isinstance(x, autograd.Tensor):
        return x.numpy()
    if hasattr(x, "numpy"):
        return x.numpy()
    return np.asarray(x)


def assert_same(ours, theirs):
    a, b = as_array(ours), as_array(theirs)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    if a.dtype.kind == "f":
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-6)
    else:
        np.testing.assert_array_equal(a, b)


def _fm(f, name):
    return getattr(f, "InterpolationMode")[name]


DETERMINISTIC = {
    "resize_int": lambda f, x: f.resize(x, 17),
    "resize_up": lambda f, x: f.resize(x, [40, 50]),
    "resize_max_size": lambda f, x: f.resize(x, 12, max_size=15),
    "resize_nearest": lambda f, x: f.resize(x, [13, 11], interpolation=_fm(f, "NEAREST")),
    "resize_bicubic": lambda f, x: f.resize(x, [13, 41], interpolation=_fm(f, "BICUBIC")),
    "center_crop": lambda f, x: f.center_crop(x, 10),
    "center_crop_pads": lambda f, x: f.center_crop(x, [40, 35]),
    "crop_outside": lambda f, x: f.crop(x, -2, 3, 30, 10),
    "pad": lambda f, x: f.pad(x, 3),
    "pad_reflect": lambda f, x: f.pad(x, [1, 2, 3, 4], padding_mode="reflect"),
    "pad_symmetric": lambda f, x: f.pad(x, [2, 5], padding_mode="symmetric"),
    "pad_edge": lambda f, x: f.pad(x, 2, padding_mode="edge"),
    "pad_fill": lambda f, x: f.pad(x, [2, 5], fill=7),
    "hflip": lambda f, x: f.hflip(x),
    "vflip": lambda f, x: f.vflip(x),
    "rotate": lambda f, x: f.rotate(x, 30.0),
    "rotate_bilinear": lambda f, x: f.rotate(x, 30.0, interpolation=_fm(f, "BILINEAR")),
    "rotate_expand": lambda f, x: f.rotate(x, 33.0, expand=True),
    "rotate_fill_center": lambda f, x: f.rotate(x, 45.0, center=[3, 4], fill=[10, 20, 30]),
    "affine": lambda f, x: f.affine(x, 15.0, [2, -3], 1.2, [5.0, 3.0]),
    "affine_bilinear": lambda f, x: f.affine(x, -10.0, [1, 1], 0.8, 4.0,
                                             interpolation=_fm(f, "BILINEAR")),
    "brightness": lambda f, x: f.adjust_brightness(x, 1.3),
    "contrast": lambda f, x: f.adjust_contrast(x, 0.6),
    "saturation": lambda f, x: f.adjust_saturation(x, 1.7),
    "hue": lambda f, x: f.adjust_hue(x, 0.2),
    "hue_negative": lambda f, x: f.adjust_hue(x, -0.3),
    "grayscale3": lambda f, x: f.rgb_to_grayscale(x, 3),
    "blur": lambda f, x: f.gaussian_blur(x, [5, 3], [1.5, 0.7]),
}


@pytest.mark.parametrize("kind", ["pil", "u8", "f32"])
@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_functional_matches_torchvision(torchvision, name, kind):
    import torch
    import torchvision.transforms.functional as TF
    fn = DETERMINISTIC[name]
    assert_same(fn(F, inputs(kind)), fn(TF, torch_inputs(kind, torch)))


@pytest.mark.parametrize("kind", ["pil", "u8"])
def test_grayscale_image_ops_match_torchvision(torchvision, kind):
    import torch
    import torchvision.transforms.functional as TF
    for name in ("resize_int", "pad_reflect", "rotate", "contrast", "blur", "center_crop"):
        fn = DETERMINISTIC[name]
        assert_same(fn(F, inputs(kind, GRAY)), fn(TF, torch_inputs(kind, torch, GRAY)))


def test_conversions_match_torchvision(torchvision):
    import torch
    import torchvision.transforms.functional as TF
    pil = inputs("pil")
    assert_same(F.to_tensor(pil), TF.to_tensor(pil))
    assert_same(F.to_tensor(ARR), TF.to_tensor(ARR))
    assert_same(F.pil_to_tensor(pil), TF.pil_to_tensor(pil))
    f32 = inputs("f32")
    assert_same(F.to_pil_image(f32), TF.to_pil_image(torch.from_numpy(f32.numpy())))
    assert F.to_pil_image(inputs("u8", GRAY)).mode == "L"
    mean, std = [0.5, 0.4, 0.3], [0.2, 0.3, 0.4]
    assert_same(F.normalize(f32, mean, std),
                TF.normalize(torch.from_numpy(f32.numpy()), mean, std))
    for dtype, tdtype in ((autograd.uint8, torch.uint8), (autograd.float64, torch.float64)):
        assert_same(F.convert_image_dtype(f32, dtype),
                    TF.convert_image_dtype(torch.from_numpy(f32.numpy()), tdtype))


def test_batched_tensor_call_is_one_op_with_shared_params(torchvision):
    import torch
    import torchvision.transforms.functional as TF
    batch = autograd.Tensor(RNG.random((4, 3, 20, 24), dtype=np.float32))
    tb = torch.from_numpy(batch.numpy().copy())
    for name in ("resize_int", "rotate", "affine", "hue", "blur", "contrast", "pad_reflect"):
        assert_same(DETERMINISTIC[name](F, batch), DETERMINISTIC[name](TF, tb))


RANDOM = [
    (lambda tv: tv.RandomCrop(20, padding=4, padding_mode="reflect"),
     lambda tf, x, p: tf.crop(tf.pad(x, 4, padding_mode="reflect"), *p),
     lambda cls, x: cls.get_params(F.pad(x, 4, padding_mode="reflect"), (20, 20))),
    (lambda tv: tv.RandomResizedCrop(16, scale=(0.2, 0.9)),
     lambda tf, x, p: tf.resized_crop(x, *p, [16, 16]),
     lambda cls, x: cls.get_params(x, (0.2, 0.9), (3 / 4, 4 / 3))),
    (lambda tv: tv.RandomRotation(40),
     lambda tf, x, p: tf.rotate(x, p),
     lambda cls, x: cls.get_params([-40.0, 40.0])),
    (lambda tv: tv.RandomAffine(20, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=(-5, 5, -3, 3)),
     lambda tf, x, p: tf.affine(x, *p),
     lambda cls, x: cls.get_params([-20.0, 20.0], (0.1, 0.2), (0.8, 1.2), [-5.0, 5.0, -3.0, 3.0],
                                   F.get_image_size(x))),
    (lambda tv: tv.GaussianBlur(5, sigma=(0.5, 2.0)),
     lambda tf, x, p: tf.gaussian_blur(x, [5, 5], [p, p]),
     lambda cls, x: cls.get_params(0.5, 2.0)),
]


@pytest.mark.parametrize("kind", ["pil", "u8", "f32"])
@pytest.mark.parametrize("case", range(len(RANDOM)))
def test_random_transforms_equal_functional_with_get_params(torchvision, case, kind):
    """Our transform's output is torchvision's functional op applied with the parameters our
    get_params draws from the same seed."""
    import torch
    import torchvision.transforms.functional as TF
    make, apply, params = RANDOM[case]
    ours = make(T)
    x = inputs(kind)
    for seed in range(3):
        autograd.manual_seed(seed)
        p = params(type(ours), x)
        autograd.manual_seed(seed)
        out = ours(x)
        assert_same(out, apply(TF, torch_inputs(kind, torch), p))


def test_color_jitter_equals_ordered_adjustments(torchvision):
    import torch
    import torchvision.transforms.functional as TF
    cj = T.ColorJitter(0.4, 0.4, 0.4, 0.1)
    for kind in ("pil", "u8", "f32"):
        x = inputs(kind)
        autograd.manual_seed(7)
        order, b, c, s, h = cj.get_params(cj.brightness, cj.contrast, cj.saturation, cj.hue)
        autograd.manual_seed(7)
        out = cj(x)
        ref = torch_inputs(kind, torch)
        fns = [(TF.adjust_brightness, b), (TF.adjust_contrast, c), (TF.adjust_saturation, s),
               (TF.adjust_hue, h)]
        for i in order:
            ref = fns[i][0](ref, fns[i][1])
        assert_same(out, ref)


def test_flip_and_erasing_follow_their_draws(torchvision):
    import torch
    import torchvision.transforms.functional as TF
    x = inputs("f32")
    hits = 0
    for seed in range(20):
        autograd.manual_seed(seed)
        flip = autograd.random.get_rng().random() < 0.5
        autograd.manual_seed(seed)
        out = T.RandomHorizontalFlip()(x)
        assert_same(out, TF.hflip(torch.from_numpy(x.numpy())) if flip else x.numpy())
        hits += flip
    assert 0 < hits < 20
    er = T.RandomErasing(p=1.0, value=0.25)
    autograd.manual_seed(3)
    autograd.random.get_rng().random()
    i, j, h, w, v = er.get_params(x, er.scale, er.ratio, [0.25])
    autograd.manual_seed(3)
    out = er(x)
    assert_same(out, TF.erase(torch.from_numpy(x.numpy()), i, j, h, w, torch.tensor(0.25)))
    with pytest.raises(TypeError, match="PIL"):
        er(inputs("pil"))


def test_get_params_ranges():
    x = inputs("u8")
    for seed in range(50):
        autograd.manual_seed(seed)
        i, j, h, w = T.RandomResizedCrop.get_params(x, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= i <= 23 - h and 0 <= j <= 31 - w and h > 0 and w > 0
        i, j, th, tw = T.RandomCrop.get_params(x, (20, 25))
        assert (th, tw) == (20, 25) and 0 <= i <= 3 and 0 <= j <= 6
        assert -10 <= T.RandomRotation.get_params([-10, 10]) <= 10
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop.get_params(x, (30, 10))


def test_manual_seed_makes_pipelines_repeatable():
    tf = T.Compose([T.RandomResizedCrop(12), T.RandomHorizontalFlip(), T.ColorJitter(0.3, 0.3),
                    T.ToTensor(), T.RandomErasing(p=0.9)])
    x = inputs("pil")
    autograd.manual_seed(11)
    a = [tf(x).numpy() for _ in range(3)]
    autograd.manual_seed(11)
    b = [tf(x).numpy() for _ in range(3)]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], a[1])


# --- the per-sample batch path --------------------------------------------------------------------
def test_apply_batch_deterministic_equals_per_image():
    batch = RNG.integers(0, 256, (5, 3, 23, 31), dtype=np.uint8)
    tf = T.Compose([T.CenterCrop(20), T.Pad(2, padding_mode="edge"), T.ToTensor(),
                    T.Resize(11), T.Grayscale(3), T.Normalize([0.5] * 3, [0.25] * 3)])
    out = T.apply_batch(tf, autograd.Tensor(batch), pil=True)
    ref = np.stack([tf(PIL.fromarray(b.transpose(1, 2, 0))).numpy() for b in batch])
    np.testing.assert_allclose(out.numpy(), ref, rtol=0, atol=2e-6)


def test_apply_batch_refuses_pil_results_and_unknown_steps():
    batch = autograd.Tensor(RNG.integers(0, 256, (2, 3, 8, 8), dtype=np.uint8))
    assert T.apply_batch(T.Compose([T.RandomCrop(4)]), batch, pil=True) is None
    assert T.apply_batch(T.Compose([T.Lambda(lambda x: x), T.ToTensor()]), batch,
                         pil=True) is None
    assert T.apply_batch(T.Compose([T.Resize(4), T.ToTensor()]), batch, pil=True) is None
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        T.apply_batch(T.ToTensor(), autograd.Tensor(np.zeros((3, 8, 8), np.uint8)), pil=True)


@pytest.mark.parametrize("make", [
    lambda: T.RandomResizedCrop(10, scale=(0.3, 1.0)),
    lambda: T.RandomRotation(30),
    lambda: T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5),
    lambda: T.ColorJitter(0.5, 0.5, 0.5, 0.2),
    lambda: T.GaussianBlur(3, (0.1, 2.0)),
    lambda: T.RandomErasing(p=0.7, value="random"),
    lambda: T.RandomGrayscale(0.5),
    lambda: T.RandomVerticalFlip(),
])
def test_apply_batch_random_draws_each_image_its_own_params(make):
    """Every image of a batch of copies of one image is a possible output of the per-image
    transform (checked against per-image outputs for many seeds for the discrete ones, and by
    the mean for the continuous ones), and the images differ from each other."""
    t = make()
    one = RNG.random((3, 16, 18), dtype=np.float32)
    batch = autograd.Tensor(np.repeat(one[None], 32, 0))
    autograd.manual_seed(5)
    out = T.apply_batch(t, batch).numpy()
    assert out.shape[0] == 32 and out.dtype == np.float32
    distinct = {o.tobytes() for o in out}
    assert len(distinct) > 1
    singles = []
    for seed in range(200):
        autograd.manual_seed(seed)
        singles.append(t(autograd.Tensor(one)).numpy())
    singles = np.stack(singles)
    assert out.shape[1:] == singles.shape[1:]
    np.testing.assert_allclose(out.mean(), singles.mean(), atol=0.08)
    np.testing.assert_allclose(out.std(), singles.std(), atol=0.08)


def test_apply_batch_per_sample_affine_matches_single_image_math():
    """The vectorised per-sample grid equals F.rotate image by image with the same angles."""
    one = RNG.integers(0, 256, (4, 3, 12, 15), dtype=np.uint8)
    angles = [10.0, -25.0, 90.0, 3.5]
    from vision.transforms._batch import affine_batch
    mats = [F._get_inverse_affine_matrix([0.0, 0.0], -a, [0.0, 0.0], 1.0, [0.0, 0.0])
            for a in angles]
    for mode in (F.InterpolationMode.NEAREST, F.InterpolationMode.BILINEAR):
        out = affine_batch(one, mats, mode, [0.0, 0.0, 0.0])
        for k, a in enumerate(angles):
            ref = F.rotate(autograd.Tensor(one[k]), a, interpolation=mode, fill=[0.0] * 3)
            np.testing.assert_array_equal(out[k], ref.numpy())


# --- classes: repr, errors -----------------------------------------------------------------------
def test_reprs_match_torchvision(torchvision):
    tv = torchvision.transforms
    pairs = [(T.Resize(32), tv.Resize(32)), (T.CenterCrop(10), tv.CenterCrop(10)),
             (T.Normalize((0.5,), (0.2,)), tv.Normalize((0.5,), (0.2,))),
             (T.RandomHorizontalFlip(), tv.RandomHorizontalFlip()),
             (T.ToTensor(), tv.ToTensor()),
             (T.RandomCrop(28, padding=4), tv.RandomCrop(28, padding=4)),
             (T.ColorJitter(0.2, 0.3), tv.ColorJitter(0.2, 0.3))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_argument_errors():
    with pytest.raises(ValueError, match="non-negative"):
        F.adjust_brightness(inputs("u8"), -1)
    with pytest.raises(ValueError, match=r"\[-0.5, 0.5\]"):
        F.adjust_hue(inputs("u8"), 0.7)
    with pytest.raises(ValueError, match="odd and positive"):
        T.GaussianBlur(4)
    with pytest.raises(TypeError, match="float tensor"):
        F.normalize(inputs("u8"), [0.5], [0.5])
    with pytest.raises(ValueError, match="std evaluated to zero"):
        F.normalize(inputs("f32"), [0.5] * 3, [0.0] * 3)
    with pytest.raises(TypeError, match="PIL Image or a Tensor"):
        F.hflip(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="padding_mode"):
        F.pad(inputs("u8"), 2, padding_mode="wrap")
    with pytest.raises(TypeError, match="interpolation"):
        F.resize(inputs("u8"), 4, interpolation="sideways")
    with pytest.raises(ValueError, match="between 0 and 1"):
        T.RandomErasing(scale=(0.1, 1.5))


def test_pillow_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(ImportError, match=r"to_pil_image needs Pillow.*tapegrad\[vision\]"):
        F.to_pil_image(inputs("u8"))


# --- utils -----------------------------------------------------------------------------------------
def test_make_grid_and_save_image_match_torchvision(torchvision, tmp_path):
    import torch
    batch = RNG.random((5, 1, 6, 7), dtype=np.float32) * 3 - 1
    tb = torch.from_numpy(batch.copy())
    for kw in ({}, {"nrow": 2, "padding": 1, "pad_value": 0.5}, {"normalize": True},
               {"normalize": True, "scale_each": True, "value_range": (-0.5, 0.5)}):
        assert_same(vutils.make_grid(autograd.Tensor(batch), **kw),
                    torchvision.utils.make_grid(tb, **kw))
    assert_same(vutils.make_grid([autograd.Tensor(b) for b in batch[:3]]),
                torchvision.utils.make_grid([b for b in tb[:3]]))
    vutils.save_image(autograd.Tensor(batch), tmp_path / "a.png", nrow=3, normalize=True)
    torchvision.utils.save_image(tb, tmp_path / "b.png", nrow=3, normalize=True)
    np.testing.assert_array_equal(np.asarray(PIL.open(tmp_path / "a.png")),
                                  np.asarray(PIL.open(tmp_path / "b.png")))
    with pytest.raises(TypeError, match="tensor or list of tensors"):
        vutils.make_grid(batch)


def test_draw_bounding_boxes_matches_torchvision(torchvision):
    import torch
    img = RNG.integers(0, 256, (3, 40, 50), dtype=np.uint8)
    boxes = np.array([[2, 3, 20, 30], [10, 5, 45, 38]], dtype=np.float32)
    for kw in ({}, {"colors": ["red", (0, 255, 0)], "width": 2, "fill": True},
               {"labels": ["a", "bb"]}):
        ours = vutils.draw_bounding_boxes(autograd.Tensor(img), autograd.Tensor(boxes), **kw)
        theirs = torchvision.utils.draw_bounding_boxes(torch.from_numpy(img),
                                                       torch.from_numpy(boxes), **kw)
        assert_same(ours, theirs)
    with pytest.raises(ValueError, match="xmin, ymin, xmax, ymax"):
        vutils.draw_bounding_boxes(autograd.Tensor(img), autograd.Tensor(boxes[:, [2, 1, 0, 3]]))
