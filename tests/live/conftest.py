"""Live tier: boots the bench live image in QEMU; every test here carries the `live` marker.

The image is built once per run through the build's own cache (`.live-cache/`, or
$BENCH_LIVE_CACHE): the first build takes minutes, a rebuild after a code change seconds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.live import disk
from bench.live.build import BuildResult, build, cache_dir

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


#: A boot under TCG on a busy 2-core machine took up to 8 minutes to reach bench; the first build ~6.
BOOT_TIMEOUT = 2400


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.resolve().parent == HERE:
            item.add_marker(pytest.mark.live)
            item.add_marker(pytest.mark.timeout(BOOT_TIMEOUT))


@pytest.fixture(scope="session")
def live_work() -> Iterator[Path]:
    """Sticks, disks and consoles of this run, under the build cache (not pytest's tmp: other pytest
    sessions rotate /tmp/pytest-of-* and a ten-minute boot must not lose its files). BENCH_LIVE_KEEP=1 keeps it."""
    run = cache_dir(ROOT) / "run"
    run.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="live-", dir=run))
    yield work
    if not os.environ.get("BENCH_LIVE_KEEP"):
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def live_image(live_work: Path) -> BuildResult:
    return build(ROOT, live_work / "bench-live.img", log=lambda line: print(f"[live build] {line}"))


def partition_sha256(image: Path, name: str) -> str:
    part = next(p for p in disk.read_partitions(image) if p["name"] == name)
    h = hashlib.sha256()
    with open(image, "rb") as f:
        f.seek(int(str(part["start_bytes"])))
        left = int(str(part["size_bytes"]))
        while left:
            chunk = f.read(min(left, 4 * 1024 * 1024))
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest()
