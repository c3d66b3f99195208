"""The trainer's per-epoch audit: the battery of ``gaussaudit test``, on the raw view.

:func:`audit_matrix` calls :func:`gaussaudit.stats.audit` (the function
``gaussaudit test`` calls) with the raw view, the norms and the two
per-coordinate tests of the paper (Anderson–Darling, D'Agostino–Pearson), no
projections and no subspaces, and returns the JSON report's view object
(:func:`gaussaudit.report.build_report`, ``docs/json-contract.md``) without its
per-coordinate arrays. The paper's "Gaussian?" rule is the battery's
``verdict.paper_rule``; nothing here recomputes it.

Per-layer record (one per audited layer, under ``record["layers"][name]`` of
each ``metrics.jsonl`` line)::

    n, d                                   rows and columns audited
    norms.{mean, std, cv, cv_isotropic_gaussian, cv_matched_gaussian,
           effective_dimension, effective_rank, quantiles.{min, q01, ...}}
    coordinates.anderson_darling.{mean, median, mean_pvalue, pass_fraction,
           threshold, null_band.{expected, low, high, coverage, n_tests},
           n, n_input, n_tested, excluded_columns, pass_rule, rejections, method}
    coordinates.dagostino_pearson.{...same keys, without threshold}
    verdict.{gaussian, paper_rule, calibrated, reasons}
    notes                                  list of str
    linear_probe.{accuracy, chance, n_train, n_test, n_classes, ridge, method}
                                           (:func:`audit_layers` with labels;
                                           :mod:`gaussaudit.train.probe`)

A test that could not run is ``{"skipped": reason}`` (as in the report); a
matrix holding NaN/Inf gives ``{n, d, error, notes}`` instead. Nothing here
imports torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._values import dig

__all__ = [
    "AUDIT_TESTS",
    "DYNAMICS_KEYS",
    "KNN_TEMPERATURE",
    "audit_layers",
    "audit_matrix",
    "dynamics_row",
    "knn_accuracy",
    "paper_cells",
]

#: Tests of the per-epoch audit (JSON keys of :data:`gaussaudit.stats.TESTS`).
AUDIT_TESTS = ("norms", "anderson_darling", "dagostino_pearson")
#: Temperature of the similarity-weighted kNN vote (Wu et al. 2018; solo-learn).
KNN_TEMPERATURE = 0.07
_SECTIONS = ("n", "d", "norms", "coordinates", "verdict")
_KEEP_LISTS = ("excluded_columns", "notes")


def _without_arrays(entry: dict) -> dict:
    """Drop the per-coordinate arrays of a ``coordinates.<test>`` entry."""
    return {k: v for k, v in entry.items() if not isinstance(v, list) or k in _KEEP_LISTS}


def audit_matrix(x: np.ndarray, *, alpha: float = 0.05) -> dict[str, Any]:
    """Audit one embedding matrix as ``gaussaudit test`` would (raw view, norms, AD, DP).

    Parameters
    ----------
    x : array_like, shape (n, d)
        Raw embeddings (float32 is fine; the tests work in float64).
    alpha : float
        Level of the D'Agostino–Pearson pass rule and of the verdicts.

    Returns
    -------
    dict
        The report's ``views.raw`` object (keys ``n``, ``d``, ``norms``,
        ``coordinates``, ``verdict``, ``notes``; JSON contract names) without
        per-coordinate arrays; the paper's rule is ``["verdict"]["paper_rule"]``.
        A matrix holding NaN/Inf gives ``error`` (the reason) instead of numbers.

    Examples
    --------
    >>> import numpy as np
    >>> a = audit_matrix(np.random.default_rng(0).standard_normal((500, 8)))
    >>> a["d"], a["verdict"]["paper_rule"]
    (8, True)
    >>> 0.0 <= a["coordinates"]["anderson_darling"]["pass_fraction"] <= 1.0
    True
    """
    from ..errors import InvalidEmbeddingsError
    from ..report import build_report
    from ..stats import audit

    arr = np.asarray(x)
    try:
        result = audit(
            arr, alpha=alpha, views=("raw",), tests=AUDIT_TESTS, projections=0, subspaces=0
        )
    except InvalidEmbeddingsError as err:
        return {"n": int(arr.shape[0]), "d": int(arr.shape[1]), "error": str(err), "notes": []}
    report = build_report(result, plot_data=False)
    view = report["views"]["raw"]
    out: dict[str, Any] = {key: view[key] for key in _SECTIONS if key in view}
    out["coordinates"] = {
        name: _without_arrays(entry) for name, entry in view.get("coordinates", {}).items()
    }
    out["notes"] = [*report.get("notes", []), *view.get("notes", [])]
    return out


def audit_layers(
    layers: dict[str, np.ndarray], labels: np.ndarray | None = None, *, alpha: float = 0.05
) -> dict[str, dict[str, Any]]:
    """Audit every layer of one epoch's held-out embeddings, with a linear probe each.

    Parameters
    ----------
    layers : dict
        ``{layer name: (n, d) array}`` of held-out embeddings.
    labels : ndarray of int, shape (n,), optional
        Class of each held-out row; without it the probe is skipped.
    alpha : float
        As in :func:`audit_matrix`.

    Returns
    -------
    dict
        ``{layer name: audit_matrix(z) + {"linear_probe": ...}}`` (the probe of
        :func:`gaussaudit.train.probe.linear_probe`, fitted on half the held-out
        rows and scored on the other half).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 200)
    >>> rec = audit_layers({"output": rng.standard_normal((400, 8)) + 3.0 * y[:, None]}, y)
    >>> rec["output"]["linear_probe"]["accuracy"] > 0.9
    True
    """
    from .probe import linear_probe

    out: dict[str, dict[str, Any]] = {}
    for name, z in layers.items():
        record = audit_matrix(z, alpha=alpha)
        record["linear_probe"] = linear_probe(z, labels)
        out[name] = record
    return out


#: The per-epoch dynamics (PAPER.md Fig. 4) and where each lives in a layer record.
DYNAMICS_KEYS: dict[str, tuple[str, ...]] = {
    "ad_mean": ("coordinates", "anderson_darling", "mean"),
    "ad_pass_fraction": ("coordinates", "anderson_darling", "pass_fraction"),
    "dp_pass_fraction": ("coordinates", "dagostino_pearson", "pass_fraction"),
    "dp_mean_pvalue": ("coordinates", "dagostino_pearson", "mean_pvalue"),
    "cv": ("norms", "cv"),
    "effective_dimension": ("norms", "effective_dimension"),
    "probe_accuracy": ("linear_probe", "accuracy"),
}


def dynamics_row(layer: dict) -> dict[str, Any]:
    """Return the Fig. 4 quantities of one per-layer record, flat (None where absent).

    Parameters
    ----------
    layer : dict
        A ``layers.<name>`` entry of a ``metrics.jsonl`` record.

    Returns
    -------
    dict
        The keys of :data:`DYNAMICS_KEYS` plus ``d``.

    Examples
    --------
    >>> dynamics_row({"d": 4, "norms": {"cv": 0.1}})["cv"]
    0.1
    """
    row: dict[str, Any] = {key: dig(layer, *path) for key, path in DYNAMICS_KEYS.items()}
    row["d"] = layer.get("d")
    return row


def paper_cells(layer: dict) -> dict[str, Any]:
    """Return the paper's table cells (PAPER.md Tables 1 and 2) of one per-layer record.

    Parameters
    ----------
    layer : dict
        What :func:`audit_matrix` returned (a ``metrics.jsonl`` layer record).

    Returns
    -------
    dict
        ``cv``, ``ad_mean``, ``ad_pass_fraction``, ``dp_mean_pvalue``,
        ``dp_pass_fraction`` and ``gaussian`` (the paper rule), the column
        names of :data:`gaussaudit.paper.METRICS`; None where not measured.

    Examples
    --------
    >>> import numpy as np
    >>> cells = paper_cells(audit_matrix(np.random.default_rng(0).standard_normal((500, 8))))
    >>> sorted(cells)[:3], cells["gaussian"]
    (['ad_mean', 'ad_pass_fraction', 'cv'], True)
    """
    ad, dp = ("coordinates", "anderson_darling"), ("coordinates", "dagostino_pearson")
    return {
        "cv": dig(layer, "norms", "cv"),
        "ad_mean": dig(layer, *ad, "mean"),
        "ad_pass_fraction": dig(layer, *ad, "pass_fraction"),
        "dp_mean_pvalue": dig(layer, *dp, "mean_pvalue"),
        "dp_pass_fraction": dig(layer, *dp, "pass_fraction"),
        "gaussian": dig(layer, "verdict", "paper_rule"),
    }


def knn_accuracy(
    bank: np.ndarray,
    bank_labels: np.ndarray,
    query: np.ndarray,
    query_labels: np.ndarray,
    *,
    k: int = 20,
    temperature: float = KNN_TEMPERATURE,
    block: int = 1024,
) -> float:
    """Top-1 accuracy of a cosine kNN classifier (weighted vote).

    Parameters
    ----------
    bank : ndarray, shape (m, d)
        Reference embeddings (training images).
    bank_labels : ndarray of int, shape (m,)
    query : ndarray, shape (n, d)
        Embeddings to classify (held-out images).
    query_labels : ndarray of int, shape (n,)
    k : int
        Neighbours (capped at ``m``).
    temperature : float
        Each neighbour votes ``exp(cos / temperature)`` for its class.
    block : int
        Query rows per block (memory is ``block x m``, never ``n x m``).

    Returns
    -------
    float
        Fraction of queries whose predicted class equals their label.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> knn_accuracy(x, np.array([0, 0, 1, 1]), x, np.array([0, 0, 1, 1]), k=1)
    1.0
    """

    def unit(a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, dtype=np.float32)
        return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)

    bank_u, query_u = unit(bank), unit(query)
    bank_labels = np.asarray(bank_labels, dtype=np.int64)
    query_labels = np.asarray(query_labels, dtype=np.int64)
    n_classes = int(max(bank_labels.max(), query_labels.max())) + 1
    k = min(int(k), bank_u.shape[0])
    correct = 0
    for start in range(0, query_u.shape[0], block):
        sim = query_u[start : start + block] @ bank_u.T
        idx = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(sim, idx, axis=1)
        weights = np.exp((top - 1.0) / temperature)  # shifted: same argmax, no overflow
        votes = np.zeros((sim.shape[0], n_classes))
        np.add.at(votes, (np.arange(sim.shape[0])[:, None], bank_labels[idx]), weights)
        correct += int(np.sum(votes.argmax(axis=1) == query_labels[start : start + block]))
    return correct / max(query_u.shape[0], 1)
