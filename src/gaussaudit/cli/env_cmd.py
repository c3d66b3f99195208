"""``gaussaudit env``: what this machine offers (like ``huggingface-cli env``)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["env"]


def env(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the environment as JSON (for bug reports).")
    ] = False,
    no_torch: Annotated[
        bool,
        typer.Option(
            "--no-torch", help="Do not import torch (its build and devices are then not shown)."
        ),
    ] = False,
) -> None:
    """Show versions, installed extras, torch build, CPU/GPU, datasets, weights and runs found.

    Paste its output (or `gaussaudit env --json`) into a bug report.
    """
    import json

    from ..environment import collect_environment

    info = collect_environment(torch=not no_torch)
    if json_output:
        print(json.dumps(info, indent=2))
        return
    from ._env_table import print_environment

    print_environment(info)
