"""MiniFASNet (Silent-Face-Anti-Spoofing) as ONNX, built from its PyTorch weights without torch.

The published weights are legacy PyTorch checkpoints (read by :mod:`kyc.pth_reader`).
The network is the public MiniFASNet architecture (minivision-ai/Silent-Face-Anti-Spoofing,
``src/model_lib/MiniFASNet.py``, Apache-2.0): a stem, four stages of depth-wise
bottleneck blocks (residual inside a stage, stride 2 between stages; the ``SE``
variant ends each stage with a squeeze-and-excitation block), a 1x1 expansion to 512,
a 5x5 depth-wise "global" convolution, a 128-D embedding with batch norm and a
three-class head. Channel counts, groups and the presence of SE blocks are read from
the state dict's shapes and names, so one builder serves V2 and V1SE.

Batch norms are folded into the preceding convolution or linear layer, in float64 and
then cast, so the graph is small and the bytes are the same on every machine; the
converted file is checked against the manifest's SHA-256 like any other model.

Input ``input``: N x 3 x 80 x 80 float32, BGR, values 0-255 (not normalised).
Output ``probabilities``: N x 3 softmax; index 1 is "real face".
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from kyc.model_registry import CONVERTERS
from kyc.pth_reader import read_legacy_state_dict

__all__ = ["build_minifasnet_onnx", "convert_minifasnet", "CONVERTER_NAME", "INPUT_SIZE", "REAL_INDEX"]

CONVERTER_NAME = "kyc.liveness._minifasnet_onnx:minifasnet"
INPUT_SIZE = 80
REAL_INDEX = 1
BN_EPS = 1e-5
OPSET = 13
IR_VERSION = 8
# Stages in forward order, with the stride of their depth-wise convolution.
_STAGES = [("conv_23", 2), ("conv_3", 1), ("conv_34", 2), ("conv_4", 1), ("conv_45", 2), ("conv_5", 1)]


class _Graph:
    """Accumulates nodes and initializers; names are derived from state-dict prefixes."""

    def __init__(self, state: "OrderedDict[str, np.ndarray]"):
        from onnx import helper  # noqa: F401  (imported here: only conversion needs onnx)

        self.state = state
        self.nodes: list = []
        self.inits: list = []

    def w(self, key: str) -> np.ndarray:
        return np.asarray(self.state["module." + key], dtype=np.float64)

    def has(self, key: str) -> bool:
        return ("module." + key) in self.state

    def const(self, name: str, arr: np.ndarray) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def _fold_bn(self, bn: str, weight: np.ndarray, bias: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        gamma, beta = self.w(bn + ".weight"), self.w(bn + ".bias")
        mean, var = self.w(bn + ".running_mean"), self.w(bn + ".running_var")
        k = gamma / np.sqrt(var + BN_EPS)
        shape = (-1,) + (1,) * (weight.ndim - 1)
        b = bias if bias is not None else np.zeros_like(mean)
        return weight * k.reshape(shape), (b - mean) * k + beta

    def conv_bn(self, x: str, prefix: str, *, stride: int, prelu: bool, in_ch: int) -> tuple[str, int]:
        """Conv (no bias) + BatchNorm (+ PReLU): ``Conv_block`` / ``Linear_block``."""
        weight = self.w(prefix + ".conv.weight")
        out_ch, per_group, kh, kw = weight.shape
        groups = in_ch // per_group
        pad = 0 if kh == 1 or prefix.endswith("conv_6_dw") else kh // 2
        wf, bf = self._fold_bn(prefix + ".bn", weight, None)
        y = self.node(
            "Conv",
            [x, self.const(prefix + ".W", wf), self.const(prefix + ".B", bf)],
            prefix + ".conv",
            kernel_shape=[int(kh), int(kw)],
            strides=[stride, stride],
            pads=[pad, pad, pad, pad],
            group=int(groups),
        )
        if prelu:
            slope = self.w(prefix + ".prelu.weight").reshape(-1, 1, 1)
            y = self.node("PRelu", [y, self.const(prefix + ".slope", slope)], prefix + ".prelu")
        return y, int(out_ch)

    def se(self, x: str, prefix: str, ch: int) -> str:
        """Squeeze-and-excitation: x * sigmoid(BN(fc2(relu(BN(fc1(avgpool(x)))))))."""
        p = self.node("GlobalAveragePool", [x], prefix + ".pool")
        w1, b1 = self._fold_bn(prefix + ".bn1", self.w(prefix + ".fc1.weight"), None)
        h = self.node("Conv", [p, self.const(prefix + ".W1", w1), self.const(prefix + ".B1", b1)], prefix + ".fc1", kernel_shape=[1, 1])
        h = self.node("Relu", [h], prefix + ".relu")
        w2, b2 = self._fold_bn(prefix + ".bn2", self.w(prefix + ".fc2.weight"), None)
        h = self.node("Conv", [h, self.const(prefix + ".W2", w2), self.const(prefix + ".B2", b2)], prefix + ".fc2", kernel_shape=[1, 1])
        g = self.node("Sigmoid", [h], prefix + ".gate")
        return self.node("Mul", [x, g], prefix + ".scaled")

    def depth_wise(self, x: str, prefix: str, *, stride: int, residual: bool, in_ch: int) -> tuple[str, int]:
        y, c = self.conv_bn(x, prefix + ".conv", stride=1, prelu=True, in_ch=in_ch)
        y, c = self.conv_bn(y, prefix + ".conv_dw", stride=stride, prelu=True, in_ch=c)
        y, c = self.conv_bn(y, prefix + ".project", stride=1, prelu=False, in_ch=c)
        if residual:
            if self.has(prefix + ".se_module.fc1.weight"):
                y = self.se(y, prefix + ".se_module", c)
            y = self.node("Add", [x, y], prefix + ".add")
        return y, c


def build_minifasnet_onnx(state: "OrderedDict[str, np.ndarray]", name: str):
    """The ``onnx.ModelProto`` of a MiniFASNet(V1/V2/V1SE/V2SE) state dict."""
    from onnx import TensorProto, helper

    g = _Graph(state)
    x, c = g.conv_bn("input", "conv1", stride=2, prelu=True, in_ch=3)
    x, c = g.conv_bn(x, "conv2_dw", stride=1, prelu=True, in_ch=c)
    for stage, stride in _STAGES:
        if g.has(f"{stage}.conv.conv.weight"):  # a single stride-2 block between stages
            x, c = g.depth_wise(x, stage, stride=stride, residual=False, in_ch=c)
            continue
        i = 0
        while g.has(f"{stage}.model.{i}.conv.conv.weight"):
            x, c = g.depth_wise(x, f"{stage}.model.{i}", stride=1, residual=True, in_ch=c)
            i += 1
        if i == 0:
            raise ValueError(f"state dict has no stage {stage!r}: not a MiniFASNet")
    x, c = g.conv_bn(x, "conv_6_sep", stride=1, prelu=True, in_ch=c)
    x, c = g.conv_bn(x, "conv_6_dw", stride=1, prelu=False, in_ch=c)
    x = g.node("Flatten", [x], "flatten", axis=1)
    # Embedding: linear (no bias) then BatchNorm1d, folded into one Gemm.
    lin = g.w("linear.weight") if g.has("linear.weight") else np.eye(c)
    lw, lb = g._fold_bn("bn", lin, None)
    x = g.node("Gemm", [x, g.const("embed.W", lw), g.const("embed.B", lb)], "embedding", transB=1)
    x = g.node("Gemm", [x, g.const("prob.W", g.w("prob.weight"))], "logits", transB=1)
    out = g.node("Softmax", [x], "probabilities", axis=1)
    classes = int(g.w("prob.weight").shape[0])
    graph = helper.make_graph(
        g.nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, INPUT_SIZE, INPUT_SIZE])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", classes])],
        initializer=g.inits,
    )
    model = helper.make_model(
        graph,
        producer_name="kyc.liveness._minifasnet_onnx",
        producer_version="1",
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
    )
    model.doc_string = "MiniFASNet (minivision-ai/Silent-Face-Anti-Spoofing, Apache-2.0); input BGR 0-255 80x80; softmax index 1 = real"
    return model


def convert_minifasnet(src: Path, dest: Path) -> None:
    """Converter for the manifest: legacy ``.pth`` -> checked ONNX file."""
    import onnx

    model = build_minifasnet_onnx(read_legacy_state_dict(src), Path(src).stem)
    onnx.checker.check_model(model)
    dest.write_bytes(model.SerializeToString(deterministic=True))


CONVERTERS[CONVERTER_NAME] = convert_minifasnet
