"""The audit's progress bar on standard error (drawn only on a terminal).

Reports themselves go out through :mod:`gaussaudit.report.sink`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["audit_progress"]


@contextmanager
def audit_progress(console: Any = None) -> Iterator[Callable[[str, int, int], None] | None]:
    """Yield a ``progress(label, done, total)`` callback that draws a bar on stderr.

    Parameters
    ----------
    console : rich.console.Console, optional
        Where to draw (default: standard error). Nothing is drawn, and None is
        yielded, when it is not a terminal (CI logs, pipes); the bar is removed
        when the audit ends, leaving only the report.
    """
    from rich.console import Console

    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("loading embeddings", total=None)

        def update(label: str, done: int, total: int) -> None:
            bar.update(task, description=f"auditing {label}", completed=done, total=total)

        yield update
