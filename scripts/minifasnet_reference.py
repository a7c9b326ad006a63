"""Reference outputs of MiniFASNet computed with PyTorch, for tests/test_minifasnet.py.

Run once, in a throwaway virtual environment that has torch (never the project's):

    python3.11 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.13.0 numpy
    /tmp/torchenv/bin/python scripts/minifasnet_reference.py ../shared/models/silent_face > tests/data/minifasnet_reference.json

It re-implements the public MiniFASNet architecture (minivision-ai/Silent-Face-Anti-Spoofing,
``src/model_lib/MiniFASNet.py``) as plain torch modules whose parameter names match the
checkpoint, loads the checkpoint with ``torch.load`` + ``load_state_dict(strict=True)``
(so a wrong layout fails loudly), and prints the softmax of each model on the inputs of
:func:`reference_inputs`, which the test rebuilds with numpy alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

MODELS = {
    "minifasnet-v2": ("2.7_80x80_MiniFASNetV2.pth", False, [32, 32, 103, 103, 64, 13, 13, 64, 13, 13, 64, 13, 13, 64, 13, 13, 64, 231, 231, 128, 231, 231, 128, 52, 52, 128, 26, 26, 128, 77, 77, 128, 26, 26, 128, 26, 26, 128, 308, 308, 128, 26, 26, 128, 26, 26, 128, 512, 512]),
    "minifasnet-v1se": ("4_0_0_80x80_MiniFASNetV1SE.pth", True, [32, 32, 103, 103, 64, 13, 13, 64, 26, 26, 64, 13, 13, 64, 52, 52, 64, 231, 231, 128, 154, 154, 128, 52, 52, 128, 26, 26, 128, 52, 52, 128, 26, 26, 128, 26, 26, 128, 308, 308, 128, 26, 26, 128, 26, 26, 128, 512, 512]),
}


def reference_inputs() -> np.ndarray:
    """Three deterministic 3x80x80 BGR images (0-255) from closed-form patterns: a smooth
    colour gradient, a ring pattern, and a checkerboard with a bright disc."""
    yy, xx = np.mgrid[0:80, 0:80].astype(np.float64)
    a = np.stack([xx * 3.0, yy * 3.0, (xx + yy) * 1.5])
    r = np.hypot(xx - 40, yy - 40)
    b = np.stack([127.5 + 127.5 * np.sin(r / 3.0), 127.5 + 127.5 * np.cos(r / 5.0), 255 - r * 3.0])
    check = ((xx // 10 + yy // 10) % 2) * 200.0
    disc = (r < 20) * 55.0
    c = np.stack([check + disc, check * 0.5 + disc, 255 - check - disc])
    return np.clip(np.stack([a, b, c]), 0, 255).astype(np.float32)


def build(keep: list[int], se: bool):
    import torch
    from torch import nn

    class ConvBN(nn.Module):
        def __init__(self, cin, cout, k, s, p, groups=1, act=True):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, k, s, p, groups=groups, bias=False)
            self.bn = nn.BatchNorm2d(cout)
            if act:
                self.prelu = nn.PReLU(cout)
            self.act = act

        def forward(self, x):
            x = self.bn(self.conv(x))
            return self.prelu(x) if self.act else x

    class SE(nn.Module):
        def __init__(self, ch, red=4):
            super().__init__()
            self.fc1 = nn.Conv2d(ch, ch // red, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(ch // red)
            self.fc2 = nn.Conv2d(ch // red, ch, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(ch)

        def forward(self, x):
            g = x.mean(dim=(2, 3), keepdim=True)
            g = torch.relu(self.bn1(self.fc1(g)))
            return x * torch.sigmoid(self.bn2(self.fc2(g)))

    class Block(nn.Module):
        def __init__(self, c_expand, c_dw, c_out, cin, stride, residual, with_se):
            super().__init__()
            self.conv = ConvBN(cin, c_expand, 1, 1, 0)
            self.conv_dw = ConvBN(c_expand, c_dw, 3, stride, 1, groups=c_expand)
            self.project = ConvBN(c_dw, c_out, 1, 1, 0, act=False)
            self.residual = residual
            if with_se:
                self.se_module = SE(c_out)
            self.with_se = with_se

        def forward(self, x):
            y = self.project(self.conv_dw(self.conv(x)))
            if not self.residual:
                return y
            if self.with_se:
                y = self.se_module(y)
            return x + y

    class Stage(nn.Module):
        def __init__(self, blocks):
            super().__init__()
            self.model = nn.Sequential(*blocks)

        def forward(self, x):
            return self.model(x)

    k = keep

    def stage(start, n, cin):
        blocks = []
        for i in range(n):
            j = start + 3 * i
            blocks.append(Block(k[j + 1], k[j + 2], k[j + 3], cin, 1, True, se and i == n - 1))
        return Stage(blocks)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = ConvBN(3, k[0], 3, 2, 1)
            self.conv2_dw = ConvBN(k[0], k[1], 3, 1, 1, groups=k[1])
            self.conv_23 = Block(k[2], k[3], k[4], k[1], 2, False, False)
            self.conv_3 = stage(4, 4, k[4])
            self.conv_34 = Block(k[17], k[18], k[19], k[16], 2, False, False)
            self.conv_4 = stage(19, 6, k[19])
            self.conv_45 = Block(k[38], k[39], k[40], k[37], 2, False, False)
            self.conv_5 = stage(40, 2, k[40])
            self.conv_6_sep = ConvBN(k[46], k[47], 1, 1, 0)
            self.conv_6_dw = ConvBN(k[47], k[48], 5, 1, 0, groups=k[48], act=False)
            self.linear = nn.Linear(512, 128, bias=False)
            self.bn = nn.BatchNorm1d(128)
            self.prob = nn.Linear(128, 3, bias=False)

        def forward(self, x):
            for m in [self.conv1, self.conv2_dw, self.conv_23, self.conv_3, self.conv_34, self.conv_4, self.conv_45, self.conv_5, self.conv_6_sep, self.conv_6_dw]:
                x = m(x)
            x = self.bn(self.linear(x.flatten(1)))
            return torch.softmax(self.prob(x), dim=1)

    return Net()


def main(folder: str) -> None:
    import torch

    out = {"inputs": "scripts/minifasnet_reference.py:reference_inputs", "torch": torch.__version__, "outputs": {}}
    x = torch.from_numpy(reference_inputs())
    for model_id, (fname, se, keep) in MODELS.items():
        state = torch.load(Path(folder) / fname, map_location="cpu", weights_only=True)
        state = {k.removeprefix("module."): v for k, v in state.items()}
        net = build(keep, se)
        net.load_state_dict(state, strict=True)
        net.eval()
        with torch.no_grad():
            out["outputs"][model_id] = net(x).numpy().astype(float).round(7).tolist()
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
