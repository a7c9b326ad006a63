"""``kyc id read IMAGE... [--json]``: read ID cards and MRZ documents from photos."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

from kyc.errors import KycError

app = typer.Typer(no_args_is_help=True)


@app.command("read")
def read(
    images: list[Path] = typer.Argument(..., help="Photos (JPEG, PNG, WebP, HEIC)."),
    as_json: bool = typer.Option(False, "--json", help="Print {\"documents\": [...], \"errors\": [...]} as JSON."),
    today: str = typer.Option(None, "--today", help="Validate validity periods against this date (YYYY-MM-DD)."),
    engine: str = typer.Option(None, "--engine", help="OCR engine: rapidocr (default) or tesseract."),
) -> None:
    """Find each card or passport in each photo, read and validate its fields."""
    from kyc.config import get_settings
    from kyc.ocr import read_document

    settings = get_settings()
    if engine:
        settings = settings.model_copy(update={"ocr_engine": engine})
    day = dt.date.fromisoformat(today) if today else None
    documents: list[dict] = []
    errors: list[dict] = []
    for path in images:
        try:
            reading = read_document(path.read_bytes(), today=day, settings=settings)
        except KycError as exc:
            errors.append({"file": str(path), **exc.to_dict()})
            continue
        except OSError as exc:
            errors.append({"file": str(path), "code": "image_empty", "message": f"cannot read file: {exc.strerror}"})
            continue
        for doc in reading.documents:
            documents.append({"file": str(path), **doc.to_dict()})
        errors.extend({"file": str(path), **e} for e in reading.errors)
    if as_json:
        typer.echo(json.dumps({"documents": documents, "errors": errors}, ensure_ascii=False, indent=2))
    else:
        for doc in documents:
            typer.echo(f"{doc['file']}: {doc['type']}")
            for k, v in doc["fields"].items():
                typer.echo(f"  {k:<18} {v}")
            for k, c in doc["checks"].items():
                typer.echo(f"  [{'ok' if c['ok'] else c['code']}] {k}")
        for e in errors:
            typer.echo(f"{e['file']}: error {e['code']}: {e['message']}", err=True)
    if errors and not documents:
        raise typer.Exit(1)
