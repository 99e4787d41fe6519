"""Fixtures of the browser tests: one real register process per database backend with the
scenario built on it, and one headless Chromium for the whole session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import chromium
from tests.browser.scenario import Scenario, build
from tests.helpers.register_server import RegisterProcess, database_url

pytestmark = pytest.mark.browser

BACKENDS = ["sqlite", "postgres"] if os.environ.get("BENCH_BROWSER_POSTGRES", "1") != "0" else ["sqlite"]


@pytest.fixture(scope="session")
def browser() -> Iterator[chromium.Browser]:
    if not chromium.available():
        pytest.fail("chromium and chromium-driver are needed (make setup installs them)")
    b = chromium.Browser()
    try:
        yield b
    finally:
        b.quit()


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    tmp = tmp_path_factory.mktemp(f"pages-{request.param}")
    with RegisterProcess.start(database_url(request.param, tmp)) as reg:
        yield build(reg, tmp)


@pytest.fixture
def downloads(browser: chromium.Browser) -> Iterator[Path]:
    browser.clear_downloads()
    yield browser.downloads
    browser.clear_downloads()
