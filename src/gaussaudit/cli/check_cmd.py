"""``gaussaudit check``: audit an embedding file and gate on it (exit 1 when a gate fails)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["check"]

_NO_REJECTION = (
    "anderson_darling, dagostino_pearson, shapiro_wilk, jarque_bera, lilliefors, mardia, "
    "henze_zirkler, projections.anderson_darling, projections.dagostino_pearson, "
    "projections.epps_pulley, subspaces.mardia, subspaces.henze_zirkler"
)


def check(
    embeddings: Annotated[
        Path,
        typer.Argument(
            help="Embedding file: .npy .npz .pt .safetensors .h5 .zarr .parquet .csv",
            show_default=False,
        ),
    ],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Gate config: a gaussaudit.toml or a pyproject.toml [tool.gaussaudit]. "
            "Default: ./gaussaudit.toml, else ./pyproject.toml [tool.gaussaudit], else defaults.",
            show_default=False,
        ),
    ] = None,
    view: Annotated[
        str | None,
        typer.Option(help="Views to audit and gate: raw, normalized, whitened, or all."),
    ] = None,
    alpha: Annotated[float | None, typer.Option(help="Level of every test.")] = None,
    require_verdict: Annotated[
        str | None,
        typer.Option(help="Verdict that must hold on every view: paper, calibrated or none."),
    ] = None,
    min_ad_pass_fraction: Annotated[
        float | None, typer.Option(help="Lowest share of coordinates passing AD (A^2 < 0.752).")
    ] = None,
    min_dp_pass_fraction: Annotated[
        float | None, typer.Option(help="Lowest share of coordinates passing DP (p > alpha).")
    ] = None,
    max_ad_mean: Annotated[float | None, typer.Option(help="Highest mean A^2.")] = None,
    min_dp_mean_pvalue: Annotated[
        float | None, typer.Option(help="Lowest mean D'Agostino-Pearson p-value.")
    ] = None,
    max_cv: Annotated[float | None, typer.Option(help="Highest CV of the row norms.")] = None,
    no_rejection: Annotated[
        str | None,
        typer.Option(
            help=f"Comma-separated p-value families with no rejection allowed: {_NO_REJECTION}."
        ),
    ] = None,
    correction: Annotated[
        str | None,
        typer.Option(help="Correction within each --no-rejection family: holm, fdr_bh, none."),
    ] = None,
    on_skip: Annotated[
        str | None, typer.Option(help="A gate whose test was skipped: fail or pass.")
    ] = None,
    tests: Annotated[
        str | None, typer.Option(help="Tests to run, comma-separated, or all.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of every random choice.")] = None,
    max_samples: Annotated[
        int | None, typer.Option(help="Audit a seeded subsample of N rows.")
    ] = None,
    projections: Annotated[
        int | None, typer.Option(help="Random unit directions to test (0: none).")
    ] = None,
    subspaces: Annotated[
        int | None, typer.Option(help="Random k-dim subspaces for Mardia/HZ (0: none).")
    ] = None,
    subspace_dim: Annotated[int | None, typer.Option(help="Dimension k of each subspace.")] = None,
    multivariate_max_rows: Annotated[
        int | None, typer.Option(help="Row subsample for the O(n^2) multivariate tests.")
    ] = None,
    full_multivariate: Annotated[
        str | None, typer.Option(help="Mardia/HZ on the full view: auto, always, never.")
    ] = None,
    pca: Annotated[
        bool | None,
        typer.Option("--pca/--no-pca", help="Full-view multivariate tests on a PCA to rank."),
    ] = None,
    report: Annotated[
        str,
        typer.Option(
            help="Output format: terminal, json (the report with a 'gates' key), html, or "
            "markdown (the summary followed by the gate table)."
        ),
    ] = "terminal",
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the report here (atomically); the gate table still goes to stdout.",
            show_default=False,
        ),
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option(
            help="Append a Markdown table of the gates to this file (e.g. $GITHUB_STEP_SUMMARY).",
            show_default=False,
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(help="Array key in .npz/.pt/.safetensors/.h5/.zarr.", show_default=False),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(help="CSV/Parquet columns: names or prefix* patterns.", show_default=False),
    ] = None,
    reshape: Annotated[
        str | None, typer.Option(help="'flatten' trailing dimensions to 2-D.", show_default=False)
    ] = None,
    nan_policy: Annotated[
        str, typer.Option(help="NaN/Inf rows: raise (error) or omit (drop, recorded).")
    ] = "raise",
) -> None:
    """Audit an embedding matrix and gate on it: exit 1 when a gate fails.

    Gates come from --config, ./gaussaudit.toml or ./pyproject.toml [tool.gaussaudit]
    (see docs/ci.md); flags override them. Exit codes: 0 all gates passed, 1 a gate
    failed, 2 bad input, usage or config, 3 missing optional dependency or resource.
    """
    import sys

    from ..gate import check_file, find_config_file, load_gate_config
    from ..io import sidecar_path
    from ..report.formats import get_format
    from ..report.gates import gates_markdown, gates_renderables
    from ..report.sink import append_summary, emit, print_renderables
    from ._progress import audit_progress

    get_format(report)  # an unknown format fails before the audit runs
    if out is not None and out.resolve() == sidecar_path(embeddings).resolve():
        from ..errors import UsageError

        raise UsageError(
            f"--out {out} would overwrite the provenance sidecar of {embeddings}; "
            "choose another name (e.g. EMB.report.json)"
        )
    overrides = {
        "views": view,
        "alpha": alpha,
        "require_verdict": require_verdict,
        "min_ad_pass_fraction": min_ad_pass_fraction,
        "min_dp_pass_fraction": min_dp_pass_fraction,
        "max_ad_mean": max_ad_mean,
        "min_dp_mean_pvalue": min_dp_mean_pvalue,
        "max_cv": max_cv,
        "no_rejection": no_rejection,
        "correction": correction,
        "on_skip": on_skip,
        "tests": tests,
        "seed": seed,
        "max_samples": max_samples,
        "projections": projections,
        "subspaces": subspaces,
        "subspace_dim": subspace_dim,
        "multivariate_max_rows": multivariate_max_rows,
        "full_multivariate": full_multivariate,
        "pca": pca,
    }
    source = config if config is not None else find_config_file()
    gate_config = load_gate_config(source, overrides)
    with audit_progress() as progress:
        model, result = check_file(
            embeddings,
            gate_config,
            key=key,
            columns=columns,
            reshape=reshape,
            nan_policy=nan_policy,
            progress=progress,
        )
    model["gates"]["config_file"] = None if source is None else str(source)
    emit(model, report, out)  # terminal and markdown end with the gate table
    if out is not None and report != "terminal":  # the gate table still goes to stdout
        print_renderables(gates_renderables(model["gates"]))
    if summary is not None:
        append_summary(gates_markdown(model["gates"], source=str(embeddings)), summary)
    if not result.passed:
        if report != "terminal" and out is None:  # stdout holds only the report: list on stderr
            for o in result.failed:
                print(f"gaussaudit: gate failed: {o.name} [{o.view}]: {o.detail}", file=sys.stderr)
        raise typer.Exit(code=1)
