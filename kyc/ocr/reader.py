"""From a photo to documents: geometry, then OCR, then parsing and validation.

Steps (each a small function):

1. decode the upload (:func:`kyc.images.decode_image`: format, size limits, EXIF);
2. find card-shaped quadrilaterals (:func:`kyc.ocr.geometry.find_card_quads`) and
   straighten each to 856 x 540 px;
3. on each card, detect text lines at card resolution, decide 0 or 180 degrees by the
   line classifier's vote, recognise the lines;
4. decide what the card is (an MRZ, the ID front or back) from its text, parse the
   fields by the card's layout and validate them;
5. when no card outline gives a document (a passport page, a card filling the photo,
   a background without contrast), read the whole photo: MRZ lines, or a card
   outline estimated from its text boxes.

Whole-photo failures raise :class:`~kyc.errors.KycError` (``document_not_found``,
``document_cut_off``, ``document_unreadable``); a problem with one of several cards is
listed in :attr:`DocumentReading.errors`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import math

import cv2
import numpy as np

from kyc.config import Settings, get_settings
from kyc.errors import CODES, error
from kyc.images import decode_image
from kyc.ocr.cn_id import TextLine, group_rows
from kyc.ocr.engines import OcrEngine, crop_box, get_engine
from kyc.ocr.geometry import CARD_SIZE, CardQuad, find_card_quads, quad_from_boxes, warp_card
from kyc.ocr.layouts import Layout, card_layouts
from kyc.ocr.layouts.cn_id import FRONT as _CN_FRONT
from kyc.ocr.layouts.mrz import from_reading
from kyc.ocr.mrz import best_mrz, find_mrz_lines
from kyc.ocr.watermarks import close_overlays, fade_colour, fade_light
from kyc.ocr.reading import Document, DocumentReading

__all__ = ["read_document", "read_image"]

log = logging.getLogger("kyc.ocr")

_CARD_DET_SIDE = 512  # detector input for a straightened card, px (longer side)
_PAGE_DET_SIDE = 1280  # detector input for a whole photo, px
_MAX_TILT_DEG = 12.0  # on a straightened card, lines tilted more are overlays (watermarks)
# Text boxes starting inside the ID card's portrait are face features, not text.
_PORTRAIT = _CN_FRONT.portrait or (1.0, 0.0, 1.0, 0.0)


def read_document(data: bytes, *, today: _dt.date | None = None, settings: Settings | None = None) -> DocumentReading:
    """Read every ID card side and MRZ document in an uploaded photo."""
    s = settings or get_settings()
    image = decode_image(data, max_bytes=s.max_upload_bytes, max_pixels=s.max_image_pixels, min_side=s.min_image_side)
    return read_image(image, today=today, settings=s)


def read_image(image: np.ndarray, *, today: _dt.date | None = None, settings: Settings | None = None) -> DocumentReading:
    """:func:`read_document` on a decoded upright BGR image."""
    s = settings or get_settings()
    today = today or _dt.date.today()
    engine = get_engine(s)
    quads = find_card_quads(image)
    documents, errors, cut_off = _read_quads(image, quads, engine, today)
    if not documents:
        # A watermark tiled over the whole photo can break the card's edges or draw
        # false ones: look for the outline again with thin strokes closed over.
        closed = [q for q in find_card_quads(close_overlays(image)) if not any(_similar(q, p) for p in quads)]
        if closed:
            documents2, errors2, cut_off2 = _read_quads(image, closed, engine, today)
            if documents2:
                documents, errors, cut_off, quads = documents2, errors2, cut_off2, closed
    if not documents:
        documents, saw_text, page_cut_off = _read_page(image, engine, today)
        cut_off = cut_off or page_cut_off
        if cut_off or any(q.touches_border for q in quads):
            # The outline ran off the photo: only a complete reading may stand.
            documents = [d for d in documents if _complete(d)]
        if not documents:
            if cut_off or (saw_text and any(q.touches_border for q in quads)):
                raise error("document_cut_off")
            if saw_text:
                raise error("document_unreadable")
            raise error("document_not_found")
    return DocumentReading(documents=tuple(documents), errors=tuple(errors), engine=engine.name)


def _read_quads(image: np.ndarray, quads: list[CardQuad], engine: OcrEngine,
                today: _dt.date) -> tuple[list[Document], list[dict], bool]:
    """The documents read inside each card outline; problems per card; whether one ran off the photo."""
    documents: list[Document] = []
    errors: list[dict] = []
    cut_off = False
    for index, quad in enumerate(quads):
        doc = _read_card(image, quad, engine, today)
        if doc is None:
            continue
        if quad.touches_border and not _complete(doc):
            cut_off = True
            errors.append(_err("document_cut_off", card=index))
            continue
        documents.append(doc)
    return documents, errors, cut_off


def _similar(a: CardQuad, b: CardQuad) -> bool:
    """Whether two outlines are the same card (corners within 2 % of its size)."""
    size = float(np.ptp(a.corners, axis=0).max()) or 1.0
    return float(np.abs(a.corners - b.corners).max()) < 0.02 * size


def _err(code: str, **detail: object) -> dict:
    return {"code": code, "message": CODES[code].message, **({"detail": detail} if detail else {})}


# --------------------------------------------------------------------------- one card


def _tilt(box: np.ndarray) -> float:
    dx, dy = box[1] - box[0]
    return abs(math.degrees(math.atan2(dy, dx)))


def _lines(card: np.ndarray, engine: OcrEngine) -> tuple[list[TextLine], np.ndarray]:
    """The card's text lines, in card fractions, after turning it upright; and the upright card."""
    h, w = card.shape[:2]
    colour, card = card, fade_colour(card)
    boxes = [b for b in engine.detect(card, _CARD_DET_SIDE) if _tilt(b) < _MAX_TILT_DEG or _tilt(b) > 180 - _MAX_TILT_DEG]
    if not boxes:
        return [], card
    crops = [crop_box(card, b) for b in boxes]
    weights = np.array([c.shape[1] for c in crops], np.float64)
    flip = float(np.average(engine.upside_down(crops), weights=weights)) > 0.5
    if flip:
        card = cv2.rotate(card, cv2.ROTATE_180)
        colour = cv2.rotate(colour, cv2.ROTATE_180)
        boxes = [np.array([w - 1, h - 1], np.float32) - b[[2, 3, 0, 1]] for b in boxes]
        crops = [cv2.rotate(c, cv2.ROTATE_180) for c in crops]
    # Boxes that start inside the portrait area are face features, not text: skip them.
    keep = [i for i, b in enumerate(boxes) if not (b[:, 0].min() / w > _PORTRAIT[0] and b[:, 1].max() / h < _PORTRAIT[3])]
    boxes, crops = [boxes[i] for i in keep], [crops[i] for i in keep]
    texts = engine.recognise(crops)
    lines = [
        TextLine(t, sc, float(b[:, 0].min() / w), float(b[:, 1].min() / h), float(b[:, 0].max() / w), float(b[:, 1].max() / h))
        for b, (t, sc) in zip(boxes, texts)
        if t.strip()
    ]
    return lines, colour


