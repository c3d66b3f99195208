"""Plugins through one door: fake entry points, built-ins, collisions, overrides, errors.

Nothing is installed: ``importlib.metadata.entry_points`` is replaced by a function
returning fake entry points whose objects live in modules made on the fly.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
import types
import warnings
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from gaussaudit import datasets, encoders
from gaussaudit.cli import main
from gaussaudit.cli._errors import cli_message, flag_for
from gaussaudit.datasets import DatasetSpec
from gaussaudit.encoders import EncoderSpec
from gaussaudit.errors import (
    GaussAuditError,
    InvalidEmbeddingsError,
    PluginConflictError,
    PluginWarning,
    ResourceUnavailableError,
    UnknownNameError,
    UsageError,
)
from gaussaudit.registry import BUILTIN_SOURCE, Registry

GROUP = "gaussaudit.encoders"


@dataclass(frozen=True)
class FakeEntryPoint:
    """What the registry reads from an entry point: name, value, dist and load()."""

    name: str
    value: str
    group: str = GROUP
    dist: Any = None

    def load(self) -> Any:
        return importlib.metadata.EntryPoint(self.name, self.value, self.group).load()


def dist(name: str, version: str = "1.0") -> SimpleNamespace:
    return SimpleNamespace(name=name, version=version, metadata={"Name": name})


def spec(name: str, **kw: Any) -> EncoderSpec:
    kw.setdefault("factory", "plugin_heavy_model:create")
    return EncoderSpec(name, kw.pop("family", "fake"), kw.pop("factory"), ("vector",), 4, **kw)


@pytest.fixture
def plugins(monkeypatch):
    """``install(module_name, eps, **attrs)``: fake module + fake entry points of a group."""
    installed: dict[str, list[FakeEntryPoint]] = {}
    real = importlib.metadata.entry_points

    def entry_points(**params):
        if params.get("group") in installed:
            return list(installed[params["group"]])
        return real(**params)

    def install(module: str, eps: list[FakeEntryPoint], **attrs: Any) -> None:
        mod = types.ModuleType(module)
        mod.__dict__.update(attrs)
        monkeypatch.setitem(sys.modules, module, mod)
        for ep in eps:
            installed.setdefault(ep.group, []).append(ep)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    for reg in (encoders.registry, datasets.registry):
        reg.reload()
    yield install
    for reg in (encoders.registry, datasets.registry):
        reg.reload()


def fresh() -> Registry:
    return Registry("encoder", GROUP, builtins="gaussaudit.encoders:builtin_specs")


# --------------------------------------------------------------------------- built-ins


def test_builtins_come_through_the_same_door(plugins):
    assert encoders.registry.builtins == "gaussaudit.encoders:builtin_specs"
    assert datasets.registry.builtins == "gaussaudit.datasets:builtin_specs"
    reg = fresh()
    builtin = [s.name + (":..." if s.prefix else "") for s in encoders.builtin_specs()]
    assert sorted(reg.names()) == sorted(builtin)
    assert set(builtin) <= set(encoders.registry.names())  # other tests may register more
    assert {reg.source(s) for s in reg.specs()} == {BUILTIN_SOURCE}
    assert all(reg.distribution(s) is None for s in reg.specs())
    assert [reg.display_name(s) for s in reg.specs() if reg.is_prefix(s)] == [
        "openclip:...",
        "timm:...",
        "st:...",
    ]
    assert "sentence-transformers" in reg.families()


def test_registry_without_builtins_and_runtime_register():
    reg = Registry("thing", "gaussaudit.no-such-group")
    assert reg.names() == []
    s = spec("a")
    assert reg.register(s) is s
    assert reg.register(spec("a")) is not s  # an identical spec again: no conflict
    assert reg.names() == ["a"] and reg.source(s).startswith("register() in ")
    with pytest.raises(PluginConflictError, match=r"register\(\) in .*register\(\) in"):
        reg.register(spec("a", description="another"))
    reg.register(spec("a", description="mine"), override=True)
    assert reg.resolve("a")[0].description == "mine"
    assert list(reg.replaced()) == ["a"]


# --------------------------------------------------------------------------- plugins


def test_plugin_plain_and_prefix_family(plugins, capsys):
    plain, family = spec("plug-one"), spec("plugfam", prefix=True, description="plugfam:ARG")
    plugins(
        "fake_plugin_a",
        [FakeEntryPoint("a", "fake_plugin_a:SPECS", dist=dist("gaussaudit-plug-a", "0.3"))],
        SPECS=[plain, family],
    )
    reg = encoders.registry
    assert reg.resolve("plug-one") == (plain, None)
    assert reg.resolve("plugfam:some/arg:x") == (family, "some/arg:x")
    assert reg.is_prefix(family) and not reg.is_prefix(plain)
    assert "plugfam:..." in reg.names()
    assert reg.distribution(family) == "gaussaudit-plug-a"
    assert reg.source(family).startswith("gaussaudit-plug-a 0.3 (entry point a = ")
    assert "plugin_heavy_model" not in sys.modules  # listing never imports the factory
    assert main(["list", "encoders"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "plugfam:..." in lines and "gaussaudit-plug-a" in lines["plugfam:..."]
    assert "built-in" in lines["resnet18"]


def test_entry_point_may_be_a_function_or_a_single_spec(plugins):
    one = DatasetSpec("plug-data", "fake", "plugin_heavy_data:create", "vector", None)
    plugins(
        "fake_plugin_b",
        [
            FakeEntryPoint("f", "fake_plugin_b:specs"),
            FakeEntryPoint("d", "fake_plugin_b:ONE", group="gaussaudit.datasets"),
        ],
        specs=lambda: spec("plug-fn"),
        ONE=one,
    )
    assert encoders.registry.resolve("plug-fn")[0].name == "plug-fn"
    assert datasets.registry.resolve("plug-data") == (one, None)
    assert datasets.registry.source(one) == "entry point d = fake_plugin_b:ONE"


def test_collision_with_a_builtin_is_an_error_naming_both(plugins, capsys):
    plugins(
        "fake_plugin_c",
        [FakeEntryPoint("resnet18", "fake_plugin_c:SPEC", dist=dist("gaussaudit-evil", "2.0"))],
        SPEC=spec("resnet18"),
    )
    with pytest.raises(PluginConflictError) as err:
        encoders.registry.resolve("resnet18")
    msg = str(err.value)
    assert "encoder 'resnet18'" in msg and BUILTIN_SOURCE in msg
    assert "gaussaudit-evil 2.0" in msg and "override = True" in msg
    assert isinstance(err.value, UsageError) and err.value.exit_code == 2
    assert err.value.sources[0] == BUILTIN_SOURCE
    assert main(["list", "encoders"]) == 2  # the CLI says so in one line, exit 2
    assert "gaussaudit-evil" in capsys.readouterr().err


def test_collision_of_prefix_families_and_between_plugins(plugins):
    plugins(
        "fake_plugin_d",
        [
            FakeEntryPoint("x", "fake_plugin_d:X", dist=dist("gaussaudit-x")),
            FakeEntryPoint("y", "fake_plugin_d:Y", dist=dist("gaussaudit-y")),
        ],
        X=[spec("shared", description="x"), spec("timm", prefix=True)],
        Y=spec("shared", description="y"),
    )
    with pytest.raises(PluginConflictError) as err:
        encoders.registry.names()
    msg = str(err.value)
    # the first conflict met is reported; both name every source involved
    assert ("'shared'" in msg and "gaussaudit-x" in msg and "gaussaudit-y" in msg) or (
        "'timm:'" in msg and BUILTIN_SOURCE in msg and "gaussaudit-x" in msg
    )


def test_prefix_and_plain_names_do_not_collide(plugins):
    plugins("fake_plugin_e", [FakeEntryPoint("e", "fake_plugin_e:S")], S=spec("timm"))
    plain, _ = encoders.registry.resolve("timm")
    family, arg = encoders.registry.resolve("timm:resnet18")
    assert plain.family == "fake" and family.family == "timm" and arg == "resnet18"


@pytest.mark.parametrize("order", [0, 1])
def test_explicit_override_wins_whatever_the_order(plugins, order):
    mine = spec("timm", prefix=True, override=True, family="my-timm")
    other = spec("timm", prefix=True, family="their-timm")
    eps = [
        FakeEntryPoint("mine", "fake_plugin_f:MINE", dist=dist("gaussaudit-mine")),
        FakeEntryPoint("other", "fake_plugin_f:OTHER", dist=dist("gaussaudit-other")),
    ]
    plugins("fake_plugin_f", eps[::-1] if order else eps, MINE=mine, OTHER=other)
    assert encoders.registry.resolve("timm:vit") == (mine, "vit")
    (builtin, other_source) = sorted(encoders.registry.replaced()["timm:"])
    assert builtin == BUILTIN_SOURCE and other_source.startswith("gaussaudit-other 1.0 ")


def test_two_overrides_of_one_name_conflict(plugins):
    plugins(
        "fake_plugin_g",
        [FakeEntryPoint("a", "fake_plugin_g:A"), FakeEntryPoint("b", "fake_plugin_g:B")],
        A=spec("resnet18", override=True, description="a"),
        B=spec("resnet18", override=True, description="b"),
    )
    with pytest.raises(PluginConflictError, match=r"fake_plugin_g:A.*fake_plugin_g:B"):
        encoders.registry.resolve("resnet18")


def test_broken_plugins_warn_and_are_skipped(plugins):
    plugins(
        "fake_plugin_h",
        [
            FakeEntryPoint("gone", "no_such_module_here:SPEC", dist=dist("gaussaudit-gone", "9")),
            FakeEntryPoint("junk", "fake_plugin_h:JUNK"),
            FakeEntryPoint("boom", "fake_plugin_h:boom"),
            FakeEntryPoint("good", "fake_plugin_h:GOOD"),
        ],
        JUNK=[spec("fine"), 42],
        boom=lambda: 1 / 0,
        GOOD=spec("good-one"),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = encoders.registry.names()
    messages = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
    assert len(messages) == 3
    gone = [m for m in messages if "'gone'" in m]
    assert len(gone) == 1 and "gaussaudit-gone 9" in gone[0] and "failed to import" in gone[0]
    assert any("'junk'" in m and "42" in m for m in messages)
    assert any("'boom'" in m and "ZeroDivisionError" in m for m in messages)
    assert "good-one" in names and "fine" not in names and "resnet18" in names


def test_plugins_may_still_call_register_while_imported(plugins):
    def hook():
        encoders.registry.register(spec("old-style"))
        return []

    plugins("fake_plugin_i", [FakeEntryPoint("i", "fake_plugin_i:hook")], hook=hook)
    assert encoders.registry.resolve("old-style")[0].name == "old-style"


def test_list_never_truncates_long_names(plugins, capsys):
    long_name = "a-plugin-encoder-with-a-deliberately-long-name-" + "x" * 60
    plugins("fake_plugin_j", [FakeEntryPoint("j", "fake_plugin_j:S")], S=spec(long_name))
    assert main(["list", "encoders"]) == 0
    assert long_name in capsys.readouterr().out


def test_list_in_a_narrow_terminal_falls_back_to_plain_text(plugins, monkeypatch, capsys):
    long_name = "another-plugin-encoder-with-a-long-name-" + "y" * 40
    plugins("fake_plugin_k", [FakeEntryPoint("k", "fake_plugin_k:S")], S=spec(long_name))
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich believes stdout is a terminal
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["list", "encoders"]) == 0
    assert long_name in capsys.readouterr().out
    monkeypatch.setenv("COLUMNS", "400")  # wide enough: the rich table, names whole
    assert main(["list", "datasets"]) == 0
    out = capsys.readouterr().out
    assert "synthetic:..." in out and "datasets" in out.splitlines()[0]


def test_listing_a_plugin_imports_no_torch(tmp_path):
    pkg = tmp_path / "light_plugin"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from gaussaudit.encoders import EncoderSpec\n"
        "SPEC = EncoderSpec('light', 'light', 'light_plugin.model:create', ('vector',), 2,\n"
        "                   'torch', prefix=True)\n"
    )
    (pkg / "model.py").write_text("import torch\n")
    script = textwrap.dedent(
        f"""
        import importlib.metadata, sys
        sys.path.insert(0, {str(tmp_path)!r})
        real = importlib.metadata.entry_points
        ep = importlib.metadata.EntryPoint('light', 'light_plugin:SPEC', 'gaussaudit.encoders')
        importlib.metadata.entry_points = (
            lambda **p: [ep] if p.get('group') == 'gaussaudit.encoders' else real(**p))
        from gaussaudit.cli import main
        assert main(['list', 'encoders']) == 0
        assert 'torch' not in sys.modules and 'light_plugin.model' not in sys.modules
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "light:..." in proc.stdout


