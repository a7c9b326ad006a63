"""``kyc bench face``: accuracy, FNMR at fixed FMR, and speed of face matching.

Data (``../shared/data/faces``): LFW View-2 pairs (5 identity-disjoint folds),
deepface's test photos (listed pairs), and the mock KYC sets (ID portrait vs selfie).

LFW protocol: for each fold k, everything calibrated (fusion weights, thresholds at
FMR 1e-2/1e-3/1e-4, the best-accuracy threshold) comes from the other four folds and is
applied to fold k. Genuine comparisons are fold k's listed same-person pairs; impostor
comparisons are **every** cross-identity pair of fold k's images (~250,000 per fold),
since the listed different-person pairs are far too few for FMR 1e-3. An image without a
detected face fails its comparisons (similarity 0). Figures are pooled over the 5 folds.

Embeddings are cached under ``var/face-bench/`` (first run: ~10 min per 1,000 images on
2 busy cores), so reruns take seconds. Writes ``reports/face/``: report.md,
report.json, roc.png, det.png. ``--write-calibration`` also writes
``kyc/biometrics/calibration.json`` (fitted on all LFW folds) used by ``compare_templates``.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import time
from pathlib import Path

import numpy as np

from benchmarks.face_cache import CACHE_VERSION, embed_images
from kyc.config import PROJECT_ROOT, get_settings

DATA = (PROJECT_ROOT.parent / "shared" / "data" / "faces").resolve()
FMRS = (1e-2, 1e-3, 1e-4)
OP_NAMES = {1e-2: "fmr_1e-2", 1e-3: "fmr_1e-3", 1e-4: "fmr_1e-4"}


# ----------------------------------------------------------------------------- scoring


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _views(cache: dict[str, np.ndarray], model: str, flip: bool) -> np.ndarray:
    v = cache[f"emb_{model}"]
    e = v[:, 0] + v[:, 1] if flip else v[:, 0]
    n = np.linalg.norm(e, axis=1, keepdims=True)
    return (e / np.maximum(n, 1e-10)).astype(np.float32)


class Features:
    """Cosine similarities of each scorer's components for given image index pairs."""

    def __init__(self, cache: dict[str, np.ndarray]):
        self.found = cache["found"]
        self.emb = {
            "dlib": _views(cache, "dlib", True),
            "dlib_noflip": _views(cache, "dlib", False),
            "mobilefacenet": _views(cache, "mobilefacenet", True),
            "mobilefacenet_noflip": _views(cache, "mobilefacenet", False),
        }

    def cos(self, comp: str, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        e = self.emb[comp]
        return np.einsum("ij,ij->i", e[i], e[j])

    def cos_block(self, comp: str, idx: np.ndarray) -> np.ndarray:
        e = self.emb[comp][idx]
        return e @ e.T


SCORERS = {
    # name: (components, fusion)
    "dlib": (("dlib",), "lr"),
    "dlib_noflip": (("dlib_noflip",), "lr"),
    "mobilefacenet": (("mobilefacenet",), "lr"),
    "mobilefacenet_noflip": (("mobilefacenet_noflip",), "lr"),
    "fused_zsum": (("dlib", "mobilefacenet"), "zsum"),
    "fused": (("dlib", "mobilefacenet"), "lr"),
    "fused_dlib_noflip": (("dlib_noflip", "mobilefacenet"), "lr"),
    "fused_mfn_noflip": (("dlib", "mobilefacenet_noflip"), "lr"),
    "fused_noflip": (("dlib_noflip", "mobilefacenet_noflip"), "lr"),
}
MATCHERS = {"dlib": "dlib", "mobilefacenet": "mobilefacenet", "fused": "fused"}  # scorer -> deployed model
COMPONENT_IDS = {"dlib": "dlib-resnet", "mobilefacenet": "mobilefacenet"}  # feature -> manifest id
FLIP_MARGIN = 0.001  # the mirror image is embedded only if leaving it out costs more FNMR at FMR 1e-3
CASCADE_MARGIN = 0.001  # band fitted so the cascade's FNMR is within this of the fusion's (the target is 0.002)


def choose_flips(results: dict) -> dict[str, bool]:
    """Per model, whether the mirror image pays: it does when leaving it out raises the
    cross-validated FNMR at FMR 1e-3 of the fusion, or of the model alone, by more
    than :data:`FLIP_MARGIN`."""
    f = lambda name: results[name]["summary"]["fnmr@0.001"]  # noqa: E731
    return {
        "dlib": max(f("fused_dlib_noflip") - f("fused"), f("dlib_noflip") - f("dlib")) > FLIP_MARGIN,
        "mobilefacenet": max(f("fused_mfn_noflip") - f("fused"), f("mobilefacenet_noflip") - f("mobilefacenet")) > FLIP_MARGIN,
    }


def deployed_scorers(flips: dict[str, bool]) -> dict[str, str]:
    """Deployed model -> the benchmark scorer with the chosen flips."""
    nf = {k: "" if v else "_noflip" for k, v in flips.items()}
    fused = {(True, True): "fused", (False, True): "fused_dlib_noflip", (True, False): "fused_mfn_noflip", (False, False): "fused_noflip"}
    return {
        "dlib": f"dlib{nf['dlib']}",
        "mobilefacenet": f"mobilefacenet{nf['mobilefacenet']}",
        "fused": fused[(flips["dlib"], flips["mobilefacenet"])],
    }


def fit_fusion(x_gen: np.ndarray, x_imp: np.ndarray, how: str) -> tuple[np.ndarray, float]:
    """Weights and bias mapping cosine features to a logit (the similarity's)."""
    if how == "zsum":
        mu, sd = x_imp.mean(0), x_imp.std(0)
        w = 1.0 / sd
        return w, float(-(mu / sd).sum())
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([x_gen, x_imp])
    y = np.r_[np.ones(len(x_gen)), np.zeros(len(x_imp))]
    lr = LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000)
    lr.fit(x, y)
    return lr.coef_[0].astype(float), float(lr.intercept_[0])


def threshold_at(imp: np.ndarray, fmr: float) -> float:
    """The smallest threshold whose empirical FMR on ``imp`` is at most ``fmr``."""
    s = np.sort(imp)[::-1]
    k = int(np.floor(fmr * len(s)))
    if k >= len(s):
        return float(s[-1])
    return float(np.nextafter(s[k], np.inf)) if k < len(s) else float(s[-1])


def best_acc_threshold(gen: np.ndarray, imp: np.ndarray) -> float:
    cand = np.unique(np.r_[gen, imp])
    if len(cand) > 4000:
        cand = np.quantile(cand, np.linspace(0, 1, 4000))
    acc = [(np.sum(gen >= t) + np.sum(imp < t)) / (len(gen) + len(imp)) for t in cand]
    return float(cand[int(np.argmax(acc))])


# ----------------------------------------------------------------------------- LFW


def card_files(rows: list[dict[str, str]], fold: int, limit: int | None = None) -> list[str]:
    """The images printed on cards for fold ``fold``: the first image of its listed
    same-person pairs (a random ``limit`` of them, fixed by the fold, when the CPU
    cannot afford all); cross-identity pairs of these cards with every image of the
    fold are the impostor comparisons."""
    firsts = sorted({r["img_a"] for r in rows if int(r["fold"]) == fold and r["same_person"] == "1"})
    if limit is not None and limit < len(firsts):
        pick = np.random.default_rng(fold).choice(len(firsts), size=limit, replace=False)
        firsts = [firsts[i] for i in sorted(pick)]
    return firsts


