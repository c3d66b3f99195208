"""Report formats: a registry of renderers and the one ``render`` function.

A format is a :class:`FormatSpec` in :data:`FORMATS`, a
:class:`gaussaudit.registry.Registry` whose entry-point group is
``gaussaudit.formats``. The built-ins (terminal, json, html, markdown) are
registered here through the same door a plugin uses, so adding a format is a
renderer module plus one registry entry::

    # in a plugin's pyproject.toml
    [project.entry-points."gaussaudit.formats"]
    csv = "my_plugin:CSV_FORMAT"      # a FormatSpec (or a list, or a function returning them)

A renderer is ``render(report: dict, **options) -> str``, named by a
``"module:function"`` string and imported only when used. A renderer that
draws plots gets their data from
:func:`gaussaudit.report.plot_data.view_plot_data` (computed on demand).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..registry import Registry, load_object

__all__ = [
    "FORMATS",
    "SUFFIX_ALIASES",
    "FormatSpec",
    "format_for_path",
    "format_names",
    "get_format",
    "render",
    "renderer_accepts",
]


@dataclass(frozen=True)
class FormatSpec:
    """One report format.

    Attributes
    ----------
    name : str
        What ``--report`` and :func:`render` take.
    renderer : str
        ``"module:function"``; the function takes the report model (and
        keyword options) and returns the text.
    description : str
        One line for help texts.
    suffix : str
        Usual file suffix (``".json"``).
    rich : str or None
        ``"module:function"`` returning rich renderables, printed instead of
        the text when the report goes to standard output (in colour on a
        terminal).
    family : str
        Registry family (always ``"report"`` for now).
    """

    name: str
    renderer: str
    description: str = ""
    suffix: str = ".txt"
    rich: str | None = None
    family: str = "report"


#: Every report format, built-in and plugged in.
_BUILTINS: tuple[FormatSpec, ...] = (
    FormatSpec(
        "terminal",
        "gaussaudit.report.terminal:render_terminal_text",
        "rich tables (plain text when written to a file)",
        ".txt",
        rich="gaussaudit.report.terminal:terminal_renderables",
    ),
    FormatSpec(
        "json",
        "gaussaudit.report.json:render_json",
        "the report model as strict JSON (docs/json-contract.md)",
        ".json",
    ),
    FormatSpec(
        "html",
        "gaussaudit.report.html:render_html",
        "one self-contained page with plots",
        ".html",
    ),
    FormatSpec(
        "markdown",
        "gaussaudit.report.markdown:render_markdown",
        "a compact summary for PR comments and CI step summaries",
        ".md",
    ),
)


def builtin_specs() -> tuple[FormatSpec, ...]:
    """Return the built-in formats (loaded through the same hook as plugins)."""
    return _BUILTINS


#: Every report format, built-in and plugged in (entry-point group ``gaussaudit.formats``).
FORMATS: Registry[FormatSpec] = Registry(
    "report format", "gaussaudit.formats", builtins="gaussaudit.report.formats:builtin_specs"
)


def get_format(name: str) -> FormatSpec:
    """Return the spec of format ``name``.

    Raises
    ------
    UnknownNameError
        With the closest names suggested.

    Examples
    --------
    >>> get_format("html").suffix
    '.html'
    """
    spec, _ = FORMATS.resolve(name)
    return spec


def format_names() -> list[str]:
    """Names of every registered format, built-ins first.

    Examples
    --------
    >>> format_names()[:4]
    ['terminal', 'json', 'html', 'markdown']
    """
    return FORMATS.names()


#: File suffixes that name a format besides each format's own ``suffix``.
SUFFIX_ALIASES = {".htm": "html", ".markdown": "markdown"}


def format_for_path(path: str | os.PathLike | None) -> str | None:
    """Return the format a file's extension asks for, or None when it names none.

    The suffix of every registered format counts (``.json`` json, ``.html``
    html, ``.md`` markdown, ``.txt`` terminal text), plus
    :data:`SUFFIX_ALIASES` (``.htm``, ``.markdown``); case is ignored.

    Parameters
    ----------
    path : str or path-like, optional
        The output file (None: no file, no format).

    Returns
    -------
    str or None

    Examples
    --------
    >>> format_for_path("audit.JSON"), format_for_path("r.htm"), format_for_path("r.out")
    ('json', 'html', None)
    """
    if path is None:
        return None
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if not suffix:
        return None
    if suffix in SUFFIX_ALIASES:
        return SUFFIX_ALIASES[suffix]
    for spec in FORMATS.specs():
        if spec.suffix.lower() == suffix:
            return spec.name
    return None


def renderer_accepts(format: str, option: str, *, rich: bool = False) -> bool:
    """Whether the renderer of ``format`` takes the keyword ``option``.

    Parameters
    ----------
    format : str
        A registered format.
    option : str
        A keyword such as ``"verbose"``.
    rich : bool
        Ask about the rich renderer (``FormatSpec.rich``) instead of the text one.

    Examples
    --------
    >>> renderer_accepts("json", "verbose")
    False
    """
    import inspect

    spec = get_format(format)
    target = spec.rich if rich else spec.renderer
    if target is None:
        return False
    try:
        params = inspect.signature(load_object(target)).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False
    return option in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def render(report: dict, format: str = "json", **options: object) -> str:
    """Render a report model in a registered format.

    Parameters
    ----------
    report : dict
        The report model (:func:`gaussaudit.report.build_report`, or a JSON
        report read back).
    format : str
        A name from :func:`format_names`: ``terminal`` (plain text),
        ``json``, ``markdown`` or ``html``.
    **options
        Passed to the renderer (e.g. ``plots=False`` or ``title=`` for html,
        ``top=`` for markdown, ``width=`` for terminal).

    Returns
    -------
    str

    Raises
    ------
    UnknownNameError
        When no format has that name.

    Examples
    --------
    >>> import json, numpy as np
    >>> from gaussaudit import audit, build_report
    >>> report = build_report(audit(np.random.default_rng(0).standard_normal((200, 4))))
    >>> json.loads(render(report, "json"))["input"]["d"]
    4
    >>> render(report, "markdown").startswith("## ")
    True
    """
    renderer = load_object(get_format(format).renderer)
    return renderer(report, **options)
