"""Read the tensors of a legacy PyTorch checkpoint (``torch.save`` before 1.6) without torch.

Some published models exist only as such a file; to convert one to ONNX we need its
weights, not PyTorch (a multi-gigabyte install). The legacy format is: a pickled magic
number, protocol version and system info; a pickle of the state dict in which every
tensor's storage is a *persistent id* ``("storage", type, key, location, numel, view)``;
a pickle of the storage keys in file order; then, per key, an int64 element count and
the raw little-endian data.

Only the classes a state dict needs are let through the unpickler (an ``OrderedDict``
and torch's tensor rebuild functions); anything else is refused, so reading an untrusted
checkpoint cannot run code.
"""

from __future__ import annotations

import io
import pickle
import struct
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["read_legacy_state_dict", "PthFormatError", "LEGACY_MAGIC"]

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class PthFormatError(ValueError):
    """The file is not a legacy PyTorch checkpoint this reader understands."""


@dataclass
class _Storage:
    key: str
    dtype: type
    numel: int
    data: np.ndarray | None = None


@dataclass(frozen=True)
class _StorageType:
    dtype: type


@dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def materialise(self) -> np.ndarray:
        assert self.storage.data is not None
        item = self.storage.data.itemsize
        if not self.size:
            return np.array(self.storage.data[self.offset])
        view = np.lib.stride_tricks.as_strided(
            self.storage.data[self.offset :],
            shape=self.size,
            strides=tuple(s * item for s in self.stride),
        )
        return np.array(view)  # a contiguous copy, independent of the storage


def _rebuild_tensor(storage, storage_offset, size, stride, *_rest):
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_parameter(data, requires_grad, backward_hooks, *_rest):
    return data


class _Unpickler(pickle.Unpickler):
    def __init__(self, fh, storages: dict[str, _Storage]):
        super().__init__(fh)
        self._storages = storages

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch._utils" and name in {"_rebuild_tensor_v2", "_rebuild_tensor"}:
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise PthFormatError(f"refusing to load {module}.{name} from a checkpoint")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise PthFormatError(f"unexpected persistent id {pid!r}")
        _, stype, key, _location, numel, view = pid
        if view is not None:
            raise PthFormatError("storage views are not supported")
        if not isinstance(stype, _StorageType):
            raise PthFormatError(f"unknown storage type {stype!r}")
        st = self._storages.get(key)
        if st is None:
            st = self._storages[key] = _Storage(str(key), stype.dtype, int(numel))
        return st


def _tensors(obj) -> object:
    if isinstance(obj, _TensorRef):
        return obj.materialise()
    if isinstance(obj, dict):
        return OrderedDict((k, _tensors(v)) for k, v in obj.items())
    return obj


def read_legacy_state_dict(path: Path | str) -> "OrderedDict[str, np.ndarray]":
    """The checkpoint's state dict as ``name -> numpy array`` (a ``state_dict`` key wraps
    it in some checkpoints; that is unwrapped). Raises :class:`PthFormatError`."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"PK":
        raise PthFormatError(f"{path} is a zip-format PyTorch file, not the legacy format")
    fh = io.BytesIO(raw)
    try:
        magic = pickle.load(fh)
        if magic != LEGACY_MAGIC:
            raise PthFormatError(f"{path}: not a legacy PyTorch checkpoint (bad magic number)")
        pickle.load(fh)  # protocol version
        sys_info = pickle.load(fh)
        if not sys_info.get("little_endian", True):
            raise PthFormatError(f"{path}: big-endian checkpoints are not supported")
        storages: dict[str, _Storage] = {}
        result = _Unpickler(fh, storages).load()
        keys = pickle.load(fh)
    except PthFormatError:
        raise
    except Exception as exc:  # truncated or foreign file
        raise PthFormatError(f"{path}: cannot read as a legacy PyTorch checkpoint ({exc})") from exc
    for key in keys:
        st = storages[key]
        (count,) = struct.unpack("<q", fh.read(8))
        nbytes = count * np.dtype(st.dtype).itemsize
        buf = fh.read(nbytes)
        if len(buf) != nbytes:
            raise PthFormatError(f"{path}: truncated storage {key}")
        st.data = np.frombuffer(buf, dtype=np.dtype(st.dtype).newbyteorder("<"))
    missing = [k for k, s in storages.items() if s.data is None]
    if missing:
        raise PthFormatError(f"{path}: storages without data: {missing[:3]}")
    if isinstance(result, dict) and "state_dict" in result and isinstance(result["state_dict"], dict):
        result = result["state_dict"]
    if not isinstance(result, dict):
        raise PthFormatError(f"{path}: does not hold a state dict")
    return _tensors(result)
