"""Time per comparison: two images in, a decision out (detection, quality, alignment,
embedding and matching of both faces; decoding excluded), on listed LFW pairs.

``python -m benchmarks.face_speed N [--api templates|faces] [--model M]`` prints one
JSON line. ``--api templates`` uses only ``extract_template`` and ``compare_templates``
(the calls the service makes, present in every version of the library), so the same
file run against an older checkout gives the before figure; ``--api faces`` uses
``compare_faces`` (one detection per image, both faces embedded in one batch). The
first pairs warm the models up and are not counted. The machine's load average is
recorded with the figures: on a shared CPU the wall time depends on what else runs, so
the process's CPU time per comparison is reported too.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces" / "lfw"
WARMUP = 3


def time_comparisons(n: int, api: str = "faces", model: str | None = None, seed: int = 0) -> dict:
    from kyc.biometrics import compare_templates, extract_template
    from kyc.errors import KycError

    rows = list(csv.DictReader((DATA / "pairs.csv").open()))
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(rows), size=min(n + WARMUP, len(rows)), replace=False)
    ms, cpu, stages, errors = [], [], [], 0
    load = [os.getloadavg()[0]]
    for k, i in enumerate(picks):
        r = rows[i]
        a = cv2.imread(str(DATA / r["img_a"]), cv2.IMREAD_COLOR)
        b = cv2.imread(str(DATA / r["img_b"]), cv2.IMREAD_COLOR)
        t, c = time.perf_counter(), time.process_time()
        try:
            if api == "faces":
                from kyc.biometrics.pipeline import compare_faces

                cmp = compare_faces(a, b, role_a="id_portrait", role_b="selfie", model=model).comparison
            else:
                ta = extract_template(a, "id_portrait", model)
                tb = extract_template(b, "selfie", model)
                cmp = compare_templates(ta, tb, "fmr_1e-3")
        except KycError:
            errors += 1
            continue
        dt, dc = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
        if k >= WARMUP:
            ms.append(dt)
            cpu.append(dc)
            stages.append(getattr(cmp, "stage", None) or cmp.model)
    load.append(os.getloadavg()[0])
    a = np.array(ms)
    return {
        "api": api,
        "model": model or "default",
        "comparisons": len(a),
        "errors": errors,
        "mean_ms": round(float(a.mean()), 1),
        "p50_ms": round(float(np.percentile(a, 50)), 1),
        "p95_ms": round(float(np.percentile(a, 95)), 1),
        # CPU time of the process (all its threads): what a comparison costs whatever else runs
        "cpu_mean_ms": round(float(np.mean(cpu)), 1),
        "cpu_p95_ms": round(float(np.percentile(cpu, 95)), 1),
        "stages": {s: stages.count(s) for s in sorted(set(stages))},
        "load_avg_1min": [round(x, 2) for x in load],
        "cpus": os.cpu_count(),
    }


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m benchmarks.face_speed", description=__doc__)
    ap.add_argument("n", type=int)
    ap.add_argument("--api", choices=["faces", "templates"], default="faces")
    ap.add_argument("--model", default=None)
    args = ap.parse_args(argv)
    print(json.dumps(time_comparisons(args.n, args.api, args.model)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
