"""Rig tier: every test here boots QEMU guests, so each carries the `rig` marker.

Guests are module-scoped (one boot serves a module's tests); the Guest object powers off and
kills its QEMU process group in its finalizer, so a failing test leaves nothing running.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.resolve().parent == HERE:
            item.add_marker(pytest.mark.rig)