def _rows(lines: list[TextLine]) -> list[str]:
    """Lines on the same row joined left to right (MRZ lines are often split by the detector)."""
    return ["".join(x.text for x in r) for r in group_rows(lines)]


def _mrz_document(rows: list[str], today: _dt.date, scores: list[float]) -> Document | None:
    reading = best_mrz(rows, today=today)
    if reading is None:
        return None
    conf = round(min(scores), 4) if scores else 0.0
    return Document(type=reading.type, fields=from_reading(reading.fields), checks=reading.checks,
                    confidence={k: conf for k in reading.fields}, mrz_lines=tuple(reading.lines))


def _card_document(lines: list[TextLine], card: np.ndarray, today: _dt.date) -> Document | None:
    mrz = _mrz_document(_rows(lines), today, [ln.score for ln in lines if len(ln.text) >= 20])
    if mrz is not None:
        return mrz
    layout = classify_card(lines)
    if layout is None or layout.parse is None or layout.validate is None:
        return None
    fields, conf = layout.parse(lines)
    portrait = None
    if layout.portrait is not None:
        h, w = card.shape[:2]
        x0, y0, x1, y1 = layout.portrait
        portrait = card[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)].copy()
    return Document(layout.type, fields, layout.validate(fields, today=today), conf, portrait=portrait)


def classify_card(lines: list[TextLine]) -> Layout | None:
    """The registered card layout whose text the lines show most strongly (a score of 2 or
    more: two labels, or a label and the layout's number pattern); the first registered wins
    a tie."""
    best, best_score = None, 1.99
    for layout in card_layouts():
        score = layout.classify(lines) if layout.classify is not None else 0.0
        if score > best_score:
            best, best_score = layout, score
    return best


