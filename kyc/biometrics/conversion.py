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

__all__ = ["tflite_to_onnx", "dynamic_batch", "CONVERTER_NAME"]

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


def dynamic_batch(model_bytes: bytes) -> bytes:
    """The same ONNX graph with a free batch dimension.

    tflite2onnx keeps the TFLite file's fixed batch (MobileFaceNet: 2) in the graph's
    input and output shapes and in the shape constants of its Reshape nodes; the
    weights do not depend on it. Making it free lets both faces of a comparison (and
    their mirror images) go through the network in one run. Outputs are bit-identical
    to the fixed-batch graph's for the same inputs.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    batch = graph.input[0].type.tensor_type.shape.dim[0].dim_value
    shape_inputs = {n.input[1] for n in graph.node if n.op_type == "Reshape"}
    for init in graph.initializer:
        if init.name in shape_inputs:
            shape = numpy_helper.to_array(init).copy()
            if shape.ndim == 1 and shape.size and batch and shape[0] == batch:
                shape[0] = -1
                init.CopyFrom(numpy_helper.from_array(shape, init.name))
    for tensor in list(graph.input) + list(graph.output):
        tensor.type.tensor_type.shape.dim[0].dim_param = "batch"
    del graph.value_info[:]  # inferred shapes with the old batch; onnxruntime infers them again
    return model.SerializeToString()


CONVERTERS[CONVERTER_NAME] = tflite_to_onnx
