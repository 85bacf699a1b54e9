"""Bad input to the op library: each case must raise the exception type PyTorch raises (the
``torch`` fixture; skipped without it), with a message that names the op and the offending
shapes/values/dtypes (checked with the fragments listed per case), and never a raw NumPy error.

A few of our errors differ from PyTorch on purpose (documented in the op's docstring); they are
tested on their own below.
"""

import numpy as np
import pytest

import autograd
from autograd import Tensor


def _F(M):
    """``torch.nn.functional`` or ``nn.functional``."""
    if M is autograd:
        import nn.functional as F
        return F
    return M.nn.functional


# name -> (fn(M), fragments our message must contain)
BAD = {
    # activations
    "elu on int": (lambda M: _F(M).elu(M.arange(3)), ["elu", "int64"]),
    "gelu on int": (lambda M: _F(M).gelu(M.arange(3)), ["gelu", "int64"]),
    "softplus on int": (lambda M: _F(M).softplus(M.arange(3)), ["softplus", "int64"]),
    "leaky_relu on int": (lambda M: _F(M).leaky_relu(M.arange(3)), ["leaky_relu", "int64"]),
    "gelu approximate": (lambda M: _F(M).gelu(M.ones(2), approximate="fast"),
                         ["gelu", "fast"]),
    "celu alpha 0": (lambda M: M.celu(M.ones(2), 0.0), ["celu", "alpha"]),
    "hardtanh min > max": (lambda M: _F(M).hardtanh(M.ones(2), 2.0, 1.0),
                           ["hardtanh", "min_val", "max_val"]),
    # nn ops on dtypes their kernels do not have (PyTorch's NotImplementedError / RuntimeError)
    "softmax on int": (lambda M: _F(M).softmax(M.arange(3), 0), ["softmax", "int64", "Long"]),
    "softmax on bool": (lambda M: _F(M).softmax(M.ones(3, dtype=M.bool), 0),
                        ["softmax", "bool"]),
    "log_softmax on bool": (lambda M: _F(M).log_softmax(M.ones(2, 3, dtype=M.bool), 1),
                            ["log_softmax", "bool"]),
    "nll_loss on int": (lambda M: _F(M).nll_loss(-M.ones(2, 3, dtype=M.int64),
                                                 M.tensor([0, 1])), ["nll_loss", "int64"]),
    "nll_loss on bool": (lambda M: _F(M).nll_loss(M.ones(2, 3, dtype=M.bool),
                                                  M.tensor([0, 1])), ["nll_loss", "bool"]),
    "max_pool1d on int": (lambda M: _F(M).max_pool1d(M.ones(1, 2, 4, dtype=M.int64), 2),
                          ["max_pool1d", "int64"]),
    "max_pool2d on bool": (lambda M: _F(M).max_pool2d(M.ones(1, 2, 4, 4, dtype=M.bool), 2),
                           ["max_pool2d", "bool"]),
    "avg_pool2d on int32": (lambda M: _F(M).avg_pool2d(M.ones(1, 2, 4, 4, dtype=M.int32), 2),
                            ["avg_pool2d", "int32"]),
    "adaptive_avg_pool2d on int": (lambda M: _F(M).adaptive_avg_pool2d(
        M.ones(1, 2, 4, 4, dtype=M.int64), 2), ["adaptive_avg_pool2d", "int64"]),
    "adaptive_max_pool2d on uint8": (lambda M: _F(M).adaptive_max_pool2d(
        M.ones(1, 2, 4, 4, dtype=M.uint8), 2), ["adaptive_max_pool2d", "uint8"]),
    "dropout on int": (lambda M: _F(M).dropout(M.ones(2, 3, dtype=M.int64), 0.5),
                       ["dropout", "int64"]),
    "conv_transpose2d on int32": (lambda M: _F(M).conv_transpose2d(
        M.ones(1, 2, 3, 3, dtype=M.int32), M.ones(2, 1, 2, 2)), ["conv_transpose2d", "int32"]),
    # shapes that do not broadcast: PyTorch's message, with the op named
    **{f"{name} broadcast": (fn, [name, "The size of tensor a (4) must match the size of tensor b "
                                        "(3) at non-singleton dimension 1"])
       for name, fn in (
           ("add", lambda M: M.ones(3, 4) + M.ones(4, 3)),
           ("sub", lambda M: M.ones(3, 4) - M.ones(4, 3)),
           ("mul", lambda M: M.ones(3, 4) * M.ones(4, 3)),
           ("div", lambda M: M.ones(3, 4) / M.ones(4, 3)),
           ("pow", lambda M: M.ones(3, 4) ** M.ones(4, 3)),
           ("maximum", lambda M: M.maximum(M.ones(3, 4), M.ones(4, 3))),
           ("minimum", lambda M: M.minimum(M.ones(3, 4), M.ones(4, 3))),
           ("atan2", lambda M: M.atan2(M.ones(3, 4), M.ones(4, 3))),
           ("where", lambda M: M.where(M.ones(3, 4) > 0, M.ones(3, 4), M.ones(4, 3))),
           ("eq", lambda M: M.ones(3, 4) == M.ones(4, 3)),
           ("lt", lambda M: M.ones(3, 4) < M.ones(4, 3)),
           ("remainder", lambda M: M.remainder(M.ones(3, 4), M.ones(4, 3))),
           ("clamp", lambda M: M.clamp(M.ones(3, 4), M.ones(4, 3))))},
    "mul broadcast 3-d": (lambda M: M.ones(2, 3, 4) * M.ones(5, 1, 4),
                          ["mul", "tensor a (2) must match the size of tensor b (5) at "
                                  "non-singleton dimension 0"]),
    "relu on bool": (lambda M: M.relu(M.ones(3, dtype=M.bool)), ["relu", "Boolean"]),
    "hardtanh unsigned": (lambda M: _F(M).hardtanh(M.ones(3, dtype=M.uint8)),
                          ["hardtanh", "unsigned", "uint8"]),
    # elementwise
    "frac on int": (lambda M: M.frac(M.arange(3)), ["frac", "int64"]),
    "lerp dtypes": (lambda M: M.lerp(M.ones(2), M.ones(2, dtype=M.float64), 0.5),
                    ["lerp", "float32", "float64"]),
    # reductions
    "prod dim": (lambda M: M.prod(M.ones(2, 3), 2), ["prod", "Dimension out of range"]),
    "cumsum dim": (lambda M: M.cumsum(M.ones(2), 1), ["cumsum", "Dimension out of range"]),
    "cumprod dim": (lambda M: M.ones(2, 2).cumprod(-3), ["cumprod", "Dimension out of range"]),
    "norm of ints": (lambda M: M.norm(M.arange(3)), ["norm", "int64", "(3,)"]),
    # shape / indexing
    "roll shifts vs dims": (lambda M: M.roll(M.ones(2, 3), (1, 2), 0), ["roll", "shifts"]),
    "gather index dims": (lambda M: M.gather(M.ones(2, 3), 1, M.tensor([0])),
                          ["gather", "(1,)", "(2, 3)"]),
    "gather float index": (lambda M: M.gather(M.ones(2, 3), 1, M.zeros(2, 3)),
                           ["gather", "float32"]),
    "gather index too big": (lambda M: M.gather(M.ones(2, 3), 1, M.tensor([[0], [3]])),
                             ["gather", "3", "size 3"]),
    "gather index larger": (lambda M: M.gather(M.ones(2, 3), 0, M.zeros(1, 4, dtype=M.int64)),
                            ["gather", "(1, 4)", "(2, 3)"]),
    "scatter dtypes": (lambda M: M.scatter(M.ones(2, 3), 1, M.tensor([[0]]),
                                           M.ones(1, 1, dtype=M.float64)),
                       ["scatter", "float32", "float64"]),
    "scatter src too small": (lambda M: M.scatter(M.ones(2, 3), 1, M.tensor([[0, 1, 2]]),
                                                  M.ones(1, 2)),
                              ["scatter", "[1, 3]", "[1, 2]"]),
    "scatter_add index dims": (lambda M: M.scatter_add(M.ones(2, 3), 0, M.tensor([0, 1]),
                                                       M.ones(2, 3)),
                               ["scatter_add", "(2,)", "(2, 3)"]),
    "scatter_add out of range": (lambda M: M.scatter_add(M.ones(2, 3), 0,
                                                         M.tensor([[0, 5, 0]]), M.ones(1, 3)),
                                 ["scatter_add", "5", "size 2"]),
    "index_select 2-d index": (lambda M: M.index_select(M.ones(3), 0, M.tensor([[0]])),
                               ["index_select", "vector", "(1, 1)"]),
    "index_select out of range": (lambda M: M.index_select(M.ones(3, 2), 0, M.tensor([3])),
                                  ["index_select", "3", "(3, 2)"]),
    "masked_select mask dtype": (lambda M: M.masked_select(M.ones(2, 3), M.ones(3)),
                                 ["masked_select", "Bool", "float32"]),
    "masked_select shapes": (lambda M: M.masked_select(M.ones(2, 3),
                                                       M.ones(4, dtype=M.bool)),
                             ["masked_select", "(4,)", "(2, 3)"]),
    "take_along_dim float": (lambda M: M.take_along_dim(M.ones(2, 3), M.zeros(2, 1), 1),
                             ["take_along_dim", "float32"]),
    "take_along_dim dims": (lambda M: M.take_along_dim(M.ones(2, 3), M.tensor([0]), 1),
                            ["take_along_dim", "(2, 3)", "(1,)"]),
    "tril 1-d": (lambda M: M.tril(M.ones(3)), ["tril", "(3,)"]),
    "triu 1-d": (lambda M: M.ones(3).triu(), ["triu", "(3,)"]),
    "diag 3-d": (lambda M: M.diag(M.ones(2, 2, 2)), ["diag", "3D", "(2, 2, 2)"]),
    "diagonal same dims": (lambda M: M.diagonal(M.ones(2, 2), 0, 1, 1), ["diagonal", "1, 1"]),
    "diagonal dim range": (lambda M: M.ones(2, 2).diagonal(0, 0, 2),
                           ["diagonal", "Dimension out of range"]),
    "pad odd": (lambda M: _F(M).pad(M.ones(2, 3), (1,)), ["pad", "divisible by 2"]),
    "pad too long": (lambda M: _F(M).pad(M.ones(2, 3), (1, 1, 1, 1, 1, 1)),
                     ["pad", "6", "(2, 3)"]),
    "pad reflect too big": (lambda M: _F(M).pad(M.ones(2, 3), (3, 3), mode="reflect"),
                            ["pad", "(3, 3)", "(2, 3)"]),
    "pad circular too big": (lambda M: _F(M).pad(M.ones(2, 3), (4, 4), mode="circular"),
                             ["pad", "wrapping around"]),
    "pad reflect 1-d": (lambda M: _F(M).pad(M.ones(2), (1, 1), mode="reflect"),
                        ["pad", "1D", "(2,)"]),
    "pad reflect 4 on 2-d": (lambda M: _F(M).pad(M.ones(2, 3), (1, 1, 1, 1), mode="reflect"),
                             ["pad", "2D", "(2, 3)"]),
    "pad mode": (lambda M: _F(M).pad(M.ones(2, 3), (1, 1), mode="mirror"), ["pad", "mirror"]),
    "pad value with reflect": (lambda M: _F(M).pad(M.ones(2, 3), (1, 1), mode="reflect",
                                                   value=1.0), ["pad", "value"]),
    "pad crops everything": (lambda M: _F(M).pad(M.ones(2, 3), (-2, -2)), ["pad", "(2, 3)"]),
    # linalg
    "tensordot sizes": (lambda M: M.tensordot(M.ones(2, 3), M.ones(2, 3), dims=([0], [1])),
                        ["tensordot", "size 2", "size 3"]),
    "tensordot dims lengths": (lambda M: M.tensordot(M.ones(2, 3), M.ones(2, 3),
                                                     dims=([0, 1], [0])), ["tensordot"]),
    "inv non-square": (lambda M: M.linalg.inv(M.ones(2, 3)), ["linalg.inv", "2 by 3"]),
    "inv of ints": (lambda M: M.linalg.inv(M.eye(2, dtype=M.int64)), ["linalg.inv", "int64"]),
    "inv singular": (lambda M: M.linalg.inv(M.zeros(2, 2)), ["linalg.inv", "singular"]),
    "det non-square": (lambda M: M.linalg.det(M.ones(2, 3)), ["linalg.det", "2 by 3"]),
    "det 1-d": (lambda M: M.det(M.ones(3)), ["det", "(3,)"]),
    "slogdet non-square": (lambda M: M.linalg.slogdet(M.ones(3, 2)),
                           ["linalg.slogdet", "3 by 2"]),
    "solve shapes": (lambda M: M.linalg.solve(M.eye(2), M.ones(3)),
                     ["linalg.solve", "2x2", "(3,)"]),
    "solve dtypes": (lambda M: M.linalg.solve(M.eye(2), M.ones(2, 2, dtype=M.float64)),
                     ["linalg.solve", "float32", "float64"]),
    "solve singular": (lambda M: M.linalg.solve(M.zeros(2, 2), M.ones(2)),
                       ["linalg.solve", "singular"]),
    "solve batch": (lambda M: M.linalg.solve(M.ones(2, 2, 2), M.ones(3, 2, 1)),
                    ["linalg.solve", "(2, 2, 2)", "(3, 2, 1)"]),
    "solve right vector": (lambda M: M.linalg.solve(M.eye(2), M.ones(2), left=False),
                           ["linalg.solve", "left=False"]),
    "linalg.norm 3-d with ord": (lambda M: M.linalg.norm(M.ones(2, 2, 2), ord=2),
                                 ["linalg.norm", "3D"]),
    "vector_norm str ord": (lambda M: M.linalg.vector_norm(M.ones(2, 2), ord="fro"),
                            ["vector_norm", "fro"]),
    "matrix_norm 1-d": (lambda M: M.linalg.matrix_norm(M.ones(2)), ["matrix_norm", "(2,)"]),
    "matrix_norm dim": (lambda M: M.linalg.matrix_norm(M.ones(2, 2), dim=0),
                        ["matrix_norm", "2-tuple"]),
    "matrix_norm ord": (lambda M: M.linalg.matrix_norm(M.ones(2, 2), ord=3),
                        ["matrix_norm", "3"]),
}


