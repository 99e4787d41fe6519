"""`bench health` INSIDE a QEMU guest (host mode: the repo's bench, the real smartctl) on
emulated SATA (HDD and SSD) and NVMe drives, and a short SMART self-test on the emulated
SATA drive, recorded as selftest.started/selftest.result.

One boot and one Python process in the guest for the whole module (each interpreter start
costs seconds under TCG): the script below calls the `bench` entry point, `main([...])`, once
per command and hands back every exit code and output as one JSON document."""

from __future__ import annotations

import json

import pytest

from tests.rig import Guest, MiB, Nvme, Sata

pytestmark = pytest.mark.rig

HDD = Sata(serial="RIGHLTHHDD01", model="RIG SATA HDD", rotational=True, size=64 * MiB)
SSD = Sata(serial="RIGHLTHSSD01", model="RIG SATA SSD", rotational=False, size=64 * MiB)
NVME = Nvme(serial="RIGHLTHNVME1", size=64 * MiB)

SCRIPT = r"""
import contextlib, io, json, sys
from bench.cli.main import main
out = {}
for key, argv in json.loads(sys.argv[1]).items():
    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        rc = main(argv)
    out[key] = {"rc": rc, "stdout": buf.getvalue(), "stderr": err.getvalue()}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def results() -> dict:
    with Guest(drives=[HDD, SSD, NVME], mode="host", files={"health_rig.py": SCRIPT.encode()}) as g:
        hdd, ssd, nvme = g.devnode(HDD), g.devnode(SSD), g.devnode(NVME)
        commands = {
            "hdd": ["health", hdd, "--json"],
            "ssd": ["health", ssd, "--json"],
            "nvme": ["health", nvme, "--json"],
            "selftest": ["health", hdd, "--self-test", "short", "--json"],
            "records": ["records", "--json", "--limit", "0"],
            "verify": ["db", "verify"],
        }
        r = g.run(f"python /tmp/health_rig.py '{json.dumps(commands)}'", timeout=600).check()
        return json.loads(r.stdout.strip().splitlines()[-1])


def _json(results: dict, key: str) -> dict:
    assert results[key]["rc"] == 0, results[key]["stderr"]
    return json.loads(results[key]["stdout"])


def test_sata_hdd(results: dict) -> None:
    out = _json(results, "hdd")
    h = out["health"]
    assert (h["identity"]["serial"], h["identity"]["rotation_rate"], h["identity"]["protocol"]) == (
        "RIGHLTHHDD01",
        7200,
        "ATA",
    )
    assert out["device_type"] == "sat" and h["smart_passed"] is True and h["reallocated_sectors"] == 0
    # QEMU's attribute table has no 197: an HDD without it is never "good".
    assert (out["grade"], out["confidence"]) == ("fair", "medium")
    assert out["reasons"] == ["incomplete SMART data: could not read pending sectors (SMART 197)"]
    assert out["record_uuid"]


def test_sata_ssd(results: dict) -> None:
    out = _json(results, "ssd")
    assert out["health"]["identity"]["rotation_rate"] == 0  # QEMU rotation_rate=1: "non-rotating"
    assert (out["grade"], out["confidence"], out["reasons"]) == ("good", "high", [])
    assert "SMART overall: PASSED" in out["checked"]


def test_nvme(results: dict) -> None:
    out = _json(results, "nvme")
    h = out["health"]
    assert h["identity"]["model"] == "QEMU NVMe Ctrl" and h["identity"]["serial"] == "RIGHLTHNVME1"
    assert out["device_type"] == "nvme" and h["nvme_critical_warning"] == 0 and h["life_used_percent"] == 0
    assert (out["grade"], out["reasons"]) == ("fair", ["incomplete SMART data: could not read available spare"])


def test_short_self_test_on_sata(results: dict) -> None:
    r = results["selftest"]
    assert r["rc"] == 0, r["stderr"]
    first, _, rest = r["stdout"].partition("\n")
    assert first == "self-test short: PASSED: Completed without error"
    assert json.loads(rest)["grade"] == "fair"
    records = [json.loads(line) for line in results["records"]["stdout"].splitlines()]
    started = [rec for rec in records if rec["kind"] == "selftest.started"]
    done = [rec for rec in records if rec["kind"] == "selftest.result"]
    assert len(started) == len(done) == 1
    assert started[0]["payload"]["type"] == "short" and started[0]["payload"]["devnode"].startswith("/dev/sd")
    assert done[0]["payload"]["job_id"] == started[0]["payload"]["job_id"]
    assert (done[0]["payload"]["result"], done[0]["payload"]["status"]) == ("passed", "Completed without error")


def test_records_and_chain(results: dict) -> None:
    records = [json.loads(line) for line in results["records"]["stdout"].splitlines()]
    health = [rec for rec in records if rec["kind"] == "health.result"]
    assert len(health) == 4  # three reads and the grade after the self-test
    assert {rec["payload"]["grade"] for rec in health} == {"good", "fair"}
    assert results["verify"]["rc"] == 0 and results["verify"]["stdout"].startswith("ok:")
