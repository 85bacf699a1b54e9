"""Fuzz suite for ``autograd.load`` and ``autograd.save`` (issue 11, section 7): hostile files.

Each probe family builds bad files with hypothesis and asserts that ``load`` either raises a
clear :class:`SerializationError` naming the file (the documented error; for a refused pickle
also a ``pickle.UnpicklingError``) or returns exactly what was saved (a change that means
nothing, such as a tab for a padding space), never another exception, never a wrong answer,
never code from the file, and that nothing a user saved is lost (a failed load leaves every file
as it was; a save killed at a random moment leaves the previous file loadable).

Families: truncation (at every class of byte: length, header, metadata, data, pickle section),
byte flips (xor masks in each region), crafted headers (huge sizes, overlapping offsets,
negative/overflowing shapes, non-UTF-8, duplicated keys, random JSON), crafted structures with
valid checksums (node types and dtypes ``save`` never writes), pickle sections carrying code
under ``weights_only=True`` (and random or mutated pickle bytes), and SIGKILL mid-save. The
figures (tried / good per family) are printed by the last test (``pytest -s``, or see the
report). Runtime is kept to well under a minute on two busy cores.
"""

import io
import json
import os
import pickle
import zlib
from collections import OrderedDict, defaultdict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd
import autograd.serialization as ser
import nn
from autograd.serialization import SerializationError

FIGURES = defaultdict(lambda: [0, 0])   # family -> [tried, good]
FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def fuzz(n):
    return settings(FUZZ, max_examples=n)


# ---- what a user saved --------------------------------------------------------------------------
def _checkpoint():
    return {"model": OrderedDict([("w", autograd.Tensor(np.arange(6.0).reshape(2, 3))),
                                  ("b", autograd.Tensor(np.ones(3, np.float32)))]),
            "optim": {"state": {0: {"step": 2, "buf": autograd.zeros(2)}},
                      "param_groups": [{"params": [0], "betas": (0.9, 0.99)}]},
            "epoch": 3, "name": "run-1", "mask": autograd.Tensor(np.array([True, False])),
            "nan": float("nan"), "blob": b"\x00\xff", "dt": autograd.float64}


def _module():
    autograd.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def _saved(obj):
    buf = io.BytesIO()
    autograd.save(obj, buf)
    return buf.getvalue()


GOOD = {"checkpoint": _saved(_checkpoint()), "module": _saved(_module()),
        "tensor": _saved(autograd.randn(5, 3)), "set": _saved({"s": {1, 2}, "t": autograd.ones(2)})}


def _regions(data):
    """name -> (start, stop) byte ranges of a file written by save."""
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    meta_text = json.dumps(header["__metadata__"], separators=(",", ":")).encode()
    meta_at = data.find(meta_text[:20], 8)
    out = {"length": (0, 8), "header": (8, 8 + n),
           "metadata": (meta_at, meta_at + len(meta_text)) if meta_at > 0 else (8, 8 + n),
           "data": (8 + n, len(data))}
    if "tapegrad.pickle" in header:
        b, e = header["tapegrad.pickle"]["data_offsets"]
        out["pickle"] = (8 + n + b, 8 + n + e)
    return out


def _load_plain(data, weights_only=True):
    buf = io.BytesIO(data)
    buf.name = "fuzzed.safetensors"
    return autograd.load(buf, weights_only=weights_only)


