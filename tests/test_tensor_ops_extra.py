"""PyTorch surface that real programs use (survey gaps): namespace aliases and constants, the
legacy ``Tensor(...)`` constructor, ``size=`` on factories, device predicates, ``__format__``,
``out=``, the sort/select family, bitwise and remainder ops, comparisons, in-place variants,
silent NumPy warnings, and the small data/loss items.

Comparisons with PyTorch take the ``torch`` fixture (skipped without it); every test that does
not need PyTorch checks against NumPy or a hand-computed value.
"""

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

import autograd
from autograd import Tensor


def _t(a, requires_grad=False):
    return autograd.tensor(np.asarray(a), requires_grad=requires_grad)


# ---- 1. namespace aliases and constants ---------------------------------------------------------
def test_nn_optim_aliases_are_the_top_level_packages():
    import nn
    import optim
    import autograd.nn as ann
    import autograd.nn.functional as AF
    import autograd.optim.lr_scheduler as AL
    from autograd.nn import Linear
    assert ann is nn and AF is nn.functional and AL is optim.lr_scheduler
    assert autograd.nn.Linear is nn.Linear is Linear
    assert autograd.optim.SGD is optim.SGD
    assert autograd.nn.functional.relu is nn.functional.relu
    assert nn.__spec__.name == "nn" and nn.functional.__spec__.name == "nn.functional"


def test_import_autograd_does_not_import_nn():
    code = ("import sys, autograd; assert 'nn' not in sys.modules and 'optim' not in sys.modules;"
            "autograd.nn.Linear; assert 'nn' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_constants():
    assert autograd.pi == math.pi and autograd.e == math.e
    assert autograd.inf == math.inf and math.isnan(autograd.nan)


def test_constants_match_torch(torch):
    for name in ("pi", "e", "inf"):
        assert getattr(autograd, name) == getattr(torch, name)
