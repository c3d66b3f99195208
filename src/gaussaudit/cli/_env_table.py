"""The table ``gaussaudit env`` prints: one section per topic, one row per item."""

from __future__ import annotations

from typing import Any

__all__ = ["environment_rows", "print_environment"]


def _size(count: int | None) -> str:
    if count is None:
        return "unknown"
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def _yes(flag: bool, detail: str | None = None) -> str:
    word = "yes" if flag else "no"
    return f"{word} ({detail})" if detail else word


def environment_rows(info: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """Sections of (label, text) rows for :func:`gaussaudit.environment.collect_environment`.

    Examples
    --------
    >>> from gaussaudit.environment import collect_environment
    >>> [title for title, _ in environment_rows(collect_environment(torch=False))][:3]
    ['gaussaudit', 'optional packages', 'extras']
    """
    py = info["python"]
    sections: list[tuple[str, list[tuple[str, str]]]] = [
        (
            "gaussaudit",
            [
                ("version", info["gaussaudit"]["version"]),
                ("location", info["gaussaudit"]["location"]),
                ("python", f"{py['version']} ({py['implementation']}, {py['executable']})"),
                ("platform", info["platform"]),
            ],
        )
    ]
    sections.append(
        (
            "optional packages",
            [
                (name, (p["version"] or "installed") if p["installed"] else "-")
                for name, p in info["packages"].items()
            ],
        )
    )
    if info["extras"]:
        sections.append(
            (
                "extras",
                [
                    (
                        f"gaussaudit[{name}]",
                        "installed" if e["installed"] else "missing " + ", ".join(e["missing"]),
                    )
                    for name, e in info["extras"].items()
                ],
            )
        )
    sections.append(("torch", _torch_rows(info["torch"])))
    hw = info["hardware"]
    mem = hw["memory"]
    sections.append(
        (
            "hardware",
            [
                ("CPUs", f"{hw['cpus_usable']} usable of {hw['cpu_count']} ({hw['processor']})"),
                (
                    "memory",
                    f"{_size(mem['total_bytes'])} total, {_size(mem['available_bytes'])} available",
                ),
            ],
        )
    )
    data = info["datasets"]
    rows = []
    for name in ("fashion-mnist", "cifar10", "cifar100"):
        d = data[name]
        where = d["root"]
        if d.get("splits"):
            where = f"{where} ({', '.join(d['splits'])})"
        rows.append((name, _yes(d["found"], where)))
    rows.append(("searched", ", ".join(data["searched"])))
    sections.append(("datasets", rows))
    w = info["weights"]
    minilm = w["minilm"]
    hub = w["torch_hub_checkpoints"]
    hf = w["huggingface_models"]
    sections.append(
        (
            "weights",
            [
                (minilm["package"], _yes(minilm["installed"], minilm["version"])),
                (
                    "torch hub checkpoints",
                    ", ".join(f"{c['file']} ({_size(c['bytes'])})" for c in hub["files"])
                    or f"none in {hub['dir']}",
                ),
                ("Hugging Face models", ", ".join(hf["models"]) or f"none in {hf['dir']}"),
            ],
        )
    )
    runs = info["runs"]
    sections.append(
        (
            "trainer runs",
            [
                (
                    r["name"],
                    f"{r['epochs_logged']} epoch(s) logged"
                    + (", resumable (last.pt)" if r["resumable"] else ""),
                )
                for r in runs["runs"]
            ]
            or [("none", f"in {runs['dir']}")],
        )
    )
    return sections


def _torch_rows(torch: dict[str, Any] | None) -> list[tuple[str, str]]:
    if torch is None:
        return [("installed", "no (pip install 'gaussaudit[torch]')")]
    rows = [("version", torch["version"] or "unknown")]
    if "error" in torch:
        rows.append(("import", f"failed: {torch['error']}"))
    elif "build" in torch:
        rows.append(("build", torch["build"]))
        devices = ", ".join(torch["devices"])
        rows.append(("CUDA available", _yes(torch["cuda_available"], devices or None)))
        rows.append(("MPS available", _yes(torch["mps_available"])))
        rows.append(("threads", str(torch["threads"])))
    else:
        rows.append(("build", "not checked (--no-torch)"))
    return rows


def print_environment(info: dict, console: Any = None) -> None:
    """Print the sections as one two-column table; long values wrap, never cut."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column("item", no_wrap=True)
    table.add_column("value", overflow="fold")
    for index, (title, rows) in enumerate(environment_rows(info)):
        if index:
            table.add_row("", "")
        table.add_row(Text(title, style="bold"), "")
        for label, value in rows:
            table.add_row(Text(f"  {label}"), Text(value))
    console.print(table)
