"""Finding ID-1 cards in a photo and straightening them (image work only, no OCR).

A card is found as a convex quadrilateral with the ID-1 aspect ratio (85.6 x 54 mm,
1.585, loosened for perspective) from several independent cues, so that a single
failure mode (a background close to the card's colour, a glare blob) does not lose
it: Canny edges, and Otsu thresholds of the grey and saturation channels in both
polarities. The straightened card is 856 x 540 px (10 px/mm), long side horizontal;
whether it is upside down is decided later from its text.

Coordinates are pixels, ``(x, y)``, corners ordered top-left, top-right,
bottom-right, bottom-left.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["CARD_SIZE", "CardQuad", "find_card_quads", "quad_from_boxes", "warp_card", "order_corners"]

CARD_SIZE = (856, 540)  # width, height in px; ISO/IEC 7810 ID-1 at 10 px/mm
_ASPECT = CARD_SIZE[0] / CARD_SIZE[1]
_WORK_SIDE = 640  # the longer side, in px, of the image the quads are searched in


@dataclass(frozen=True)
class CardQuad:
    corners: np.ndarray  # (4, 2) float32, in the photo's pixels
    touches_border: bool  # a side lies on the photo's edge: the card may be cut off
    source: str  # which cue found it: "edges", "threshold" or "text"

    @property
    def area(self) -> float:
        return float(cv2.contourArea(self.corners.astype(np.float32)))


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Order 4 points clockwise from the top-left, with the first edge the longer one."""
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise in image coordinates (y down)
    start = int(np.argmin(pts.sum(axis=1)))
    pts = np.roll(pts, -start, axis=0)
    e01 = np.linalg.norm(pts[1] - pts[0]) + np.linalg.norm(pts[2] - pts[3])
    e12 = np.linalg.norm(pts[2] - pts[1]) + np.linalg.norm(pts[3] - pts[0])
    if e12 > e01:  # portrait as seen: make the long edge the top
        pts = np.roll(pts, -1, axis=0)
    return pts


def _quad_ok(quad: np.ndarray, img_area: float) -> bool:
    area = cv2.contourArea(quad.astype(np.float32))
    if area < 0.03 * img_area or area > 0.98 * img_area:
        return False
    if not cv2.isContourConvex(quad.astype(np.float32).reshape(-1, 1, 2)):
        return False
    q = order_corners(quad)
    long_side = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    short_side = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    if short_side < 1:
        return False
    # A photographed rectangle keeps its corners near 90 degrees; a glare or shadow wedge does not.
    for i in range(4):
        a, b = q[i - 1] - q[i], q[(i + 1) % 4] - q[i]
        cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))
        if abs(cos) > 0.5:  # outside 60-120 degrees
            return False
    return 1.25 <= long_side / short_side <= 2.0


def _quad_from_contour(cnt: np.ndarray, img_area: float) -> np.ndarray | None:
    area = cv2.contourArea(cnt)
    if area < 0.03 * img_area:
        return None
    hull = cv2.convexHull(cnt)
    peri = cv2.arcLength(hull, True)
    for eps in (0.02, 0.035, 0.05, 0.08, 0.11):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            quad = approx.reshape(4, 2).astype(np.float32)
            if _quad_ok(quad, img_area) and area / max(cv2.contourArea(quad), 1) > 0.85:
                return quad
    # Rounded corners or a chipped edge: the minimum-area rectangle, if it is filled.
    rect = cv2.minAreaRect(hull)
    box = cv2.boxPoints(rect).astype(np.float32)
    if _quad_ok(box, img_area) and area / max(cv2.contourArea(box), 1) > 0.9:
        return box
    return None


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    inter, _ = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    union = cv2.contourArea(a) + cv2.contourArea(b) - inter
    return float(inter / union) if union > 0 else 0.0


