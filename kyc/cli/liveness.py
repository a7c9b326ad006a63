"""``kyc liveness``: passive checks on selfies, and training the passive classifier."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("check")
def check(
    image: Path = typer.Argument(..., exists=True, dir_okay=False, help="A selfie (JPEG, PNG, WebP, HEIC)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Passive liveness of one selfie: outcome (live, weak, spoof, or retake with the framing
    reasons), fused score (higher = more likely live), thresholds, cues and signals."""
    from kyc.errors import KycError
    from kyc.images import decode_image
    from kyc.liveness import check_passive

    try:
        result = check_passive(decode_image(image.read_bytes()))
    except KycError as exc:
        typer.echo(json.dumps({"error": exc.to_dict()}) if as_json else f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
    else:
        why = f" ({', '.join(result.reasons)})" if result.reasons else ""
        cues = "  ".join(f"{k}={v:.2f}" for k, v in result.cues.items())
        typer.echo(
            f"{result.outcome}{why}  score={result.score:.4f}  threshold={result.threshold:.4f}  "
            f"spoof_below={result.spoof_threshold:.4f}  model={result.model}  {cues}"
        )


@app.command("score")
def score(
    list_csv: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV with a `file` column (others kept)."),
    root: Path = typer.Option(Path("."), "--root", help="Folder the `file` paths are relative to."),
    out: Path = typer.Option(..., "--out", help="Output CSV: the input columns plus `score` and `error`."),
) -> None:
    """Passive scores for many images; a failing image gets an empty score and its error code."""
    from kyc.errors import KycError
    from kyc.images import decode_image
    from kyc.liveness import check_passive

    with list_csv.open(newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "file" not in reader.fieldnames:
            typer.echo("error: the CSV needs a `file` column", err=True)
            raise typer.Exit(2)
        fields = [f for f in reader.fieldnames if f not in ("score", "error")] + ["score", "error"]
        rows = list(reader)
    out.parent.mkdir(parents=True, exist_ok=True)
    failed = 0
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            path = root / row["file"]
            row["score"], row["error"] = "", ""
            try:
                row["score"] = f"{check_passive(decode_image(path.read_bytes())).score:.6f}"
            except KycError as exc:
                row["error"], failed = exc.code, failed + 1
            except OSError:
                row["error"], failed = "file_unreadable", failed + 1
            writer.writerow(row)
    typer.echo(f"scored {len(rows) - failed} of {len(rows)} images -> {out}")


@app.command("train")
def train(
    data: Path = typer.Option(None, "--data", help="Labelled set with labels.csv (default ../shared/data/liveness/nuaa)."),
    out: Path = typer.Option(None, "--out", help="Weights JSON (default models/weights/liveness_passive_lr.json)."),
) -> None:
    """Train the passive classifier on every subject and write its weights (then update the
    manifest's sha256 and `kyc models fetch --force`)."""
    from kyc.config import PROJECT_ROOT
    from kyc.liveness._training import DEFAULT_C, load_labelled_set, model_to_json, train_passive_model
    from kyc.model_registry import sha256_file

    data = data or PROJECT_ROOT.parent / "shared" / "data" / "liveness" / "nuaa"
    out = out or PROJECT_ROOT / "models" / "weights" / "liveness_passive_lr.json"
    labelled = load_labelled_set(data)
    model = train_passive_model(labelled)
    meta = {
        "data": str(data.name),
        "images": int(len(labelled.live)),
        "bona_fide": int(labelled.live.sum()),
        "attacks": int((~labelled.live).sum()),
        "subjects": sorted(set(labelled.subjects.tolist())),
        "no_face_whole_image": labelled.no_face,
        "C": DEFAULT_C,
        "threshold_rule": "APCER 5% on leave-one-subject-out scores of the training subjects",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model_to_json(model, meta), indent=1) + "\n")
    typer.echo(f"wrote {out} threshold={model.threshold:.6f} sha256={sha256_file(out)}")


@app.command("calibrate")
def calibrate(
    data: Path = typer.Option(None, "--data", help="The shared data folder (default ../shared/data)."),
    out: Path = typer.Option(None, "--out", help="Fusion JSON (default models/weights/liveness_fusion.json)."),
) -> None:
    """Fit the passive fusion (texture + MiniFASNet) on every calibration data set, each
    weighted equally, and write it (then update the manifest's sha256 and
    `kyc models fetch --force`). Leave-one-dataset-out figures: `kyc bench liveness`."""
    from kyc.config import PROJECT_ROOT
    from kyc.liveness._calibration import collect_cues, fit_fusion
    from kyc.model_registry import sha256_file

    data = data or PROJECT_ROOT.parent / "shared" / "data"
    out = out or PROJECT_ROOT / "models" / "weights" / "liveness_fusion.json"
    rows = collect_cues(data)
    if not rows:
        typer.echo(f"error: no calibration data under {data}", err=True)
        raise typer.Exit(2)
    model = fit_fusion(rows, meta={"command": "kyc liveness calibrate"})
    out.write_text(json.dumps(model.to_dict(), indent=1) + "\n")
    typer.echo(json.dumps(model.to_dict()["meta"]))
    typer.echo(f"threshold {model.threshold:.4f} spoof_threshold {model.spoof_threshold:.4f} -> {out} sha256 {sha256_file(out)}")