# --------------------------------------------------------------------------- errors


def test_errors_carry_the_options_they_concern():
    err = UsageError("pass nan_policy='omit'", option="nan_policy")
    assert err.option == "nan_policy" and err.options == ("nan_policy",)
    both = ResourceUnavailableError("m", option=("download", "root"))
    assert both.option == "download" and both.options == ("download", "root")
    assert isinstance(both, OSError) and both.exit_code == 3
    plain = GaussAuditError("no option")
    assert plain.option is None and plain.options == ()
    unknown = UnknownNameError("device", "tpu", ("cpu", "cuda"), option="device")
    assert unknown.option == "device" and "unknown device 'tpu'" in str(unknown)


@pytest.mark.parametrize(
    ("message", "option", "shown"),
    [
        ("x; pass nan_policy='omit' to drop", "nan_policy", "x; pass --nan-policy omit to drop"),
        ("pass download=True or root=DIR", ("download", "root"), "pass --download or --root DIR"),
        ("set pca=False", "pca", "set --no-pca"),
        ("pass weights=PATH or weights='none'", "weights", "pass --weights PATH or --weights none"),
        ("use the same views=... setting", "views", "use the same --view setting"),
        (
            "dataset_options may not hold 'seed': pass seed=... instead",
            ("dataset_options", "seed"),
            "--data-option may not hold 'seed': pass --seed instead",
        ),
        ("out='a.txt' must end in .npy", "out", "--out a.txt must end in .npy"),
        # names only rewritten as keyword references, never inside words, quotes or paths
        ("no key 'max_samples' in /d/root=1/x", None, "no key 'max_samples' in /d/root=1/x"),
        ("max_samples must be >= 8", None, "max_samples must be >= 8"),
        ("max_samples must be >= 8", "max_samples", "--max-samples must be >= 8"),
    ],
)
def test_cli_message_maps_keyword_arguments_to_flags(message, option, shown):
    assert cli_message(UsageError(message, option=option)) == shown


