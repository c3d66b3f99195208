"""Command-line options derived from the settings dataclasses.

The audit options of ``test``, ``check`` and ``run`` are not written out per
command: :func:`with_settings` reads the fields of
:class:`~gaussaudit.stats.config.AuditConfig` (and, for ``check``, of
:class:`~gaussaudit.gate.GateConfig`) and appends one option per setting to the
command's signature, with the help text and type declared on the field. The
command receives the values as one mapping, ready for
``settings_from_mapping`` / ``load_gate_config``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import Field
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "Columns",
    "Embeddings",
    "Key",
    "NanPolicy",
    "Quiet",
    "Reshape",
    "Verbose",
    "audit_setting_names",
    "report_option",
    "with_settings",
]

#: The input options every command that reads an embedding file shares.
Embeddings = Annotated[
    Path,
    typer.Argument(
        help="Embedding file: .npy .npz .pt .safetensors .h5 .zarr .parquet .csv",
        show_default=False,
    ),
]
Key = Annotated[
    str | None,
    typer.Option(help="Array key in .npz/.pt/.safetensors/.h5/.zarr.", show_default=False),
]
Columns = Annotated[
    str | None,
    typer.Option(help="CSV/Parquet columns: names or prefix* patterns.", show_default=False),
]
Reshape = Annotated[
    str | None, typer.Option(help="'flatten' trailing dimensions to 2-D.", show_default=False)
]
NanPolicy = Annotated[
    str, typer.Option(help="NaN/Inf rows: raise (error) or omit (drop, recorded).")
]

Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", help="Print only errors and the requested output (no progress, no notes)."
    ),
]
Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Print details (more report detail, notes).")
]


def report_option(formats: str) -> Any:
    """Return the ``--report`` option: None unless given, so the extension can decide.

    Parameters
    ----------
    formats : str
        The help text's list of formats, e.g. ``"terminal, json, html or markdown"``.
    """
    return typer.Option(
        "--report",
        help=f"Output format: {formats}. Default: from the output file's extension "
        "(.json, .html/.htm, .md, .txt), else terminal; an explicit --report wins.",
        show_default=False,
    )


#: Flag names that differ from the field name (``--view`` reads better than ``--views``).
_FLAGS = {"views": "--view"}
_TYPES = {"float": float, "int": int, "str": str, "bool": bool, "strs": str}


def _help(f: Field) -> str:
    text = f.metadata["help"]
    if f.name == "tests":
        from ..stats.tests import test_names

        text = f"{text} Choose from: {', '.join(test_names())}."
    elif f.name == "no_rejection":
        from ..gate.config import no_rejection_families

        text = f"{text} Choose from: {', '.join(no_rejection_families())}."
    return text


def _parameter(f: Field, optional: bool) -> inspect.Parameter:
    kind = f.metadata["kind"]
    base = _TYPES[kind]
    flag = _FLAGS.get(f.name, "--" + f.name.replace("_", "-"))
    nullable = optional or "None" in str(f.type)
    default: Any = None if optional else f.default
    if not optional and isinstance(default, tuple):
        default = ",".join(default)
    if f.name == "tests" and not optional:
        default = "all"
    if kind == "bool":  # a flag pair (--pca/--no-pca), never an option taking a value
        nullable = optional
        option = typer.Option(f"{flag}/--no-{flag[2:]}", help=_help(f), show_default=False)
    else:
        option = typer.Option(flag, help=_help(f), show_default=default is not None)
    annotation = Annotated[(base | None) if nullable else base, option]  # type: ignore[valid-type]
    return inspect.Parameter(
        f.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def audit_setting_names() -> tuple[str, ...]:
    """Names of the audit settings the command line exposes."""
    from ..stats.config import AuditConfig, setting_fields

    return tuple(f.name for f in setting_fields(AuditConfig, cli_only=True))


def with_settings(
    *classes: type, optional: bool = False, exclude: tuple[str, ...] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Append one option per setting of ``classes`` to a typer command.

    Parameters
    ----------
    *classes : type
        Settings dataclasses (``AuditConfig``, ``GateConfig``), in help order.
    optional : bool
        Every option defaults to None (``check``: flags override a config file
        only when given); otherwise the field's default is the option's.
    exclude : tuple of str
        Settings not exposed by this command.

    Returns
    -------
    decorator
        The wrapped command receives ``settings``: a dict of setting name to
        the value given (or its default; None when ``optional`` and not given).
    """
    from ..stats.config import setting_fields

    wanted = [
        f for cls in classes for f in setting_fields(cls, cli_only=True) if f.name not in exclude
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != "settings"]
        extra = [_parameter(f, optional) for f in wanted]
        names = [p.name for p in extra]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            settings = {name: kwargs.pop(name) for name in names if name in kwargs}
            return command(*args, settings=settings, **kwargs)

        first_keyword = next(
            (i for i, p in enumerate(own) if p.default is not inspect.Parameter.empty), len(own)
        )
        params = [
            *own[:first_keyword],
            *(p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in extra),
            *own[first_keyword:],
        ]
        wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper

    return decorate
