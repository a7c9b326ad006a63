"""``kyc bench service``: drive the running service over HTTP with concurrent clients.

Reports p50/p95 latency of ``POST /v1/verifications`` (front, back, selfie with passive
liveness), throughput per second, errors by code, and the server's resident memory over
the run (growth after warm-up). Writes ``reports/service/report.json`` and ``report.md``.

    kyc bench service --spawn                       # start a service on a free port (real engines)
    kyc bench service --spawn --engines fake        # service overhead only: FAKE engines, no models
    kyc bench service --url http://127.0.0.1:8000 --key-file var/dev-api-key --admin-key-file var/dev-admin-key --pid PID
    kyc bench service --fleet --fleet-workers 2      # API + broker + 2 `kyc worker` processes (issue 13)
    kyc bench service --sweep 1,2 -n 24 -c 4         # in-process vs fleet at 1 and 2 workers, capacity by stage

The fleet mode starts a private ``redis-server`` (broker and shared state) on a free port
unless ``--broker-url``/``--redis-url`` name running ones, and ``--api-processes`` API
processes (``kyc serve --workers``). Workers run one verification at a time each
(``--concurrency 1``), so "workers" means the same in both modes: verifications at once.

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


def _start_redis() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.3):
                return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


class _Fleet:
    """API processes, a broker and workers for one run; ``close()`` stops them all."""

    def __init__(self, engines: str, workers: int, api_processes: int, broker_url: str | None, redis_url: str | None) -> None:
        self.procs: list[subprocess.Popen] = []
        self.data_dir = Path(tempfile.mkdtemp(prefix="kyc-bench-fleet-"))
        if not broker_url or not redis_url:
            redis_proc, url = _start_redis()
            self.procs.append(redis_proc)
            broker_url, redis_url = broker_url or url, redis_url or url
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "KYC_DATA_DIR": str(self.data_dir),
            "KYC_ENVIRONMENT": "development",
            "KYC_MODELS_DIR": str(PROJECT_ROOT / "var" / "models"),
            "KYC_RATE_LIMIT_PER_MINUTE": "100000",
            "KYC_BROKER_URL": broker_url,
            "KYC_REDIS_URL": redis_url,
            "KYC_REDIS_PREFIX": f"kycbench{port}:",
            "KYC_QUEUE_PREFIX": f"kycbench{port}",
        }
        if engines == "fake":
            self.env["KYC_ENGINES_FACTORY"] = "tests.fleet.fleet_fakes:engines"
        kyc = [sys.executable, "-c", "from kyc.cli import main; main()"]
        self.api = subprocess.Popen(
            [*kyc, "serve", "--port", str(port), "--workers", str(api_processes)], env=self.env, cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.procs.append(self.api)
        self.logs = []
        for i in range(workers):
            log = self.data_dir / f"worker-{i}.log"
            self.logs.append(log)
            with log.open("wb") as out:
                self.procs.append(
                    subprocess.Popen([*kyc, "worker", "--concurrency", "1"], env=self.env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
                )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            ready = all(b"ready." in log.read_bytes() for log in self.logs)
            try:
                if ready and httpx.get(self.url + "/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.close()
        raise SystemExit("the fleet did not start within 180 s")

    def stage_costs(self) -> dict[str, dict[str, float]]:
        """Mean CPU and wall seconds per stage, from the workers' task logs."""
        import re

        per: dict[str, list[tuple[float, float]]] = {}
        for log in self.logs:
            for m in re.finditer(rb"stage=(\w+) cpu_s=([\d.]+) wall_s=([\d.]+)", log.read_bytes()):
                per.setdefault(m.group(1).decode(), []).append((float(m.group(2)), float(m.group(3))))
        return {
            k: {"n": len(v), "cpu_s": round(statistics.mean(c for c, _ in v), 4), "wall_s": round(statistics.mean(w for _, w in v), 4)}
            for k, v in per.items()
        }

    def close(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def _sweep(args) -> int:
    """In-process and fleet at each worker count: throughput, p50/p95, stage costs."""
    rows, costs = [], {}
    for n in [int(x) for x in args.sweep.split(",")]:
        for mode in ("in-process", "fleet"):
            out = args.out / f"{mode}-{n}"
            sub = argparse.Namespace(**{**vars(args), "out": out})
            if mode == "in-process":
                proc, url, data_dir = _spawn(args.engines, n)
                key, admin = (data_dir / "dev-api-key").read_text().strip(), (data_dir / "dev-admin-key").read_text().strip()
                try:
                    _run(sub, url, key, admin, proc.pid)
                finally:
                    proc.terminate()
                    proc.wait(30)
            else:
                fleet = _Fleet(args.engines, n, args.api_processes, args.broker_url, args.redis_url)
                try:
                    key = (fleet.data_dir / "dev-api-key").read_text().strip()
                    admin = (fleet.data_dir / "dev-admin-key").read_text().strip()
                    _run(sub, fleet.url, key, admin, fleet.api.pid)
                    costs[n] = fleet.stage_costs()
                finally:
                    fleet.close()
            r = json.loads((out / "report.json").read_text())
            rows.append((n, mode, r["throughput_per_s"], r["p50_s"], r["p95_s"], r["errors"]))
    md = [
        "# Service benchmark: in-process vs fleet",
        "",
        f"{args.verifications} verifications per row after {args.warmup} warm-up, {args.concurrency} concurrent clients, "
        f"engines: {args.engines}, {os.cpu_count()} cores (shared with other work while measured).",
        "",
        "| workers | mode | throughput /s | p50 s | p95 s | errors |",
        "|---|---|---|---|---|---|",
        *[f"| {n} | {m} | {t} | {p50} | {p95} | {e} |" for n, m, t, p50, p95, e in rows],
        "",
    ]
    for n, mode in {(n, m) for n, m, *_ in rows if m == "fleet"}:
        base = next(t for k, m, t, *_ in rows if k == n and m == "in-process")
        fleet_t = next(t for k, m, t, *_ in rows if k == n and m == "fleet")
        md.append(f"Fleet overhead at {n} worker(s): {100 * (1 - fleet_t / base):.1f}% throughput" if base else "")
    md += ["", "Per stage (mean per verification, fleet runs):", "", "| workers | stage | CPU s | wall s | jobs |", "|---|---|---|---|---|"]
    for n, per in sorted(costs.items()):
        for stage, c in per.items():
            md.append(f"| {n} | {stage} | {c['cpu_s']} | {c['wall_s']} | {c['n']} |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fleet.md").write_text("\n".join(md) + "\n")
    (args.out / "fleet.json").write_text(json.dumps({"rows": rows, "stage_costs": costs}, indent=2))
    print("\n".join(md))
    return 0


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
    ap.add_argument("--fleet", action="store_true", help="start API processes, a broker and workers for the run")
    ap.add_argument("--fleet-workers", type=int, default=2, help="with --fleet: `kyc worker --concurrency 1` processes")
    ap.add_argument("--api-processes", type=int, default=1, help="with --fleet/--sweep: `kyc serve --workers N`")
    ap.add_argument("--broker-url", help="with --fleet/--sweep: a running broker (default: a private redis-server)")
    ap.add_argument("--redis-url", help="with --fleet/--sweep: a running Redis for shared state (default: the private one)")
    ap.add_argument("--sweep", help="comma-separated worker counts: in-process and fleet at each (e.g. 1,2)")
    args = ap.parse_args(argv)

    if args.sweep:
        args.spawn = True  # the report's engine label
        return _sweep(args)
    proc = None
    fleet = None
    if args.fleet:
        args.spawn = True
        fleet = _Fleet(args.engines, args.fleet_workers, args.api_processes, args.broker_url, args.redis_url)
        url, pid = fleet.url, fleet.api.pid
        key = (fleet.data_dir / "dev-api-key").read_text().strip()
        admin = (fleet.data_dir / "dev-admin-key").read_text().strip()
    elif args.spawn:
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
        code = _run(args, url, key, admin, pid)
        if fleet is not None:
            print("Per stage (mean per verification):", json.dumps(fleet.stage_costs()))
        return code
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        if fleet is not None:
            fleet.close()


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