def _masks(small: np.ndarray) -> list[tuple[str, np.ndarray]]:
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    grey = cv2.GaussianBlur(grey, (5, 5), 0)
    sat = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2HSV)[:, :, 1], (5, 5), 0)
    out: list[tuple[str, np.ndarray]] = []
    med = float(np.median(grey))
    edges = cv2.Canny(grey, max(10, 0.4 * med), min(255, 1.0 * med + 30))
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8), iterations=2)
    out.append(("edges", edges))
    # Low-contrast outlines (a white card on a pale table): a second, more sensitive pass.
    low = cv2.Canny(cv2.GaussianBlur(grey, (5, 5), 0), 8, 24)
    out.append(("edges", cv2.dilate(low, np.ones((3, 3), np.uint8), iterations=2)))
    kernel = np.ones((7, 7), np.uint8)
    for ch in (grey, sat):
        _, th = cv2.threshold(ch, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        for m in (th, 255 - th):
            m = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)
            m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel, iterations=2)
            out.append(("threshold", m))
    return out


def _edge_support(quad: np.ndarray, edges: np.ndarray, samples: int = 240) -> float:
    """The fraction of the quad's outline that lies on an edge of the photo (0-1)."""
    pts = np.concatenate([quad, quad[:1]])
    out = []
    per_side = samples // 4
    for a, b in zip(pts[:-1], pts[1:]):
        t = np.linspace(0, 1, per_side, endpoint=False)[:, None]
        out.append(a + (b - a) * t)
    p = np.concatenate(out).round().astype(int)
    h, w = edges.shape
    inside = (p[:, 0] >= 0) & (p[:, 0] < w) & (p[:, 1] >= 0) & (p[:, 1] < h)
    p = p[inside]
    return float((edges[p[:, 1], p[:, 0]] > 0).mean()) if len(p) else 0.0


def _refine(quad: np.ndarray, grad: np.ndarray, reach: int = 8) -> np.ndarray:
    """Corners moved onto the strongest gradient near each side: each side is refitted as
    a line through the gradient maxima found along its normals, then sides are intersected."""
    q = order_corners(quad)
    h, w = grad.shape
    lines = []
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        d = b - a
        length = float(np.linalg.norm(d))
        if length < 20:
            return quad
        n = np.array([-d[1], d[0]], np.float32) / length
        pts = []
        for t in np.linspace(0.1, 0.9, 24):
            p = a + d * t
            offs = np.arange(-reach, reach + 1, dtype=np.float32)
            cand = p[None, :] + offs[:, None] * n[None, :]
            xi, yi = cand[:, 0].round().astype(int), cand[:, 1].round().astype(int)
            ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            if ok.sum() < 3:
                continue
            vals = np.where(ok, grad[yi.clip(0, h - 1), xi.clip(0, w - 1)], 0)
            if vals.max() > 0:
                pts.append(cand[int(vals.argmax())])
        if len(pts) < 8:
            return quad
        vx, vy, x0, y0 = cv2.fitLine(np.array(pts, np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0]), np.array([vx, vy])))
    out = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        m = np.array([d1, -d2]).T
        if abs(np.linalg.det(m)) < 1e-6:
            return quad
        t = np.linalg.solve(m, p2 - p1)
        out.append(p1 + d1 * t[0])
    refined = np.array(out, np.float32)
    if np.abs(refined - q).max() > 2 * reach:
        return quad
    return refined


def _fill(quad: np.ndarray, mask: np.ndarray) -> float:
    poly = np.zeros(mask.shape, np.uint8)
    cv2.fillConvexPoly(poly, quad.round().astype(np.int32), 1)
    n = int(poly.sum())
    return float((mask[poly > 0] > 0).sum() / n) if n else 0.0


