"""Card portraits for ``kyc bench face --card-portraits``: an LFW face printed on a
synthetic ID card, photographed, read back by the document reader.

The task the service does is not LFW's: the enrolled face is the portrait printed on an
ID card, photographed by a phone and cut out by the document reader (small, printed,
sometimes under a watermark). :func:`card_photo` puts a face on a card with the
project's generator (``benchmarks.synthetic_cards``: ``random_identity``,
``render_front``, ``photograph``, only its public functions) and degrades the photo as
phones and users do; :func:`read_portrait` reads it with ``kyc.ocr.read_document`` and
returns the portrait the reader crops. Conditions are drawn from the seed and returned,
so the benchmark can report by condition (and the quality bands can be calibrated on them).
"""

from __future__ import annotations

import io
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from benchmarks import synthetic_cards as cards

__all__ = ["CardConditions", "card_photo", "read_portrait", "portrait_cache", "PORTRAIT_BOX"]

PORTRAIT_BOX = (560, 60, 810, 370)  # where render_front pastes the portrait on the 856 x 540 card
WATERMARK_SHARE = 0.35  # share of cards with a watermark across the portrait
_WATERMARKS = ("仅供实名认证使用", "复印无效", "仅限本次使用")


@dataclass(frozen=True)
class CardConditions:
    scale: float  # the phone photo's size relative to 1280 x 960 (the card fills ~70% of its width)
    blur_sigma: float
    noise_sd: float
    jpeg_quality: int
    watermark: bool  # a semi-transparent watermark across the portrait

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def draw_conditions(seed: int) -> CardConditions:
    rng = random.Random(f"card-portrait:{seed}")
    return CardConditions(
        scale=round(rng.uniform(0.3, 1.0), 3),
        blur_sigma=round(rng.uniform(0.3, 1.4), 2),
        noise_sd=round(rng.uniform(1.0, 6.0), 2),
        jpeg_quality=rng.randint(60, 92),
        watermark=rng.random() < WATERMARK_SHARE,
    )


def _watermark_portrait(card: Image.Image, rng: random.Random) -> Image.Image:
    x0, y0, x1, y1 = PORTRAIT_BOX
    layer = Image.new("RGBA", card.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    text = rng.choice(_WATERMARKS)
    size = max(24, (x1 - x0) // max(4, len(text) - 1))
    font = cards._font("bold", size) if hasattr(cards, "_font") else None
    colour = (rng.randint(0, 80), rng.randint(0, 80), rng.randint(140, 255), rng.randint(60, 100))
    cy = rng.uniform(y0 + 0.3 * (y1 - y0), y0 + 0.6 * (y1 - y0))
    d.text((x0 - 0.2 * (x1 - x0), cy), text, font=font, fill=colour)
    layer = layer.rotate(rng.uniform(-30, 30), center=((x0 + x1) / 2, cy))
    out = card.convert("RGBA")
    out.alpha_composite(layer)
    return out


def card_photo(face_bgr: np.ndarray, seed: int) -> tuple[bytes, CardConditions]:
    """A JPEG phone photo of a synthetic ID card front carrying ``face_bgr`` as its portrait."""
    cond = draw_conditions(seed)
    rng = random.Random(f"card-portrait-card:{seed}")
    ident = cards.random_identity(rng)
    h, w = face_bgr.shape[:2]
    pw = min(w, int(round(h * (PORTRAIT_BOX[2] - PORTRAIT_BOX[0]) / (PORTRAIT_BOX[3] - PORTRAIT_BOX[1]))))
    x0 = (w - pw) // 2  # the card's portrait aspect (5:6.2), centred: the face is not squeezed
    portrait = Image.fromarray(np.ascontiguousarray(face_bgr[:, x0 : x0 + pw, ::-1]))
    card = cards.render_front(ident, rng, portrait=portrait)
    if cond.watermark:
        card = _watermark_portrait(card, rng)
    photo = cv2.imdecode(np.frombuffer(cards.photograph(card, seed=seed), np.uint8), cv2.IMREAD_COLOR)
    if cond.scale < 1.0:
        photo = cv2.resize(photo, None, fx=cond.scale, fy=cond.scale, interpolation=cv2.INTER_AREA)
    photo = cv2.GaussianBlur(photo, (0, 0), cond.blur_sigma)
    noise = np.random.default_rng(seed).normal(0, cond.noise_sd, photo.shape)
    photo = np.clip(photo.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(photo[:, :, ::-1]).save(buf, format="JPEG", quality=cond.jpeg_quality)
    return buf.getvalue(), cond


def read_portrait(photo: bytes) -> np.ndarray | None:
    """The portrait the document reader crops from the photo's ID card front (None when
    it reads no front, or crops no portrait)."""
    from kyc.errors import KycError
    from kyc.ocr import read_document

    try:
        reading = read_document(photo)
    except KycError:
        return None
    for doc in reading.documents:
        if doc.type == "cn_id_front" and doc.portrait is not None:
            return doc.portrait
    return None


def portrait_cache(root: Path, files: list[str], cache: Path, settings=None, seed_offset: int = 0) -> dict[str, np.ndarray]:
    """:func:`benchmarks.face_cache.embed_images` of the card portraits of ``files``:
    each image is printed on a card (seed = ``seed_offset`` + its index in ``files``), photographed, read,
    and the reader's portrait embedded. ``n_faces`` is -1 where the reader cropped no
    portrait; the conditions are stored per row and the portraits are kept as JPEGs
    beside the cache (for the quality bands and for looking at)."""
    from benchmarks.face_cache import embed_images

    seeds = {f: seed_offset + i for i, f in enumerate(files)}
    conds: dict[str, CardConditions] = {}
    keep = cache.with_suffix("")
    keep.mkdir(parents=True, exist_ok=True)

    def read(path: Path) -> np.ndarray | None:
        rel = str(path.relative_to(root))
        face = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if face is None:
            return None
        photo, cond = card_photo(face, seeds[rel])
        conds[rel] = cond
        portrait = read_portrait(photo)
        if portrait is not None:
            cv2.imwrite(str(keep / f"{seeds[rel]:05d}.jpg"), portrait, [cv2.IMWRITE_JPEG_QUALITY, 95])
        return portrait

    data = embed_images(root, files, cache, settings, read=read)
    if "cond_scale" not in data:
        rows = [draw_conditions(seeds[f]) for f in files]
        for key in ("scale", "blur_sigma", "noise_sd", "jpeg_quality", "watermark"):
            data[f"cond_{key}"] = np.array([getattr(c, key) for c in rows])
        from benchmarks.face_cache import save

        save(data, cache)
    return data
