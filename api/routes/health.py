"""``GET /v1/health``: liveness of the process, models present, which onnxruntime provider runs."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import SettingsDep
from api.edge import public
from kyc import __version__
from kyc.errors import KycError
from kyc.model_registry import load_manifest, onnx_providers, verify_model

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    onnx_providers: list[str]
    models: dict[str, str] = Field(description="Model id: `ok` or the error code (`model_missing`, `model_altered`)")


@router.get("/v1/health", response_model=HealthOut)
@public
def health(settings: SettingsDep) -> dict[str, object]:
    models: dict[str, str] = {}
    for spec in load_manifest(settings).values():
        try:
            verify_model(spec.id, settings)
            models[spec.id] = "ok"
        except KycError as exc:
            models[spec.id] = exc.code
    return {
        "status": "ok" if all(v == "ok" for v in models.values()) else "degraded",
        "version": __version__,
        "onnx_providers": onnx_providers(settings),
        "models": models,
    }
