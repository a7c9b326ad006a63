"""The FastAPI service: routes call the ``kyc`` library, never the other way round."""
