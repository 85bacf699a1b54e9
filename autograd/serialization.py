"""Saving and loading: ``autograd.save`` / ``autograd.load`` (``torch.save`` / ``torch.load``)
in a documented format that never runs code from the file (no pickle anywhere).

What can be saved: ``Tensor`` (any dtype: bool, uint8/16/32/64, int8/16/32/64, float16/32/64,
complex64) and NumPy arrays and scalars of those dtypes, ``None``, ``bool``, ``int``, ``float``
(including nan and +-inf), ``str``, ``bytes``, NumPy dtypes, and ``list``, ``tuple``, ``dict`` and
``collections.OrderedDict`` nested in any way (dict keys: ``None``, bool, int, float, str or
tuples of those). That covers ``Module.state_dict()``, ``Optimizer.state_dict()`` and scheduler
state dicts, and checkpoints such as ``{"model": ..., "optim": ..., "epoch": 3}``.

File format
-----------
A file written by :func:`save` is a standard safetensors file
(https://huggingface.co/docs/safetensors/): an unsigned 64-bit little-endian header length ``N``,
then ``N`` bytes of UTF-8 JSON header, then the raw little-endian bytes of the arrays. Any
safetensors reader (``safetensors.numpy.load_file``, ``safetensors.torch.load_file``, the Rust
crate) reads the arrays; tapegrad adds the structure of the saved object as three string entries
of the header's ``__metadata__``:

``"tapegrad.format"``
    the format version, ``"1"``.
``"tapegrad.structure"``
    JSON (ASCII) describing the saved object as a tree of nodes (below).
``"tapegrad.crc32"``
    JSON ``{"structure": C, "tensors": {NAME: C, ...}}`` with CRC-32 checksums (``zlib.crc32``):
    of the ``"tapegrad.structure"`` string (UTF-8), and for each array of
    ``f"{NAME}\\0{DTYPE}\\0{SHAPE}"`` (UTF-8; ``DTYPE`` the safetensors dtype such as ``F32``,
    ``SHAPE`` the dims joined by ``","``) continued over the array's raw bytes, i.e.
    ``zlib.crc32(data, zlib.crc32(prefix))``. :func:`load` checks them all and that the three
    entries are present together, so a damaged file (one flipped byte anywhere) is reported
    instead of silently loaded.

A node of ``"tapegrad.structure"`` is one of:

- JSON ``null``, ``true``, ``false``, a string, an integer (no fraction or exponent: a Python
  ``int``, any size) or a number with a fraction or exponent (a Python ``float``);
- a JSON array: a Python ``list`` of the nodes it holds;
- a JSON object with a ``"type"`` member:

  - ``{"type": "float", "value": "nan" | "inf" | "-inf"}``: a non-finite float;
  - ``{"type": "tuple", "items": [node, ...]}``;
  - ``{"type": "dict", "items": [[key node, value node], ...]}`` and the same with
    ``"type": "OrderedDict"``: a ``dict`` / ``OrderedDict``, in order (keys keep their types, so
    the integer parameter ids of an optimizer's ``state`` stay integers);
  - ``{"type": "tensor", "name": NAME, "requires_grad": bool}``: a ``Tensor`` whose data is the
    safetensors array ``NAME``;
  - ``{"type": "ndarray", "name": NAME}``: a NumPy array;
  - ``{"type": "numpy_scalar", "name": NAME}``: a NumPy scalar, stored as a 0-d array;
  - ``{"type": "bytes", "base64": STRING}``;
  - ``{"type": "dtype", "name": STRING}``: a NumPy dtype such as ``"float32"``.

Each array is named by its path from the saved object, dict keys and list indices joined by
``"."`` (``"fc.weight"``, ``"state.0.exp_avg"``; a lone tensor, or a path that is empty or not
valid UTF-8, is ``"tensor"``; a clash, or the reserved ``"__metadata__"``, gets a ``"#2"``,
``"#3"`` ... suffix). So a module's state dict, a flat dict of tensors, is stored under
its own key names and ``safetensors.torch.load_file`` gives PyTorch the same dict. Tensors and
arrays that are the same memory (same data pointer, shape, strides and dtype: tied weights, the
same tensor in two places) are stored once, under the first path, and load as one array shared by
every place (as ``torch.load`` shares storages). Arrays that only partly overlap are stored
separately.

Files that other tools wrote
----------------------------
A safetensors file without ``"tapegrad."`` metadata (e.g. one written by
``safetensors.torch.save_file(model.state_dict(), path)``) loads as a flat ``dict`` name ->
``Tensor``, ready for ``model.load_state_dict``. bfloat16 arrays (``BF16``, which NumPy cannot
hold) are widened to float32 exactly; the float8 types raise :class:`SerializationError`.

Safety and errors
-----------------
:func:`save` to a path writes a temporary file in the same directory, flushes and fsyncs it, then
``os.replace``-s it over the target (and fsyncs the directory), so an exception or a crash while
saving leaves any previous file intact. :func:`load` never executes anything from the file: the
header is JSON, the arrays are raw bytes. An empty, truncated, corrupted or foreign file (a
pickle, PyTorch's ``torch.save`` zip, a ``.npy``/``.npz``) raises :class:`SerializationError`
(a ``ValueError``) naming the file and what is wrong.

Differences from PyTorch: the format is safetensors + JSON, not a pickle in a zip archive, so
``torch.load`` cannot read these files (``safetensors.torch.load_file`` reads flat dicts of
tensors) and this ``load`` cannot read ``torch.save`` files; arbitrary Python objects (classes,
functions, sets) cannot be saved; an ``nn.Parameter`` loads as a plain ``Tensor`` with
``requires_grad=True`` (``autograd`` does not depend on ``nn``; ``load_state_dict`` copies values
into the module's own parameters anyway); a tensor's ``.grad`` is not saved (as in PyTorch).
"""

