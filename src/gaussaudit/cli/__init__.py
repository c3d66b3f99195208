"""The ``gaussaudit`` command line (typer), thin over the library.

Heavy modules (numpy, scipy, pandas, torch, the battery) are imported inside
the commands, never at import time, so that ``gaussaudit --help``, a usage
error or a mistyped command answer at once (``tests/test_cli_conventions.py``
checks that they import none of them).
"""

from __future__ import annotations

import sys

import typer

from ._errors import EXIT_USAGE, exit_code_for, fail
from ._group import CliGroup
from .audit_cmd import test
from .check_cmd import check
from .compare_cmd import compare
from .demo_cmd import demo
from .embed_cmd import embed, run
from .env_cmd import env
from .list_cmd import list_names
from .reproduce_cmd import reproduce_app
from .train_cmd import train_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="gaussaudit",
    help="Is this representation Gaussian, and how far from it?",
    cls=CliGroup,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("test")(test)
app.command("check")(check)
app.command("compare")(compare)
app.command("embed")(embed)
app.command("run")(run)
app.command("list")(list_names)
app.command("demo")(demo)
app.command("env")(env)
app.add_typer(train_app, name="train", cls=CliGroup)
app.add_typer(reproduce_app, name="reproduce", cls=CliGroup)


def _version_callback(value: bool) -> None:
    if value:
        from .._version import __version__

        print(f"gaussaudit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        "-V",
        callback=_version_callback,
        is_eager=True,
        help="Show the version and exit.",
    ),
) -> None:
    """Audit embeddings for Gaussianity: statistics, reports and CI gates."""


def _is_cli_usage_error(err: BaseException) -> bool:
    """Click-style parse errors (typer vendors click in recent releases)."""
    from ..errors import GaussAuditError

    return (
        not isinstance(err, GaussAuditError)
        and hasattr(err, "format_message")
        and getattr(err, "exit_code", None) == EXIT_USAGE
    )


def _help_hint(err: BaseException) -> str:
    """`` (see 'gaussaudit train simclr --help')``: the help of the command that failed.

    The context's command path already starts with the program name, so the
    hint names ``gaussaudit --help`` for an error at the top level.
    """
    ctx = getattr(err, "ctx", None)
    path = getattr(ctx, "command_path", None) if ctx is not None else None
    if not path:
        return ""
    words = path.split()
    if words[0] != "gaussaudit":  # e.g. run as "python -m gaussaudit"
        words = ["gaussaudit", *words[1:]]
    return f" (see '{' '.join(words)} --help')"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (used by the console script)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        args = ["--help"]
    try:
        code = app(args=args, prog_name="gaussaudit", standalone_mode=False)
    except Exception as err:
        kind = type(err).__name__
        if kind == "Exit" and hasattr(err, "exit_code"):
            return int(err.exit_code)
        if kind == "Abort":
            return fail("aborted", 130)
        if _is_cli_usage_error(err):
            return fail(err.format_message() + _help_hint(err), EXIT_USAGE)
        message, code = exit_code_for(err)
        return fail(message, code)
    return code if isinstance(code, int) else 0


def _entry() -> None:  # pragma: no cover - console script
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
