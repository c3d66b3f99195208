"""Progress that reads well on a terminal and in a log.

Long jobs (training, embedding) report through :func:`progress_display`: a rich
bar when standard error is a terminal, and otherwise :class:`LineProgress`,
which writes plain, unwrapped lines (every ``every_seconds`` or every 10 % of
the work, whichever comes first, never more often than ``min_seconds``, and
once at the end), each with the elapsed time, the rate and an ETA::

    epoch 1/3: 12/32 steps (38%), elapsed 1 min 05 s, 5.4 s/step, ETA 1 min 48 s, loss 4.1234

:func:`fmt_duration` writes durations the same way in every estimate, and
:func:`quiet_third_party_progress` silences the tqdm bars of Hugging Face
libraries for the duration of a gaussaudit call (so they do not leak into a
log). Nothing here imports torch.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LineProgress",
    "WorkEstimate",
    "fmt_duration",
    "fmt_rate",
    "load_average",
    "progress_display",
    "quiet_third_party_progress",
]


def fmt_duration(seconds: float | None) -> str:
    """Write a duration for people: ``45 s``, ``3 min 20 s``, ``1 h 05 min``.

    Parameters
    ----------
    seconds : float or None

    Returns
    -------
    str
        ``?`` for None or a negative value.

    Examples
    --------
    >>> fmt_duration(4.2), fmt_duration(200), fmt_duration(3900)
    ('4 s', '3 min 20 s', '1 h 05 min')
    """
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def fmt_rate(done: float, seconds: float, unit: str) -> str:
    """Write a rate: ``12.5 items/s``, or ``5.4 s/step`` when slower than one per second.

    Parameters
    ----------
    done : float
        Units done.
    seconds : float
        Time they took.
    unit : str
        Plural unit name (``steps``, ``items``).

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_rate(10, 54.0, "steps"), fmt_rate(300, 10.0, "items")
    ('5.4 s/step', '30.0 items/s')
    """
    if done <= 0 or seconds <= 0:
        return f"– {unit}/s"
    rate = done / seconds
    if rate < 1.0:
        single = unit[:-1] if unit.endswith("s") else unit
        return f"{seconds / done:.1f} s/{single}"
    return f"{rate:,.1f} {unit}/s"


def load_average() -> str | None:
    """Return the 1, 5 and 15-minute load averages as ``"1.06 1.01 1.06"`` (None if unknown)."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except (AttributeError, OSError):
        return None


@dataclass
class _Task:
    description: str
    total: float | None
    fields: dict
    unit: str
    start: float
    done: float = 0.0
    last_line: float | None = None
    last_fraction: float = 0.0
    finished: bool = False
    extra: dict = field(default_factory=dict)


