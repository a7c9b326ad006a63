"""``kyc face compare A B`` and ``kyc face score-pairs PAIRS.csv``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import typer

from kyc.errors import KycError

app = typer.Typer(no_args_is_help=True)

_ROLES = ("selfie", "id_portrait")


def _load(path: Path):
    from kyc.images import decode_image

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from None
    return decode_image(data)


def _check_role(role: str) -> str:
    if role not in _ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(_ROLES)}")
    return role


@app.command("compare")
def compare(
    image_a: Path = typer.Argument(..., help="First image (e.g. the ID portrait)."),
    image_b: Path = typer.Argument(..., help="Second image (e.g. the selfie)."),
    model: str = typer.Option(None, help="dlib, mobilefacenet, fused or cascade (default: the calibrated scorer)."),
    operating_point: str = typer.Option("fmr_1e-3", help="fmr_1e-2, fmr_1e-3 or fmr_1e-4."),
    role_a: str = typer.Option("selfie", help="selfie or id_portrait."),
    role_b: str = typer.Option("selfie", help="selfie or id_portrait."),
    no_quality: bool = typer.Option(False, "--no-quality", help="Do not refuse faces of low quality."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Compare the faces in two images: similarity in [0, 1], match, threshold, model."""
    from kyc.biometrics.pipeline import compare_images

    try:
        result = compare_images(
            _load(image_a),
            _load(image_b),
            role_a=_check_role(role_a),  # type: ignore[arg-type]
            role_b=_check_role(role_b),  # type: ignore[arg-type]
            model=model,
            operating_point=operating_point,
            check_quality=not no_quality,
        )
    except KycError as exc:
        if as_json:
            typer.echo(json.dumps({"error": exc.to_dict()}))
        else:
            typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(1) from None
    out = {"similarity": round(result.similarity, 6), "match": result.match, "threshold": result.threshold, "model": result.model, "stage": result.stage}
    if as_json:
        typer.echo(json.dumps(out))
    else:
        verdict = "MATCH" if result.match else "no match"
        typer.echo(f"{verdict}: similarity {result.similarity:.4f} (threshold {result.threshold:.4f} at {operating_point}, model {result.model})")


@app.command("score-pairs")
def score_pairs(
    pairs: Path = typer.Argument(..., help="CSV with columns img_a,img_b (other columns are kept)."),
    root: Path = typer.Option(Path("."), "--root", help="Directory the image paths are relative to."),
    out: Path = typer.Option(..., "--out", help="Output CSV: the input columns plus similarity and error."),
    model: str = typer.Option(None, help="dlib, mobilefacenet, fused or cascade (default: the calibrated scorer)."),
    role_a: str = typer.Option("id_portrait", help="Role of img_a: selfie or id_portrait."),
    role_b: str = typer.Option("id_portrait", help="Role of img_b: selfie or id_portrait."),
    quality: bool = typer.Option(False, "--quality", help="Refuse faces of low quality (error column)."),
) -> None:
    """Score many pairs; each image's template is made once. Progress bar on stderr."""
    from tqdm import tqdm

    from kyc.biometrics.matching import compare_templates
    from kyc.biometrics.pipeline import extract_template

    with pairs.open(newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    if "img_a" not in fields or "img_b" not in fields:
        raise typer.BadParameter("the CSV needs columns img_a and img_b")
    cache: dict[tuple[str, str], object] = {}

    def template(rel: str, role: str):
        key = (rel, role)
        if key not in cache:
            try:
                cache[key] = extract_template(_load(root / rel), role, model, check_quality=quality)  # type: ignore[arg-type]
            except KycError as exc:
                cache[key] = exc
            except typer.BadParameter:
                cache[key] = KycError("image_corrupt", "The file could not be read.")
        return cache[key]

    out_fields = fields + [c for c in ("similarity", "stage", "error") if c not in fields]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=out_fields)
        writer.writeheader()
        for row in tqdm(rows, desc="pairs", unit="pair"):
            a = template(row["img_a"], _check_role(role_a))
            b = template(row["img_b"], _check_role(role_b))
            row["similarity"], row["stage"], row["error"] = "", "", ""
            bad = a if isinstance(a, KycError) else b if isinstance(b, KycError) else None
            if bad is not None:
                row["error"] = bad.code
            else:
                try:
                    cmp = compare_templates(a, b)  # type: ignore[arg-type]
                    row["similarity"], row["stage"] = f"{cmp.similarity:.6f}", cmp.stage or cmp.model
                except KycError as exc:
                    row["error"] = exc.code
            writer.writerow(row)
    typer.echo(f"wrote {len(rows)} rows to {out}")
