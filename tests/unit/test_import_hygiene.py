"""The headless core never imports the TUI toolkit, and `bench --help` imports almost nothing."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import bench

CORE_PACKAGES = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name not in ("tui", "cli"))


def _modules_after(code: str) -> set[str]:
    out = subprocess.check_output(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        cwd=Path(bench.__file__).parents[1],
    )
    return set(json.loads(out.decode().splitlines()[-1]))


def test_core_never_imports_textual() -> None:
    modules = []
    for pkg in CORE_PACKAGES:
        path = Path(bench.__file__).parent / pkg
        if path.is_dir():
            modules += [f"bench.{pkg}.{m.name}" for m in pkgutil.iter_modules([str(path)])]
        else:
            modules.append(f"bench.{pkg}")
    code = "import importlib\n" + "\n".join(f"importlib.import_module({m!r})" for m in modules)
    loaded = _modules_after(code)
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}, "the core imported textual"


def test_help_stays_light() -> None:
    code = "import sys\nfrom bench.cli import main\ntry:\n    main.main(['--help'])\nexcept SystemExit:\n    pass\n"
    loaded = _modules_after(code)
    heavy = {"textual", "httpx", "escpos", "sqlite_utils", "pyudev", "cryptography", "fpdf", "starlette", "PIL"}
    assert not heavy & {m.split(".")[0] for m in loaded}


def test_every_command_module_has_the_cli_contract() -> None:
    import importlib

    from bench.cli.main import COMMANDS

    for name, (module_name, _) in COMMANDS.items():
        if importlib.util.find_spec(module_name) is None:
            continue  # not landed yet; tests/integration/test_cli.py requires every module to exist
        module = importlib.import_module(module_name)
        assert callable(module.add_arguments) and callable(module.run), name