def _read_card(image: np.ndarray, quad: CardQuad, engine: OcrEngine, today: _dt.date) -> Document | None:
    card = warp_card(image, quad.corners, CARD_SIZE)
    lines, upright = _lines(card, engine)
    doc = _card_document(lines, upright, today)
    if doc is None and lines:  # the orientation vote may have been wrong: try the other way once
        lines2, upright2 = _lines_fixed(cv2.rotate(upright, cv2.ROTATE_180), engine)
        doc = _card_document(lines2, upright2, today)
    if doc is not None and not _complete(doc) and quad.source != "text":
        # A glare or shadow can clip the outline: read a 25 % larger area once.
        centre = quad.corners.mean(axis=0)
        wider = CardQuad(centre + (quad.corners - centre) * 1.25, quad.touches_border, quad.source)
        lines3, upright3 = _lines(warp_card(image, wider.corners, CARD_SIZE), engine)
        doc3 = _card_document(lines3, upright3, today)
        if doc3 is not None and doc3.type == doc.type and _complete(doc3):
            doc, quad = doc3, wider
        elif lines:
            # Or the outline is off to one side: re-estimate it from the text found on the card.
            retry = _quad_from_card_text(quad, lines, image.shape)
            if retry is not None:
                lines4, upright4 = _lines(warp_card(image, retry.corners, CARD_SIZE), engine)
                doc4 = _card_document(lines4, upright4, today)
                if doc4 is not None and doc4.type == doc.type and _complete(doc4):
                    doc, quad = doc4, retry
    if doc is not None and doc.mrz_lines is None and _doubtful(doc):
        doc = _second_pass(doc, upright, engine, today)
    if doc is not None and doc.mrz_lines is not None and not _mrz_valid(doc):
        doc = _card_mrz_second_opinion(doc, lines, upright, engine, today)
    if doc is not None:
        doc = dataclasses.replace(doc, corners=tuple((round(float(x), 1), round(float(y), 1)) for x, y in quad.corners))
    return doc


_LOW_CONFIDENCE = 0.9  # a field read below this (or a failed check) gets the watermark pass


def _doubtful(doc: Document) -> bool:
    return not doc.valid or min(doc.confidence.values(), default=0.0) < _LOW_CONFIDENCE


def _second_pass(doc: Document, card: np.ndarray, engine: OcrEngine, today: _dt.date) -> Document:
    """The card read again with translucent overlays faded (:func:`fade_light`), and the
    readings combined field by field (:func:`choose_fields`)."""
    lines, _ = _lines_fixed(card, engine, prepare=fade_light)
    other = _card_document(lines, card, today)
    if other is None or other.type != doc.type:
        return doc
    return choose_fields(doc, [other], today)


def choose_fields(doc: Document, others: list[Document], today: _dt.date, max_fields: int = 6) -> Document:
    """The mix of several readings of one card whose layout checks hold most often.

    Per field, the values read by ``doc`` and ``others`` (same layout) are the
    candidates; each mix of the fields that differ (at most ``max_fields``, the rest
    from ``doc``) is validated by the layout, and the mix with the most checks passed
    wins, then the one with the highest summed confidence. Values are only ever taken
    from a reading: nothing is made up.
    """
    from itertools import product

    layout = doc.layout
    if layout.validate is None:
        return doc
    readings = [doc, *[o for o in others if o.type == doc.type]]
    values = [r.fields.as_dict() for r in readings]
    options: dict[str, list[int]] = {}
    for key in values[0]:
        seen: dict[object, int] = {}
        for i, v in enumerate(values):
            if v[key] is not None and v[key] not in seen:
                seen[v[key]] = i
        if len(seen) > 1 or (values[0][key] is None and seen):
            options[key] = list(seen.values())
    keys = list(options)[:max_fields]
    if not keys:
        return doc

    def score(d: Document) -> tuple[int, float]:
        return sum(c.ok for c in d.checks.values()), sum(d.confidence.values())

    best, best_score = doc, score(doc)
    for choice in product(*(options[k] for k in keys)):
        fields = dict(values[0])
        conf = dict(doc.confidence)
        for k, i in zip(keys, choice):
            fields[k] = values[i][k]
            conf[k] = readings[i].confidence.get(k, 0.0)
        typed = layout.fields(**fields)
        cand = Document(doc.type, typed, layout.validate(typed, today=today), conf, portrait=doc.portrait)
        if score(cand) > best_score:
            best, best_score = cand, score(cand)
    return best