class LineProgress:
    """Plain periodic progress lines: what a log gets instead of a progress bar.

    It takes the part of :class:`rich.progress.Progress`'s interface the
    gaussaudit loops use (``add_task``, ``update``, ``stop_task``, ``console``,
    use as a context manager), so a loop can be given either.

    Parameters
    ----------
    console : rich.console.Console
        Where the lines go (its ``quiet`` silences them).
    unit : str
        Plural name of what is counted (``steps``, ``items``).
    every_seconds : float
        Write a line at least this often while work goes on.
    every_fraction : float
        Also write one each time another such fraction of the total is done.
    min_seconds : float
        Never write two lines (other than the last) closer together than this.
    clock : callable
        Monotonic clock (for tests).

    Examples
    --------
    >>> import io
    >>> from rich.console import Console
    >>> out = io.StringIO()
    >>> ticks = iter([0.0, 10.0, 20.0])
    >>> with LineProgress(Console(file=out), unit="steps", clock=lambda: next(ticks)) as p:
    ...     t = p.add_task("epoch 1/1", total=2)
    ...     p.update(t, advance=1)
    ...     p.update(t, advance=1)
    >>> print(out.getvalue().strip())
    epoch 1/1: 1/2 steps (50%), elapsed 10 s, 10.0 s/step, ETA 10 s
    epoch 1/1: 2/2 steps (100%), elapsed 20 s, 10.0 s/step, ETA 0 s
    """

    def __init__(
        self,
        console: Any,
        *,
        unit: str = "items",
        every_seconds: float = 30.0,
        every_fraction: float = 0.1,
        min_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.unit = unit
        self.every_seconds = float(every_seconds)
        self.every_fraction = float(every_fraction)
        self.min_seconds = float(min_seconds)
        self._clock = clock
        self._tasks: list[_Task] = []

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            for task in self._tasks:
                self._finish(task)

    def add_task(self, description: str, total: float | None = None, **fields: Any) -> int:
        """Start counting a task; return its id."""
        self._tasks.append(_Task(description, total, dict(fields), self.unit, self._clock()))
        return len(self._tasks) - 1

    def update(
        self,
        task_id: int,
        *,
        advance: float | None = None,
        completed: float | None = None,
        total: float | None = None,
        description: str | None = None,
        **fields: Any,
    ) -> None:
        """Record progress; write a line when one is due."""
        task = self._tasks[task_id]
        if total is not None:
            task.total = total
        if description is not None:
            task.description = description
        task.fields.update(fields)
        if completed is not None:
            task.done = float(completed)
        if advance is not None:
            task.done += float(advance)
        now = self._clock()
        if task.total and task.done >= task.total:
            self._finish(task, now)
            return
        since = now - (task.last_line if task.last_line is not None else task.start)
        fraction = task.done / task.total if task.total else 0.0
        step_due = bool(task.total) and fraction - task.last_fraction >= self.every_fraction
        if since >= self.every_seconds or (step_due and since >= self.min_seconds):
            self._write(task, now)

    def stop_task(self, task_id: int) -> None:
        """End a task (writing its last line if it has not been written)."""
        self._finish(self._tasks[task_id])

    def _finish(self, task: _Task, now: float | None = None) -> None:
        if task.finished:
            return
        task.finished = True
        if task.done > 0:
            self._write(task, self._clock() if now is None else now)

    def line(self, task: _Task, now: float) -> str:
        """Return the progress line of ``task`` at time ``now``."""
        elapsed = max(now - task.start, 0.0)
        done = task.done
        shown = f"{done:,.0f}"
        if task.total:
            pct = 100.0 * done / task.total
            shown += f"/{task.total:,.0f} {task.unit} ({pct:.0f}%)"
            eta = (task.total - done) * elapsed / done if done > 0 else None
        else:
            shown += f" {task.unit}"
            eta = None
        parts = [
            f"{task.description}: {shown}",
            f"elapsed {fmt_duration(elapsed)}",
            fmt_rate(done, elapsed, task.unit),
            f"ETA {fmt_duration(eta)}",
        ]
        parts += [f"{k} {v}" for k, v in task.fields.items() if k != "rate" and v not in ("–", "")]
        return ", ".join(parts)

    def _write(self, task: _Task, now: float) -> None:
        task.last_line = now
        if task.total:
            task.last_fraction = task.done / task.total
        self.console.print(self.line(task, now), soft_wrap=True, highlight=False, markup=False)


class WorkEstimate:
    """Print one ``estimated ...`` line once the first part of a long job is timed.

    Parameters
    ----------
    console : rich.console.Console
    total : int
        Units of work in all.
    what : str
        What is done, for the line (``embedding 10,000 texts with st:all-MiniLM-L6-v2``).
    unit : str
        Plural unit name.
    hint : str
        How to make the job shorter, appended when the estimate is long.
    after_seconds : float
        Estimate once this much time has passed ...
    after_fraction : float
        ... or this fraction of the work is done, whichever comes first (and
        at least two updates were seen: the first batch warms up).
    longer_than : float
        Print only when the whole job is expected to take longer (seconds).
    clock : callable
        Monotonic clock (for tests).

    Examples
    --------
    >>> import io
    >>> from rich.console import Console
    >>> out = io.StringIO()
    >>> ticks = iter([0.0, 4.0, 8.0])
    >>> est = WorkEstimate(Console(file=out), 1000, "embedding 1,000 texts", "items",
    ...                    hint="--limit N embeds fewer", after_seconds=5,
    ...                    clock=lambda: next(ticks))
    >>> est.update(10); est.update(20)
    >>> out.getvalue().strip()
    'embedding 1,000 texts: estimated 6 min 40 s in all at 2.5 items/s (timed on the first 20); --limit N embeds fewer'
    """  # noqa: E501

    def __init__(
        self,
        console: Any,
        total: int,
        what: str,
        unit: str = "items",
        *,
        hint: str = "",
        after_seconds: float = 10.0,
        after_fraction: float = 0.05,
        longer_than: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console, self.total, self.what, self.unit, self.hint = console, total, what, unit, hint
        self.after_seconds, self.after_fraction = float(after_seconds), float(after_fraction)
        self.longer_than = float(longer_than)
        self._clock = clock
        self._start = clock()
        self._updates = 0
        self.seconds: float | None = None

    def update(self, done: int) -> None:
        """Record ``done`` units finished so far; print the estimate once it is due."""
        if self.seconds is not None or done <= 0 or not self.total:
            return
        self._updates += 1
        elapsed = self._clock() - self._start
        due = elapsed >= self.after_seconds or done >= self.after_fraction * self.total
        if self._updates < 2 or not due or elapsed <= 0:
            return
        self.seconds = self.total * elapsed / done
        if self.seconds < self.longer_than:
            return
        line = (
            f"{self.what}: estimated {fmt_duration(self.seconds)} in all at "
            f"{fmt_rate(done, elapsed, self.unit)} (timed on the first {done:,})"
        )
        if self.hint:
            line += f"; {self.hint}"
        self.console.print(line, soft_wrap=True, highlight=False, markup=False)


def progress_display(
    console: Any,
    columns: Sequence[Any],
    *,
    unit: str = "items",
    enabled: bool = True,
    transient: bool = False,
) -> Any:
    """Return a rich ``Progress`` on a terminal, a :class:`LineProgress` otherwise.

    Parameters
    ----------
    console : rich.console.Console
        Where progress goes (standard error in gaussaudit).
    columns : sequence
        The rich bar's columns (used on a terminal only).
    unit : str
        Plural unit name of the plain lines.
    enabled : bool
        False: a disabled rich ``Progress`` (draws nothing).
    transient : bool
        Remove the rich bar when done.

    Returns
    -------
    rich.progress.Progress or LineProgress
        Either can be used as a context manager with ``add_task``/``update``.
    """
    from rich.progress import Progress

    if enabled and not console.is_terminal and not console.quiet:
        return LineProgress(console, unit=unit)
    return Progress(*columns, console=console, disable=not enabled, transient=transient)


@contextlib.contextmanager
def quiet_third_party_progress() -> Iterator[None]:
    """Silence the tqdm bars of huggingface_hub and transformers, then restore them.

    Only what gaussaudit runs inside the ``with`` block is affected: a library
    whose bars were on is switched back on afterwards (transformers imported
    inside the block, which would otherwise keep them off, included).

    Examples
    --------
    >>> with quiet_third_party_progress():
    ...     pass
    """
    import importlib
    import sys

    try:
        hub: Any = importlib.import_module("huggingface_hub.utils")
        hub_was_on = not hub.are_progress_bars_disabled()
    except Exception:  # not installed, or an API without the switch
        hub, hub_was_on = None, False
    hf_before = sys.modules.get("transformers.utils.logging")
    hf_was_on = bool(hf_before is not None and hf_before.is_progress_bar_enabled())
    with contextlib.suppress(Exception):
        if hf_was_on:
            hf_before.disable_progress_bar()
        if hub is not None and hub_was_on:
            hub.disable_progress_bars()
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            hf_now = sys.modules.get("transformers.utils.logging")
            # transformers imported inside the block read the hub's switch (off) at import.
            if hf_now is not None and (hf_was_on if hf_before is not None else hub_was_on):
                hf_now.enable_progress_bar()
            if hub is not None and hub_was_on:
                hub.enable_progress_bars()
