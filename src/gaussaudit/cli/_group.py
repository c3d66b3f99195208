"""The command group class of the CLI: flags shown as flags, help that parses fast.

Two details of typer's generated commands are set right here, for every
command and subcommand (plugins' included), without touching how they parse:

- a boolean flag (``--pca/--no-pca``, ``--force``, ``--help``) is shown in
  ``--help`` without a ``<bool>`` value column, since it takes no value;
- a boolean flag left at None (``--help``, ``--install-completion``) defaults
  to False, so that parsing a command line that does not give it never builds
  typer's value coercion (which imports pydantic): a usage error or ``--help``
  stays fast.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup

__all__ = ["CliGroup"]


def _tidy_param(param: Any) -> None:
    if not getattr(param, "is_flag", False):
        return
    if getattr(param, "metavar", None) is None:
        param.metavar = ""  # typer shows the metavar instead of "<bool>"
    if getattr(param, "is_bool_flag", False) and param.default is None:
        param.default = False  # --help, --install-completion: not given is False


def _tidy(command: Any, ctx: Any) -> None:
    """Tidy ``command``'s options once (flags without a value column, help default)."""
    if getattr(command, "_gaussaudit_tidy", False):
        return
    help_option = command.get_help_option(ctx)
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        _tidy_param(param)
    command._gaussaudit_tidy = True


class CliGroup(TyperGroup):
    """A :class:`typer.core.TyperGroup` whose commands show flags as flags."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Tidy this group's own options, then parse as usual."""
        _tidy(self, ctx)
        return super().parse_args(ctx, args)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """Return the subcommand, tidied."""
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _tidy(command, ctx)
        return command
