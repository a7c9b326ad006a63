"""``kyc bench service``: drive the running service over HTTP with concurrent clients.

Reports p50/p95 latency of ``POST /v1/verifications`` (front, back, selfie with passive
liveness), throughput per second, errors by code, and the server's resident memory over
the run (growth after warm-up). Writes ``reports/service/report.json`` and ``report.md``.

    kyc bench service --spawn                       # start a service on a free port (real engines)
    kyc bench service --spawn --engines fake        # service overhead only: FAKE engines, no models
    kyc bench service --url http://127.0.0.1:8000 --key-file var/dev-api-key --admin-key-file var/dev-admin-key --pid PID

Each verification uses its own subject (one consent each), so per-subject failure
limits do not interfere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from kyc.config import PROJECT_ROOT

SHARED = PROJECT_ROOT.parent / "shared" / "data" / "faces" / "kyc_sets" / "mock-documents"
FAKE_COLOUR = (200, 150, 120)
CONSENT_TEXT = "I agree to real-name verification and biometric processing (benchmark)."


def create_fake_app():
    """A uvicorn factory: the real service with FAKE engines (tests/service/fakes.py)."""
    from api.main import create_app
    from tests.service.fakes import FakeEngines

    fake = FakeEngines()
    fake.id_card(FAKE_COLOUR)  # PNGs are deterministic: the bench client builds the same bytes
    fake.id_back()
    app = create_app()
    app.state.engines = fake.engines()
    app.state.bench_fake = fake
    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(engines: str, workers: int) -> tuple[subprocess.Popen, str, Path]:
    data_dir = Path(tempfile.mkdtemp(prefix="kyc-bench-"))
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "KYC_DATA_DIR": str(data_dir),
        "KYC_ENVIRONMENT": "development",
        "KYC_MODELS_DIR": str(PROJECT_ROOT / "var" / "models"),
        "KYC_RATE_LIMIT_PER_MINUTE": "100000",
        "KYC_VERIFICATION_WORKERS": str(workers),
    }
    factory = "benchmarks.service:create_fake_app" if engines == "fake" else "api.main:create_app"
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=PROJECT_ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/v1/health", timeout=2).status_code == 200:
                return proc, url, data_dir
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("the service did not start")
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the service did not answer within 120 s")


def _rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    import psutil

    try:
        p = psutil.Process(pid)
        return sum(c.memory_info().rss for c in [p, *p.children(recursive=True)]) / 2**20
    except psutil.Error:
        return None


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="kyc bench service", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url")
    ap.add_argument("--spawn", action="store_true", help="start a service (temporary data directory) for the run")
    ap.add_argument("--engines", choices=["real", "fake"], default="real", help="with --spawn: fake = service overhead only")
    ap.add_argument("--workers", type=int, default=2, help="with --spawn: KYC_VERIFICATION_WORKERS")
    ap.add_argument("--key"), ap.add_argument("--key-file", type=Path)
    ap.add_argument("--admin-key"), ap.add_argument("--admin-key-file", type=Path)
    ap.add_argument("--pid", type=int, help="server process id, for memory figures (automatic with --spawn)")
    ap.add_argument("-n", "--verifications", type=int, default=200)
    ap.add_argument("-c", "--concurrency", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=8)
    ap.add_argument("--front", type=Path, default=SHARED / "set_3_doc_front.png")
    ap.add_argument("--back", type=Path, default=SHARED / "set_3_doc_back.png")
    ap.add_argument("--selfie", type=Path, default=SHARED / "set_3_selfie.png")
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "service")
    args = ap.parse_args(argv)

    proc = None
    if args.spawn:
        proc, url, data_dir = _spawn(args.engines, args.workers)
        key = (data_dir / "dev-api-key").read_text().strip()
        admin = (data_dir / "dev-admin-key").read_text().strip()
        pid = proc.pid
    else:
        if not args.url:
            ap.error("give --url (a running service) or --spawn")
        url, pid = args.url, args.pid
        key = args.key or (args.key_file.read_text().strip() if args.key_file else None)
        admin = args.admin_key or (args.admin_key_file.read_text().strip() if args.admin_key_file else None)
        if not key:
            ap.error("give --key or --key-file")
    try:
        return _run(args, url, key, admin, pid)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)


def _inputs(args, http: httpx.Client, admin: str | None):
    if args.engines == "fake":
        from tests.service.fakes import FakeEngines, png

        fake = FakeEngines()
        return fake.id_card(FAKE_COLOUR), fake.id_back(), png(FAKE_COLOUR)
    return args.front.read_bytes(), args.back.read_bytes() if args.back else None, args.selfie.read_bytes()


def _run(args, url: str, key: str, admin: str | None, pid: int | None) -> int:
    http = httpx.Client(base_url=url, timeout=120)
    h = {"X-API-Key": key}
    policies = http.get("/v1/policies", headers=h).json()
    if not policies:
        if not admin:
            raise SystemExit("no privacy policy published; give --admin-key so the bench can publish one")
        r = http.post(
            "/v1/policies",
            json={"version": "bench", "text_sha256": hashlib.sha256(b"bench policy").hexdigest()},
            headers={"X-API-Key": admin},
        )
        r.raise_for_status()
        policies = [r.json()]
    version = policies[-1]["version"]
    front, back, selfie = _inputs(args, http, admin)
    run_id = hashlib.sha256(str(time.time()).encode()).hexdigest()[:8]
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    memory: list[tuple[int, float]] = []
    done = [0]
    local = threading.local()

    def one(i: int, record: bool) -> None:
        c = getattr(local, "http", None)
        if c is None:
            c = local.http = httpx.Client(base_url=url, timeout=120)
        ref = f"bench-{run_id}-{i}"
        consent = c.post(
            "/v1/consents",
            json={
                "subject_ref": ref,
                "purposes": ["real_name_verification", "biometric_processing"],
                "policy_version": version,
                "locale": "zh-CN",
                "channel": "bench",
                "text_sha256": hashlib.sha256(CONSENT_TEXT.encode()).hexdigest(),
            },
            headers=h,
        ).json()
        files = {"id_front": ("front", front), "selfie": ("selfie", selfie)}
        if back is not None:
            files["id_back"] = ("back", back)
        t0 = time.perf_counter()
        r = c.post("/v1/verifications", data={"consent_id": consent["id"]}, files=files, headers={**h, "Idempotency-Key": ref})
        dt = time.perf_counter() - t0
        outcome = r.json().get("status") if r.status_code < 300 else f"{r.status_code} {r.json().get('error', {}).get('code')}"
        with lock:
            if record:
                latencies.append(dt)
                statuses[outcome] = statuses.get(outcome, 0) + 1
                done[0] += 1
                if done[0] % 25 == 0:
                    m = _rss_mb(pid)
                    if m is not None:
                        memory.append((done[0], m))

    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(lambda i: one(i, False), range(args.warmup)))
        rss0 = _rss_mb(pid)
        t0 = time.perf_counter()
        list(pool.map(lambda i: one(i, True), range(args.warmup, args.warmup + args.verifications)))
        wall = time.perf_counter() - t0
    rss1 = _rss_mb(pid)
    lat = sorted(latencies)
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else lat * 99
    errors = {k: v for k, v in statuses.items() if k not in ("approved", "rejected", "review")}
    report = {
        "url": url,
        "verifications": len(lat),
        "concurrency": args.concurrency,
        "p50_s": round(q[49], 3),
        "p95_s": round(q[94], 3),
        "throughput_per_s": round(len(lat) / wall, 2),
        "outcomes": statuses,
        "errors": sum(errors.values()),
        "rss_mb_after_warmup": rss0 and round(rss0, 1),
        "rss_mb_end": rss1 and round(rss1, 1),
        "rss_growth_mb": (rss1 - rss0) if rss0 and rss1 else None,
        "rss_samples": memory,
        "engines": args.engines if args.spawn else "as served",
        "inputs": "FAKE engines (service overhead only)" if args.engines == "fake" else [str(args.front), str(args.back), str(args.selfie)],
        "cpu_count": os.cpu_count(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    md = [
        "# Service benchmark",
        "",
        f"{len(lat)} verifications, {args.concurrency} concurrent clients, {url}, engines: {report['engines']}",
        "",
        "| p50 s | p95 s | throughput /s | errors | RSS after warm-up MB | RSS end MB |",
        "|---|---|---|---|---|---|",
        f"| {report['p50_s']} | {report['p95_s']} | {report['throughput_per_s']} | {report['errors']} | {report['rss_mb_after_warmup']} | {report['rss_mb_end']} |",
        "",
        f"Outcomes: {statuses}",
    ]
    (args.out / "report.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0 if not errors else 1
