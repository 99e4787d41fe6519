"""1,000 random network faults between the sync client and a real register (SQLite and
PostgreSQL): 0 records lost, 0 duplicated, both chains valid."""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import config as configmod
from bench.station import open_station
from bench.sync.backoff import Backoff
from bench.sync.client import RegisterClient, sync_once
from tests.helpers.fault_proxy import FAULTS, FaultProxy
from tests.helpers.register_server import RegisterProcess, database_url
from tests.integration.test_sync_offline import STATION, assert_same_records_on_both_sides

FAULT_COUNT = 1_000
TIMEOUT = 0.2  # the client's; the proxy's slow answers come after it
QUICK = Backoff(base=0.001, cap=0.004)
# Each slow fault costs a full client timeout, so it is rarer than the others.
WEIGHTS = {
    "down": 17,
    "cut_request": 13,
    "error500": 17,
    "slow": 5,
    "cut_after_store": 17,
    "duplicate": 16,
    "replay_old": 15,
}


@pytest.fixture
def fast_dir(tmp_path: Path) -> Iterator[Path]:
    """tmpfs when there is one: this test is about the network, and 1,500 rounds of the CI disk's
    ~7 ms fsync (station and register) would dominate it. PostgreSQL's test cluster runs fsync=off."""
    if not Path("/dev/shm").is_dir():
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="bench-faults-", dir="/dev/shm"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_1000_random_faults_lose_nothing_and_duplicate_nothing(backend: str, fast_dir: Path) -> None:
    tmp_path = fast_dir
    rng = random.Random(20261123)
    with (
        RegisterProcess.start(database_url(backend, tmp_path)) as register,
        FaultProxy(
            ("127.0.0.1", register.port),
            rng=random.Random(7),
            fault_rate=0.8,
            weights=WEIGHTS,
            slow_seconds=TIMEOUT + 0.1,
        ) as proxy,
    ):
        cfg = configmod.Config(
            station_id=STATION,
            data_dir=str(tmp_path / "bench"),
            register_url=proxy.url,
            register_token=register.token(STATION),
        )
        with (
            open_station(config=cfg) as station,
            RegisterClient(proxy.url, cfg.register_token, timeout=TIMEOUT) as client,
        ):
            rounds = 0
            while proxy.faults < FAULT_COUNT:
                rounds += 1
                assert rounds < 5_000, f"only {proxy.faults} faults after {rounds} rounds"
                with station.store.transaction() as conn:  # the bench keeps working while the network fails
                    for _ in range(rng.randint(0, 8)):
                        station.store._append(
                            conn,
                            "test.record",
                            {"round": rounds, "n": rng.random()},
                            device_id=None,
                            evidence=None,
                            record_uuid=None,
                        )
                sync_once(station, client=client, batch_size=rng.choice([1, 3, 5, 8]), max_failures=1, backoff=QUICK)
            proxy.fault_rate = 0.0
            with RegisterClient(proxy.url, cfg.register_token, timeout=10.0) as patient:  # a loaded CI is slow
                final = sync_once(station, client=patient, max_failures=3, backoff=QUICK)
            assert (final.remaining, final.rejected, final.error) == (0, 0, ""), final
            assert all(proxy.counts[f] >= 25 for f in FAULTS), proxy.counts
            assert station.store.count() > 1_000
            assert_same_records_on_both_sides(station, register)
