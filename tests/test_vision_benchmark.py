"""The vision workloads of ``python -m benchmarks`` (``benchmarks/pipeline.py``): registered,
and they compute what they describe."""

import math

import numpy as np

from benchmarks import pipeline
from benchmarks.workloads import WORKLOADS, tapegrad_namespace


def test_workloads_are_registered():
    assert WORKLOADS["pipeline"] is pipeline.PIPELINE_WORKLOADS[0]
    assert WORKLOADS["resnet18"] is pipeline.PIPELINE_WORKLOADS[1]


def test_pipeline_batches_are_augmented_normalised_images():
    ns = tapegrad_namespace()
    data = pipeline._pipeline_data(np.random.default_rng(0))
    images, labels = next(iter(pipeline._pipeline_loader(ns, data)))
    assert tuple(images.shape) == (128, 1, 28, 28) and images.dtype == np.float32
    assert tuple(labels.shape) == (128,) and labels.dtype == np.int64
    a = images.numpy()
    lo = (0 - pipeline.FASHION_MEAN[0]) / pipeline.FASHION_STD[0]
    hi = (1 - pipeline.FASHION_MEAN[0]) / pipeline.FASHION_STD[0]
    assert a.min() >= lo - 1e-6 and a.max() <= hi + 1e-6
    # padding=4 crops put zero (= lo after Normalize) borders on most images
    zero = a.min()  # a 0 pixel after Normalize
    np.testing.assert_allclose(zero, lo, rtol=1e-6)
    assert np.mean([(img[0] == zero).all(axis=0).any() or (img[0] == zero).all(axis=1).any()
                    for img in a]) > 0.5
    assert math.isfinite(float(pipeline._pipeline_setup(ns, data).step().item()))


def test_resnet18_step_runs():
    ns = tapegrad_namespace()
    ns.manual_seed(0)
    data = pipeline._resnet_data(np.random.default_rng(0))
    setup = pipeline._resnet_setup(ns, {"x": data["x"][:4], "y": data["y"][:4]})
    assert math.isfinite(float(setup.step().item())) and setup.model is not None
