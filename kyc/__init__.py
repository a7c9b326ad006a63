"""kyc: real-name identity verification (documents, faces, liveness) with privacy built in.

Subpackages: ``kyc.ocr`` (ID documents), ``kyc.biometrics`` (faces), ``kyc.liveness``.
Nothing heavy happens at import time: models load on first use.
"""

from kyc.errors import KycError

__version__ = "0.1.0"
__all__ = ["KycError", "__version__"]
