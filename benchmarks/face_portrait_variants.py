"""Portrait handling measured on the card-portrait task: does a transformation of the
reader's portrait before embedding lower the FNMR?

``python -m benchmarks.face_portrait_variants`` re-embeds the card portraits kept by
``kyc bench face --card-portraits`` (``var/face-bench/cards-fold*-n150-v1/``) with each
variant and prints the genuine FNMR at the deployed LFW 1e-3 thresholds (fusion and
cascade) with the FMR over the cross-identity pairs of each fold, per variant, on all
cards and on the watermarked ones. Only a variant that lowers the FNMR at the same FMR
is worth putting in the pipeline.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from benchmarks.face import DATA, Features, _cache_path, card_files, lfw_files
from benchmarks.face_cache import embed_images


def red_green_grey(img: np.ndarray) -> np.ndarray:
    """Grey from the red and green channels only: a blue watermark (the usual ink of
    ``复印无效``-style overlays) all but disappears, the face's shading stays."""
    g = ((img[:, :, 1].astype(np.uint16) + img[:, :, 2]) // 2).astype(np.uint8)
    return cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)


def unsharp(img: np.ndarray) -> np.ndarray:
    blur = cv2.GaussianBlur(img, (0, 0), 2.0)
    return cv2.addWeighted(img, 1.6, blur, -0.6, 0)


VARIANTS = {"red_green_grey": red_green_grey, "unsharp": unsharp}


def main(argv: list[str]) -> int:
    from benchmarks.face_cascade import cascade_accepts
    from kyc.biometrics.matching import CALIBRATION_FILE

    cal = json.loads(CALIBRATION_FILE.read_text())
    fused, mfn = cal["models"]["fused"], cal["models"]["mobilefacenet"]
    lo, hi = cal["cascade"]["bands"]["fmr_1e-3"]
    root = DATA / "lfw"
    rows = list(csv.DictReader((root / "pairs.csv").open()))
    rows = [r for r in rows if int(r["fold"]) in (1, 2)]
    files = lfw_files(rows)
    index = {f: i for i, f in enumerate(files)}
    lfw = Features(embed_images(root, files, _cache_path("lfw")))
    out = {}
    for variant in ["none", *VARIANTS]:
        g_f, g_m, i_f, i_m, wm = [], [], [], [], []
        for k in (1, 2):
            cfiles = card_files(rows, k, 150)
            base = _cache_path(f"cards-fold{k}-n150")
            folder = base.with_suffix("")
            if variant == "none":
                cc = dict(np.load(base, allow_pickle=False))
            else:
                seeds = {f: k * 10000 + i for i, f in enumerate(cfiles)}

                def read(path: Path, seeds=seeds, folder=folder, fn=VARIANTS[variant]) -> np.ndarray | None:
                    img = cv2.imread(str(folder / f"{seeds[str(path.relative_to(root))]:05d}.jpg"), cv2.IMREAD_COLOR)
                    return None if img is None else fn(img)

                cc = embed_images(root, cfiles, _cache_path(f"cards-fold{k}-n150-{variant}"), read=read)
            cf = Features(cc)
            cidx = {f: i for i, f in enumerate(cfiles)}
            gen = np.array([[cidx[r["img_a"]], index[r["img_b"]]] for r in rows if int(r["fold"]) == k and r["same_person"] == "1" and r["img_a"] in cidx])
            fold_imgs = np.array(sorted({index[r[c]] for r in rows if int(r["fold"]) == k for c in ("img_a", "img_b")}))
            cid = np.array([Path(f).parent.name for f in cfiles])
            lid = np.array([Path(files[j]).parent.name for j in fold_imgs])
            ii, jj = np.nonzero(cid[:, None] != lid[None, :])
            imp = np.stack([ii, fold_imgs[jj]], 1)
            for pairs, gf, gm in ((gen, g_f, g_m), (imp, i_f, i_m)):
                ok = cc["found"][pairs[:, 0]] & lfw.found[pairs[:, 1]]
                cos = {c: np.einsum("ij,ij->i", cf.emb[c][pairs[:, 0]], lfw.emb[c][pairs[:, 1]]) for c in ("dlib", "mobilefacenet")}
                sf = 1 / (1 + np.exp(-(fused["bias"] + fused["weights"][0] * cos["dlib"] + fused["weights"][1] * cos["mobilefacenet"])))
                sm = 1 / (1 + np.exp(-(mfn["bias"] + mfn["weights"][0] * cos["mobilefacenet"])))
                gf.append(np.where(ok, sf, 0.0))
                gm.append(np.where(ok, sm, 0.0))
            wm.append(np.array([bool(x) for x in np.load(base)["cond_watermark"]])[gen[:, 0]])
        gf, gm, fi, mi, w = (np.concatenate(x) for x in (g_f, g_m, i_f, i_m, wm))
        t = fused["thresholds"]["fmr_1e-3"]
        casc_g = cascade_accepts(gm, gf, lo, hi, t)
        out[variant] = {
            "fused_fnmr": float(np.mean(gf < t)),
            "fused_fmr": float(np.mean(fi >= t)),
            "cascade_fnmr": float(np.mean(~casc_g)),
            "cascade_fmr": float(np.mean(cascade_accepts(mi, fi, lo, hi, t))),
            "cascade_fnmr_watermark": float(np.mean(~casc_g[w])),
            "cascade_fnmr_clean": float(np.mean(~casc_g[~w])),
            "genuine": int(len(gf)),
        }
        print(variant, json.dumps(out[variant]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