def _expected_type(torch_exc):
    """PyTorch's ``_LinAlgError`` is a RuntimeError; ours is ``autograd.linalg.LinAlgError``."""
    if type(torch_exc).__name__ in ("_LinAlgError", "LinAlgError"):
        return autograd.linalg.LinAlgError
    return type(torch_exc)


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_raises_like_torch_with_a_clear_message(torch, name):
    fn, fragments = BAD[name]
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(autograd)
    expected = _expected_type(theirs.value)
    assert issubclass(ours.type, expected), (
        f"{name}: tapegrad raised {ours.type.__name__}: {ours.value}; torch raised "
        f"{theirs.type.__name__}: {theirs.value}")
    message = str(ours.value)
    for fragment in fragments:
        assert fragment in message, f"{name}: {fragment!r} missing from {message!r}"
    assert not ours.type.__module__.startswith("numpy"), f"{name}: a raw NumPy error"


# ---- where we differ from PyTorch on purpose -----------------------------------------------------
def test_spectral_and_nuclear_norms_are_not_implemented():
    x = autograd.ones(2, 2)
    for fn in (lambda: autograd.linalg.matrix_norm(x, "nuc"),
               lambda: autograd.linalg.matrix_norm(x, 2), lambda: autograd.norm(x, "nuc"),
               lambda: autograd.linalg.norm(x, -2)):
        with pytest.raises(NotImplementedError, match="singular values"):
            fn()


