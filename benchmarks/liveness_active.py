"""Active liveness on real phone videos and on synthetic hand-held sequences made from stills.

Real video (``../shared/data/liveness/phone_videos``): every live video against every
ordered two-action challenge drawn from the actions people perform in them (turn left,
turn right, nod); the replay likewise. A capture longer than the service accepts
(:data:`kyc.liveness._video.MAX_FRAMES`) is cut to that length, as an attacker would.

Synthetic hand-held sequences: what a phone held in a hand does to footage, applied to
(a) a bona fide stand-in, a real face photo given a head-shaped relief and turned
(``tests/liveness/synth.relief_frames``), and (b) attacks, flat pictures (face photos,
the print and screen samples, phone-replay crops) tilted as someone holding them up
would. The hand: a smooth random walk of translation, in-plane rotation, scale and a
small perspective tilt; two or three auto-exposure steps; dropped frames (their
timestamps stay true); JPEG compression of every frame. Figures: per challenge action
and per check, the share of bona fide sessions refused (FRR) and of attacks accepted
(FAR), with the checks that caught each attack.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np

from kyc.config import PROJECT_ROOT

DATA = PROJECT_ROOT.parent / "shared" / "data"
VIDEO_ACTIONS = ("turn_left", "turn_right", "nod")
FPS = 15.0


def _challenges() -> list[list[str]]:
    return [[a, b] for a in VIDEO_ACTIONS for b in VIDEO_ACTIONS if a != b]


def phone_videos() -> dict:
    import csv

    from kyc.errors import KycError
    from kyc.liveness import decode_video
    from kyc.liveness._active import evaluate_challenges
    from kyc.liveness._video import MAX_FRAMES

    root = DATA / "liveness" / "phone_videos"
    if not (root / "labels.csv").is_file():
        return {"skipped": f"{root} not found"}
    out = {}
    with (root / "labels.csv").open(newline="") as fh:
        for r in csv.DictReader(fh):
            frames = decode_video((root / r["file"]).read_bytes(), max_frames=4 * MAX_FRAMES)
            trimmed = len(frames) > MAX_FRAMES
            frames = frames[:MAX_FRAMES]
            per = []
            try:
                results = evaluate_challenges(_challenges(), frames)
                for ch, res in zip(_challenges(), results):
                    per.append({"challenge": ch, "live": res.live, "reasons": res.reasons, "passive": (res.passive or {}).get("outcome")})
            except KycError as exc:
                per = [{"challenge": ch, "live": False, "reasons": [exc.code]} for ch in _challenges()]
            out[r["file"]] = {"label": r["label"], "frames": len(frames), "trimmed": trimmed, "sessions": per}
    return out


# --------------------------------------------------------------------------- the hand


def handheld(images: list[np.ndarray], seed: int, *, drop: float = 0.12, fps: float = FPS) -> tuple[list[np.ndarray], list[float]]:
    """The frames as a hand-held phone would record them, and their capture times."""
    sys.path.insert(0, str(PROJECT_ROOT))
    from tests.liveness.synth import tilt_homography

    rng = np.random.default_rng(seed)
    n = len(images)
    h, w = images[0].shape[:2]

    def walk(scale: float) -> np.ndarray:
        v = np.cumsum(rng.normal(0, 1, n))
        v = np.convolve(v, np.ones(5) / 5, mode="same")
        return scale * (v - v.mean()) / max(1e-6, np.abs(v - v.mean()).max())

    dx, dy = walk(0.04 * w), walk(0.04 * h)
    roll, zoom = walk(4.0), 1.0 + walk(0.05)
    tyaw, tpitch = walk(5.0), walk(5.0)
    gain = np.ones(n)
    for at in sorted(rng.choice(np.arange(3, n - 3), size=int(rng.integers(2, 4)), replace=False)):
        step = float(rng.choice([0.72, 0.8, 1.2, 1.35]))
        ramp = np.clip((np.arange(n) - at) / 3.0, 0, 1)  # auto-exposure settles over ~3 frames
        gain *= 1 + (step - 1) * ramp
    out, times = [], []
    keep = rng.random(n) >= drop
    keep[:2] = keep[-2:] = True
    for i, img in enumerate(images):
        if not keep[i]:
            continue
        a = cv2.getRotationMatrix2D((w / 2, h / 2), float(roll[i]), float(zoom[i]))
        a[:, 2] += (dx[i], dy[i])
        m = tilt_homography((w, h), float(tyaw[i]), float(tpitch[i]), distance=3.0) @ np.vstack([a, [0, 0, 1]])
        f = cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
        f = np.clip(f.astype(np.float32) * gain[i], 0, 255).astype(np.uint8)
        q = int(rng.integers(35, 75))
        f = cv2.imdecode(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, q])[1], cv2.IMREAD_COLOR)
        out.append(f)
        times.append(i / fps + float(rng.normal(0, 0.004)))
    times = list(np.maximum.accumulate(np.array(times) + np.arange(len(times)) * 1e-6))
    return out, times


def _canvas(photo: np.ndarray, size=(640, 480), share=0.75) -> np.ndarray:
    w, h = size
    canvas = np.full((h, w, 3), 118, np.uint8)
    s = share * h / photo.shape[0]
    small = cv2.resize(photo, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    if sw > w:
        small, sw = small[:, (sw - w) // 2 : (sw - w) // 2 + w], w
    y0, x0 = (h - sh) // 2, (w - sw) // 2
    canvas[y0 : y0 + sh, x0 : x0 + sw] = small
    return canvas


def _stills(limit: int) -> dict[str, list[tuple[str, np.ndarray]]]:
    from kyc.biometrics.fast_detection import find_faces
    from kyc.images import decode_image

    faces = []
    for p in sorted((DATA / "faces" / "deepface_tests").glob("img*.jpg")):
        img = cv2.imread(str(p))
        if img is not None and len(find_faces(img)) == 1:
            faces.append((p.name, _canvas(img)))
        if len(faces) >= limit:
            break
    attacks = []
    sf = DATA / "liveness" / "silent_face_samples"
    for name in ("image_F1.jpg", "image_F2.jpg"):
        if (sf / name).is_file():
            img = decode_image((sf / name).read_bytes())
            attacks.append((name, _canvas(img, share=0.95)))
    pr = sorted((DATA / "liveness" / "phone_replay" / "fake").glob("*.png"))[:: 150][: max(1, limit // 3)]
    attacks += [(p.name, _canvas(cv2.imread(str(p)), share=0.7)) for p in pr]
    return {"faces": faces, "attacks": attacks}


def synthetic_sequences(limit: int) -> dict:
    sys.path.insert(0, str(PROJECT_ROOT))
    from kyc.biometrics.fast_detection import find_one_face, to_gray
    from kyc.biometrics.landmarks import face_landmarks
    from kyc.errors import KycError
    from kyc.liveness import Frame, evaluate_session
    from tests.liveness.synth import relief_frames, sweep, tilted_photo_frames

    def run(actions, imgs, seed):
        frames, times = handheld(imgs, seed)
        try:
            r = evaluate_session(actions, [Frame(f, t) for f, t in zip(frames, times)])
            return {"actions": actions, "live": r.live, "reasons": r.reasons, "failed_actions": [a.action for a in r.actions if not a.passed]}
        except KycError as exc:
            return {"actions": actions, "live": False, "reasons": [exc.code], "failed_actions": list(actions)}

    stills = _stills(limit)
    bona, attacks = [], []
    t0 = time.perf_counter()
    left_right = sweep([0, 0, 30, 0, -30, 0, 0], 8)
    for k, (name, img) in enumerate(stills["faces"]):
        try:
            lm = face_landmarks(to_gray(img), find_one_face(img))
        except KycError:
            continue
        seq = relief_frames(img, lm, left_right, seed=k)
        bona.append({"source": name, **run(["turn_left", "turn_right"], seq, seed=k)})
        bona.append({"source": name, **run(["turn_right", "turn_left"], seq[::-1], seed=100 + k)})
        # the same recording replayed against a challenge it does not follow
        attacks.append({"source": name, "kind": "recording_wrong_order", **run(["turn_right", "turn_left"], seq, seed=200 + k)})
    yaws = [(y, 0.0) for y in sweep([0, 0, -50, 0, 50, 0, 0], 8)]
    pitches = [(0.0, p) for p in sweep([0, 0, 30, 0, -30, 0, 0], 8)]
    for k, (name, img) in enumerate(stills["faces"][: max(1, limit // 2)] + stills["attacks"]):
        attacks.append({"source": name, "kind": "flat_turned", **run(["turn_left", "turn_right"], tilted_photo_frames(img, yaws, seed=k), seed=300 + k)})
        attacks.append({"source": name, "kind": "flat_nodded", **run(["nod", "turn_left"], tilted_photo_frames(img, pitches, seed=k), seed=400 + k)})
    return {"bona_fide": bona, "attacks": attacks, "elapsed_s": time.perf_counter() - t0}


def summarise(bona: list[dict], attacks: list[dict]) -> dict:
    per_action: dict[str, dict[str, float]] = {}
    for a in sorted({x for s in bona for x in s["actions"]}):
        sess = [s for s in bona if a in s["actions"]]
        per_action[a] = {"sessions": len(sess), "frr": float(np.mean([a in s["failed_actions"] for s in sess]))}
    checks = sorted({r.split(":")[0] for s in bona + attacks for r in s["reasons"]})
    per_check = {
        c: {
            "bona_fide_refused": float(np.mean([any(r.split(":")[0] == c for r in s["reasons"]) for s in bona])) if bona else float("nan"),
            "attacks_caught": float(np.mean([any(r.split(":")[0] == c for r in s["reasons"]) for s in attacks])) if attacks else float("nan"),
        }
        for c in checks
    }
    kinds = sorted({s["kind"] for s in attacks})
    return {
        "bona_fide_sessions": len(bona),
        "frr": float(np.mean([not s["live"] for s in bona])) if bona else float("nan"),
        "attack_sessions": len(attacks),
        "far": float(np.mean([s["live"] for s in attacks])) if attacks else float("nan"),
        "far_per_kind": {k: float(np.mean([s["live"] for s in attacks if s["kind"] == k])) for k in kinds},
        "per_action": per_action,
        "per_check": per_check,
    }
