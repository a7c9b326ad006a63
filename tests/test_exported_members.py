"""The public surface of each package is explicit and importable."""

import importlib

import pytest


@pytest.mark.parametrize("name", ["kyc", "kyc.errors", "kyc.images", "kyc.model_registry", "kyc.config"])
def test_all_names_exist(name):
    module = importlib.import_module(name)
    for member in module.__all__:
        assert hasattr(module, member), f"{name}.{member}"