import base64
import json
import math
import os
import zlib
from collections import OrderedDict

import numpy as np

from .tensor import Tensor, device_

__all__ = ["save", "load", "SerializationError"]

FORMAT_VERSION = 1
_KEY_FORMAT = "tapegrad.format"
_KEY_STRUCTURE = "tapegrad.structure"
_KEY_CRC = "tapegrad.crc32"

# NumPy dtype -> safetensors dtype name, for what we write; and what we read back.
_SAVE_DTYPES = {
    np.dtype(np.bool_): "BOOL", np.dtype(np.uint8): "U8", np.dtype(np.int8): "I8",
    np.dtype(np.int16): "I16", np.dtype(np.uint16): "U16", np.dtype(np.int32): "I32",
    np.dtype(np.uint32): "U32", np.dtype(np.int64): "I64", np.dtype(np.uint64): "U64",
    np.dtype(np.float16): "F16", np.dtype(np.float32): "F32", np.dtype(np.float64): "F64",
    np.dtype(np.complex64): "C64",
}
_LOAD_DTYPES = {name: dt for dt, name in _SAVE_DTYPES.items()}
_MAX_HEADER = 100_000_000  # safetensors' own limit on the JSON header


class SerializationError(ValueError):
    """A file given to :func:`autograd.load` is not a valid file: empty, truncated, corrupted,
    or of a foreign format (pickle, ``torch.save`` zip, ``.npy``). The message names the file
    and what is wrong."""


