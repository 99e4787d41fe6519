"""Rig tier: every test here boots QEMU guests, so each carries the `rig` marker.

Guests are module-scoped (one boot serves a module's tests); the Guest object powers off and
kills its QEMU process group in its finalizer, so a failing test leaves nothing running.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rig.bench_env import missing_bench

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.resolve().parent == HERE:
            item.add_marker(pytest.mark.rig)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Stop before the first boot, with one message, when the guests would find no bench
    (rather than `bench: not found` inside every guest, test after test)."""
    if not any(item.path.resolve().parent == HERE for item in session.items):
        return
    problem = missing_bench()
    if problem:
        raise pytest.UsageError(problem)