def test_flag_names():
    assert flag_for("nan_policy") == "--nan-policy"
    assert flag_for("encoder_options") == "--model-option"


def test_nan_error_speaks_python_and_the_cli_names_the_flag(tmp_path, capsys):
    from gaussaudit.stats._validation import validate

    x = np.random.default_rng(0).standard_normal((20, 3))
    x[4, 1] = np.nan
    with pytest.raises(InvalidEmbeddingsError) as err:
        validate(x)
    assert "nan_policy='omit'" in str(err.value) and "--" not in str(err.value)
    assert err.value.option == "nan_policy"
    path = tmp_path / "e.npy"
    np.save(path, x)
    assert main(["test", str(path)]) == 2
    assert "--nan-policy omit" in capsys.readouterr().err


def test_library_raise_sites_name_no_flags():
    """No message in a library module this change owns tells a Python caller to pass a flag."""
    import ast
    import re
    from pathlib import Path

    root = Path(encoders.__file__).parents[1]
    owned = [
        *(f"extract/{p.name}" for p in (root / "extract").glob("*.py")),
        "registry.py",
        "errors.py",
        "compare.py",
        "stats/_validation.py",
        *(f"datasets/{p.name}" for p in (root / "datasets").glob("*.py")),
        *(f"datasets/synthetic/{p.name}" for p in (root / "datasets" / "synthetic").glob("*.py")),
        *(
            f"encoders/{p.name}"
            for p in (root / "encoders").glob("*.py")
            if p.name != "checkpoints.py"  # owned by the trainer's change
        ),
    ]
    flag = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
    found = []
    for rel in owned:
        tree = ast.parse((root / rel).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                for const in ast.walk(node.exc):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str):
                        found += [f"{rel}:{node.lineno}" for _ in flag.findall(const.value)]
    assert found == []
