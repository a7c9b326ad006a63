"""dlib model files, loaded once per verified file and shared by face matching and liveness.

A loaded shape predictor is read-only and safe to share between threads. A dlib DNN (the
ResNet face descriptor) keeps its layer activations inside the network object, so calls
on one network are serialised (the service runs verifications in worker threads, and
face matching and liveness share the network).
"""

from __future__ import annotations

import threading

from kyc.config import Settings, get_settings
from kyc.model_registry import verify_model

__all__ = ["shape_predictor", "compute_face_descriptor"]

_lock = threading.Lock()
_predictors: dict[str, object] = {}
_nets: dict[str, object] = {}
_net_lock = threading.Lock()


def shape_predictor(model_id: str, settings: Settings | None = None):
    """The ``dlib.shape_predictor`` of a verified manifest model, loaded once per file."""
    import dlib

    path = str(verify_model(model_id, settings or get_settings()))
    with _lock:
        predictor = _predictors.get(path)
        if predictor is None:
            predictor = _predictors[path] = dlib.shape_predictor(path)
        return predictor


def compute_face_descriptor(*args, model_id: str = "dlib-resnet", settings: Settings | None = None):
    """``compute_face_descriptor(*args)`` of the verified dlib ResNet, one caller at a time."""
    import dlib

    path = str(verify_model(model_id, settings or get_settings()))
    with _lock:
        net = _nets.get(path)
        if net is None:
            net = _nets[path] = dlib.face_recognition_model_v1(path)
    with _net_lock:
        return net.compute_face_descriptor(*args)