def _card_mrz_second_opinion(doc: Document, lines: list[TextLine], card: np.ndarray, engine: OcrEngine,
                             today: _dt.date) -> Document:
    """:func:`_mrz_rereads` for a zone read on a straightened card."""
    h, w = card.shape[:2]
    crops = []
    for ln in lines:
        pad = 0.15 * (ln.y1 - ln.y0) * h
        y0, y1 = max(0, int(ln.y0 * h - pad)), min(h, int(ln.y1 * h + pad))
        x0, x1 = max(0, int(ln.x0 * w - pad)), min(w, int(ln.x1 * w + pad))
        crops.append(card[y0:y1, x0:x1] if y1 > y0 and x1 > x0 else card[:4, :4])
    rereads = _mrz_rereads(crops, [(ln.text, ln.score) for ln in lines], engine)
    if not rereads:
        return doc

    def build(t: list[tuple[str, float]]) -> Document | None:
        lines2 = [TextLine(x, sc, ln.x0, ln.y0, ln.x1, ln.y1) for ln, (x, sc) in zip(lines, t)]
        return _mrz_document(_rows(lines2), today, [ln.score for ln in lines2 if len(ln.text) >= 20])

    return _combine(doc, [(ln.text, ln.score) for ln in lines], rereads, build)


def _combine(doc: Document, first: list[tuple[str, float]], alternatives: list[list[tuple[str, float]]], build,
             max_lines: int = 4, max_per_line: int = 4) -> Document:
    """The zone from the mix of line readings whose check digits hold most often.

    ``first`` is the reading of every line, each of ``alternatives`` a re-reading of
    the same lines (another engine, other preprocessing). Per line, the distinct texts
    read for it are the candidates (``first``'s first); every mix is parsed by
    ``build`` and the first one with strictly more valid check digits than ``doc``
    (then than the best so far) is kept. Only real readings are mixed: no character is
    ever changed here.
    """
    from itertools import product

    options: list[list[tuple[str, float]]] = []
    for i, own in enumerate(first):
        seen = [own]
        for alt in alternatives:
            if alt[i][0] not in {t for t, _ in seen}:
                seen.append(alt[i])
        options.append(seen[:max_per_line])
    # Only lines that look like a zone line in some reading (captions differ too, and
    # would use up the ``max_lines`` budget).
    differ = [i for i, o in enumerate(options) if len(o) > 1 and any(find_mrz_lines([t]) for t, _ in o)][:max_lines]
    best, best_score = doc, _mrz_score(doc)
    for choice in product(*(range(len(options[i])) for i in differ)):
        if not any(choice):
            continue
        texts = list(first)
        for i, c in zip(differ, choice):
            texts[i] = options[i][c]
        cand = build(texts)
        if cand is not None and _mrz_score(cand) > best_score:
            best, best_score = cand, _mrz_score(cand)
    return best


def _quad_from_card_text(quad: CardQuad, lines: list[TextLine], shape: tuple[int, ...]) -> CardQuad | None:
    """A card outline estimated from the text boxes read on a first, misplaced one (photo px).

    ``lines`` are in the fractions of the straightened card, which may have been turned
    180 degrees; corners map back through the inverse of the straightening.
    """
    w, h = CARD_SIZE
    dst = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    inv = cv2.getPerspectiveTransform(dst, quad.corners.astype(np.float32))
    boxes = []
    for ln in lines:
        pts = np.float32([[ln.x0 * w, ln.y0 * h], [ln.x1 * w, ln.y0 * h], [ln.x1 * w, ln.y1 * h], [ln.x0 * w, ln.y1 * h]])
        boxes.append(cv2.perspectiveTransform(pts[None], inv)[0])
    return quad_from_boxes(boxes, shape)


def _complete(doc: Document) -> bool:
    return doc.complete


def _lines_fixed(card: np.ndarray, engine: OcrEngine, prepare=fade_colour) -> tuple[list[TextLine], np.ndarray]:
    """Like :func:`_lines` with the orientation taken as given; ``prepare`` fades overlays."""
    h, w = card.shape[:2]
    ink = prepare(card)
    boxes = [b for b in engine.detect(ink, _CARD_DET_SIDE) if _tilt(b) < _MAX_TILT_DEG or _tilt(b) > 180 - _MAX_TILT_DEG]
    texts = engine.recognise([crop_box(ink, b) for b in boxes])
    return [
        TextLine(t, sc, float(b[:, 0].min() / w), float(b[:, 1].min() / h), float(b[:, 0].max() / w), float(b[:, 1].max() / h))
        for b, (t, sc) in zip(boxes, texts)
        if t.strip()
    ], card


