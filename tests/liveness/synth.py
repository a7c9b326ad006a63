"""Synthetic material for the liveness tests, made honestly and labelled as such.

* Landmark tracks of a 3-D head: 68 points of a real frontal face, given a rough depth
  (an ellipsoidal face, a protruding nose), rotated and projected by a pinhole camera,
  with eyes closed or mouth opened by moving the lid and lip points. These exercise
  the detectors and the decision; they are not images.
* Frame sequences from real photos: repeated (a static photo), or warped as a flat
  photo tilted in front of the camera (a homography per frame).
"""

from __future__ import annotations

import cv2
import numpy as np

# 68 landmarks of a real frontal face (deepface_tests/img10.jpg, found by dlib), centred, px.
FRONTAL_68 = np.array([(-104, -49), (-102, -23), (-96, 3), (-91, 29), (-85, 55), (-72, 77), (-52, 96), (-27, 108), (2, 112), (30, 107), (57, 95), (79, 76), (93, 53), (100, 27), (105, 1), (110, -24), (112, -50), (-88, -78), (-74, -89), (-57, -92), (-39, -89), (-22, -82), (17, -82), (35, -90), (54, -93), (73, -89), (87, -79), (-2, -60), (-3, -43), (-4, -25), (-4, -8), (-20, 8), (-12, 10), (-3, 12), (6, 10), (14, 7), (-70, -55), (-58, -64), (-43, -63), (-31, -53), (-45, -48), (-60, -48), (29, -53), (41, -64), (57, -64), (69, -55), (58, -48), (43, -48), (-44, 44), (-28, 36), (-12, 31), (-2, 33), (10, 30), (27, 35), (43, 43), (28, 55), (11, 61), (-1, 62), (-13, 61), (-29, 55), (-37, 46), (-13, 44), (-2, 45), (10, 44), (36, 44), (10, 44), (-1, 46), (-13, 44)], dtype=np.float64)

F = 640.0  # focal length, px
CENTRE = (320.0, 240.0)
SIZE = (640, 480)


def head_model(frontal: np.ndarray = FRONTAL_68) -> np.ndarray:
    """(68, 3) points in inter-ocular units, camera axes (x right, y down, z away)."""
    lm = frontal.astype(np.float64)
    eyes = 0.5 * (lm[36:42].mean(0) + lm[42:48].mean(0))
    d = np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0))
    xy = (lm - eyes) / d
    half = np.abs(xy[0:17, 0]).max()
    z = 0.9 * half * (1 - np.sqrt(np.clip(1 - (xy[:, 0] / (1.05 * half)) ** 2, 0, 1)))
    z[27:31] -= np.array([0.05, 0.12, 0.2, 0.3])
    z[31:36] -= np.array([0.12, 0.15, 0.2, 0.15, 0.12])
    z[48:68] -= 0.2
    z[6:11] -= 0.15
    z[36:48] += 0.05
    return np.column_stack([xy, z])


