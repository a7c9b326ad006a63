"""``kyc bench ocr``: accuracy and speed of ID document reading.

* Synthetic ID card photos (:mod:`benchmarks.synthetic_cards`, seeded, none stored):
  exact match per field and per whole document, by difficulty and by engine, and
  seconds per photo (p50/p95 wall clock and CPU).
* The shared MRZ samples (``../shared/data/documents/mrz_passporteye`` and
  ``../shared/data/faces/kyc_sets``): the share whose every check digit holds, and
  exact line match where ground-truth lines exist.

Writes ``reports/ocr/report.md`` and ``report.json``. Speed is measured on whatever
else the machine is doing: the load average is recorded beside it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import statistics
import time
from pathlib import Path

from kyc.config import PROJECT_ROOT, get_settings
from kyc.errors import KycError

SHARED = (PROJECT_ROOT.parent / "shared" / "data").resolve()
TODAY = dt.date(2026, 1, 1)  # the generator's "today": validity periods are drawn around it


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def bench_synthetic(engine: str, difficulty: str, n: int, seed0: int = 1000) -> dict:
    """``difficulty`` is a level (``easy``, ``medium``, ``hard``) or a level with its
    watermark setting: ``medium:clean`` (never one), ``medium:watermarked`` (always)."""
    from benchmarks.synthetic_cards import make_sample

    spec, _, document = difficulty.partition("@")
    level, _, marks = spec.partition(":")
    watermark = {"": None, "clean": False, "watermarked": True}[marks]
    from kyc.ocr import read_document

    settings = get_settings().model_copy(update={"ocr_engine": engine})
    field_ok: dict[str, int] = {}
    field_n: dict[str, int] = {}
    docs_ok = docs_n = photos_ok = 0
    wall: list[float] = []
    cpu: list[float] = []
    per_card: list[float] = []
    failures: dict[str, int] = {}
    examples: list[dict] = []
    for seed in range(seed0, seed0 + n):
        sample = make_sample(seed, level, watermark=watermark, document=document or "cn_id")
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            reading = read_document(sample.image, today=TODAY, settings=settings)
            found = reading.documents
        except KycError as exc:
            found = []
            failures[exc.code] = failures.get(exc.code, 0) + 1
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        per_card.append(wall[-1] / len(sample.sides))
        truth = sample.ground_truth()["documents"]
        photo_ok = True
        for gt in truth:
            match = [d for d in found if d.type == gt["type"]]
            doc_ok = True
            for key, want in gt["fields"].items():
                got = match[0].fields.as_text().get(key) if match else None
                field_n[key] = field_n.get(key, 0) + 1
                if got == want:
                    field_ok[key] = field_ok.get(key, 0) + 1
                else:
                    doc_ok = False
                    if len(examples) < 12:  # which field, not the values: no personal data in reports
                        examples.append({"seed": seed, "type": gt["type"], "field": key, "read": got is not None})
            docs_n += 1
            docs_ok += doc_ok
            photo_ok &= doc_ok
        photos_ok += photo_ok
    return {
        "engine": engine,
        "difficulty": difficulty,
        "photos": n,
        "documents": docs_n,
        "field_exact": {k: field_ok.get(k, 0) / field_n[k] for k in field_n},
        "field_counts": {k: [field_ok.get(k, 0), field_n[k]] for k in field_n},
        "document_exact": docs_ok / max(docs_n, 1),
        "photo_exact": photos_ok / max(n, 1),
        "errors": failures,
        "seconds_per_photo": {"p50": _pct(wall, 0.5), "p95": _pct(wall, 0.95), "mean": statistics.fmean(wall)},
        "cpu_seconds_per_photo": {"p50": _pct(cpu, 0.5), "p95": _pct(cpu, 0.95)},
        "seconds_per_card": {"p50": _pct(per_card, 0.5), "p95": _pct(per_card, 0.95)},
        "mismatch_examples": examples,
    }


def _mrz_samples() -> list[tuple[Path, list[str] | None]]:
    out: list[tuple[Path, list[str] | None]] = []
    root = SHARED / "documents" / "mrz_passporteye"
    if root.is_dir():
        with (root / "labels_testdata.csv").open(encoding="utf-8") as fh:
            out += [(root / row["file"], None) for row in csv.DictReader(fh)]
        for entry in json.loads((root / "ground_truth_mrz_tests_data.json").read_text(encoding="utf-8")):
            out.append((root / entry["file"], entry["mrz_lines"]))
    kyc = SHARED / "faces" / "kyc_sets"
    if (kyc / "ground_truth_mrz.json").is_file():
        for entry in json.loads((kyc / "ground_truth_mrz.json").read_text(encoding="utf-8")):
            out.append((kyc / entry["file"], entry["mrz_lines"]))
    return [(p, lines) for p, lines in out if p.is_file()]


def bench_mrz(engine: str) -> dict:
    from kyc.ocr import read_document

    settings = get_settings().model_copy(update={"ocr_engine": engine})
    rows = []
    wall: list[float] = []
    for path, gt_lines in _mrz_samples():
        t0 = time.perf_counter()
        try:
            reading = read_document(path.read_bytes(), settings=settings, today=TODAY)
            docs = [d for d in reading.documents if d.mrz_lines]
            err = None
        except KycError as exc:
            docs, err = [], exc.code
        wall.append(time.perf_counter() - t0)
        doc = docs[0] if docs else None
        digits = {k: c.ok for k, c in doc.checks.items() if k.endswith("_check_digit")} if doc else {}
        rows.append({
            "file": str(path.relative_to(SHARED)),
            "type": doc.type if doc else None,
            "all_check_digits_valid": bool(digits) and all(digits.values()),
            "failed_check_digits": [k for k, ok in digits.items() if not ok],
            "lines_exact": (doc.mrz_lines == gt_lines) if (doc and gt_lines) else None,
            "error": err,
        })
    n = len(rows)
    with_gt = [r for r in rows if r["lines_exact"] is not None or (r["error"] is None and r["type"] is None)]
    return {
        "engine": engine,
        "samples": n,
        "all_check_digits_valid": sum(r["all_check_digits_valid"] for r in rows) / max(n, 1),
        "valid_count": sum(r["all_check_digits_valid"] for r in rows),
        "lines_exact": [sum(bool(r["lines_exact"]) for r in rows), sum(1 for _p, g in _mrz_samples() if g)],
        "seconds_per_image": {"p50": _pct(wall, 0.5), "p95": _pct(wall, 0.95)},
        "rows": rows,
        "_with_gt": len(with_gt),
    }


def _markdown(report: dict) -> str:
    out = ["# OCR benchmark", "", f"Run {report['started']} on {report['machine']}; load average at start/end "
           f"{report['load_start']} / {report['load_end']} (other jobs share the 2 cores: wall-clock figures are inflated).", "",
           f"Command: `{report['command']}`", "", "## Synthetic ID cards", ""]
    fields = ["name", "sex", "ethnicity", "birth_date", "address", "id_number", "issuing_authority", "valid_from", "valid_until",
              "permit_number", "issue_count", "name_en", "name_zh", "nationality"]
    out.append("| engine | difficulty | photos | " + " | ".join(fields) + " | whole document | whole photo | p50 s/photo | p95 s/photo | p50 CPU s/photo | p50 s/card | errors |")
    out.append("|---" * (len(fields) + 10) + "|")
    for r in report["synthetic"]:
        cells = []
        for f in fields:
            ok, n = r["field_counts"].get(f, [0, 0])
            cells.append(f"{100 * ok / n:.1f}% ({ok}/{n})" if n else "-")
        sp, cp, pc = r["seconds_per_photo"], r["cpu_seconds_per_photo"], r["seconds_per_card"]
        out.append(f"| {r['engine']} | {r['difficulty']} | {r['photos']} | " + " | ".join(cells)
                   + f" | {100 * r['document_exact']:.1f}% | {100 * r['photo_exact']:.1f}% | {sp['p50']:.2f} | {sp['p95']:.2f} | {cp['p50']:.2f} | {pc['p50']:.2f} | {r['errors'] or '-'} |")
    out += ["", "CPU seconds add up every thread of the process (onnxruntime uses both cores).", ""]
    for m in report["mrz"]:
        out += [f"## MRZ samples ({m['engine']})", "",
                f"All check digits valid: **{100 * m['all_check_digits_valid']:.1f}%** ({m['valid_count']}/{m['samples']}); "
                f"exact lines where ground truth exists: {m['lines_exact'][0]}/{m['lines_exact'][1]}; "
                f"p50 {m['seconds_per_image']['p50']:.2f} s, p95 {m['seconds_per_image']['p95']:.2f} s per image.", "",
                "| file | type | all check digits | failed | error |", "|---|---|---|---|---|"]
        for r in m["rows"]:
            out.append(f"| {r['file']} | {r['type'] or '-'} | {'yes' if r['all_check_digits_valid'] else 'no'} | {', '.join(r['failed_check_digits']) or '-'} | {r['error'] or '-'} |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kyc bench ocr", description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=100, help="photos per difficulty (default 100)")
    p.add_argument("--n-hard", type=int, default=None, help="photos for the hard set (default: --n)")
    p.add_argument("--difficulties", default="easy,medium,hard,medium:clean,medium:watermarked,medium@hmt_residence,medium@foreign_pr,medium@travel_permit",
                   help="comma-separated levels; LEVEL:clean never draws a watermark, LEVEL:watermarked always does; "
                        "a suffix @DOCUMENT sets the card (cn_id, hmt_residence, foreign_pr, travel_permit)")
    p.add_argument("--seed0", type=int, default=1000, help="first seed of every set (another value: a fresh set)")
    p.add_argument("--engines", default="rapidocr", help="comma-separated: rapidocr,tesseract")
    p.add_argument("--n-second-engine", type=int, default=20, help="photos per difficulty for engines after the first")
    p.add_argument("--no-mrz", action="store_true", help="skip the shared MRZ samples")
    p.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "ocr")
    args = p.parse_args(argv)

    report: dict = {
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPUs",
        "load_start": [round(x, 2) for x in os.getloadavg()],
        "command": "kyc bench ocr " + " ".join(argv),
        "synthetic": [],
        "mrz": [],
    }
    engines = [e for e in args.engines.split(",") if e]
    for i, engine in enumerate(engines):
        for difficulty in [d for d in args.difficulties.split(",") if d]:
            n = args.n_hard if (difficulty.startswith("hard") and args.n_hard) else args.n
            if i > 0:
                n = min(n, args.n_second_engine)
            r = bench_synthetic(engine, difficulty, n, seed0=args.seed0)
            report["synthetic"].append(r)
            print(f"{engine} {difficulty}: id_number {100 * r['field_exact'].get('id_number', 0):.1f}% "
                  f"document {100 * r['document_exact']:.1f}% p50 {r['seconds_per_photo']['p50']:.2f}s", flush=True)
        if not args.no_mrz and i == 0:
            m = bench_mrz(engine)
            report["mrz"].append(m)
            print(f"{engine} MRZ: all check digits valid {m['valid_count']}/{m['samples']}", flush=True)
    report["load_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (args.out / "report.md").write_text(_markdown(report), encoding="utf-8")
    print(f"wrote {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