def lfw_files(rows: list[dict[str, str]]) -> list[str]:
    """The images of the listed pairs, fold by fold (the folds are identity-disjoint),
    so an interrupted first embedding run leaves whole folds behind it."""
    fold_of = {}
    for r in rows:
        for c in ("img_a", "img_b"):
            fold_of.setdefault(r[c], int(r["fold"]))
    return sorted(fold_of, key=lambda f: (fold_of[f], f))


def lfw_protocol(cache, rows, files, identities, sample_train_imp: int, rng) -> dict:
    feats = Features(cache)
    index = {f: i for i, f in enumerate(files)}
    folds = sorted({int(r["fold"]) for r in rows})
    pairs = {
        k: (
            np.array([[index[r["img_a"]], index[r["img_b"]]] for r in rows if int(r["fold"]) == k]),
            np.array([int(r["same_person"]) for r in rows if int(r["fold"]) == k]),
        )
        for k in folds
    }
    images_of = {k: np.unique(pairs[k][0].ravel()) for k in folds}
    ident = np.array(identities)

    def imp_pairs(k: int) -> tuple[np.ndarray, np.ndarray]:
        idx = images_of[k]
        iu, ju = np.triu_indices(len(idx), 1)
        diff = ident[idx[iu]] != ident[idx[ju]]
        return idx[iu[diff]], idx[ju[diff]]

    imp_idx = {k: imp_pairs(k) for k in folds}
    imp_cos: dict[tuple[str, int], np.ndarray] = {}

    def features(comps, i, j):
        x = np.stack([feats.cos(c, i, j) for c in comps], axis=1)
        ok = feats.found[i] & feats.found[j]
        return x, ok

    def imp_features(comps, fold_list):
        for c in comps:
            for f in fold_list:
                if (c, f) not in imp_cos:
                    imp_cos[(c, f)] = feats.cos(c, imp_idx[f][0], imp_idx[f][1])
        x = np.stack([np.concatenate([imp_cos[(c, f)] for f in fold_list]) for c in comps], axis=1)
        ii = np.concatenate([imp_idx[f][0] for f in fold_list])
        jj = np.concatenate([imp_idx[f][1] for f in fold_list])
        return x, feats.found[ii] & feats.found[jj]

    results: dict[str, dict] = {}
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    kept: dict[str, dict[int, dict]] = {}  # scorer -> fold -> scores (for the cascade)
    for name, (comps, how) in SCORERS.items():
        per_fold = []
        pooled_gen, pooled_imp, pooled_listed = [], [], []
        pooled_fn: dict[float, list[np.ndarray]] = {fmr: [] for fmr in FMRS}
        for k in folds:
            train = [f for f in folds if f != k]
            g_tr = np.vstack([pairs[f][0][pairs[f][1] == 1] for f in train])
            x_g, ok_g = features(comps, g_tr[:, 0], g_tr[:, 1])
            x_i, ok_i = imp_features(comps, train)
            sel = rng.choice(len(x_i), size=min(sample_train_imp, len(x_i)), replace=False)
            w, b = fit_fusion(x_g[ok_g], x_i[sel][ok_i[sel]], how)
            s_tr_imp = np.where(ok_i, _sigmoid(b + x_i @ w), 0.0)
            s_tr_gen = np.where(ok_g, _sigmoid(b + x_g @ w), 0.0)
            ths = {fmr: threshold_at(s_tr_imp, fmr) for fmr in FMRS}
            # best-accuracy threshold on the listed training pairs (LFW's accuracy protocol)
            lp = np.vstack([pairs[f][0] for f in train])
            ly = np.concatenate([pairs[f][1] for f in train])
            x_l, ok_l = features(comps, lp[:, 0], lp[:, 1])
            s_l = np.where(ok_l, _sigmoid(b + x_l @ w), 0.0)
            t_acc = best_acc_threshold(s_l[ly == 1], s_l[ly == 0])
            t_listed = threshold_at(s_l[ly == 0], 1e-3)  # the listed negatives only (the reference protocol)
            # test fold
            p_te, y_te = pairs[k]
            x_te, ok_te = features(comps, p_te[:, 0], p_te[:, 1])
            s_te = np.where(ok_te, _sigmoid(b + x_te @ w), 0.0)
            gen = s_te[y_te == 1]
            x_ti, ok_ti = imp_features(comps, [k])
            imp = np.where(ok_ti, _sigmoid(b + x_ti @ w), 0.0)
            if how == "lr" and not name.startswith("dlib"):
                kept.setdefault(name, {})[k] = {
                    "tr_gen": s_tr_gen.astype(np.float32),
                    "tr_imp": s_tr_imp.astype(np.float32),
                    "te_gen": gen.astype(np.float32),
                    "te_imp": imp.astype(np.float32),
                    "thresholds": ths,
                }
            fold = {
                "fold": k,
                "genuine": int(len(gen)),
                "impostor": int(len(imp)),
                "accuracy": float(np.mean((s_te >= t_acc) == (y_te == 1))),
                "weights": [float(v) for v in w],
                "bias": b,
            }
            for fmr, t in ths.items():
                pooled_fn[fmr].append(gen < t)
                fold[f"threshold@{fmr:g}"] = t
                fold[f"fnmr@{fmr:g}"] = float(np.mean(gen < t))
                fold[f"fmr_actual@{fmr:g}"] = float(np.mean(imp >= t))
            fold["fnmr_listed_negatives@0.001"] = float(np.mean(gen < t_listed))
            fold["fmr_actual_listed_threshold@0.001"] = float(np.mean(imp >= t_listed))
            per_fold.append(fold)
            pooled_gen.append(gen)
            pooled_imp.append(imp)
            pooled_listed.append((s_te >= t_acc) == (y_te == 1))
        gen_all = np.concatenate(pooled_gen)
        imp_all = np.concatenate(pooled_imp)
        summary = {
            "accuracy": float(np.mean(np.concatenate(pooled_listed))),
            "accuracy_sd_folds": float(np.std([f["accuracy"] for f in per_fold])),
            "genuine": int(len(gen_all)),
            "impostor": int(len(imp_all)),
        }
        for fmr in FMRS:
            fn = np.concatenate(pooled_fn[fmr])
            summary[f"fnmr@{fmr:g}"] = float(np.mean([f[f"fnmr@{fmr:g}"] for f in per_fold]))
            summary[f"fnmr_pooled@{fmr:g}"] = float(np.mean(fn))
            summary[f"fmr_actual@{fmr:g}"] = float(np.mean([f[f"fmr_actual@{fmr:g}"] for f in per_fold]))
        for key in ("fnmr_listed_negatives@0.001", "fmr_actual_listed_threshold@0.001"):
            summary[key] = float(np.mean([f[key] for f in per_fold]))
        results[name] = {"summary": summary, "folds": per_fold}
        curves[name] = (gen_all, imp_all)
    flips = choose_flips(results)
    chosen = deployed_scorers(flips)
    cascade = cascade_cv(kept[chosen["mobilefacenet"]], kept[chosen["fused"]], folds)
    return {"results": results, "curves": curves, "flips": flips, "scorers": chosen, "cascade": cascade}


