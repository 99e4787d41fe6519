"""The live image on a QEMU "laptop": UEFI and legacy BIOS boots, every internal drive (NVMe,
SATA, SD/mmcblk) wiped and verified, the stick's system partition untouched, the records on the
stick's data partition, imported by the host bench (idempotent, tampering refused) and synced to
a register on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.live import disk
from tests.helpers.register_server import RegisterProcess, database_url
from tests.live.conftest import ROOT, partition_sha256
from tests.live.machine import GUEST_REGISTER, Disk, Machine, MiB

LIVE_STATION = "live-test-0001"
BIOS_STATION = "live-test-0002"
SERIAL = "5CG1234XYZ"
SMBIOS = (
    f"type=1,manufacturer=Hewlett-Packard,product=HP EliteBook 840 G6,serial={SERIAL},"
    "uuid=4c4c4544-0042-3610-8058-b4c04f4e3132,sku=6XD48EA",
    "type=3,manufacturer=HP,serial=5CG1234XYZ,asset=DONOR-7781",
)
BLOCK = 1024 * 1024


@dataclass
class Run:
    firmware: str
    stick: Path
    disks: list[Disk]
    originals: dict[str, list[str]]  # serial -> sha256 of every 1 MiB block before the wipe
    console: str
    system_before: str
    system_after: str
    esp_before: str
    esp_after: str
    screenshot: Path


def _blocks(path: Path) -> list[str]:
    with open(path, "rb") as f:
        return [hashlib.sha256(chunk).hexdigest() for chunk in iter(lambda: f.read(BLOCK), b"")]


def _put_settings(stick: Path, text: str, work: Path) -> None:
    offset = next(p for p in disk.read_partitions(stick) if p["name"] == disk.DATA_LABEL)["start_bytes"]
    src = work / "bench-live.toml"
    src.write_text(text)
    subprocess.run(["mcopy", "-o", "-i", f"{stick}@@{offset}", str(src), "::/bench-live.toml"], check=True)


def _boot(
    image: Path, work: Path, firmware: str, settings: str, interact: bool, register_port: int | None = None
) -> Run:
    work.mkdir(parents=True, exist_ok=True)
    stick = work / "stick.img"
    shutil.copyfile(image, stick)
    _put_settings(stick, settings, work)
    disks = [Disk("nvme", "NVME-LIVE-1"), Disk("sata", "SATA-LIVE-1"), Disk("sd", "SD-LIVE-1")]
    originals = {}
    for d in disks:
        d.image = work / f"{d.kind}.img"
        d.image.write_bytes(os.urandom(d.size))
        originals[d.serial] = _blocks(d.image)
    system_before = partition_sha256(stick, disk.SYSTEM_NAME)
    esp_before = partition_sha256(stick, "BENCH-EFI")
    m = Machine(stick=stick, workdir=work, firmware=firmware, disks=disks, smbios=SMBIOS, register_port=register_port)  # type: ignore[arg-type]
    try:
        m.start()
        m.wait_for("@@LIVE-START@@", 1200)
        if interact:
            m.wait_for("donor's asset tag", 300)
            m.type("DB-1042\n")
            m.wait_for("Cosmetic grade", 60)
            m.type("b\n")
        m.wait_for("@@LIVE-RESULT", 900)
        shot = m.screendump(work / f"console-{firmware}.png")
        m.wait_for("@@LIVE-DONE", 120)
        m.type("\n")
        m.wait_exit(120)
        console = m.console()
    finally:
        m.close()
    if os.environ.get("BENCH_LIVE_SCREENSHOT") and interact:
        shutil.copyfile(shot, os.environ["BENCH_LIVE_SCREENSHOT"])
    return Run(
        firmware, stick, disks, originals, console, system_before, partition_sha256(stick, disk.SYSTEM_NAME),
        esp_before, partition_sha256(stick, "BENCH-EFI"), shot,
    )  # fmt: skip


def _settings(token: str, prompt_timeout: int, station: str = LIVE_STATION, register_url: str = "") -> str:
    return (
        f'station_id = "{station}"\nregister_token = "{token}"\nregister_url = "{register_url}"\nprofile = "nist-clear"\n'
        f'prompt_timeout = {prompt_timeout}\nserial_log = "/dev/ttyS0"\ndonor = "Coventry City Council"\n'
        'batch = "CCC-2026-12"\n'
    )


@pytest.fixture(scope="module")
def register(live_work: Path):
    (live_work / "register").mkdir()
    with RegisterProcess.start(database_url("sqlite", live_work / "register")) as reg:
        yield reg


@pytest.fixture(scope="module")
def uefi_run(live_image, register, live_work: Path) -> Run:
    token = register.token(LIVE_STATION)
    return _boot(live_image.image, live_work / "uefi", "uefi", _settings(token, 300), interact=True)


@pytest.fixture(scope="module")
def bios_run(live_image, register, live_work: Path) -> Run:
    # Auto mode (nobody answers, the questions time out) with a network: the register through guestfwd.
    settings = _settings(register.token(BIOS_STATION), 3, BIOS_STATION, f"http://{GUEST_REGISTER}")
    work = live_work / "bios"
    return _boot(live_image.image, work, "bios", settings, interact=False, register_port=register.port)


def _bench(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BENCH_CONFIG": str(config)}
    return subprocess.run(
        [sys.executable, "-m", "bench.cli.main", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )


def _host_config(tmp: Path, register: RegisterProcess | None) -> Path:
    cfg = tmp / "bench.toml"
    lines = ['station_id = "bench-host-1"', f'data_dir = "{tmp / "data"}"']
    if register is not None:
        lines += [f'register_url = "{register.url}"', f'register_token = "{register.token("bench-host-1")}"']
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


@pytest.mark.parametrize("which", ["uefi_run", "bios_run"])
def test_boots_and_passes(which: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(which)
    assert "@@LIVE-RESULT PASSED@@" in run.console, run.console[-4000:]


@pytest.mark.parametrize("which", ["uefi_run", "bios_run"])
def test_every_internal_drive_is_wiped(which: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(which)
    zero = hashlib.sha256(bytes(BLOCK)).hexdigest()
    for d in run.disks:
        after = _blocks(d.image)
        assert len(after) == len(run.originals[d.serial])
        kept = [i for i, (a, b) in enumerate(zip(after, run.originals[d.serial], strict=True)) if a == b]
        assert not kept, f"{d.kind}: {len(kept)} MiB blocks still hold the original data"
        # nist-clear writes zeros (or the drive's format zeroes it): every block reads back as zeros.
        assert set(after) == {zero}, f"{d.kind} is not all zeros after the wipe"


@pytest.mark.parametrize("which", ["uefi_run", "bios_run"])
def test_stick_system_and_boot_partitions_untouched(which: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(which)
    assert run.system_after == run.system_before
    assert run.esp_after == run.esp_before


def test_console_shows_result_screen(uefi_run: Run) -> None:
    from PIL import Image

    img = Image.open(uefi_run.screenshot)
    assert img.width >= 640 and img.height >= 400
    low, high = img.convert("L").getextrema()
    assert high - low > 100  # text on the screen, not a blank one


def test_import_records_sync_and_idempotent(uefi_run: Run, register: RegisterProcess, tmp_path: Path) -> None:
    cfg = _host_config(tmp_path, register)
    first = _bench(cfg, "import", str(uefi_run.stick), "--json")
    assert first.returncode == 0, first.stderr + first.stdout
    report = json.loads(first.stdout)
    assert report["station_id"] == LIVE_STATION and report["imported"] > 0
    assert report["results"] == {"passed": 1}
    sync = report["sync"][LIVE_STATION]
    assert sync["ok"] and sync["remaining"] == 0 and sync["stored"] == report["imported"]

    mirror = sqlite3.connect(report["mirror"])
    kinds = [r[0] for r in mirror.execute("SELECT kind FROM records ORDER BY seq")]
    payloads = {k: json.loads(p) for k, p in mirror.execute("SELECT kind, payload FROM records")}
    assert kinds.count("wipe.result") == 3 and kinds.count("host.linked") == 3
    assert kinds.count("custody.received") == 1 and kinds[0] == "station.key"
    host = payloads["host.registered"]
    assert host["serial"] == SERIAL and host["make"] == "Hewlett-Packard" and host["donor_asset_tag"] == "DB-1042"
    assert host["inventory"]["system"]["product"] == "HP EliteBook 840 G6"
    assert host["inventory"]["chassis"]["asset_tag"] == "DONOR-7781"
    assert host["inventory"]["memory"]["total_bytes"] > 1000 * MiB
    assert {s["kind"] for s in host["inventory"]["storage"]} >= {"nvme"}
    assert payloads["host.graded"]["cosmetic"] == "B"
    session = payloads["live.session"]
    assert session["result"] == "passed" and len(session["drives"]) == 3
    assert "the bench live stick this computer booted from" in session["boot_medium"]["protected_because"]
    results = [
        json.loads(p)["result"] for (p,) in mirror.execute("SELECT payload FROM records WHERE kind='wipe.result'")
    ]
    assert results == ["passed"] * 3

    with register.storage() as storage:
        chain = storage.verify_chain(LIVE_STATION)
    assert chain["ok"] and chain["records"] == report["imported"], chain

    again = _bench(cfg, "import", str(uefi_run.stick), "--json")
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert second["imported"] == 0 and second["already_had"] == report["imported"] and second["record_uuid"] == ""


def test_tampered_stick_is_refused(uefi_run: Run, tmp_path: Path) -> None:
    stick = tmp_path / "tampered.img"
    shutil.copyfile(uefi_run.stick, stick)
    offset = next(p for p in disk.read_partitions(stick) if p["name"] == disk.DATA_LABEL)["start_bytes"]
    db = tmp_path / "bench.db"
    subprocess.run(["mcopy", "-n", "-i", f"{stick}@@{offset}", "::/bench/bench.db", str(db)], check=True)
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute(
        'UPDATE records SET payload = replace(payload, \'"result":"passed"\', \'"result":"failed"\') '
        "WHERE kind = 'wipe.result'"
    )
    conn.commit()
    conn.close()
    subprocess.run(["mcopy", "-o", "-i", f"{stick}@@{offset}", str(db), "::/bench/bench.db"], check=True)
    done = _bench(_host_config(tmp_path, None), "import", str(stick))
    assert done.returncode == 1
    assert "edited after it was written" in done.stderr


def test_guest_synced_to_the_register_through_guestfwd(
    bios_run: Run, register: RegisterProcess, tmp_path: Path
) -> None:
    """The guest reached the register (only via QEMU's forward to 127.0.0.1) and sent its chain itself;
    importing the stick afterwards finds every record already stored."""
    assert "synced: " in bios_run.console
    with register.storage() as storage:
        chain = storage.verify_chain(BIOS_STATION)
    assert chain["ok"], chain
    done = _bench(_host_config(tmp_path, register), "import", str(bios_run.stick), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert chain["records"] == report["records_on_stick"] == report["imported"]
    sync = report["sync"][BIOS_STATION]
    assert sync["already_stored"] == report["imported"] and sync["stored"] == 0
