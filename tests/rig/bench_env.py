"""Which bench the host-mode guests run: the one installed for the interpreter running pytest.

A guest chroots into the host's / (over 9p) and puts this environment's scripts folder first on
PATH, so `bench` and `python` there are the ones pytest imports: the checkout's `.venv`, a
virtualenv elsewhere (a packager's, a CI image's) or a system-wide install alike.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path


def scripts_dir() -> Path:
    """Where this interpreter's environment installs console scripts (`<venv>/bin`)."""
    return Path(sysconfig.get_path("scripts"))


def environment_prefix() -> Path:
    """The environment's root: a guest binds it back in when it lives under /tmp or /run."""
    return Path(sys.prefix)


def missing_bench() -> str | None:
    """Why a host-mode guest could not run bench from this environment, or None when it can."""
    script = scripts_dir() / "bench"
    if script.is_file():
        return None
    return (
        f"the rig tier runs `bench` inside QEMU guests from the environment of the Python running pytest "
        f"({sys.executable}), but {script} does not exist. Install bench into that environment "
        f"(`{sys.executable} -m pip install -e '.[dev]'` from the checkout, or `make setup` for the "
        f"checkout's .venv), or run the tier with that environment's Python; `-m 'not rig'` skips it."
    )
