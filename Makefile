# The two commands of the README: `make serve` and `make test`.
.PHONY: setup serve test bench

setup:
	./scripts/setup.sh

serve: setup
	.venv/bin/kyc serve

test: setup
	.venv/bin/python -m pytest

bench: setup
	.venv/bin/kyc bench ocr
	.venv/bin/kyc bench face
	.venv/bin/kyc bench liveness
	.venv/bin/kyc bench service --spawn