def test_scatter_reduce_multiply_is_not_implemented():
    with pytest.raises(NotImplementedError, match="scatter.*multiply"):
        autograd.scatter(autograd.ones(2, 2), 0, autograd.tensor([[0, 1]]), 2.0,
                         reduce="multiply")


def test_scatter_reduce_add_is_scatter_add():
    x = autograd.zeros(2, 2)
    out = autograd.scatter(x, 0, autograd.tensor([[0, 0]]), autograd.ones(1, 2), reduce="add")
    np.testing.assert_array_equal(out._data, [[1, 1], [0, 0]])


def test_linalg_error_is_a_runtime_error():
    assert issubclass(autograd.linalg.LinAlgError, RuntimeError)


def test_errors_name_the_op_for_bad_argument_types():
    with pytest.raises(TypeError, match="elu"):
        autograd.elu(np.ones(3))
    with pytest.raises(TypeError, match="cumsum"):
        autograd.cumsum([1.0, 2.0], 0)
    with pytest.raises(TypeError, match="linalg.solve"):
        autograd.linalg.solve(autograd.eye(2), [1.0, 2.0])


def test_integer_tensors_cannot_require_grad():
    for dtype in (autograd.int64, autograd.int32, autograd.bool):
        with pytest.raises(RuntimeError, match="floating"):
            Tensor(np.zeros(2, dtype=dtype), requires_grad=True)