def find_card_quads(image: np.ndarray, max_cards: int = 2) -> list[CardQuad]:
    """The card-shaped quadrilaterals in a BGR photo, best supported first, without overlaps.

    Candidates from every cue are scored by how much of their outline lies on an
    image edge (a card has a visible border; a shadow or a glare blob mostly has not);
    among overlapping candidates the best supported wins.
    """
    h, w = image.shape[:2]
    scale = min(1.0, _WORK_SIDE / max(h, w))
    small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else image
    sh, sw = small.shape[:2]
    img_area = float(sh * sw)
    masks = _masks(small)
    grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (3, 3), 0)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    grad = cv2.magnitude(gx, gy)
    fine_edges = cv2.dilate(cv2.Canny(grey, 30, 90), np.ones((9, 9), np.uint8))  # tolerate 4 px offsets
    found: list[tuple[float, float, np.ndarray, str]] = []
    for source, mask in masks:
        mode = cv2.RETR_LIST if source == "edges" else cv2.RETR_EXTERNAL
        contours, _ = cv2.findContours(mask, mode, cv2.CHAIN_APPROX_SIMPLE)
        for cnt in sorted(contours, key=cv2.contourArea, reverse=True)[:12]:
            quad = _quad_from_contour(cnt, img_area)
            if quad is None:
                continue
            if source == "threshold" and _fill(quad, mask) < 0.85:
                continue  # a background region around a hole, not a solid card
            quad = _refine(quad, grad)
            support = _edge_support(quad, fine_edges)
            if support < 0.3:
                continue
            found.append((support, cv2.contourArea(quad), quad, source))
    found.sort(key=lambda t: (-(t[0] >= 0.6), -t[1]))  # well supported first, then the larger (a card holds a portrait frame)
    kept: list[tuple[np.ndarray, str]] = []
    for _support, _area, quad, source in found:
        if all(_iou(quad, k) < 0.3 and not _inside(quad, k) for k, _ in kept):
            kept.append((quad, source))
    out: list[CardQuad] = []
    margin = 3
    for quad, source in kept[:max_cards]:
        touches = bool((quad[:, 0] <= margin).any() or (quad[:, 1] <= margin).any()
                       or (quad[:, 0] >= sw - 1 - margin).any() or (quad[:, 1] >= sh - 1 - margin).any())
        out.append(CardQuad(order_corners(quad / scale), touches, source))
    out.sort(key=lambda q: float(q.corners[:, 0].mean()))  # left to right
    return out


def _inside(a: np.ndarray, b: np.ndarray) -> bool:
    inter, _ = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    smaller = min(cv2.contourArea(a), cv2.contourArea(b))
    return smaller > 0 and inter / smaller > 0.6


def quad_from_boxes(boxes: list[np.ndarray], image_shape: tuple[int, int], margin: float = 0.12) -> CardQuad | None:
    """A card estimate from text boxes (when no edge is visible): their rotated bounding box, widened."""
    if len(boxes) < 3:
        return None
    pts = np.concatenate([np.asarray(b, np.float32).reshape(-1, 2) for b in boxes])
    (cx, cy), (bw, bh), ang = cv2.minAreaRect(pts)
    bw, bh = bw * (1 + 2 * margin), bh * (1 + 2 * margin)
    long_side, short_side = max(bw, bh), min(bw, bh)
    if long_side / max(short_side, 1) < _ASPECT:  # grow the short side to the card's ratio
        short_side = long_side / _ASPECT
    else:
        long_side = short_side * _ASPECT
    size = (long_side, short_side) if bw >= bh else (short_side, long_side)
    corners = cv2.boxPoints(((cx, cy), size, ang)).astype(np.float32)
    h, w = image_shape[:2]
    touches = bool((corners[:, 0] < 0).any() or (corners[:, 1] < 0).any() or (corners[:, 0] > w).any() or (corners[:, 1] > h).any())
    return CardQuad(order_corners(corners), touches, "text")


def warp_card(image: np.ndarray, corners: np.ndarray, size: tuple[int, int] = CARD_SIZE) -> np.ndarray:
    """The card straightened to ``size`` (width, height) px, long side horizontal."""
    w, h = size
    dst = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    m = cv2.getPerspectiveTransform(order_corners(corners).astype(np.float32), dst)
    return cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