def cascade_cv(first: dict[int, dict], second: dict[int, dict], folds: list[int]) -> dict:
    """The cascade cross-validated: for each fold, the band fitted on the other folds'
    scores (at each FMR), applied to the fold's comparisons."""
    from benchmarks.face_cascade import band_share, cascade_accepts, fit_band

    out: dict[str, dict] = {}
    for fmr in FMRS:
        fn, fn_full, fm, share_g, share_i, bands = [], [], [], [], [], []
        for k in folds:
            a, b = first[k], second[k]
            t1, t2 = a["thresholds"][fmr], b["thresholds"][fmr]
            band = fit_band(a["tr_gen"], b["tr_gen"], a["tr_imp"], b["tr_imp"], t2, fmr, t1, CASCADE_MARGIN)
            bands.append((band.low, band.high))
            fn.append(~cascade_accepts(a["te_gen"], b["te_gen"], band.low, band.high, t2))
            fn_full.append(b["te_gen"] < t2)
            fm.append(float(np.mean(cascade_accepts(a["te_imp"], b["te_imp"], band.low, band.high, t2))))
            share_g.append(band_share(a["te_gen"], band.low, band.high))
            share_i.append(band_share(a["te_imp"], band.low, band.high))
        out[f"{fmr:g}"] = {
            "fnmr": float(np.mean([np.mean(x) for x in fn])),
            "fnmr_fused": float(np.mean([np.mean(x) for x in fn_full])),
            "fmr_actual": float(np.mean(fm)),
            "share_second_genuine": float(np.mean(share_g)),
            "share_second_impostor": float(np.mean(share_i)),
            "bands": bands,
        }
    return out


def fit_deployment(
    cache, rows, files, identities, sample_imp: int, rng, chosen: dict[str, str], fixed: dict | None = None
) -> tuple[dict, dict]:
    """Fusion weights and thresholds for ``calibration.json``, from the LFW folds in
    ``rows``, with the flips of ``chosen`` (model -> scorer); and the cascade's bands per
    operating point. With ``fixed`` (the ``models`` of an existing calibration) the
    weights and thresholds are kept and only the bands are fitted around them."""
    from benchmarks.face_cascade import fit_band

    feats = Features(cache)
    index = {f: i for i, f in enumerate(files)}
    ident = np.array(identities)
    gp = np.array([[index[r["img_a"]], index[r["img_b"]]] for r in rows if r["same_person"] == "1"])
    folds = sorted({int(r["fold"]) for r in rows})
    ii, jj = [], []
    for k in folds:
        idx = np.unique([index[r[c]] for r in rows if int(r["fold"]) == k for c in ("img_a", "img_b")])
        iu, ju = np.triu_indices(len(idx), 1)
        diff = ident[idx[iu]] != ident[idx[ju]]
        ii.append(idx[iu[diff]])
        jj.append(idx[ju[diff]])
    ii, jj = np.concatenate(ii), np.concatenate(jj)
    models, scores = {}, {}
    ok_g = feats.found[gp[:, 0]] & feats.found[gp[:, 1]]
    ok_i = feats.found[ii] & feats.found[jj]
    for model, scorer in chosen.items():
        comps, how = SCORERS[scorer]
        x_g = np.stack([feats.cos(c, gp[:, 0], gp[:, 1]) for c in comps], 1)
        x_i = np.stack([feats.cos(c, ii, jj) for c in comps], 1)
        if fixed is not None:
            w, b = np.array(fixed[model]["weights"]), float(fixed[model]["bias"])
        else:
            sel = rng.choice(len(ii), size=min(sample_imp, len(ii)), replace=False)
            w, b = fit_fusion(x_g[ok_g], x_i[sel][ok_i[sel]], how)
        s_imp = np.where(ok_i, _sigmoid(b + x_i @ w), 0.0)
        scores[model] = (np.where(ok_g, _sigmoid(b + x_g @ w), 0.0), s_imp)
        if fixed is not None:
            models[model] = dict(fixed[model])
            continue
        models[model] = {
            "components": [COMPONENT_IDS[c.removesuffix("_noflip")] for c in comps],
            "weights": [float(v) for v in w],
            "bias": float(b),
            "thresholds": {OP_NAMES[fmr]: threshold_at(s_imp[ok_i], fmr) for fmr in FMRS},
            "impostor_pairs": int(ok_i.sum()),
            "genuine_pairs": int(ok_g.sum()),
        }
    bands = {}
    (g1, i1), (g2, i2) = scores["mobilefacenet"], scores["fused"]
    for fmr in FMRS:
        op = OP_NAMES[fmr]
        band = fit_band(g1, g2, i1, i2, models["fused"]["thresholds"][op], fmr, models["mobilefacenet"]["thresholds"][op], CASCADE_MARGIN)
        bands[op] = {"band": [band.low, band.high], "fnmr": band.fnmr, "fnmr_fused": band.fnmr_full, "fmr": band.fmr,
                     "share_second_genuine": band.share_genuine, "share_second_impostor": band.share_impostor}
    return models, bands


# ----------------------------------------------------------------------------- card portraits


QUALITY_KEYS = ("inter_eye_px", "sharpness", "yaw_deg", "contrast")


def portrait_quality(cc: dict, cfiles: list[str], folder: Path, seed_offset: int) -> np.ndarray:
    """(n, len(QUALITY_KEYS)) quality measures of each card's portrait (NaN without a face)."""
    import cv2

    from kyc.biometrics.quality import quality_metrics
    from kyc.biometrics.types import FaceDetection

    out = np.full((len(cfiles), len(QUALITY_KEYS)), np.nan)
    for i in np.flatnonzero(cc["found"]):
        img = cv2.imread(str(folder / f"{seed_offset + i:05d}.jpg"), cv2.IMREAD_COLOR)
        if img is None:
            continue
        x, y, w, h = cc["box"][i]
        face = FaceDetection((int(x), int(y), int(w), int(h)), cc["landmarks"][i], float(cc["det_score"][i]), str(cc["detector"][i]))
        m = quality_metrics(img, face, with_eyes=False)
        out[i] = [abs(m[k]) if k == "yaw_deg" else m[k] for k in QUALITY_KEYS]
    return out


def quality_breakdown(q: np.ndarray, fails: dict[str, np.ndarray]) -> dict:
    """Genuine FNMR (per scorer) by quartile of each portrait quality measure."""
    out = {}
    for j, key in enumerate(QUALITY_KEYS):
        v = q[:, j]
        ok = np.isfinite(v)
        if ok.sum() < 8:
            continue
        edges = np.quantile(v[ok], [0, 0.25, 0.5, 0.75, 1.0])
        bins = []
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            sel = ok & (v >= a) & (v <= b)
            bins.append({"range": [float(a), float(b)], "genuine": int(sel.sum()), **{m: float(np.mean(f[sel])) for m, f in fails.items()}})
        out[key] = bins
    return out


BAND_REASONS = {"inter_eye_px": ("below", "portrait_small"), "sharpness": ("below", "portrait_blurred"), "yaw_deg": ("abs_above", "portrait_pose")}
BAND_MIN_FNMR = 0.05  # a quality bin this bad (and twice the overall rate) makes its range the low band


