"""TFLite → ONNX conversion for ``registry = "derived"`` manifest entries.

``tflite2onnx`` converts MobileFaceNet exactly, but it writes the graph's initializers
in set order, which changes with Python's hash seed: the same input gives a different
file (and SHA-256) each run. We sort the graph's lists by name before saving so the
manifest checksum is stable. The converter registers itself in
:data:`kyc.model_registry.CONVERTERS` under the name used in ``models/face.toml``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from kyc.model_registry import CONVERTERS

__all__ = ["tflite_to_onnx", "CONVERTER_NAME"]

CONVERTER_NAME = "kyc.biometrics.conversion:tflite_to_onnx"


def tflite_to_onnx(src: Path, dest: Path) -> None:
    """Convert a TFLite model to ONNX (NCHW input, as tflite2onnx lays it out), byte-stable."""
    import onnx
    import tflite2onnx

    with tempfile.TemporaryDirectory(prefix="kyc-tflite2onnx-") as work:
        raw = Path(work) / "raw.onnx"
        tflite2onnx.convert(str(src), str(raw))
        model = onnx.load(str(raw))
    graph = model.graph
    for field in (graph.initializer, graph.value_info):
        items = sorted(field, key=lambda t: t.name)
        del field[:]
        field.extend(items)
    with Path(dest).open("wb") as fh:
        fh.write(model.SerializeToString(deterministic=True))


CONVERTERS[CONVERTER_NAME] = tflite_to_onnx
