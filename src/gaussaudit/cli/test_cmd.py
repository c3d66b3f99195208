"""``gaussaudit test``: run the battery on an embedding file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["test"]

_TEST_NAMES = (
    "norms, anderson_darling, dagostino_pearson, shapiro_wilk, jarque_bera, "
    "lilliefors, mardia, henze_zirkler, projections"
)


def test(
    embeddings: Annotated[
        Path,
        typer.Argument(
            help="Embedding file: .npy .npz .pt .safetensors .h5 .zarr .parquet .csv",
            show_default=False,
        ),
    ],
    view: Annotated[
        str,
        typer.Option(help="Views, comma-separated: raw, normalized, whitened, or all."),
    ] = "raw",
    tests: Annotated[
        str, typer.Option(help=f"Tests to run, comma-separated, or all: {_TEST_NAMES}.")
    ] = "all",
    alpha: Annotated[float, typer.Option(help="Level of every test.")] = 0.05,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 0,
    max_samples: Annotated[
        int | None, typer.Option(help="Audit a seeded subsample of N rows.", show_default=False)
    ] = None,
    projections: Annotated[
        int, typer.Option(help="Random unit directions to test (0: none).")
    ] = 128,
    subspaces: Annotated[
        int, typer.Option(help="Random k-dim subspaces for Mardia/Henze-Zirkler (0: none).")
    ] = 16,
    subspace_dim: Annotated[int, typer.Option(help="Dimension k of each subspace.")] = 8,
    multivariate_max_rows: Annotated[
        int, typer.Option(help="Seeded row subsample for the O(n^2) multivariate tests.")
    ] = 2500,
    full_multivariate: Annotated[
        str,
        typer.Option(help="Mardia/HZ on the full view: auto (d <= 10), always, never."),
    ] = "auto",
    pca: Annotated[
        bool, typer.Option("--pca", help="Full-view multivariate tests on a PCA to rank.")
    ] = False,
    verdict: Annotated[
        str, typer.Option(help="Headline verdict: paper (mean AD/DP rule) or calibrated.")
    ] = "paper",
    report: Annotated[
        str,
        typer.Option(
            help="Output format: terminal, json, html (one self-contained page with plots) "
            "or markdown (a compact summary for PR comments and CI)."
        ),
    ] = "terminal",
    out: Annotated[
        Path | None, typer.Option(help="Write the report here (atomically).", show_default=False)
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
    """Run the Gaussianity battery on an embedding matrix and report the verdict.

    Exit codes: 0 ran, 2 bad input or usage, 3 missing optional dependency
    or resource, 4 internal error. `gaussaudit check` (not `test`) gates with 1.
    """
    from ..api import audit_file
    from ..io import sidecar_path
    from ..report.formats import get_format
    from ..report.sink import emit
    from ..stats.battery import AuditConfig, parse_tests, parse_views
    from ._progress import audit_progress

    if out is not None and out.resolve() == sidecar_path(embeddings).resolve():
        from ..errors import UsageError

        raise UsageError(
            f"--out {out} would overwrite the provenance sidecar of {embeddings}; "
            "choose another name (e.g. EMB.report.json)"
        )
    get_format(report)  # an unknown format fails before the audit runs
    config = AuditConfig(
        alpha=alpha,
        seed=seed,
        views=parse_views(view),
        tests=parse_tests(tests),
        max_samples=max_samples,
        projections=projections,
        subspace_dim=subspace_dim,
        subspaces=subspaces,
        multivariate_max_rows=multivariate_max_rows,
        full_multivariate=full_multivariate,
        pca=pca,
        verdict=verdict,
    )
    with audit_progress() as progress:
        model = audit_file(
            embeddings,
            config,
            key=key,
            columns=columns,
            reshape=reshape,
            nan_policy=nan_policy,
            progress=progress,
        )
    emit(model, report, out)