def fit_quality_bands(breakdown: dict, overall: float) -> dict:
    """``portrait_quality_bands`` for ``calibration.json``: for each measure, the worst
    quartile (the lowest size or sharpness, the largest turn) is the ``low`` band when its
    genuine FNMR under the cascade is at least :data:`BAND_MIN_FNMR` and twice the rate
    of the other three quartiles; the limit is that quartile's edge."""
    low_if, evidence = {}, {}
    for key, (kind, reason) in BAND_REASONS.items():
        bins = breakdown.get(key)
        if not bins:
            continue
        worst = bins[0] if kind == "below" else bins[-1]
        rest = [b for b in bins if b is not worst]
        rest_fnmr = sum(b["cascade"] * b["genuine"] for b in rest) / max(1, sum(b["genuine"] for b in rest))
        evidence[key] = {"worst_quartile": worst, "fnmr_rest": rest_fnmr}
        if worst["cascade"] >= BAND_MIN_FNMR and worst["cascade"] >= 2 * rest_fnmr:
            edge = worst["range"][1] if kind == "below" else worst["range"][0]
            low_if[key] = {kind: round(float(edge), 2), "reason": reason}
    return {"low_if": low_if, "evidence": evidence}


def card_portraits(
    lfw_cache, files, rows, card_caches: dict[int, tuple[list[str], dict]], models: dict, flips: dict, bands: dict, card_dirs: dict[int, Path]
) -> dict:
    """Card portrait (first image of each listed same-person pair, printed on a card,
    photographed and read back) against the LFW photo as the selfie.

    Genuine: the listed pair's second image. Impostors: every image of the fold of
    another identity. Two calibrations: the deployed LFW one (``calibration.json``), and
    thresholds fitted on the other card fold(s) (disjoint: calibration on one fold,
    report on another). A card whose portrait the reader did not crop, or in whose
    portrait no face was found, is a failure to acquire, reported apart; its
    comparisons count as non-matches in the FNMR.
    """
    from benchmarks.face_cascade import band_share, cascade_accepts, fit_band

    index = {f: i for i, f in enumerate(files)}
    lfw_feats = Features(lfw_cache)
    per_fold: dict[int, dict] = {}
    for k, (cfiles, cc) in card_caches.items():
        cf = Features(cc)
        cidx = {f: i for i, f in enumerate(cfiles)}
        fold_imgs = np.array(sorted({index[r[c]] for r in rows if int(r["fold"]) == k for c in ("img_a", "img_b")}))
        gen = np.array([[cidx[r["img_a"]], index[r["img_b"]]] for r in rows if int(r["fold"]) == k and r["same_person"] == "1" and r["img_a"] in cidx])
        cid = np.array([Path(f).parent.name for f in cfiles])
        lid = np.array([Path(files[j]).parent.name for j in fold_imgs])
        ii, jj = np.nonzero(cid[:, None] != lid[None, :])
        imp = np.stack([ii, fold_imgs[jj]], 1)
        scores = {}
        for model, m in models.items():
            def sc(pairs, m=m):
                x = np.stack(
                    [
                        np.einsum(
                            "ij,ij->i",
                            cf.emb[c + ("" if flips[c] else "_noflip")][pairs[:, 0]],
                            lfw_feats.emb[c + ("" if flips[c] else "_noflip")][pairs[:, 1]],
                        )
                        for c in ({v: k2 for k2, v in COMPONENT_IDS.items()}[cid_] for cid_ in m["components"])
                    ],
                    1,
                )
                ok = cc["found"][pairs[:, 0]] & lfw_feats.found[pairs[:, 1]]
                return np.where(ok, _sigmoid(m["bias"] + x @ np.array(m["weights"])), 0.0)

            scores[model] = (sc(gen), sc(imp))
        n = len(cfiles)
        per_fold[k] = {
            "quality": portrait_quality(cc, cfiles, card_dirs[k], k * 10000)[gen[:, 0]] if len(gen) else np.zeros((0, len(QUALITY_KEYS))),
            "cards": n,
            "no_portrait": int((cc["n_faces"] < 0).sum()),
            "no_face_in_portrait": int((cc["n_faces"] == 0).sum()),
            "genuine": int(len(gen)),
            "impostor": int(len(imp)),
            "scores": scores,
            "watermark": cc["cond_watermark"][gen[:, 0]] if len(gen) else np.array([], bool),
        }
    out: dict[str, object] = {"folds": {k: {kk: v for kk, v in f.items() if kk not in ("scores", "watermark", "quality")} for k, f in per_fold.items()}}
    cards = sum(f["cards"] for f in per_fold.values())
    out["failure_to_acquire"] = {
        "cards": cards,
        "no_portrait_read": sum(f["no_portrait"] for f in per_fold.values()),
        "no_face_in_portrait": sum(f["no_face_in_portrait"] for f in per_fold.values()),
    }
    out["fta_rate"] = (out["failure_to_acquire"]["no_portrait_read"] + out["failure_to_acquire"]["no_face_in_portrait"]) / max(cards, 1)
    res: dict[str, dict] = {}
    for model in models:
        row: dict[str, float] = {}
        for fmr in (1e-3, 1e-4):
            op = OP_NAMES[fmr]
            t_lfw = models[model]["thresholds"][op]
            g = np.concatenate([f["scores"][model][0] for f in per_fold.values()])
            i = np.concatenate([f["scores"][model][1] for f in per_fold.values()])
            row[f"fnmr@{fmr:g} (LFW thresholds)"] = float(np.mean(g < t_lfw))
            row[f"fmr@{fmr:g} (LFW thresholds)"] = float(np.mean(i >= t_lfw))
            if len(per_fold) >= 2:  # thresholds from the other card folds
                fn, fm = [], []
                for k, f in per_fold.items():
                    cal = np.concatenate([o["scores"][model][1] for kk, o in per_fold.items() if kk != k])
                    t = threshold_at(cal, fmr)
                    fn.append(f["scores"][model][0] < t)
                    fm.append(f["scores"][model][1] >= t)
                row[f"fnmr@{fmr:g} (card thresholds, other fold)"] = float(np.mean(np.concatenate(fn)))
                row[f"fmr@{fmr:g} (card thresholds, other fold)"] = float(np.mean(np.concatenate(fm)))
        res[model] = row
    # the cascade with the deployed (LFW) band and thresholds, and re-fitted on the other card fold
    row = {}
    for fmr in (1e-3, 1e-4):
        op = OP_NAMES[fmr]
        lo, hi = bands[op]["band"]
        t2 = models["fused"]["thresholds"][op]
        g1 = np.concatenate([f["scores"]["mobilefacenet"][0] for f in per_fold.values()])
        g2 = np.concatenate([f["scores"]["fused"][0] for f in per_fold.values()])
        i1 = np.concatenate([f["scores"]["mobilefacenet"][1] for f in per_fold.values()])
        i2 = np.concatenate([f["scores"]["fused"][1] for f in per_fold.values()])
        row[f"fnmr@{fmr:g} (LFW thresholds)"] = float(np.mean(~cascade_accepts(g1, g2, lo, hi, t2)))
        row[f"fmr@{fmr:g} (LFW thresholds)"] = float(np.mean(cascade_accepts(i1, i2, lo, hi, t2)))
        row[f"share_second@{fmr:g} (LFW band, genuine)"] = band_share(g1, lo, hi)
        if len(per_fold) >= 2:
            fn, fm, sh = [], [], []
            for k, f in per_fold.items():
                others = [o for kk, o in per_fold.items() if kk != k]
                cg1 = np.concatenate([o["scores"]["mobilefacenet"][0] for o in others])
                cg2 = np.concatenate([o["scores"]["fused"][0] for o in others])
                ci1 = np.concatenate([o["scores"]["mobilefacenet"][1] for o in others])
                ci2 = np.concatenate([o["scores"]["fused"][1] for o in others])
                t2c, t1c = threshold_at(ci2, fmr), threshold_at(ci1, fmr)
                b = fit_band(cg1, cg2, ci1, ci2, t2c, fmr, t1c, CASCADE_MARGIN)
                fg1, fg2 = f["scores"]["mobilefacenet"][0], f["scores"]["fused"][0]
                fn.append(~cascade_accepts(fg1, fg2, b.low, b.high, t2c))
                fm.append(cascade_accepts(f["scores"]["mobilefacenet"][1], f["scores"]["fused"][1], b.low, b.high, t2c))
                sh.append(band_share(fg1, b.low, b.high))
            row[f"fnmr@{fmr:g} (card thresholds, other fold)"] = float(np.mean(np.concatenate(fn)))
            row[f"fmr@{fmr:g} (card thresholds, other fold)"] = float(np.mean(np.concatenate(fm)))
            row[f"share_second@{fmr:g} (card band, genuine)"] = float(np.mean(sh))
    res["cascade"] = row
    wm = np.concatenate([f["watermark"] for f in per_fold.values()])
    g = np.concatenate([f["scores"]["fused"][0] for f in per_fold.values()])
    t = models["fused"]["thresholds"]["fmr_1e-3"]
    q = np.concatenate([f["quality"] for f in per_fold.values()])
    lo, hi = bands["fmr_1e-3"]["band"]
    g1 = np.concatenate([f["scores"]["mobilefacenet"][0] for f in per_fold.values()])
    out["quality_breakdown_fnmr@0.001_lfw_thresholds"] = quality_breakdown(
        q, {"fused": g < t, "cascade": ~cascade_accepts(g1, g, lo, hi, t), "mobilefacenet": g1 < models["mobilefacenet"]["thresholds"]["fmr_1e-3"]}
    )
    out["by_watermark_fused_lfw_threshold"] = {
        "watermark": {"genuine": int(wm.sum()), "fnmr@0.001": float(np.mean(g[wm] < t)) if wm.any() else None},
        "none": {"genuine": int((~wm).sum()), "fnmr@0.001": float(np.mean(g[~wm] < t)) if (~wm).any() else None},
    }
    out["results"] = res
    overall = res["cascade"]["fnmr@0.001 (LFW thresholds)"]
    out["quality_bands"] = fit_quality_bands(out["quality_breakdown_fnmr@0.001_lfw_thresholds"], overall)
    return out


