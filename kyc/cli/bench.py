"""``kyc bench NAME [ARGS...]``: runs ``benchmarks/NAME.py``'s ``main(argv)``.

Benchmarks live apart from the tests (as in pydantic) and write a report under
``reports/``; each one's ``--help`` lists its options.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(no_args_is_help=True)

NAMES = ("ocr", "face", "liveness", "service")


def _run(name: str, argv: list[str]) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    code = module.main(argv)
    raise typer.Exit(code or 0)


def _make(name: str):
    def command(ctx: typer.Context) -> None:
        _run(name, list(ctx.args))

    command.__doc__ = f"Run benchmarks/{name}.py (pass its options after the name)."
    return command


for _name in NAMES:
    app.command(_name, context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False)(_make(_name))
