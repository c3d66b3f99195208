"""The paper's synthetic experiments: a linear encoder trained with InfoNCE, audited per epoch.

:func:`train_synthetic` follows Appendix E.1 (PAPER.md §2.1):

- inputs from :mod:`gaussaudit.datasets.synthetic` (``laplace``, ``gmm``,
  ``binary``; 1024-d), positives from its view channels
  (:func:`~gaussaudit.datasets.synthetic.laplace_views`: ``A = 0.6`` mixing
  plus jitter; :func:`~gaussaudit.datasets.synthetic.gmm_views`: two draws from
  the same component; :func:`~gaussaudit.datasets.synthetic.binary_views`:
  0.1 % zero-to-one flips), fresh views every epoch;
- a linear encoder ``torch.nn.Linear(d_in, d_out)`` with PyTorch's default
  initialisation, trained with InfoNCE (:func:`~gaussaudit.train.losses.info_nce`,
  Eq. 2; ``loss="ntxent"`` for SimCLR's symmetric form), Adam, lr 1e-3, tau 0.1;
- the **unnormalised** test-set embeddings of the clean (un-augmented) test
  inputs audited at epoch 0 (random initialisation) and at every evaluation
  epoch with :func:`gaussaudit.train.audit.audit_matrix` (the image trainer's
  per-epoch audit, the battery of ``gaussaudit test``: norms, Anderson–Darling,
  D'Agostino–Pearson and the paper's rule, under the JSON report's names), plus
  alignment (mean cosine of positive pairs:
  two fixed views of each test input) and uniformity (mean and std of the
  cosine between view 1 of one test input and view 2 of another).

Settings the paper does not state are choices recorded in :data:`CHOICES` and in
every run's ``settings``; the paper reports results at 150 epochs (Laplace) and
100 epochs (GMM, binary), the defaults here.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingExtraError, UnknownNameError, UsageError
from ..versions import package_versions
from .synthetic_data import SyntheticData, make_data
from .synthetic_results import EpochMetrics, SyntheticRun, _finite

__all__ = [
    "CHOICES",
    "KINDS",
    "PAPER_EPOCHS",
    "EpochMetrics",
    "SyntheticRun",
    "eval_schedule",
    "train_synthetic",
]

KINDS = ("laplace", "gmm", "binary")
#: Epoch at which the paper reports each setting (Appendix E.1, Table 1).
PAPER_EPOCHS = {"laplace": 150, "gmm": 100, "binary": 100}
#: (train, test) sizes: Laplace 20k / 5k (Appendix E.1); GMM and binary "10k
#: samples" (main text) for training, and 10k test vectors (unstated; chosen).
DEFAULT_SIZES = {"laplace": (20000, 5000), "gmm": (10000, 10000), "binary": (10000, 10000)}
#: Choices made for settings the paper leaves unstated (synthetic part).
CHOICES: dict[str, Any] = {
    "batch_size": 128,
    "batch_size_why": "largest value of the paper's sweep N in {8..128}; Table 1's N is unstated",
    "d_out": 256,
    "d_out_why": "stated for GMM and binary; a guess for Laplace (sweep d in {32..256})",
    "bias": True,
    "bias_why": "torch.nn.Linear's default; the paper does not say",
    "init": "torch.nn.Linear default (kaiming_uniform a=sqrt(5); bias U(+-1/sqrt(d_in)))",
    "weight_decay": 0.0,
    "loss": "infonce (Eq. 2, one-directional, N candidates per anchor)",
    "optimizer": "torch.optim.Adam, default betas, no schedule",
    "batches": "reshuffled every epoch, last incomplete batch dropped",
    "views": "fresh views of every training input each epoch (numpy, seeded per epoch)",
    "evaluated": "clean (un-augmented) test inputs, unnormalised encoder outputs",
    "alignment": "mean cosine of (view 1, view 2) of each test input; test views fixed",
    "uniformity": "cosine of view 1 of test input i and view 2 of input pi(i), "
    "pi a fixed random cyclic derangement",
    "gmm_views": "both views are fresh draws from the anchor's component (the stored "
    "training vector itself is not used)",
}


def _torch():
    try:
        import torch
    except ImportError as err:  # pragma: no cover - torch is a dev dependency
        raise MissingExtraError("torch", "train", "synthetic training") from err
    return torch


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=keys))


def eval_schedule(epochs: int, eval_epochs: int | Sequence[int] | None) -> list[int]:
    """Epochs to audit: 0, the requested ones and the last.

    Parameters
    ----------
    epochs : int
        Training epochs.
    eval_epochs : int, sequence of int or None
        Every k epochs (int), these epochs (sequence), or none besides 0 and
        the last (None).

    Returns
    -------
    list of int
        Sorted, unique, within ``[0, epochs]``.
    """
    wanted = {0, int(epochs)}
    if isinstance(eval_epochs, int | np.integer) and not isinstance(eval_epochs, bool):
        if eval_epochs < 1:
            raise UsageError(f"eval_epochs must be >= 1, got {eval_epochs}")
        wanted.update(range(0, epochs + 1, int(eval_epochs)))
    elif eval_epochs is not None:
        for e in eval_epochs:
            if not 0 <= int(e) <= epochs:
                raise UsageError(f"evaluation epoch {e} is outside 0..{epochs}")
            wanted.add(int(e))
    return sorted(wanted)


def _embed(torch, encoder, x: np.ndarray, device: str, chunk: int = 4096) -> np.ndarray:
    out = []
    with torch.no_grad():
        for start in range(0, x.shape[0], chunk):
            xb = torch.from_numpy(np.ascontiguousarray(x[start : start + chunk])).to(device)
            out.append(encoder(xb).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, encoder.out_features), np.float32)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    num = np.einsum("ij,ij->i", a64, b64)
    den = np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1)
    return num / np.maximum(den, 1e-300)


def _evaluate(torch, encoder, data: SyntheticData, tv1, tv2, partner, device, epoch, loss, t0):
    from .audit import audit_matrix

    z = _embed(torch, encoder, data.x_test, device)
    z1 = _embed(torch, encoder, tv1, device)
    z2 = _embed(torch, encoder, tv2, device)
    a = audit_matrix(z)
    pos = _cosines(z1, z2)
    neg = _cosines(z1, z2[partner])
    notes = list(a.get("notes", []))
    if "error" in a:
        notes.append(a["error"])
    return EpochMetrics(
        epoch=int(epoch),
        n=int(z.shape[0]),
        d=int(z.shape[1]),
        norms=a.get("norms") or {},
        coordinates=a.get("coordinates") or {},
        verdict=a.get("verdict") or {},
        alignment=float(pos.mean()),
        alignment_std=float(pos.std()),
        uniformity_mean=float(neg.mean()),
        uniformity_std=float(neg.std()),
        train_loss=loss,
        seconds=time.perf_counter() - t0,
        notes=tuple(notes),
    )


def _check_sizes(
    epochs: int, d_in: int, d_out: int, batch_size: int, n_train: int, n_test: int
) -> None:
    if epochs < 0 or d_in < 1 or d_out < 1:
        raise UsageError(f"need epochs >= 0, d_in >= 1, d_out >= 1; got {epochs}, {d_in}, {d_out}")
    if batch_size < 2 or (epochs > 0 and n_train < batch_size):
        raise UsageError(
            f"need batch_size >= 2 and n_train >= batch_size; got {batch_size}, {n_train}"
        )
    if n_test < 20:
        raise UsageError(f"n_test must be at least 20 (D'Agostino-Pearson), got {n_test}")


def train_synthetic(
    kind: str,
    *,
    d_out: int = 256,
    d_in: int = 1024,
    batch_size: int = CHOICES["batch_size"],
    epochs: int | None = None,
    lr: float = 1e-3,
    temperature: float = 0.1,
    loss: str = "infonce",
    weight_decay: float = 0.0,
    n_train: int | None = None,
    n_test: int | None = None,
    eval_epochs: int | Sequence[int] | None = 10,
    seed: int = 0,
    bias: bool = True,
    device: str = "cpu",
    threads: int | None = None,
    log_path: str | Path | None = None,
    progress: bool = True,
    **data_options: Any,
) -> SyntheticRun:
    """Train a linear encoder with InfoNCE on a synthetic input and audit it per epoch.

    Parameters
    ----------
    kind : {"laplace", "gmm", "binary"}
        The input distribution (Appendix E.1).
    d_out, d_in : int
        Embedding and input dimensions (the paper: 256 and 1024).
    batch_size : int
        N, the number of pairs per batch (unstated for Table 1; 128 chosen).
    epochs : int, optional
        Training epochs; default the paper's (150 Laplace, 100 GMM/binary).
        0 audits the random initialisation only.
    lr, temperature : float
        Adam learning rate (1e-3) and tau (0.1).
    loss : {"infonce", "ntxent"}
        Eq. 2 (one-directional) or SimCLR's symmetric NT-Xent.
    weight_decay : float
        Adam's (coupled) weight decay; unstated, 0 chosen.
    n_train, n_test : int, optional
        Sizes; default 20000 / 5000 (Laplace), 10000 / 10000 (GMM, binary).
    eval_epochs : int, sequence of int or None
        Audit every k epochs, at these epochs, or only at 0 and the end.
    seed : int
        Seeds the data, the views, the batch order and the initialisation.
    bias : bool
        Whether the linear encoder has a bias (PyTorch's default: True).
    device : str
        ``cpu``, ``cuda``, ``mps`` or ``auto``.
    threads : int, optional
        ``torch.set_num_threads`` for the run (restored afterwards); None
        leaves torch's setting. One thread is much faster on a small, busy CPU.
    log_path : path-like, optional
        Write a JSONL log: a ``settings`` record, then one ``epoch`` record per
        evaluation, flushed as they come.
    progress : bool
        Show a progress bar on stderr.
    **data_options
        ``laplace``: ``a`` (0.6), ``noise_std`` (0.2), ``dropout`` (0.1),
        ``scale_sigma`` (0.1); ``gmm``: ``n_components`` (25), ``mean_scale``
        (1.0), ``noise_scale`` (1.0); ``binary``: ``p_one`` (0.005), ``flip``
        (0.001). Defaults from :data:`gaussaudit.datasets.synthetic.CHOICES`.

    Returns
    -------
    SyntheticRun

    Examples
    --------
    >>> from gaussaudit.train.synthetic_runs import train_synthetic
    >>> run = train_synthetic("laplace", d_in=64, d_out=16, epochs=1, n_train=256,
    ...                       n_test=256, batch_size=32, progress=False)
    >>> run.epochs_evaluated
    (0, 1)
    """
    torch = _torch()
    from ..devices import resolve_device
    from .losses import LOSSES, info_nce, nt_xent

    if kind not in KINDS:
        raise UnknownNameError("synthetic kind", str(kind), KINDS)
    if loss not in LOSSES:
        raise UnknownNameError("loss", str(loss), LOSSES)
    epochs = PAPER_EPOCHS[kind] if epochs is None else int(epochs)
    n_train = DEFAULT_SIZES[kind][0] if n_train is None else int(n_train)
    n_test = DEFAULT_SIZES[kind][1] if n_test is None else int(n_test)
    _check_sizes(epochs, d_in, d_out, batch_size, n_train, n_test)
    if not (lr > 0 and temperature > 0 and weight_decay >= 0):
        raise UsageError("need lr > 0, temperature > 0 and weight_decay >= 0")
    schedule = eval_schedule(epochs, eval_epochs)
    device = resolve_device(device)
    old_threads = torch.get_num_threads()
    if threads is not None:
        if int(threads) < 1:
            raise UsageError(f"threads must be >= 1, got {threads}")
        torch.set_num_threads(int(threads))
    try:
        return _train(
            torch,
            kind,
            d_out=d_out,
            d_in=d_in,
            batch_size=int(batch_size),
            epochs=epochs,
            lr=float(lr),
            temperature=float(temperature),
            loss_fn=info_nce if loss == "infonce" else nt_xent,
            loss=loss,
            weight_decay=float(weight_decay),
            n_train=n_train,
            n_test=n_test,
            schedule=schedule,
            seed=int(seed),
            bias=bool(bias),
            device=device,
            log_path=Path(log_path) if log_path is not None else None,
            progress=progress,
            data_options=dict(data_options),
        )
    finally:
        torch.set_num_threads(old_threads)


def _encoder(torch, s: dict):
    """Build the linear encoder with PyTorch's default init from ``seed`` (global RNG kept)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(s["seed"])
        encoder = torch.nn.Linear(s["d_in"], s["d_out"], bias=s["bias"])
    return encoder.to(device=s["device"], dtype=torch.float32)


def _test_pairs(data: SyntheticData, seed: int, n_test: int):
    """Draw the fixed test views and a random cyclic derangement (negative partners)."""
    test_rng = _rng(seed, 3)
    tv1, tv2 = data.test_views(test_rng)
    perm = test_rng.permutation(n_test)
    partner = np.empty_like(perm)
    partner[perm] = np.roll(perm, -1)  # i -> next in a random cycle: never i itself
    return tv1, tv2, partner


def _settings(torch, kind: str, s: dict, schedule, data_options: dict, data) -> dict:
    settings = {
        "kind": kind,
        **{k: v for k, v in s.items() if k != "device"},
        "device": s["device"],
        "eval_epochs": schedule,
        "threads": torch.get_num_threads(),
        "data_options": data_options,
        "data": data.info,
        "choices": CHOICES,
        "dtype": "float32",
        "versions": package_versions("gaussaudit", "numpy", "scipy", "torch"),
    }
    return json.loads(json.dumps(settings, default=_finite))


def _train_epoch(torch, encoder, opt, data: SyntheticData, loss_fn, s: dict, epoch: int) -> float:
    """One epoch on fresh views in a fresh order; return the mean loss."""
    device, bs, n_train = s["device"], s["batch_size"], s["n_train"]
    rng = _rng(s["seed"], 2, epoch)
    order = rng.permutation(n_train)
    v1, v2 = data.views(order, rng)
    t1 = torch.from_numpy(v1).to(device)
    t2 = torch.from_numpy(v2).to(device)
    total = torch.zeros((), device=device)
    steps = n_train // bs
    for step in range(steps):
        sl = slice(step * bs, (step + 1) * bs)
        value = loss_fn(encoder(t1[sl]), encoder(t2[sl]), s["temperature"])
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        total += value.detach()
    mean_loss = float(total) / max(steps, 1)
    if not math.isfinite(mean_loss):
        raise UsageError(f"training diverged at epoch {epoch} (loss {mean_loss})")
    return mean_loss


def _open_log(log_path: Path | None, settings: dict):
    if log_path is None:
        return None
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w", encoding="utf-8")
    log.write(json.dumps({"type": "settings", **settings}) + "\n")
    log.flush()
    return log


def _train(
    torch, kind, *, loss_fn, schedule, log_path, progress, data_options, **s
) -> SyntheticRun:
    t0 = time.perf_counter()
    data = make_data(
        kind,
        d_in=s["d_in"],
        n_train=s["n_train"],
        n_test=s["n_test"],
        seed=s["seed"],
        options=data_options,
    )
    encoder = _encoder(torch, s)
    opt = torch.optim.Adam(encoder.parameters(), lr=s["lr"], weight_decay=s["weight_decay"])
    tv1, tv2, partner = _test_pairs(data, s["seed"], s["n_test"])
    settings = _settings(torch, kind, s, schedule, data_options, data)
    log = _open_log(log_path, settings)
    history: list[EpochMetrics] = []

    def record(epoch: int, mean_loss: float | None) -> None:
        encoder.eval()
        m = _evaluate(torch, encoder, data, tv1, tv2, partner, s["device"], epoch, mean_loss, t0)
        encoder.train()
        history.append(m)
        if log is not None:
            log.write(json.dumps({"type": "epoch", "kind": kind, **m.to_dict()}) + "\n")
            log.flush()

    bar = _progress(progress, kind, s["epochs"])
    try:
        record(0, None)
        for epoch in range(1, s["epochs"] + 1):
            mean_loss = _train_epoch(torch, encoder, opt, data, loss_fn, s, epoch)
            if epoch in schedule:
                record(epoch, mean_loss)
            if bar is not None:
                last = history[-1]
                ad = last.ad_mean if last.ad_mean is not None else float("nan")
                bar[0].update(
                    bar[1],
                    advance=1,
                    description=f"{kind} loss {mean_loss:.3f} AD@{last.epoch} {ad:.2f}",
                )
    finally:
        if bar is not None:
            bar[0].stop()
        if log is not None:
            log.close()
    return SyntheticRun(
        kind=kind,
        settings=settings,
        history=tuple(history),
        seconds=time.perf_counter() - t0,
        log_path=log_path,
        encoder=encoder.cpu().eval(),
    )


def _progress(enabled: bool, kind: str, epochs: int):
    if not enabled or epochs == 0:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    bar.start()
    return bar, bar.add_task(kind, total=epochs)