def pose_points(model: np.ndarray, yaw: float = 0, pitch: float = 0, roll: float = 0, eyes_closed: float = 0, mouth_open: float = 0) -> np.ndarray:
    """Project the head turned by (yaw, pitch, roll) degrees (the sign conventions of
    kyc.liveness._pose), with eyelids closed by a share and the jaw dropped by IODs."""
    p = model.copy()
    for upper, lower in (((37, 38), (41, 40)), ((43, 44), (47, 46))):
        for u, lo in zip(upper, lower):
            mid = 0.5 * (p[u] + p[lo])
            p[u] = p[u] + (mid - p[u]) * eyes_closed
            p[lo] = p[lo] + (mid - p[lo]) * eyes_closed
    if mouth_open:
        for i in (*range(5, 12), *range(55, 60), *range(65, 68)):
            p[i, 1] += mouth_open
    a, b, c = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), np.sin(b)], [0, -np.sin(b), np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    # yaw > 0 turns the face toward the image's right: its forward vector (0,0,-1) -> (+x)
    pivot = np.array([0.0, 0.5, 1.2])
    rot = rz @ rx.T @ ry.T
    q = (p - pivot) @ rot.T + pivot
    q[:, 2] += 7.0  # about 90 px between the eyes at 640 px focal length
    return np.column_stack([F * q[:, 0] / q[:, 2] + CENTRE[0], F * q[:, 1] / q[:, 2] + CENTRE[1]]).astype(np.float32)


def tilt_homography(size: tuple[int, int], yaw: float = 0, pitch: float = 0, distance: float = 2.0) -> np.ndarray:
    """The homography of a flat picture filling ``size`` rotated about its centre by
    (yaw, pitch) degrees in front of a pinhole camera, ``distance`` picture-widths away."""
    w, h = size
    f = distance * w
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    pts3 = np.column_stack([corners[:, 0] - w / 2, corners[:, 1] - h / 2, np.zeros(4)])
    a, b = np.radians([yaw, pitch])
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    q = pts3 @ (rx @ ry).T
    q[:, 2] += f
    proj = np.column_stack([f * q[:, 0] / q[:, 2] + w / 2, f * q[:, 1] / q[:, 2] + h / 2])
    return cv2.getPerspectiveTransform(corners.astype(np.float32), proj.astype(np.float32))


def place_photo(photo: np.ndarray, canvas: tuple[int, int] = SIZE, face_share: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """A photo scaled into a grey canvas (like a print held in front of a wall).
    Returns the canvas-sized photo and its mask."""
    cw, ch = canvas
    s = face_share * ch / photo.shape[0]
    ph = cv2.resize(photo, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    ph = ph[: ch - 20, : cw - 20]
    out = np.full((ch, cw, 3), 118, np.uint8)
    y0, x0 = (ch - ph.shape[0]) // 2, (cw - ph.shape[1]) // 2
    out[y0 : y0 + ph.shape[0], x0 : x0 + ph.shape[1]] = ph
    return out, (x0, y0, ph.shape[1], ph.shape[0])


def tilted_photo_frames(photo: np.ndarray, poses: list[tuple[float, float]], seed: int = 0) -> list[np.ndarray]:
    """Frames of a flat photo tilted by each (yaw, pitch) in turn, with camera noise."""
    rng = np.random.default_rng(seed)
    cw, ch = SIZE
    s = 0.75 * ch / photo.shape[0]
    ph = cv2.resize(photo, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)[: ch - 10, : cw - 10]
    frames = []
    for yaw, pitch in poses:
        hm = tilt_homography((ph.shape[1], ph.shape[0]), yaw, pitch)
        tx, ty = (cw - ph.shape[1]) / 2, (ch - ph.shape[0]) / 2
        hm = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]) @ hm
        img = cv2.warpPerspective(ph, hm, SIZE, borderValue=(118, 118, 118))
        noise = rng.normal(0, 2.0, img.shape)
        frames.append(np.clip(img + noise, 0, 255).astype(np.uint8))
    return frames


def flat_points(model: np.ndarray, yaw: float = 0, pitch: float = 0) -> np.ndarray:
    """The same landmarks printed on a flat card (depth removed), tilted and projected."""
    flat = model.copy()
    flat[:, 2] = 0.0
    return pose_points(flat, yaw, pitch)


def sweep(values: list[float], steps: int) -> list[float]:
    """Piecewise-linear path through ``values`` with ``steps`` frames per segment."""
    out: list[float] = []
    for a, b in zip(values[:-1], values[1:]):
        out += list(np.linspace(a, b, steps, endpoint=False))
    return out + [values[-1]]


def performance(segments: list[tuple[str, int]], fps: float = 15.0) -> list[dict[str, float]]:
    """Per-frame head states for a scripted performance.

    Each segment is (what, frames): ``rest``, ``turn_left``, ``turn_right``, ``nod``,
    ``blink`` or ``open_mouth``; a movement goes out and back within its frames.
    """
    states: list[dict[str, float]] = []
    for what, n in segments:
        ramp = np.sin(np.linspace(0, np.pi, n))  # 0 -> 1 -> 0
        for r in ramp:
            s = {"yaw": 0.0, "pitch": 0.0, "eyes_closed": 0.0, "mouth_open": 0.0}
            if what == "turn_left":
                s["yaw"] = 30.0 * r
            elif what == "turn_right":
                s["yaw"] = -30.0 * r
            elif what == "nod":
                s["pitch"] = 16.0 * r
            elif what == "blink":
                s["eyes_closed"] = 0.85 * r
            elif what == "open_mouth":
                s["mouth_open"] = 0.55 * r
            states.append(s)
    return states


def landmark_track(states: list[dict[str, float]], fps: float = 15.0, noise_px: float = 0.4, seed: int = 0, flat: bool = False):
    """(t, landmarks) for the states, with landmark jitter like a real tracker's."""
    rng = np.random.default_rng(seed)
    model = head_model()
    if flat:
        model[:, 2] = 0.0
    lms = []
    for s in states:
        p = pose_points(model, s["yaw"], s["pitch"], 0.0, s["eyes_closed"], s["mouth_open"])
        lms.append((p + rng.normal(0, noise_px, p.shape)).astype(np.float32))
    t = np.arange(len(states)) / fps
    return t, lms


def evidence_from(t, landmarks, *, mirrored: bool = False, **override):
    """A TrackEvidence as a clean, continuous capture of one face would give."""
    from kyc.liveness._active import TrackEvidence
    from kyc.liveness._tracking import measurements_from_landmarks

    n = len(landmarks)
    centres = np.array([lm.mean(0) if lm is not None else (np.nan, np.nan) for lm in landmarks])
    widths = np.array([np.ptp(lm[:, 0]) if lm is not None else np.nan for lm in landmarks])
    fields = dict(
        measurements=measurements_from_landmarks(np.asarray(t), landmarks, SIZE, mirrored=mirrored),
        landmarks=list(landmarks),
        face_centres=centres,
        face_widths=widths,
        faces_on_detection=[1] * ((n + 4) // 5),
        frame_change=np.full(n, 3.0),
        histogram_change=np.full(n, 0.01),
        descriptor_distances=[0.25, 0.3, 0.28],
        sharpness=np.full(n, 120.0),
    )
    fields.update(override)
    return TrackEvidence(**fields)


def relief_frames(photo: np.ndarray, landmarks: np.ndarray, yaws: list[float], seed: int = 0) -> list[np.ndarray]:
    """Frames of a photo given a rough 3-D relief (an ellipsoidal head and a nose
    ridge) and turned about a vertical axis by each yaw (degrees, > 0 = toward the
    image's right). A stand-in for a real head turning, for the 3-D checks only: it
    cannot blink, and its far side is stretched rather than hidden.

    Each output pixel is mapped back to the photo by a few fixed-point steps of the
    analytic surface (fast, no triangulation).
    """
    rng = np.random.default_rng(seed)
    h, w = photo.shape[:2]
    lm = landmarks.astype(np.float64)
    iod = np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0))
    cx, cy = lm[:17, 0].mean(), lm[:, 1].mean()
    a = 0.6 * np.ptp(lm[:17, 0])
    b = 1.45 * a
    depth = 1.2 * a
    nose = lm[27:31]
    f = float(w)
    dist = 6.0 * a  # camera to the face's front, px units
    pivot = dist + 0.9 * a

    def relief(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        inside = 1 - ((x - cx) / a) ** 2 - ((y - cy) / b) ** 2
        z = np.where(inside > 0, depth * (1 - np.sqrt(np.clip(inside, 0, 1))), depth)
        for k, (nx, ny) in enumerate(nose):
            z = z - 0.12 * iod * (k + 1) * np.exp(-((x - nx) ** 2 + (y - ny) ** 2) / (2 * (0.22 * iod) ** 2))
        return z

    def project(x: np.ndarray, y: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        zc = relief(x, y) + dist
        X, Y = (x - w / 2) * zc / f, (y - h / 2) * zc / f
        px = (cx - w / 2) * pivot / f
        xr = (X - px) * np.cos(t) - (zc - pivot) * np.sin(t) + px
        zr = (X - px) * np.sin(t) + (zc - pivot) * np.cos(t) + pivot
        return f * xr / zr + w / 2, f * Y / zr + h / 2

    vv, uu = np.mgrid[0:h, 0:w].astype(np.float64)
    frames = []
    for yaw in yaws:
        t = np.radians(yaw)
        x, y = uu.copy(), vv.copy()
        for _ in range(8):
            pu, pv = project(x, y, t)
            x += uu - pu
            y += vv - pv
        img = cv2.remap(photo, x.astype(np.float32), y.astype(np.float32), cv2.INTER_LINEAR, borderValue=(118, 118, 118))
        frames.append(np.clip(img + rng.normal(0, 2.0, img.shape), 0, 255).astype(np.uint8))
    return frames
