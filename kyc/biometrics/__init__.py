"""Face biometrics: detection, quality, templates and 1:1 matching (issue 3).

Pipeline: :func:`detect_faces` (MTCNN, dlib HOG fallback, 5 landmarks) →
:func:`assess_quality` (reason codes) → :func:`extract_template` (alignment, dlib
ResNet and/or MobileFaceNet embeddings, flip-averaged) → :func:`compare_templates`
(calibrated similarity and thresholds per model and operating point; the default
``cascade`` runs dlib only where MobileFaceNet is undecided). :func:`compare_faces`
does it all for two images, detecting each once and embedding both faces together.
Models load on first use, verified against the manifest (``models/face.toml``).
"""

from kyc.biometrics.detection import detect_faces
from kyc.biometrics.matching import OPERATING_POINTS, compare_templates
from kyc.biometrics.pipeline import MODEL_COMPONENTS, FaceMatch, compare_faces, extract_template
from kyc.biometrics.quality import assess_quality
from kyc.biometrics.template import Template
from kyc.biometrics.types import Comparison, FaceDetection, QualityReport

__all__ = [
    "FaceDetection",
    "QualityReport",
    "Comparison",
    "Template",
    "detect_faces",
    "assess_quality",
    "extract_template",
    "compare_templates",
    "compare_faces",
    "FaceMatch",
    "MODEL_COMPONENTS",
    "OPERATING_POINTS",
]
