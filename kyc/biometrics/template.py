"""Face templates: embeddings plus the identity of the models that made them.

Binary format (little-endian), ready to be encrypted by the vault::

    b"KFT" | format version (u8, = 1) | model name (u8 length + ASCII)
    | component count (u8) | per component: version (u8 length + ASCII),
      dimension (u16), dimension x float16

A component's version is ``<manifest id>@<first 12 hex digits of its SHA-256>``, so a
template made by another file of the same model is refused, not silently compared.
float16 keeps a 128-D + 192-D fused template at about 700 bytes; the rounding changes
cosine similarities by about 1e-4.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from kyc.errors import error

__all__ = ["Template", "TEMPLATE_FORMAT_VERSION"]

_MAGIC = b"KFT"
TEMPLATE_FORMAT_VERSION = 1


def _put_str(out: bytearray, s: str) -> None:
    raw = s.encode("ascii")
    if len(raw) > 255:
        raise ValueError("string too long for a template field")
    out.append(len(raw))
    out += raw


@dataclass(frozen=True)
class Template:
    """``model`` is the matcher's name (``dlib``, ``mobilefacenet``, ``fused`` or
    ``cascade``); ``components`` are (version, L2-normalised embedding) pairs, in a
    fixed order.

    ``source`` is the RGB image and face a template was made from, kept in memory (never
    serialised) by a ``cascade`` template, whose expensive second model is computed only
    when a comparison lands in the band where it decides. ``quality`` is the quality
    report of the face it was made from (in memory only), for the decision's quality band.
    """

    model: str
    components: tuple[tuple[str, np.ndarray], ...]
    source: tuple[np.ndarray, object] | None = field(default=None, compare=False, repr=False)
    quality: object | None = field(default=None, compare=False, repr=False)

    @property
    def version(self) -> str:
        return "+".join(v for v, _ in self.components)

    @property
    def embeddings(self) -> dict[str, np.ndarray]:
        return {v.split("@", 1)[0]: e for v, e in self.components}

    def to_bytes(self) -> bytes:
        out = bytearray(_MAGIC)
        out.append(TEMPLATE_FORMAT_VERSION)
        _put_str(out, self.model)
        out.append(len(self.components))
        for version, emb in self.components:
            _put_str(out, version)
            vec = np.asarray(emb, dtype="<f2").ravel()
            out += struct.pack("<H", vec.size)
            out += vec.tobytes()
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Template:
        """Parse :meth:`to_bytes` output; anything else is ``template_invalid``."""
        try:
            if data[:3] != _MAGIC:
                raise ValueError("magic")
            if data[3] != TEMPLATE_FORMAT_VERSION:
                raise ValueError("format version")
            pos = 4

            def get_str() -> str:
                nonlocal pos
                n = data[pos]
                s = data[pos + 1 : pos + 1 + n]
                if len(s) != n:
                    raise ValueError("truncated")
                pos += 1 + n
                return s.decode("ascii")

            model = get_str()
            count = data[pos]
            pos += 1
            comps = []
            for _ in range(count):
                version = get_str()
                (dim,) = struct.unpack_from("<H", data, pos)
                pos += 2
                raw = data[pos : pos + 2 * dim]
                if len(raw) != 2 * dim:
                    raise ValueError("truncated")
                pos += 2 * dim
                vec = np.frombuffer(raw, dtype="<f2").astype(np.float32)
                if not np.all(np.isfinite(vec)):
                    raise ValueError("not finite")
                comps.append((version, vec))
            if pos != len(data) or not comps:
                raise ValueError("length")
        except (IndexError, ValueError, UnicodeDecodeError, struct.error):
            raise error("template_invalid") from None
        return cls(model=model, components=tuple(comps))