# ---- save ---------------------------------------------------------------------------------------
class _Encoder:
    """Turns a Python object into a JSON-able structure tree plus named contiguous arrays."""

    def __init__(self):
        self.arrays = {}     # name -> C-contiguous little-endian array
        self.by_memory = {}  # (data pointer, shape, strides, dtype) -> name
        self.active = set()  # ids of containers on the current path (cycle detection)

    def array_name(self, arr, path, where):
        dt = arr.dtype
        if dt.newbyteorder("=") in _SAVE_DTYPES and dt.byteorder == ">":
            arr = arr.astype(dt.newbyteorder("<"))
            dt = arr.dtype
        if dt.newbyteorder("=") not in _SAVE_DTYPES:
            supported = ", ".join(str(d) for d in _SAVE_DTYPES)
            raise TypeError(f"autograd.save: cannot save an array of dtype {dt} at {where} "
                            f"(supported dtypes: {supported})")
        ident = (arr.__array_interface__["data"][0], arr.shape, arr.strides, dt.str)
        name = self.by_memory.get(ident)
        if name is not None:
            return name
        base = ".".join(str(p) for p in path) or "tensor"
        try:
            base.encode("utf-8")
        except UnicodeEncodeError:  # e.g. a lone surrogate in a key: not valid in the header
            base = "tensor"
        name, k = base, 1
        while name in self.arrays or name == "__metadata__":
            k += 1
            name = f"{base}#{k}"
        # not np.ascontiguousarray: it turns 0-d arrays into 1-d ones
        self.arrays[name] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        self.by_memory[ident] = name
        return name

    def encode(self, obj, path=(), where="obj"):
        # bool before int (bool is an int subclass); exact types only for containers so that
        # subclasses we do not know (namedtuples, defaultdicts...) are handled explicitly.
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and not isinstance(obj, np.generic):
            return int(obj)
        if isinstance(obj, float) and not isinstance(obj, np.generic):
            obj = float(obj)
            if math.isfinite(obj):
                return obj
            return {"type": "float", "value": "nan" if obj != obj else ("inf" if obj > 0
                                                                           else "-inf")}
        if isinstance(obj, Tensor):
            return {"type": "tensor", "name": self.array_name(obj._data, path, where),
                    "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"type": "ndarray", "name": self.array_name(obj, path, where)}
        if isinstance(obj, np.generic):
            return {"type": "numpy_scalar", "name": self.array_name(np.asarray(obj), path,
                                                                    where)}
        if isinstance(obj, (bytes, bytearray)):
            return {"type": "bytes", "base64": base64.b64encode(bytes(obj)).decode("ascii")}
        if isinstance(obj, np.dtype):
            if obj not in _SAVE_DTYPES:
                raise TypeError(f"autograd.save: cannot save dtype {obj} at {where}")
            return {"type": "dtype", "name": obj.name}
        if isinstance(obj, (list, tuple, dict)):
            if id(obj) in self.active:
                raise ValueError(f"autograd.save: {where} contains itself (a reference cycle)")
            self.active.add(id(obj))
            try:
                return self._container(obj, path, where)
            finally:
                self.active.discard(id(obj))
        raise TypeError(f"autograd.save: cannot save an object of type "
                        f"{type(obj).__name__!r} at {where}: supported are Tensor, NumPy "
                        "arrays and scalars, None, bool, int, float, str, bytes, dtypes, and "
                        "lists, tuples and dicts of these")

    def _container(self, obj, path, where):
        if type(obj) is list:
            return [self.encode(v, path + (i,), f"{where}[{i}]") for i, v in enumerate(obj)]
        if type(obj) is tuple:
            return {"type": "tuple", "items": [self.encode(v, path + (i,), f"{where}[{i}]")
                                               for i, v in enumerate(obj)]}
        if type(obj) in (dict, OrderedDict):
            items = []
            for k, v in obj.items():
                key = self._key(k, f"{where} (a key)")
                items.append([key, self.encode(v, path + (k,), f"{where}[{k!r}]")])
            return {"type": "OrderedDict" if type(obj) is OrderedDict else "dict",
                    "items": items}
        raise TypeError(f"autograd.save: cannot save an object of type {type(obj).__name__!r} "
                        f"(a subclass of {type(obj).__mro__[1].__name__}) at {where}; convert "
                        "it to a plain list, tuple or dict first")

    def _key(self, k, where):
        if k is None or isinstance(k, (bool, int, float, str)) and not isinstance(k, np.generic):
            return self.encode(k, (), where)
        if type(k) is tuple:
            return {"type": "tuple", "items": [self._key(v, where) for v in k]}
        raise TypeError(f"autograd.save: cannot save a dict key of type {type(k).__name__!r} at "
                        f"{where}: keys must be None, bool, int, float, str or tuples of these")


def _tensor_crc(name, dtype, shape, data):
    """The checksum of one array: CRC-32 of ``name\\0dtype\\0shape`` then of its bytes."""
    prefix = f"{name}\0{dtype}\0{','.join(str(int(d)) for d in shape)}".encode("utf-8")
    return zlib.crc32(data, zlib.crc32(prefix))


def _write_safetensors(arrays, metadata, path):
    """Write the safetensors file ``path`` (the temporary file of :func:`save`)."""
    from safetensors.numpy import save_file
    save_file(arrays, path, metadata=metadata)


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _save_to_path(arrays, metadata, path):
    if os.path.islink(path):
        path = os.path.realpath(path)  # write through the link, as open(path, "wb") would
    target = os.path.abspath(path)
    directory = os.path.dirname(target)
    if os.path.isdir(target):
        raise IsADirectoryError(f"autograd.save: {path!r} is a directory")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"autograd.save: the directory of {path!r} does not exist")
    tmp = os.path.join(directory, f".{os.path.basename(target)}.{os.urandom(6).hex()}.tmp")
    # created with mode 0o666 & ~umask, like a file opened with open(path, "wb")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666))
    try:
        mode = os.stat(target if os.path.exists(target) else tmp).st_mode & 0o7777
        _write_safetensors(arrays, metadata, tmp)
        os.chmod(tmp, mode)  # safetensors writes 0o600 files; keep the umask or old mode
        fd = os.open(tmp, os.O_RDWR | getattr(os, "O_BINARY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def save(obj, f):
    """Save ``obj`` to the file ``f`` (``torch.save``).

    Args:
        obj: a Tensor, a state dict (``module.state_dict()``, ``optimizer.state_dict()``) or any
            nesting of dicts, lists and tuples of Tensors, NumPy arrays and scalars, ``None``,
            bools, ints, floats, strings and bytes (see the module docstring for the exact list
            and for the file format: safetensors with a JSON structure description).
        f (str, os.PathLike or binary file object): where to write. A path is written
            atomically: a temporary file in the same directory, fsync-ed, then renamed over
            ``f``, so a failure mid-save leaves the previous file intact. A file object (with
            ``write``) receives the bytes directly (no atomicity).

    Raises:
        TypeError: for an object (or dict key, or array dtype) that cannot be saved, naming
            where it is inside ``obj`` (nothing is written).
        ValueError: if ``obj`` contains itself.
        OSError: if the file cannot be written (the previous file, if any, is unchanged).

    Differences from PyTorch: not a pickle, so only the types above can be saved (no arbitrary
    classes); ``pickle_module``/``pickle_protocol`` are not accepted.

    Example::

        autograd.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3},
                      "checkpoint.safetensors")
    """
    enc = _Encoder()
    structure = enc.encode(obj)
    text = json.dumps(structure, allow_nan=False, separators=(",", ":"))
    crcs = {"structure": zlib.crc32(text.encode("utf-8")),
            "tensors": {name: _tensor_crc(name, _SAVE_DTYPES[arr.dtype.newbyteorder("=")],
                                          arr.shape, arr)
                        for name, arr in enc.arrays.items()}}
    metadata = {_KEY_FORMAT: str(FORMAT_VERSION), _KEY_STRUCTURE: text,
                _KEY_CRC: json.dumps(crcs, separators=(",", ":"))}
    if hasattr(f, "write"):
        from safetensors.numpy import save as save_bytes
        f.write(save_bytes(enc.arrays, metadata=metadata))
        return
    _save_to_path(enc.arrays, metadata, os.fspath(f))


# ---- load ---------------------------------------------------------------------------------------
def _read(f):
    """``(display name, bytes)`` of a binary file object."""
    name = getattr(f, "name", None) or type(f).__name__
    data = f.read()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"autograd.load: {name!r} is a text file object; open the file in "
                        "binary mode ('rb')")
    return repr(name) if isinstance(name, str) else str(name), bytes(data)


def _read_head(fh):
    """The first bytes of an open file: the 8-byte length and the JSON header it announces."""
    head = fh.read(8)
    if len(head) == 8:
        n = int.from_bytes(head, "little")
        head += fh.read(n if n <= _MAX_HEADER else 0)
    return head


def _check_header(data, name, size=None):
    """Parse and sanity-check the safetensors header; return ``(header, metadata)``.

    ``data`` is the file's content from its start, at least up to the end of the header;
    ``size`` the file's size (default ``len(data)``)."""
    size = len(data) if size is None else size
    def bad(what):
        return SerializationError(f"autograd.load: {name} {what}")

    if not data:
        raise bad("is empty")
    n = int.from_bytes(data[:8], "little")
    # a safetensors file: 8-byte length, then a JSON object; only otherwise look for the
    # signatures of foreign formats (a header length can start with a pickle's bytes)
    looks_safetensors = len(data) > 8 and n <= _MAX_HEADER and data[8:9] == b"{"
    if not looks_safetensors:
        if data[:4] == b"PK\x03\x04":
            raise bad("is a zip archive (PyTorch's torch.save format, or NumPy's .npz), not a "
                      "safetensors file; tapegrad never unpickles. In PyTorch, save weights "
                      "with safetensors.torch.save_file(model.state_dict(), path) instead")
        if data[:6] == b"\x93NUMPY":
            raise bad("is a NumPy .npy file, not a safetensors file; load it with numpy.load "
                      "and wrap it in autograd.tensor")
        if data[:1] == b"\x80" and len(data) > 2 and 2 <= data[1] <= 5 and data[2] != 0:
            raise bad("is a pickle file, not a safetensors file; tapegrad never unpickles "
                      "(nothing in a file is executed)")
    if size < 8:
        raise bad(f"is truncated or not a safetensors file ({size} bytes, shorter than the "
                  "8-byte header length)")
    if n > _MAX_HEADER:
        raise bad(f"is not a safetensors file (its first 8 bytes give a header length of {n} "
                  "bytes)")
    if size > 8 and data[8:9] != b"{":
        raise bad("is corrupted or not a safetensors file: its header does not start with '{'")
    if 8 + n > size:
        raise bad(f"is truncated: the header needs {n} bytes but the file has only "
                  f"{size - 8} after the length")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise bad(f"is corrupted or not a safetensors file: its header is not valid JSON "
                  f"({e})") from None
    if not isinstance(header, dict):
        raise bad("is corrupted: its header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise bad("is corrupted: its __metadata__ is not a JSON object")
    end = 0
    for key, info in header.items():
        try:
            begin, stop = info["data_offsets"]
            ok = (isinstance(info["dtype"], str) and isinstance(begin, int)
                  and isinstance(stop, int) and 0 <= begin <= stop
                  and all(isinstance(s, int) and s >= 0 for s in info["shape"]))
        except (TypeError, KeyError, ValueError):
            ok = False
        if not ok:
            raise bad(f"is corrupted: the header entry of tensor {key!r} is malformed")
        end = max(end, stop)
    have = size - 8 - n
    if end > have:
        raise bad(f"is truncated: the tensor data needs {end} bytes but the file has only "
                  f"{have}")
    if end < have:
        raise bad(f"is corrupted: {have - end} unexpected bytes after the tensor data")
    return header, metadata


def _bf16_to_f32(raw, shape):
    bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
    return bits.view(np.float32).reshape(shape)


def _check_dtypes(header, name):
    for key, info in header.items():
        if info["dtype"] not in _LOAD_DTYPES and info["dtype"] != "BF16":
            raise SerializationError(
                f"autograd.load: {name}: tensor {key!r} has dtype {info['dtype']}, which NumPy "
                "cannot hold (supported: " + ", ".join(_LOAD_DTYPES) + ", BF16 (read as "
                "float32)); convert it before saving")


def _arrays_from_file(path, fh, header, name):
    """name -> writable NumPy array for every tensor of the open file ``fh`` at ``path``, read
    by safetensors through a memory map (one copy; BF16 read directly and widened)."""
    from safetensors import SafetensorError, safe_open
    _check_dtypes(header, name)
    start = 8 + int.from_bytes(_peek(fh, 8), "little")
    out = {}
    try:
        with safe_open(path, framework="np") as st:
            for key, info in header.items():
                if info["dtype"] == "BF16":
                    begin, stop = info["data_offsets"]
                    fh.seek(start + begin)
                    out[key] = _bf16_to_f32(fh.read(stop - begin), tuple(info["shape"]))
                else:
                    out[key] = st.get_tensor(key)
    except (SafetensorError, TypeError, ValueError) as e:
        raise SerializationError(f"autograd.load: {name} is corrupted or not a safetensors "
                                 f"file: {e}") from e
    for key, arr in out.items():
        if not arr.flags.writeable or not arr.flags.c_contiguous or not arr.dtype.isnative:
            out[key] = np.array(arr, dtype=arr.dtype.newbyteorder("="), order="C")
    return out


def _peek(fh, n):
    fh.seek(0)
    return fh.read(n)


def _arrays(data, header, name):
    """name -> writable NumPy array for every tensor of the file content ``data``."""
    from safetensors import SafetensorError, deserialize
    _check_dtypes(header, name)
    try:
        views = deserialize(data)
    except SafetensorError as e:
        raise SerializationError(f"autograd.load: {name} is corrupted or not a safetensors "
                                 f"file: {e}") from e
    out = {}
    for key, view in views:
        raw, shape = view["data"], tuple(view["shape"])
        if view["dtype"] == "BF16":
            arr = _bf16_to_f32(raw, shape)
        else:
            dt = _LOAD_DTYPES[view["dtype"]].newbyteorder("<")
            arr = np.frombuffer(raw, dtype=dt).reshape(shape)
            if not dt.isnative:
                arr = arr.astype(dt.newbyteorder("="))
        if not arr.flags.writeable:
            arr = arr.copy()
        out[key] = arr
    return out


def _check_tapegrad_metadata(metadata, ours, header, arrays, name):
    """Check the format version and every checksum; return the parsed structure."""
    def bad(what):
        return SerializationError(f"autograd.load: {name} is corrupted: {what}")

    version = metadata.get(_KEY_FORMAT)
    if isinstance(version, str) and version.isdigit() and int(version) > FORMAT_VERSION:
        raise SerializationError(f"autograd.load: {name} was written in tapegrad format "
                                 f"{version}; this version reads format {FORMAT_VERSION}. "
                                 "Upgrade tapegrad")
    expected = {_KEY_FORMAT, _KEY_STRUCTURE, _KEY_CRC}
    if ours != expected or version != str(FORMAT_VERSION):
        raise bad(f"its tapegrad metadata entries are {sorted(ours)} with format "
                  f"{version!r}; expected {sorted(expected)} with format '{FORMAT_VERSION}'")
    text = metadata[_KEY_STRUCTURE]
    try:
        crcs = json.loads(metadata[_KEY_CRC])
        tensor_crcs = crcs["tensors"]
        structure_crc = crcs["structure"]
        if not isinstance(tensor_crcs, dict):
            raise TypeError("'tensors' is not an object")
    except (TypeError, ValueError, KeyError, RecursionError) as e:
        raise bad(f"its checksums cannot be read ({type(e).__name__}: {e})") from e
    if not isinstance(text, str) or zlib.crc32(text.encode("utf-8")) != structure_crc:
        raise bad("its structure description does not match its CRC-32 checksum")
    if set(tensor_crcs) != set(arrays):
        raise bad(f"it holds tensors {sorted(arrays)} but has checksums for "
                  f"{sorted(tensor_crcs)}")
    for key, arr in arrays.items():
        info = header[key]
        if _tensor_crc(key, info["dtype"], info["shape"], arr) != tensor_crcs[key]:
            raise bad(f"the data of tensor {key!r} does not match its CRC-32 checksum")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise bad(f"its structure description is not valid JSON ({e})") from e


class _Decoder:
    def __init__(self, arrays, name):
        self.arrays = arrays
        self.name = name

    def array(self, node):
        key = node["name"]
        if key not in self.arrays:
            raise SerializationError(f"autograd.load: {self.name} is corrupted: its structure "
                                     f"refers to a tensor {key!r} that the file does not hold")
        return self.arrays[key]

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        kind = node["type"]
        if kind == "float":
            return float(node["value"])
        if kind == "tuple":
            return tuple(self.decode(v) for v in node["items"])
        if kind in ("dict", "OrderedDict"):
            out = OrderedDict() if kind == "OrderedDict" else {}
            for k, v in node["items"]:
                out[self.decode(k)] = self.decode(v)
            return out
        if kind == "tensor":
            return Tensor(self.array(node), requires_grad=bool(node["requires_grad"]))
        if kind == "ndarray":
            return self.array(node)
        if kind == "numpy_scalar":
            return self.array(node)[()]
        if kind == "bytes":
            return base64.b64decode(node["base64"], validate=True)
        if kind == "dtype":
            return np.dtype(node["name"])
        raise ValueError(f"unknown node type {kind!r}")


def _check_map_location(map_location):
    if map_location is None or callable(map_location):
        return
    places = map_location.values() if isinstance(map_location, dict) else [map_location]
    for place in places:
        try:
            if device_(place).type != "cpu":  # devices other than the CPU can be named
                raise RuntimeError(place)
        except (RuntimeError, TypeError, ValueError):
            raise RuntimeError(f"autograd.load: map_location={map_location!r}: tapegrad runs "
                               "on the CPU only, every tensor loads onto the CPU") from None


def load(f, map_location=None, *, weights_only=None, mmap=None):
    """Load an object saved with :func:`save`, or the tensors of any safetensors file
    (``torch.load``).

    Args:
        f (str, os.PathLike or binary file object): the file.
        map_location: accepted for PyTorch compatibility: ``None``, ``'cpu'``,
            ``autograd.device('cpu')``, a dict whose values are CPU devices, or a callable
            (ignored). Every tensor loads onto the CPU.
        weights_only (bool): accepted for PyTorch compatibility; loading is always
            weights-only (nothing in the file is executed), whatever the value.
        mmap: accepted for PyTorch compatibility and ignored: a path is read through a memory
            map into arrays the result owns, a file object is read whole.

    Returns:
        The saved object, with the types it had (tuples stay tuples, integer dict keys stay
        integers, ``OrderedDict`` stays ``OrderedDict``); tensors are ``Tensor`` with their
        ``requires_grad``; tensors saved once because they shared memory share one array
        again. For a safetensors file that tapegrad did not write (e.g. from
        ``safetensors.torch.save_file(model.state_dict(), path)``): a ``dict`` name ->
        ``Tensor``, so ``model.load_state_dict(autograd.load(path))`` loads PyTorch weights
        (bfloat16 arrays become float32).

    Raises:
        SerializationError (a ValueError): for an empty, truncated, corrupted or foreign file
            (pickle, ``torch.save`` zip, ``.npy``), a checksum mismatch, or a file written by a
            newer format version; the message names the file and the problem.
        FileNotFoundError: if the path does not exist.
        RuntimeError: for a ``map_location`` that is not the CPU.
    """
    del weights_only, mmap  # always weights-only; arrays always owned
    _check_map_location(map_location)
    if hasattr(f, "read"):
        name, data = _read(f)
        header, metadata = _check_header(data, name)
        arrays = _arrays(data, header, name)
        del data
    else:
        path = os.fspath(f)
        name = repr(os.fsdecode(path))
        with open(path, "rb") as fh:
            header, metadata = _check_header(_read_head(fh), name, os.fstat(fh.fileno()).st_size)
            arrays = _arrays_from_file(path, fh, header, name)
    ours = {k for k in metadata if k.startswith("tapegrad.")}
    if not ours:
        return {key: Tensor(arr) for key, arr in arrays.items()}
    structure = _check_tapegrad_metadata(metadata, ours, header, arrays, name)
    try:
        return _Decoder(arrays, name).decode(structure)
    except SerializationError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as e:
        raise SerializationError(f"autograd.load: {name} is corrupted: its structure "
                                 f"description is invalid ({type(e).__name__}: {e})") from e