# ----------------------------------------------------------------------------- other sets


def deepface_set(settings, rng) -> tuple[dict, list[str]]:
    root = DATA / "deepface_tests"
    with (root / "pairs_merged.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    files = sorted({r["img_a"] for r in rows} | {r["img_b"] for r in rows})
    cache = embed_images(root, files, _cache_path("deepface"), settings)
    return _listed_pairs(cache, files, rows), files


def _listed_pairs(cache, files, rows) -> dict:
    feats = Features(cache)
    index = {f: i for i, f in enumerate(files)}
    p = np.array([[index[r["img_a"]], index[r["img_b"]]] for r in rows])
    y = np.array([int(r["same_person"]) for r in rows])
    ok = feats.found[p[:, 0]] & feats.found[p[:, 1]]
    return {"pairs": p, "same": y, "ok": ok, "feats": feats, "no_face": int((~cache["found"]).sum()), "images": len(files)}


def apply_matchers(listed: dict, calib: dict, flips: dict[str, bool]) -> dict:
    out = {}
    p, y, ok, feats = listed["pairs"], listed["same"], listed["ok"], listed["feats"]
    feature = {mid: name + ("" if flips[name] else "_noflip") for name, mid in COMPONENT_IDS.items()}
    for model, m in calib.items():
        x = np.stack([feats.cos(feature[c], p[:, 0], p[:, 1]) for c in m["components"]], 1)
        s = np.where(ok, _sigmoid(m["bias"] + x @ np.array(m["weights"])), 0.0)
        row = {"genuine": int((y == 1).sum()), "impostor": int((y == 0).sum())}
        for op, t in m["thresholds"].items():
            row[f"fnmr@{op}"] = float(np.mean(s[y == 1] < t))
            row[f"fmr@{op}"] = float(np.mean(s[y == 0] >= t))
        row["accuracy@fmr_1e-3"] = float(np.mean((s >= m["thresholds"]["fmr_1e-3"]) == (y == 1)))
        row["scores"] = s
        out[model] = row
    return out


def kyc_sets(settings) -> list[dict]:
    """ID portrait (doc_face) vs selfie through the real pipeline (roles, CLAHE, quality)."""
    from kyc.biometrics.matching import compare_templates
    from kyc.biometrics.pipeline import extract_template
    from kyc.errors import KycError
    from kyc.images import decode_image

    root = DATA / "kyc_sets"
    with (root / "labels.csv").open() as fh:
        labels = [r for r in csv.DictReader(fh) if r["file"].startswith("mock-documents/")]
    portraits = {r["kyc_set"]: r["file"] for r in labels if r["role"] == "doc_face"}
    selfies = {r["kyc_set"]: r["file"] for r in labels if r["role"] == "selfie"}
    out = []
    from kyc.biometrics.matching import calibration

    for model in calibration().models:
        tpl = {}
        for kind, files, role in (("portrait", portraits, "id_portrait"), ("selfie", selfies, "selfie")):
            for s, f in files.items():
                try:
                    tpl[(kind, s)] = extract_template(decode_image((root / f).read_bytes()), role, model, settings=settings)
                except KycError as exc:
                    tpl[(kind, s)] = exc.code
        for sp in sorted(portraits):
            for ss in sorted(selfies):
                a, b = tpl[("portrait", sp)], tpl[("selfie", ss)]
                row = {"model": model, "portrait": sp, "selfie": ss, "same": sp == ss}
                if isinstance(a, str) or isinstance(b, str):
                    row["error"] = a if isinstance(a, str) else b
                else:
                    c = compare_templates(a, b, "fmr_1e-3")
                    row.update(similarity=c.similarity, match=c.match, threshold=c.threshold)
                out.append(row)
    return out


# ----------------------------------------------------------------------------- quality and timing


def quality_pass(root: Path, files: list[str], cache: dict, limit: int, rng, settings) -> dict:
    """Quality reasons on a sample of images (from cached landmarks) and their timing."""
    import cv2

    from kyc.biometrics.quality import POLICIES, quality_metrics, quality_reasons
    from kyc.biometrics.types import FaceDetection

    idx = np.flatnonzero(cache["found"])
    idx = rng.choice(idx, size=min(limit, len(idx)), replace=False)
    ms, counts, metrics = [], {}, {}
    pol = POLICIES["id_portrait"]
    for i in idx:
        img = cv2.imread(str(root / files[i]), cv2.IMREAD_COLOR)
        x, y, w, h = cache["box"][i]
        face = FaceDetection((int(x), int(y), int(w), int(h)), cache["landmarks"][i], float(cache["det_score"][i]), str(cache["detector"][i]))
        t = time.perf_counter()
        m = quality_metrics(img, face, settings)
        ms.append((time.perf_counter() - t) * 1000)
        for k, v in m.items():
            metrics.setdefault(k, []).append(v)
        reasons = quality_reasons(m, pol)
        for r in reasons:
            counts[r] = counts.get(r, 0) + 1
    pct = {k: {p: float(np.percentile(v, p)) for p in (1, 5, 50, 95, 99)} for k, v in metrics.items()}
    return {"images": int(len(idx)), "ms": np.array(ms), "reasons": counts, "percentiles": pct}


def timing_pass(root: Path, files: list[str], n: int, rng, settings) -> dict[str, np.ndarray]:
    """Milliseconds per stage of the real pipeline on ``n`` images, after a warm-up."""
    import cv2

    from kyc.biometrics.detection import detect_faces
    from kyc.biometrics.embedding import get_embedder
    from kyc.biometrics.pipeline import choose_face
    from kyc.biometrics.quality import assess_quality

    emb = {m: get_embedder(m, settings) for m in ("dlib", "mobilefacenet")}
    picks = rng.choice(len(files), size=min(n + 3, len(files)), replace=False)
    ms: dict[str, list[float]] = {"decode": [], "detect": [], "quality": [], "dlib": [], "mobilefacenet": []}
    for k, i in enumerate(picks):
        t0 = time.perf_counter()
        img = cv2.imread(str(root / files[i]), cv2.IMREAD_COLOR)
        t1 = time.perf_counter()
        faces = detect_faces(img, settings)
        t2 = time.perf_counter()
        if not faces:
            continue
        face = choose_face(faces, "id_portrait")
        assess_quality(img, face, "id_portrait", faces=faces, settings=settings)
        t3 = time.perf_counter()
        rgb = np.ascontiguousarray(img[:, :, ::-1])
        emb["dlib"].embed(rgb, face)
        t4 = time.perf_counter()
        emb["mobilefacenet"].embed(rgb, face)
        t5 = time.perf_counter()
        if k < 3:
            continue  # warm-up: model loading
        for key, dt in zip(ms, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            ms[key].append(dt * 1000)
    return {k: np.array(v) for k, v in ms.items()}


def _pct(a: np.ndarray) -> dict[str, float]:
    a = np.asarray(a, dtype=float)
    return {"p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)), "n": int(len(a))}


def _cache_path(name: str) -> Path:
    return get_settings().data_dir / "face-bench" / f"{name}-v{CACHE_VERSION}.npz"


# ----------------------------------------------------------------------------- plots


def plot_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    fig_roc, ax_roc = plt.subplots(figsize=(6, 5))
    fig_det, ax_det = plt.subplots(figsize=(6, 5))
    for name, (gen, imp) in curves.items():
        ts = np.unique(np.quantile(np.r_[gen, imp], np.linspace(0, 1, 3000)))
        imp_s, gen_s = np.sort(imp), np.sort(gen)
        fmr = 1 - np.searchsorted(imp_s, ts, side="left") / len(imp_s)
        fnmr = np.searchsorted(gen_s, ts, side="left") / len(gen_s)
        ok = fmr > 0
        ax_roc.semilogx(fmr[ok], 1 - fnmr[ok], label=name)
        clip = lambda p: np.clip(p, 1e-6, 1 - 1e-6)  # noqa: E731
        ax_det.plot(norm.ppf(clip(fmr[ok])), norm.ppf(clip(fnmr[ok])), label=name)
    ax_roc.set(xlabel="false match rate", ylabel="true match rate (1 - FNMR)", title="LFW ROC (cross-validated, all impostor pairs)", xlim=(1e-5, 1))
    ax_roc.grid(True, which="both", alpha=0.3)
    ax_roc.legend(fontsize=8)
    ticks = np.array([1e-5, 1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5])
    ax_det.set_xticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    ax_det.set_yticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    ax_det.set(xlabel="FMR", ylabel="FNMR", title="LFW DET (normal deviate scale)", xlim=norm.ppf([1e-5, 0.5]), ylim=norm.ppf([1e-3, 0.5]))
    ax_det.grid(True, alpha=0.3)
    ax_det.legend(fontsize=8)
    fig_roc.tight_layout()
    fig_det.tight_layout()
    fig_roc.savefig(out / "roc.png", dpi=110)
    fig_det.savefig(out / "det.png", dpi=110)
    plt.close(fig_roc)
    plt.close(fig_det)


# ----------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="kyc bench face", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "face")
    ap.add_argument("--write-calibration", action="store_true", help="write kyc/biometrics/calibration.json from all LFW folds")
    ap.add_argument("--quality-sample", type=int, default=300, help="LFW images for the quality pass")
    ap.add_argument("--skip", nargs="*", default=[], choices=["deepface", "kyc", "quality"], help="parts to leave out")
    ap.add_argument("--timing", type=int, default=60, help="LFW images timed through the pipeline stages (0: none)")
    ap.add_argument("--speed", type=int, default=0, help="LFW pairs timed per comparison (two faces in, a decision out) with the default scorer")
    ap.add_argument("--lfw-folds", type=int, nargs="*", default=None, help="LFW folds to use (default: all 5; a subset when the CPU cannot afford all)")
    ap.add_argument("--card-portraits", action="store_true", help="also the card-portrait task (LFW faces printed on synthetic cards, read back)")
    ap.add_argument("--card-folds", type=int, nargs="*", default=[1, 2], help="LFW folds whose first images are printed on cards")
    ap.add_argument("--card-limit", type=int, default=150, help="cards per fold (random same-person pairs of the fold; 0: all)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not (DATA / "lfw" / "pairs.csv").is_file():
        print(f"face data not found under {DATA}; nothing to measure")
        return 2
    settings = get_settings()
    rng = np.random.default_rng(args.seed)
    started = time.time()
    args.out.mkdir(parents=True, exist_ok=True)

    root = DATA / "lfw"
    with (root / "pairs.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    if args.lfw_folds:
        rows = [r for r in rows if int(r["fold"]) in args.lfw_folds]
    files = lfw_files(rows)  # (fold order: the cache is shared with runs on all folds)
    identities = [Path(f).parent.name for f in files]
    cache = embed_images(root, files, _cache_path("lfw"), settings)
    lfw = lfw_protocol(cache, rows, files, identities, 200_000, rng)
    plot_curves({k: v for k, v in lfw["curves"].items() if not k.endswith("noflip")}, args.out)

    fixed = None
    if args.lfw_folds and set(args.lfw_folds) != {1, 2, 3, 4, 5}:
        # a subset of folds: keep the matchers fitted on all of them, fit only the bands
        from kyc.biometrics.matching import CALIBRATION_FILE

        fixed = json.loads(CALIBRATION_FILE.read_text())["models"]
        lfw["flips_measured"] = lfw["flips"]
        lfw["flips"] = {k: bool(json.loads(CALIBRATION_FILE.read_text()).get("flip", {}).get(v, True)) for k, v in COMPONENT_IDS.items()}
        lfw["scorers"] = deployed_scorers(lfw["flips"])
    calib_models, bands = fit_deployment(cache, rows, files, identities, 200_000, rng, lfw["scorers"], fixed)
    cascade_ok = lfw["cascade"]["0.001"]["fnmr"] - lfw["cascade"]["0.001"]["fnmr_fused"] <= 0.002  # the condition
    ranked = sorted(MATCHERS, key=lambda m: (lfw["results"][lfw["scorers"][m]]["summary"]["fnmr@0.001"], -lfw["results"][lfw["scorers"][m]]["summary"]["accuracy"]))
    default = "cascade" if cascade_ok else MATCHERS[ranked[0]]
    c3 = lfw["cascade"]["0.001"]
    from kyc.biometrics.embedding import model_version

    calibration = {
        "format": 2,
        "written_by": "kyc bench face --write-calibration",
        "data": f"LFW View-2 ({len(rows)} listed pairs, {len(files)} images, folds {sorted({int(r['fold']) for r in rows})}); impostors = every cross-identity pair within a fold"
        + ("; matchers kept from the all-fold calibration, cascade bands fitted on these folds" if fixed is not None else ""),
        "default_model": default,
        "default_reason": (
            f"cascade: cross-validated FNMR at FMR 1e-3 {c3['fnmr']:.4f} vs {c3['fnmr_fused']:.4f} for the fusion, "
            f"{c3['share_second_genuine']:.1%} of genuine comparisons need the second model"
            if default == "cascade"
            else f"lowest cross-validated FNMR at FMR 1e-3 on LFW ({lfw['results'][lfw['scorers'][ranked[0]]]['summary']['fnmr@0.001']:.4f})"
        ),
        "model_versions": {m: model_version(m, settings) for m in ("dlib-resnet", "mobilefacenet")},
        "flip": {COMPONENT_IDS[k]: v for k, v in lfw["flips"].items()},
        "models": calib_models,
        "cascade": {
            "first": "mobilefacenet",
            "second": "fused",
            "bands": {op: b["band"] for op, b in bands.items()},
            "fit": bands,
            "cross_validated": {OP_NAMES[float(k)]: {kk: vv for kk, vv in v.items() if kk != "bands"} for k, v in lfw["cascade"].items()},
        },
    }
    cards = None
    if args.card_portraits:
        from benchmarks.face_cards import portrait_cache

        caches = {}
        for k in args.card_folds:
            cfiles = card_files(rows, k, args.card_limit or None)
            name = f"cards-fold{k}" + (f"-n{args.card_limit}" if args.card_limit else "")
            caches[k] = (cfiles, portrait_cache(root, cfiles, _cache_path(name), settings, seed_offset=k * 10000))
        dirs = {k: _cache_path(f"cards-fold{k}" + (f"-n{args.card_limit}" if args.card_limit else "")).with_suffix("") for k in caches}
        cards = card_portraits(cache, files, rows, caches, calib_models, lfw["flips"], bands, dirs)
    if cards is not None:
        calibration["portrait_quality_bands"] = {
            "data": f"card portraits of LFW folds {args.card_folds} ({cards['failure_to_acquire']['cards']} cards), written by kyc bench face --card-portraits",
            **cards["quality_bands"],
        }
    if args.write_calibration:
        from kyc.biometrics.matching import CALIBRATION_FILE, load_calibration

        CALIBRATION_FILE.write_text(json.dumps(calibration, indent=2) + "\n")
        load_calibration.cache_clear()
    (args.out / "calibration.json").write_text(json.dumps(calibration, indent=2) + "\n")

    speed = None
    if args.speed:
        from benchmarks.face_speed import time_comparisons

        speed = time_comparisons(args.speed, "faces", None, args.seed)
    quality = quality_pass(root, files, cache, args.quality_sample if "quality" not in args.skip else 0, rng, settings)
    deepface = None
    if "deepface" not in args.skip and (DATA / "deepface_tests").is_dir():
        listed, _ = deepface_set(settings, rng)
        deepface = {"images": listed["images"], "no_face": listed["no_face"], "models": apply_matchers(listed, calib_models, lfw["flips"])}
    kyc = kyc_sets(settings) if "kyc" not in args.skip and (DATA / "kyc_sets").is_dir() else []

    from kyc.model_registry import onnx_session

    provider = onnx_session("mobilefacenet", settings).get_providers()[0]
    tm = timing_pass(root, files, max(args.timing, 1), rng, settings) if args.timing else None
    stages = {} if tm is None else {
        "decode (JPEG 350x350)": _pct(tm["decode"]),
        "detect (pad, MTCNN, 5 landmarks)": _pct(tm["detect"]),
        "quality (metrics incl. 68 landmarks)": _pct(tm["quality"]),
        "dlib template (5-pt shape, chip, ResNet x2 with flip)": _pct(tm["dlib"]),
        "mobilefacenet template (align, ONNX batch of 2)": _pct(tm["mobilefacenet"]),
    }
    comps = {"dlib": ["dlib"], "mobilefacenet": ["mobilefacenet"], "fused": ["dlib", "mobilefacenet"]}
    per_face = {} if tm is None else {model: _pct(tm["detect"] + tm["quality"] + sum(tm[k] for k in keys)) for model, keys in comps.items()}
    first_run = {
        "detect": _pct(cache["ms_detect"]),
        "dlib": _pct(cache["ms_dlib"][cache["found"]]),
        "mobilefacenet": _pct(cache["ms_mobilefacenet"][cache["found"]]),
    }
    report = {
        "command": "kyc bench face " + " ".join(argv),
        "machine": f"{platform.node()} {platform.machine()}, {__import__('os').cpu_count()} CPUs (shared with other jobs: timings inflated)",
        "onnxruntime_provider": provider,
        "seconds": round(time.time() - started, 1),
        "lfw": {
            "pairs": len(rows),
            "images": len(files),
            "no_face": int((~cache["found"]).sum()),
            "detector_counts": {str(d): int(c) for d, c in zip(*np.unique(cache["detector"][cache["found"]], return_counts=True), strict=True)},
            "folds": sorted({int(r["fold"]) for r in rows}),
            "results": lfw["results"],
            "flips": lfw["flips"],
            "flips_measured": lfw.get("flips_measured", lfw["flips"]),
            "cascade": lfw["cascade"],
        },
        "default_model": default,
        "cascade_bands": bands,
        "card_portraits": cards,
        "speed": speed,
        "quality": {k: v for k, v in quality.items() if k != "ms"},
        "timing_ms": {"stages": stages, "per_face_total": per_face, "embedding_cache_run": first_run},
        "deepface": None
        if deepface is None
        else {
            "images": deepface["images"],
            "no_face": deepface["no_face"],
            "models": {m: {k: v for k, v in r.items() if k != "scores"} for m, r in deepface["models"].items()},
        },
        "kyc_sets": kyc,
    }
    (args.out / "report.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    (args.out / "report.md").write_text(render_markdown(report))
    print(render_markdown(report))
    return 0


def render_markdown(r: dict) -> str:
    L = [f"# Face benchmark\n\n`{r['command']}` — {r['machine']}; onnxruntime provider: {r['onnxruntime_provider']}; {r['seconds']} s\n"]
    lf = r["lfw"]
    L.append(
        f"## LFW ({lf['pairs']} listed pairs, {lf['images']} images, {lf['no_face']} without a face; detectors {lf['detector_counts']})\n\n"
        f"Cross-validated over folds {lf.get('folds')}: thresholds and fusion fitted on the other folds, applied to each in turn. "
        "FNMR over the listed same-person pairs; FMR over every cross-identity pair of the fold's images.\n"
    )
    L.append(
        "| scorer | accuracy | FNMR @ FMR 1e-2 | FNMR @ FMR 1e-3 | FNMR @ FMR 1e-4 | actual FMR at the 1e-3 threshold | impostor pairs "
        "| FNMR @ 1e-3, threshold from listed negatives only (its real FMR) |"
    )
    L.append("|---|---|---|---|---|---|---|---|")
    for name, res in lf["results"].items():
        s = res["summary"]
        L.append(
            f"| {name} | {s['accuracy'] * 100:.2f}% ± {s['accuracy_sd_folds'] * 100:.2f} | {s['fnmr@0.01'] * 100:.2f}% | "
            f"{s['fnmr@0.001'] * 100:.2f}% | {s['fnmr@0.0001'] * 100:.2f}% | {s['fmr_actual@0.001']:.2e} | {s['impostor']:,} "
            f"| {s['fnmr_listed_negatives@0.001'] * 100:.2f}% ({s['fmr_actual_listed_threshold@0.001']:.1e}) |"
        )
    L.append(
        f"\nMirror image worth embedding on these folds (leaving it out costs more than 0.1 point of FNMR at FMR 1e-3): "
        f"{lf['flips_measured']}; deployed: {lf['flips']}\n"
    )
    L.append(
        "### Cascade (MobileFaceNet first, the fusion only inside the band)\n\nBand fitted on 4 folds, applied to the 5th. "
        "Share = comparisons that needed the second model.\n\n"
        "| FMR | cascade FNMR | fusion FNMR | cascade actual FMR | share, genuine | share, impostor |\n|---|---|---|---|---|---|"
    )
    for fmr, c in lf["cascade"].items():
        L.append(
            f"| {fmr} | {c['fnmr'] * 100:.2f}% | {c['fnmr_fused'] * 100:.2f}% | {c['fmr_actual']:.2e} | "
            f"{c['share_second_genuine'] * 100:.1f}% | {c['share_second_impostor'] * 100:.2f}% |"
        )
    L.append(f"\nDefault scorer: **{r['default_model']}**. Plots: roc.png, det.png.\n")
    if r.get("speed"):
        sp = r["speed"]
        L.append(
            f"## Time per comparison\n\n{sp['comparisons']} LFW pairs through `compare_faces` ({sp['model']} scorer; two faces, "
            f"detection and quality included, decoding excluded): mean **{sp['mean_ms']} ms**, p50 {sp['p50_ms']} ms, p95 **{sp['p95_ms']} ms**; "
            f"decided by {sp['stages']}; load average {sp['load_avg_1min']} on {sp['cpus']} CPUs.\n"
        )
    if r.get("card_portraits"):
        c = r["card_portraits"]
        fta = c["failure_to_acquire"]
        L.append(
            f"## Card portraits (LFW faces printed on synthetic cards, photographed, read back)\n\n"
            f"Folds {sorted(c['folds'])}: {fta['cards']} cards; failure to acquire {c['fta_rate'] * 100:.2f}% "
            f"({fta['no_portrait_read']} without a portrait read, {fta['no_face_in_portrait']} without a face in it). "
            f"Genuine {sum(f['genuine'] for f in c['folds'].values())}, impostor {sum(f['impostor'] for f in c['folds'].values()):,} "
            "comparisons (every card against every image of another identity in its fold).\n"
        )
        keys = sorted({k for row in c["results"].values() for k in row})
        L.append("| scorer | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
        for m, row in c["results"].items():
            L.append(f"| {m} | " + " | ".join(("" if row.get(k) is None else (f"{row[k] * 100:.2f}%" if not k.startswith("fmr") else f"{row[k]:.1e}")) for k in keys) + " |")
        L.append(f"\nBy watermark over the portrait (fusion, LFW threshold at 1e-3): {c['by_watermark_fused_lfw_threshold']}\n")
        L.append("Genuine FNMR at the LFW 1e-3 thresholds by quartile of the portrait's quality measures:\n")
        L.append("| measure | range | genuine | fused | cascade | mobilefacenet |\n|---|---|---|---|---|---|")
        for key, bins in c["quality_breakdown_fnmr@0.001_lfw_thresholds"].items():
            for b in bins:
                L.append(
                    f"| {key} | {b['range'][0]:.1f}–{b['range'][1]:.1f} | {b['genuine']} | {b['fused'] * 100:.1f}% | "
                    f"{b['cascade'] * 100:.1f}% | {b['mobilefacenet'] * 100:.1f}% |"
                )
    L.append(
        "## Time per face (ms)\n\nSequential, one process, onnxruntime default threads, on LFW images "
        "(after a warm-up). The machine is shared with other jobs, so these are upper bounds.\n\n"
        "| stage | p50 | p95 | n |\n|---|---|---|---|"
    )
    for k, v in r["timing_ms"]["stages"].items():  # empty with --timing 0
        L.append(f"| {k} | {v['p50']:.1f} | {v['p95']:.1f} | {v['n']} |")
    for k, v in r["timing_ms"]["per_face_total"].items():
        L.append(f"| total, {k} (detect + template + quality) | {v['p50']:.1f} | {v['p95']:.1f} | {v['n']} |")
    q = r["quality"]
    L.append(f"\n## Quality on {q['images']} LFW faces (ID-portrait policy)\n\nReasons fired: {q['reasons'] or 'none'}\n")
    L.append("| metric | p1 | p5 | p50 | p95 | p99 |\n|---|---|---|---|---|---|")
    for k, v in q["percentiles"].items():
        L.append(f"| {k} | " + " | ".join(f"{v[p]:.2f}" for p in (1, 5, 50, 95, 99)) + " |")
    if r.get("deepface"):
        d = r["deepface"]
        L.append(f"\n## deepface test photos ({d['images']} images, {d['no_face']} without a face; listed pairs, LFW-calibrated thresholds)\n")
        L.append("| model | genuine | impostor | FNMR @ 1e-3 thr | FMR @ 1e-3 thr | FNMR @ 1e-4 thr | accuracy @ 1e-3 thr |\n|---|---|---|---|---|---|---|")
        for m, v in d["models"].items():
            L.append(
                f"| {m} | {v['genuine']} | {v['impostor']} | {v['fnmr@fmr_1e-3'] * 100:.1f}% | {v['fmr@fmr_1e-3'] * 100:.2f}% | "
                f"{v['fnmr@fmr_1e-4'] * 100:.1f}% | {v['accuracy@fmr_1e-3'] * 100:.1f}% |"
            )
    if r.get("kyc_sets"):
        L.append("\n## KYC sets: ID portrait vs selfie (through extract_template with roles)\n")
        L.append("| model | portrait | selfie | same | similarity | threshold (1e-3) | match | error |\n|---|---|---|---|---|---|---|---|")
        for k in r["kyc_sets"]:
            sim = f"{k['similarity']:.4f}" if "similarity" in k else ""
            thr = f"{k['threshold']:.4f}" if "threshold" in k else ""
            L.append(f"| {k['model']} | {k['portrait']} | {k['selfie']} | {k['same']} | {sim} | {thr} | {k.get('match', '')} | {k.get('error', '')} |")
    return "\n".join(L) + "\n"