# --------------------------------------------------------------------------- whole photo


def _read_page(image: np.ndarray, engine: OcrEngine, today: _dt.date) -> tuple[list[Document], bool, bool]:
    """Documents found by reading the whole photo; whether any text was seen; whether a card ran off it."""
    h, w = image.shape[:2]
    scale = min(1.0, _PAGE_DET_SIDE / max(h, w))
    small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else image
    boxes = [b / scale for b in engine.detect(small, _PAGE_DET_SIDE)]
    if not boxes:
        return [], False, False
    boxes = sorted(boxes, key=lambda b: -cv2.contourArea(b))[:80]
    crops = []
    for b in boxes:
        if np.linalg.norm(b[3] - b[0]) > 1.5 * np.linalg.norm(b[1] - b[0]):
            # A vertical line: the page is turned 90 degrees. Start the box at its top-right
            # corner so the crop runs along the line (as turned counter-clockwise) and the
            # padding scales with the line's height, not its length (which took in the
            # neighbouring lines of an MRZ).
            c = crop_box(image, b[[1, 2, 3, 0]], pad=0.08)
        else:
            c = crop_box(image, b, pad=0.08)
        crops.append(c)
    # One orientation for the whole page (a vote weighted by line length): single lines
    # such as ``<<<<`` runs are ambiguous on their own.
    probs = engine.upside_down(crops)
    upside = float(np.average(probs, weights=[c.shape[1] for c in crops])) > 0.5
    if upside:
        crops = [cv2.rotate(c, cv2.ROTATE_180) for c in crops]
    texts = engine.recognise(crops)
    lines = _page_lines(boxes, texts, upside)
    docs: list[Document] = []
    mrz = _mrz_document(_rows(lines), today, [ln.score for ln in lines if len(ln.text) >= 20])
    if mrz is not None and not _mrz_valid(mrz):
        rereads = _mrz_rereads(crops, texts, engine)
        if rereads:

            def build(t: list[tuple[str, float]]) -> Document | None:
                lines2 = _page_lines(boxes, t, upside)
                return _mrz_document(_rows(lines2), today, [ln.score for ln in lines2 if len(ln.text) >= 20])

            mrz = _combine(mrz, texts, rereads, build)
    if mrz is not None:
        docs.append(mrz)
        return docs, True, False
    cut_off = False
    if classify_card(lines) is not None:
        for group in _text_groups([b for b, (t, _s) in zip(boxes, texts) if t.strip()], image.shape):
            quad = quad_from_boxes(group, image.shape)
            if quad is None:
                continue
            doc = _read_card(image, quad, engine, today)
            if doc is not None and not _complete(doc) and (quad.touches_border or _near_border(group, image.shape)):
                cut_off, doc = True, None
            if doc is not None:
                docs.append(doc)
    saw_text = sum(len(t.strip()) for t, _ in texts) >= 4
    return docs, saw_text, cut_off


def _near_border(boxes: list[np.ndarray], shape: tuple[int, ...], margin: float = 0.015) -> bool:
    """Whether any text box reaches the photo's edge (text running off it)."""
    h, w = shape[:2]
    pts = np.concatenate(boxes)
    return bool((pts[:, 0] < margin * w).any() or (pts[:, 0] > (1 - margin) * w).any()
                or (pts[:, 1] < margin * h).any() or (pts[:, 1] > (1 - margin) * h).any())


def _mrz_score(doc: Document) -> int:
    return sum(c.ok for k, c in doc.checks.items() if k.endswith("_check_digit"))


def _mrz_valid(doc: Document) -> bool:
    return all(c.ok for k, c in doc.checks.items() if k.endswith("_check_digit"))


def _mrz_variants(crop: np.ndarray) -> list[np.ndarray]:
    """The MRZ line crop prepared differently for a re-reading: upscaled 2x, and with
    its contrast equalised locally (CLAHE). Small or low-contrast OCR-B glyphs (``Z``
    read as ``7``, ``B`` as ``8``) often read right in one of them."""
    up = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    flat = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(grey)
    return [up, cv2.cvtColor(flat, cv2.COLOR_GRAY2BGR)]


