"""What a run says before it works: the start banner and the time estimate.

:func:`start_banner` describes the run in one line before anything is
trained (data sizes, steps, audits, device, precision, threads).
:class:`RunEstimate` times the first steps of the first epoch trained, then
prints one ``estimated ...`` line: the remaining steps at the measured rate
plus the remaining audits at the measured audit time (the epoch-0 audit), with
the load average, since on a shared machine the rate moves with it.
"""

from __future__ import annotations

from typing import Any

from ..progress import fmt_duration, load_average

__all__ = ["RunEstimate", "audited_epochs", "start_banner"]


def audited_epochs(first: int, epochs: int, eval_every: int) -> list[int]:
    """Return the epochs in ``first..epochs`` the loop audits.

    Parameters
    ----------
    first : int
        First epoch to consider (0 includes the untrained baseline).
    epochs : int
        The last epoch (always audited).
    eval_every : int

    Returns
    -------
    list of int

    Examples
    --------
    >>> audited_epochs(0, 5, 2)
    [0, 2, 4, 5]
    >>> audited_epochs(3, 5, 10)
    [5]
    """
    return [e for e in range(first, epochs + 1) if e == 0 or e % eval_every == 0 or e == epochs]


def _threads() -> int | None:
    try:
        import torch

        return int(torch.get_num_threads())
    except Exception:  # torch missing or broken: the banner just leaves it out
        return None


def start_banner(config: Any, resolved: dict, start_epoch: int = 0) -> str:
    """One line describing a run before it starts.

    Parameters
    ----------
    config : TrainConfig
    resolved : dict
        The session's resolved settings (``n_train``, ``steps_per_epoch``,
        ``n_eval``, ``n_knn_bank``, ``device``, ``precision_label``, ``arch``).
    start_epoch : int
        Epochs already done (a resumed run).

    Returns
    -------
    str

    Examples
    --------
    >>> from gaussaudit.train.config import TrainConfig
    >>> cfg = TrainConfig(method="simclr", dataset="fake", epochs=2, batch_size=8)
    >>> res = {"n_train": 32, "steps_per_epoch": 4, "n_eval": 20, "n_knn_bank": 0,
    ...        "device": "cpu", "precision_label": "fp32", "arch": "resnet18-cifar"}
    >>> start_banner(cfg, res).split(";")[0]
    'training simclr resnet18-cifar on fake: 32 training images x 2 epochs = 8 steps of batch 8'
    """
    left = config.epochs - start_epoch
    steps = left * int(resolved["steps_per_epoch"])
    audits = audited_epochs(start_epoch if start_epoch else 0, config.epochs, config.eval_every)
    if start_epoch:
        audits = [e for e in audits if e > start_epoch]
    bank = int(resolved.get("n_knn_bank") or 0)
    where = f"{resolved['device']}, {resolved['precision_label']}"
    threads = _threads()
    if threads is not None and resolved["device"] == "cpu":
        where += f", {threads} torch thread{'s' if threads != 1 else ''}"
    shown = ", ".join(str(e) for e in audits[:8]) + (", ..." if len(audits) > 8 else "")
    resumed = f" (resuming after epoch {start_epoch})" if start_epoch else ""
    return (
        f"training {config.method} {resolved['arch']} on {config.dataset}{resumed}: "
        f"{resolved['n_train']} training images x {left} epoch{'s' if left != 1 else ''} = "
        f"{steps} steps of batch {config.batch_size}; audit of {resolved['n_eval']} held-out "
        f"images{f' (+ a {bank}-image kNN bank)' if bank else ''} at epoch"
        f"{'s' if len(audits) != 1 else ''} {shown}; {where}. "
        "An estimate follows the first steps."
    )


class RunEstimate:
    """Time the first steps, then print one ``estimated ...`` line.

    Parameters
    ----------
    console : rich.console.Console
        Where the line goes.
    steps_left : int
        Steps the run still has to take (from the first step timed on).
    audits_left : int
        Audits still to come.
    audit_seconds : float or None
        Seconds one audit took (None: unknown, left out).
    timed_steps : int
        Steps to time before estimating (the first one warms up and is only
        used when it is the only one).

    Examples
    --------
    >>> import io
    >>> from rich.console import Console
    >>> out = io.StringIO()
    >>> est = RunEstimate(Console(file=out), steps_left=10, audits_left=1, audit_seconds=30.0,
    ...                   timed_steps=2)
    >>> est.step(9.0); est.step(6.0)
    >>> out.getvalue().startswith("estimated 1 min 18 s more for this run")
    True
    """

    def __init__(
        self,
        console: Any,
        *,
        steps_left: int,
        audits_left: int,
        audit_seconds: float | None,
        timed_steps: int = 3,
    ) -> None:
        self.console = console
        self.steps_left = int(steps_left)
        self.audits_left = int(audits_left)
        self.audit_seconds = audit_seconds
        self.timed_steps = max(1, min(int(timed_steps), self.steps_left or 1))
        self.times: list[float] = []
        self.seconds: float | None = None

    @property
    def pending(self) -> bool:
        """Whether the estimate is still to be printed."""
        return self.seconds is None and self.steps_left > 0

    def step(self, seconds: float) -> None:
        """Record one step's duration; print the estimate once enough are timed."""
        if not self.pending:
            return
        self.times.append(float(seconds))
        if len(self.times) >= self.timed_steps:
            self.console.print(self.line(), soft_wrap=True, highlight=False, markup=False)

    def line(self) -> str:
        """Compute the estimate from the steps timed so far and describe it."""
        timed = self.times[1:] if len(self.times) > 1 else self.times
        per_step = sum(timed) / len(timed)
        rest = self.steps_left - len(self.times)
        audit = (self.audit_seconds or 0.0) * self.audits_left
        self.seconds = rest * per_step + audit
        which = f"steps 2-{len(self.times)}" if len(self.times) > 2 else "the first steps"
        parts = [f"{rest} more steps x {per_step:.1f} s/step (timed on {which})"]
        if self.audit_seconds is not None and self.audits_left:
            parts.append(f"{self.audits_left} audits x {fmt_duration(self.audit_seconds)}")
        load = load_average()
        tail = f"; load average {load}: the rate moves with the machine's load" if load else ""
        total = fmt_duration(self.seconds)
        return f"estimated {total} more for this run ({' + '.join(parts)}{tail})"
