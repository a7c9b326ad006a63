"""What a document layout is, and the typed fields every layout returns.

A layout is one kind of document side (the ID card front, its back, a TD3 passport
page, a residence permit...). It owns everything specific to it: how it is recognised
among the text lines of a straightened card, how its fields are parsed and validated,
where its portrait is, which side it is, and how its fields map to the service's common
field names. The reader, the verification pipeline, masking and the review console
look layouts up in :mod:`kyc.ocr.layouts` instead of keeping their own lists.

Nothing here needs an image or ML library.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

from kyc.ocr.checks import Check

__all__ = ["DocumentFields", "Layout", "CommonField", "COMMON_FIELDS", "Side"]

Side = Literal["front", "back"]


def _text(value: object) -> str | None:
    """A field value as the service stores it: dates ISO 8601, booleans ``true``/``false``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class DocumentFields:
    """Base of every layout's fields: a frozen dataclass of typed values.

    Subclasses declare their fields (``datetime.date`` for dates, ``bool`` for flags)
    and ``COMMON``, the map from the service's common names (``name``, ``id_number``,
    ``valid_until``...) to their own field names.
    """

    COMMON: ClassVar[Mapping[str, str]] = {}

    def as_dict(self) -> dict[str, object]:
        """The typed values by field name (dates stay dates)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def as_text(self) -> dict[str, str | None]:
        """Every field as text (JSON-able: ISO dates, ``true``/``false``)."""
        return {k: _text(v) for k, v in self.as_dict().items()}

    def common(self) -> dict[str, str | None]:
        """The fields as text under their own names plus the common names (what a
        verification stores, masks and shows to reviewers)."""
        out = self.as_text()
        for common, own in self.COMMON.items():
            if out.get(common) is None:
                out[common] = out.get(own)
        return out


@dataclass(frozen=True)
class CommonField:
    """A field name shared by the layouts: its label for reviewers and how a client sees it."""

    name: str
    label: str
    mask: Literal["name", "id_number", "plain"] | None  # None: never in a client's response


COMMON_FIELDS: tuple[CommonField, ...] = (
    CommonField("name", "Name", "name"),
    CommonField("id_number", "ID number", "id_number"),
    CommonField("sex", "Sex", "plain"),
    CommonField("valid_until", "Valid until", "plain"),
    CommonField("valid_from", "Valid from", None),
    CommonField("birth_date", "Date of birth", None),
    CommonField("nationality", "Nationality", None),
    CommonField("issuing_authority", "Issuing authority", None),
    CommonField("address", "Address", None),
)


@dataclass(frozen=True)
class Layout:
    """One document layout, registered in :mod:`kyc.ocr.layouts`.

    * ``classify(lines) -> float``: how strongly the card's text lines say this layout
      (0 = not at all; the reader takes the highest score of 2 or more);
    * ``parse(lines) -> (fields, confidence)``: typed fields and per-field confidence;
    * ``validate(fields, today) -> checks``;
    * ``complete(fields, checks) -> bool``: whether the reading is whole (a cut-off
      card reads incomplete);
    * ``portrait``: the portrait box in card fractions ``(x0, y0, x1, y1)`` or None;
    * ``labels``: reviewers' labels of the layout's own field names.

    MRZ layouts are read by :mod:`kyc.ocr.mrz` and have ``mrz=True`` and no ``parse``.
    """

    type: str
    title: str
    side: Side
    fields: type[DocumentFields]
    classify: Callable[[list], float] | None = None
    parse: Callable[[list], tuple[DocumentFields, dict[str, float]]] | None = None
    validate: Callable[..., dict[str, Check]] | None = None
    complete: Callable[[DocumentFields, dict[str, Check]], bool] = lambda fields, checks: True
    portrait: tuple[float, float, float, float] | None = None
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    mrz: bool = False