def _mrz_rereads(crops: list[np.ndarray], texts: list[tuple[str, float]], engine: OcrEngine) -> list[list[tuple[str, float]]]:
    """Re-readings of the MRZ-looking lines, each a full list aligned with ``texts``.

    One per preprocessing of :func:`_mrz_variants` (by the same engine), then
    Tesseract with the MRZ alphabet (:func:`_mrz_second_opinion`). Used only when a
    check digit fails; :func:`_combine` keeps a mix only if more check digits hold.
    """
    idx = [i for i, (t, _s) in enumerate(texts) if find_mrz_lines([t])]
    out: list[list[tuple[str, float]]] = []
    if idx:
        variants = [_mrz_variants(crops[i]) for i in idx]
        for k in range(len(variants[0])):
            read = engine.recognise([v[k] for v in variants])
            alt = list(texts)
            for i, r in zip(idx, read):
                if find_mrz_lines([r[0]]):
                    alt[i] = r
            if alt != list(texts):
                out.append(alt)
    second = _mrz_second_opinion(crops, texts)
    if second is not None:
        out.append(second)
    return out


def _mrz_second_opinion(crops: list[np.ndarray], texts: list[tuple[str, float]]) -> list[tuple[str, float]] | None:
    """The MRZ-looking lines read again by Tesseract restricted to the MRZ alphabet.

    Used only when a check digit fails; the reading whose check digits hold more often
    is kept, so a second engine can only settle the zone, never override a valid one.
    """
    import shutil

    if shutil.which("tesseract") is None:
        return None
    import pytesseract

    from kyc.ocr.mrz import clean_line

    out = list(texts)
    changed = False
    for i, (crop, (text, score)) in enumerate(zip(crops, texts)):
        if len(clean_line(text)) < 20:
            continue
        h = crop.shape[0]
        big = cv2.resize(crop, None, fx=40 / h, fy=40 / h, interpolation=cv2.INTER_CUBIC) if h < 40 else crop
        config = "--psm 7 -c tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
        try:
            read = pytesseract.image_to_string(big[:, :, ::-1], lang="eng", config=config).strip()
        except (pytesseract.TesseractError, OSError):
            return None
        if len(clean_line(read)) >= 20:
            out[i] = (read, score)
            changed = True
    return out if changed else None


def _text_groups(boxes: list[np.ndarray], shape: tuple[int, ...]) -> list[list[np.ndarray]]:
    """Text boxes grouped into blocks (one per card): boxes closer than about three line
    heights join, so two cards side by side give two groups."""
    if not boxes:
        return []
    heights = [min(np.linalg.norm(b[3] - b[0]), np.linalg.norm(b[1] - b[0])) for b in boxes]
    reach = max(3, int(3.0 * float(np.median(heights))))
    h, w = shape[:2]
    scale = min(1.0, 800 / max(h, w))
    mask = np.zeros((int(h * scale) + 1, int(w * scale) + 1), np.uint8)
    for b in boxes:
        cv2.fillConvexPoly(mask, (b * scale).round().astype(np.int32), 255)
    k = max(3, int(reach * scale))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    n, labels = cv2.connectedComponents(mask)
    groups: dict[int, list[np.ndarray]] = {}
    for b in boxes:
        c = (b.mean(axis=0) * scale).round().astype(int)
        label = int(labels[min(c[1], labels.shape[0] - 1), min(c[0], labels.shape[1] - 1)])
        groups.setdefault(label, []).append(b)
    return sorted((g for g in groups.values() if len(g) >= 3), key=len, reverse=True)[:2]


def _page_lines(boxes: list[np.ndarray], texts: list[tuple[str, float]], upside: bool) -> list[TextLine]:
    """Text lines in the frame of the dominant text direction, in fractions of the photo's diagonal."""
    angles = []
    for b in boxes:
        v = b[1] - b[0]
        if np.linalg.norm(v) < np.linalg.norm(b[3] - b[0]):
            v = b[2] - b[1]
        angles.append(math.atan2(v[1], v[0]))
    widths = [np.linalg.norm(b[1] - b[0]) + np.linalg.norm(b[2] - b[1]) for b in boxes]
    theta = angles[int(np.argmax(widths))]
    # Fold to the axis (+/- 90 degrees) so 0 and 180 give the same frame; the flip is applied by sign.
    c, s = math.cos(-theta), math.sin(-theta)
    rot = np.array([[c, -s], [s, c]], np.float32)
    sign = -1.0 if upside else 1.0
    pts = [(b @ rot.T) * sign for b in boxes]
    allp = np.concatenate(pts)
    span = float(np.ptp(allp, axis=0).max()) or 1.0
    origin = allp.min(axis=0)
    out = []
    for p, (t, sc) in zip(pts, texts):
        if not t.strip():
            continue
        q = (p - origin) / span
        out.append(TextLine(t, sc, float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())))
    return out