def _same(a, b):
    """Exactly the same object as ``a`` (types, values, tensor bytes)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, autograd.Tensor):
        return a.requires_grad == b.requires_grad and _same(a._data, b._data)
    if isinstance(a, (np.ndarray, np.generic)):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return (a != a and b != b) or a == b
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, nn.Module):
        return all(_same(x, y) for x, y in zip(a.state_dict().values(),
                                                b.state_dict().values()))
    return a == b


def _reference(kind):
    return _load_plain(GOOD[kind], weights_only=kind != "module")


def probe(family, data, reference=None, weights_only=True):
    """Load the hostile bytes ``data``: a SerializationError naming the file, or exactly
    ``reference``. Counts the probe in FIGURES."""
    FIGURES[family][0] += 1
    try:
        out = _load_plain(data, weights_only=weights_only)
    except SerializationError as e:
        assert "fuzzed.safetensors" in str(e), str(e)
    else:
        assert reference is not None and _same(reference, out), \
            f"{family}: a damaged file loaded as something else: {out!r}"
    FIGURES[family][1] += 1


# ---- truncation ---------------------------------------------------------------------------------
@fuzz(250)
@given(kind=st.sampled_from(sorted(GOOD)), where=st.sampled_from(
    ["length", "header", "metadata", "data", "pickle", "last"]), frac=st.floats(0, 1))
def test_truncation_at_every_byte_class(kind, where, frac):
    data = GOOD[kind]
    regions = _regions(data)
    if where == "last":
        cut = len(data) - 1
    else:
        b, e = regions.get(where, regions["data"])
        cut = min(b + int(frac * (e - b)), len(data) - 1)
    probe("truncation", data[:cut])


def test_truncation_exhaustive_for_a_pickled_module():
    data = GOOD["module"]
    for cut in range(len(data)):
        probe("truncation", data[:cut])


# ---- byte flips ---------------------------------------------------------------------------------
@fuzz(400)
@given(kind=st.sampled_from(sorted(GOOD)),
       where=st.sampled_from(["length", "header", "metadata", "data", "pickle"]),
       frac=st.floats(0, 1, exclude_max=True), mask=st.integers(1, 255),
       count=st.integers(1, 3))
def test_byte_flips_in_every_region(kind, where, frac, mask, count):
    data = bytearray(GOOD[kind])
    b, e = _regions(data).get(where, _regions(data)["data"])
    for k in range(count):
        i = min(b + int(frac * (e - b)) + 7 * k, len(data) - 1)
        data[i] ^= mask
    probe("byte flips", bytes(data), _reference(kind), weights_only=kind != "module")


# ---- crafted headers ----------------------------------------------------------------------------
DTYPE_NAMES = ["F32", "F64", "F16", "BF16", "I64", "U8", "BOOL", "C64", "F8_E4M3", "OBJ", "",
               "f32", "U64"]
ints = st.one_of(st.integers(-3, 40), st.sampled_from([2 ** 31, 2 ** 62, 2 ** 63, 2 ** 64,
                                                        -2 ** 63, 10 ** 30]))
odd = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.text(max_size=3),
                st.lists(st.integers(), max_size=2))
entries = st.fixed_dictionaries({
    "dtype": st.one_of(st.sampled_from(DTYPE_NAMES), odd),
    "shape": st.one_of(st.lists(ints, max_size=3), odd),
    "data_offsets": st.one_of(st.lists(ints, min_size=2, max_size=2),
                              st.lists(ints, max_size=3), odd)})


@st.composite
def crafted_headers(draw):
    names = draw(st.lists(st.text(min_size=1, max_size=4), max_size=4))
    header = {n: draw(st.one_of(entries, odd)) for n in names}
    if draw(st.booleans()):
        header["__metadata__"] = draw(st.one_of(
            st.dictionaries(st.sampled_from(["tapegrad.format", "tapegrad.structure",
                                             "tapegrad.crc32", "x"]),
                            st.one_of(st.text(max_size=8), odd), max_size=3), odd))
    text = json.dumps(header).encode()
    trick = draw(st.sampled_from(["none", "duplicate", "non-utf8", "deep", "huge-length",
                                  "short-length", "garbage"]))
    if trick == "duplicate" and names:
        first = json.dumps(names[0])
        text = text[:-1] + (", " if len(header) else "").encode() + \
            f'{first}: {json.dumps(header[names[0]])}}}'.encode()
    elif trick == "non-utf8":
        i = draw(st.integers(1, max(1, len(text) - 1)))
        text = text[:i] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])) + text[i:]
    elif trick == "deep":
        d = draw(st.integers(100, 50_000))
        text = b'{"a":' + b"[" * d + b"]" * d + b"}"
    elif trick == "garbage":
        text = draw(st.binary(max_size=40))
    length = len(text)
    if trick == "huge-length":
        length = draw(st.sampled_from([2 ** 64 - 1, 2 ** 40, 100_000_001, length + 10 ** 6]))
    elif trick == "short-length":
        length = draw(st.integers(0, max(0, len(text) - 1)))
    data = draw(st.binary(max_size=64))
    return length.to_bytes(8, "little") + text + data


@fuzz(500)
@given(data=crafted_headers())
def test_crafted_headers(data):
    FIGURES["crafted headers"][0] += 1
    try:
        out = _load_plain(data)
    except SerializationError:
        pass
    else:   # a foreign file that happens to be valid: tensors as its header declares
        n = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + n])
        header.pop("__metadata__", None)
        assert set(out) == set(header)
        for k, v in out.items():
            assert v.shape == tuple(header[k]["shape"])
    FIGURES["crafted headers"][1] += 1


# ---- crafted structures with valid checksums ----------------------------------------------------
def _craft(text, arrays, version="1"):
    from safetensors.numpy import save
    crc = {"structure": zlib.crc32(text.encode("utf-8", "surrogatepass")),
           "tensors": {k: ser._tensor_crc(k, ser._SAVE_DTYPES[v.dtype], v.shape,
                                          v.reshape(-1).view(np.uint8))
                       for k, v in arrays.items()}}
    return save(arrays, metadata={"tapegrad.format": version, "tapegrad.structure": text,
                                  "tapegrad.crc32": json.dumps(crc)})


ARRAYS = {"x": np.arange(4.0), "i": np.arange(3), "s": np.array(2.5, np.float32),
          "b": np.array([True, False])}
DTYPES_ANY = ["float32", "int64", "bool", "object", "datetime64[ns]", "<U3", "complex128",
              "V8", "float128", "O", "|S2", "[('a', 'f4')]", ""]
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=4))


def _nodes(kids):
    names = st.one_of(st.sampled_from(list(ARRAYS) + ["tapegrad.pickle", "missing"]), json_leaf)
    return st.one_of(
        st.lists(kids, max_size=3),
        st.builds(lambda v: {"type": "float", "value": v},
                  st.one_of(st.sampled_from(["nan", "inf", "-inf", "1", "x"]), json_leaf)),
        st.builds(lambda v: {"type": "tuple", "items": v}, st.one_of(st.lists(kids, max_size=3),
                                                                      json_leaf)),
        st.builds(lambda t, v: {"type": t, "items": v}, st.sampled_from(["dict", "OrderedDict"]),
                  st.one_of(st.lists(st.lists(kids, max_size=3), max_size=3), json_leaf)),
        st.builds(lambda n, rg, p: {"type": "tensor", "name": n, "requires_grad": rg,
                                    "parameter": p}, names, json_leaf, json_leaf),
        st.builds(lambda t, n: {"type": t, "name": n},
                  st.sampled_from(["ndarray", "numpy_scalar"]), names),
        st.builds(lambda s: {"type": "bytes", "base64": s}, st.one_of(
            st.sampled_from(["AAE=", "***", "", "AA"]), json_leaf)),
        st.builds(lambda n: {"type": "dtype", "name": n}, st.one_of(st.sampled_from(DTYPES_ANY),
                                                                    json_leaf)),
        st.builds(lambda t: {"type": t}, st.one_of(st.sampled_from(
            ["set", "pickle", "object", "module", "tensor"]), json_leaf)),
        st.dictionaries(st.text(max_size=3), kids, max_size=2))


structures = st.recursive(json_leaf, _nodes, max_leaves=12)


def _sane(obj, depth=0):
    """Everything in a loaded structure is one of the documented types and dtypes."""
    if isinstance(obj, autograd.Tensor):
        assert obj._data.dtype in ser._SAVE_DTYPES
    elif isinstance(obj, (np.ndarray, np.generic, np.dtype)):
        assert (obj if isinstance(obj, np.dtype) else obj.dtype) in ser._SAVE_DTYPES
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _sane(v, depth + 1)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _sane(k, depth + 1)
            _sane(v, depth + 1)
    else:
        assert obj is None or type(obj) in (bool, int, float, str, bytes), type(obj)


@fuzz(500)
@given(node=structures, version=st.sampled_from(["1", "1", "2"]))
def test_crafted_structures_with_valid_checksums(node, version):
    FIGURES["crafted structures"][0] += 1
    text = json.dumps(node)
    try:
        out = _load_plain(_craft(text, ARRAYS, version))
    except SerializationError:
        pass
    else:
        _sane(out)
    FIGURES["crafted structures"][1] += 1


# ---- pickle sections: code under weights_only=True ----------------------------------------------
DANGEROUS = [("os", "system"), ("posix", "system"), ("builtins", "eval"), ("builtins", "exec"),
             ("builtins", "open"), ("builtins", "getattr"), ("builtins", "__import__"),
             ("subprocess", "Popen"), ("shutil", "rmtree"), ("__builtin__", "eval"),
             ("numpy", "load"), ("pickle", "loads"), ("builtins", "setattr"),
             ("copyreg", "_reconstructor"), ("functools", "partial"), ("nn.container",
                                                                       "Sequential"),
             ("autograd.serialization", "load"), ("io", "open"), ("builtins", "bytes"),
             ("builtins", "list"), ("builtins", "type"), ("collections", "defaultdict")]


def _pickle_with(module, name, form, arg):
    m, n, a = module.encode(), name.encode(), arg.encode()
    if form == "GLOBAL":
        return b"\x80\x02c" + m + b"\n" + n + b"\nX" + len(a).to_bytes(4, "little") + a + \
            b"\x85R."
    if form == "STACK_GLOBAL":
        return (b"\x80\x04\x8c" + bytes([len(m)]) + m + b"\x8c" + bytes([len(n)]) + n +
                b"\x93\x8c" + bytes([len(a)]) + a + b"\x85R.")
    if form == "INST":
        return b"(V" + a + b"\ni" + m + b"\n" + n + b"\n."
    if form == "OBJ":
        return b"\x80\x01(c" + m + b"\n" + n + b"\nV" + a + b"\no."
    return b"\x80\x02c" + m + b"\n" + n + b"\n)\x81."   # NEWOBJ


def _craft_pickle(data, refs=()):
    arrays = dict(x=np.arange(3.0), **{"tapegrad.pickle": np.frombuffer(data, np.uint8)})
    node = {"type": "pickle", "name": "tapegrad.pickle", "protocol": 2, "refs": list(refs)}
    return _craft(json.dumps(node), arrays, "2")


@fuzz(300)
@given(target=st.sampled_from(DANGEROUS),
       form=st.sampled_from(["GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "NEWOBJ"]),
       wrap=st.sampled_from(["bare", "in-list", "in-tensor-state"]))
def test_pickle_sections_with_code_are_refused(target, form, wrap, tmp_path_factory):
    marker = tmp_path_factory.mktemp("pwn") / "pwned"
    data = _pickle_with(*target, form, f"touch {marker}" if "system" in target[1]
                        else str(marker))
    if wrap == "in-list" and data.startswith(b"\x80"):
        data = data[:2] + b"]" + data[2:-1] + b"a."
    elif wrap == "in-tensor-state" and data.startswith(b"\x80\x02"):
        data = (b"\x80\x02cautograd.tensor\nTensor\n)\x81" + data[2:-1] + b"b.")
    FIGURES["pickle code"][0] += 1
    with pytest.raises(SerializationError) as e:
        _load_plain(_craft_pickle(data))
    assert not marker.exists()
    assert isinstance(e.value, pickle.UnpicklingError) or "corrupted" in str(e.value)
    FIGURES["pickle code"][1] += 1


def _evil_object(marker):
    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    return Evil()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickled_reducers_are_refused_at_every_protocol(protocol, tmp_path):
    marker = tmp_path / "pwned"
    for obj in [_evil_object(marker), [autograd.ones(2), _evil_object(marker)],
                {"m": nn.Linear(2, 2), "e": _evil_object(marker)}]:
        FIGURES["pickle code"][0] += 1
        data = pickle.dumps(obj, protocol=protocol)
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
            _load_plain(_craft_pickle(data))
        assert not marker.exists()
        FIGURES["pickle code"][1] += 1


@fuzz(300)
@given(data=st.one_of(st.binary(max_size=60),
                      st.builds(lambda b: b"\x80\x02" + b, st.binary(max_size=60))),
       refs=st.lists(st.one_of(st.just(["ndarray", "x"]), st.just(["dtype", "float32"]),
                               st.just(["numpy_scalar", "x"])), max_size=2))
def test_random_pickle_sections(data, refs):
    FIGURES["random pickle bytes"][0] += 1
    try:
        _load_plain(_craft_pickle(data, refs))
    except SerializationError:
        pass
    FIGURES["random pickle bytes"][1] += 1


_MODULE_PICKLE = None


@fuzz(300)
@given(frac=st.floats(0, 1, exclude_max=True), mask=st.integers(1, 255),
       allow=st.booleans())
def test_mutated_module_pickles_weights_only(frac, mask, allow, tmp_path_factory):
    # a real pickle section of a Module, one byte changed, checksums recomputed: with the
    # Module classes allowlisted or not, load gives a SerializationError or an object, and runs
    # nothing but allowlisted code
    global _MODULE_PICKLE
    if _MODULE_PICKLE is None:
        from safetensors.numpy import load
        data = GOOD["module"]
        n = int.from_bytes(data[:8], "little")
        _MODULE_PICKLE = (load(data), json.loads(json.loads(data[8:8 + n])["__metadata__"]
                                                 ["tapegrad.structure"]))
    arrays, node = _MODULE_PICKLE
    raw = bytearray(arrays["tapegrad.pickle"].tobytes())
    raw[int(frac * len(raw))] ^= mask
    arrays = dict(arrays, **{"tapegrad.pickle": np.frombuffer(bytes(raw), np.uint8)})
    FIGURES["mutated pickles"][0] += 1
    allowed = [nn.Sequential, nn.Linear, nn.BatchNorm1d] if allow else []
    try:
        with ser.safe_globals(allowed):
            _load_plain(_craft(json.dumps(node), arrays, "2"))
    except SerializationError:
        pass
    FIGURES["mutated pickles"][1] += 1


# ---- nothing a user saved is lost --------------------------------------------------------------
@fuzz(60)
@given(kind=st.sampled_from(sorted(GOOD)), cut=st.floats(0, 1, exclude_max=True))
def test_failed_loads_leave_every_file_as_it_was(kind, cut, tmp_path_factory):
    d = tmp_path_factory.mktemp("keep")
    good, bad = d / "good.safetensors", d / "bad.safetensors"
    good.write_bytes(GOOD[kind])
    damaged = GOOD[kind][:int(cut * len(GOOD[kind]))]
    bad.write_bytes(damaged)
    FIGURES["files untouched"][0] += 1
    with pytest.raises(SerializationError):
        autograd.load(bad)
    assert bad.read_bytes() == damaged and good.read_bytes() == GOOD[kind]
    assert _same(_reference(kind), autograd.load(good, weights_only=kind != "module"))
    autograd.save({"fixed": 1}, bad)   # a damaged file can be saved over
    assert autograd.load(bad) == {"fixed": 1} and sorted(os.listdir(d)) == [
        "bad.safetensors", "good.safetensors"]
    FIGURES["files untouched"][1] += 1


# ---- SIGKILL mid-save ---------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_kill_mid_save_at_random_points(tmp_path):
    from test_serialization import kill_save_rounds
    FIGURES["kill mid-save"][0] += 25
    orphans = kill_save_rounds(tmp_path, np.random.default_rng(2024), 25, max_delay=0.05)
    FIGURES["kill mid-save"][1] += 25
    FIGURES["kill mid-save: orphans reclaimed"] = [orphans, orphans]


# ---- the figures --------------------------------------------------------------------------------
def test_zz_report_figures(capsys):
    with capsys.disabled():
        print("\nfuzz figures (tried / good):")
        for family, (tried, good) in FIGURES.items():
            print(f"  {family:32s} {tried:6d} / {good}")
    for family, (tried, good) in FIGURES.items():
        assert tried == good, family