def test_nll_loss_of_integer_log_probabilities_raises():
    """It used to truncate: int log-probs went through as ints (PyTorch raises)."""
    import nn.functional as F
    with pytest.raises(NotImplementedError, match="nll_loss.*int64"):
        F.nll_loss(Tensor(np.array([[-1, -2], [-3, -1]])), Tensor(np.array([0, 1])))
    with pytest.raises(NotImplementedError, match="softmax.*bool"):
        F.softmax(Tensor(np.ones(3, dtype=bool)), 0)
    np.testing.assert_allclose(F.softmax(Tensor(np.arange(2)), 0, dtype=autograd.float64)._data,
                               [0.26894142, 0.73105858])   # dtype= casts first, as PyTorch


def test_broadcast_error_is_pytorchs_and_names_the_op():
    """(3, 4) + (4, 3) raised NumPy's "operands could not be broadcast together" naming no op."""
    with pytest.raises(RuntimeError) as e:
        Tensor(np.ones((3, 4)), requires_grad=True) + Tensor(np.ones((4, 3)))
    assert str(e.value).startswith("add: The size of tensor a (4) must match the size of "
                                   "tensor b (3) at non-singleton dimension 1")
    with pytest.raises(RuntimeError, match=r"where: The size of tensor a \(5\) must match the "
                                           r"size of tensor b \(4\) at non-singleton dimension 1"):
        autograd.where(Tensor(np.ones((2, 5)) > 0), Tensor(np.ones((3, 4))), 0.0)
    with pytest.raises(RuntimeError, match="at non-singleton dimension 0"):
        Tensor(np.ones((0, 3))) + Tensor(np.ones((2, 3)))
