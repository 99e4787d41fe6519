"""Deployment: units verified by systemd, `bench install` into a throw-away root, `bench doctor`."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bench import config as configmod
from bench.deploy import doctor
from bench.deploy.install import ENABLE, UNITS, install

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("root")
    report = install(root, apt=False, enable=True)
    assert report.steps
    return root


def test_install_puts_files_where_the_units_expect_them(fake_root: Path) -> None:
    launcher = fake_root / "usr/local/bin/bench"
    assert os.access(launcher, os.X_OK)
    target = re.search(r"exec (\S+)", launcher.read_text()).group(1)
    assert os.access(target, os.X_OK), "the launcher must point at an installed bench"
    for unit in UNITS:
        text = (fake_root / "etc/systemd/system" / unit).read_text()
        exec_path = re.search(r"^ExecStart=(\S+)", text, re.M).group(1)
        assert (fake_root / exec_path.lstrip("/")).exists(), f"{unit}: {exec_path} missing"
        for rw in re.findall(r"^ReadWritePaths=(.+)$", text, re.M):
            for path in rw.split():
                assert (fake_root / path.lstrip("/")).is_dir(), f"{unit}: {path} not created"
    cfg = configmod.load(fake_root / "etc/bench/config.toml", create=False)
    assert cfg.data_dir == "/var/lib/bench" and cfg.printer == "preview" and cfg.allow_loop is False
    assert stat.S_IMODE((fake_root / "etc/bench/config.toml").stat().st_mode) == 0o600  # token, PIN hash
    data = fake_root / "var/lib/bench"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    key = data / "keys/station_ed25519.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (fake_root / "etc/udev/rules.d/60-bench.rules").exists()
    assert (fake_root / "usr/local/share/doc/bench/admin.md").exists()
    for unit in ENABLE:
        assert (fake_root / "etc/systemd/system/multi-user.target.wants" / unit).is_symlink()


def test_install_is_idempotent(fake_root: Path) -> None:
    key = (fake_root / "var/lib/bench/keys/station_ed25519.pem").read_bytes()
    report = dict(install(fake_root, apt=False, enable=False).steps)
    assert report["bench.service"] == "unchanged" and report["config"].startswith("kept")
    assert report["station key"].startswith("kept")
    assert (fake_root / "var/lib/bench/keys/station_ed25519.pem").read_bytes() == key


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify(fake_root: Path, unit: str) -> None:
    lib = fake_root / "usr/lib/systemd"
    lib.mkdir(parents=True, exist_ok=True)
    if not (lib / "system").exists():
        (lib / "system").symlink_to("/usr/lib/systemd/system")  # the host's targets (multi-user, ...)
    r = subprocess.run(
        ["systemd-analyze", "verify", f"--root={fake_root}", f"/etc/systemd/system/{unit}"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and unit not in r.stderr, r.stderr


def test_udev_rules_are_well_formed() -> None:
    token = r'[A-Z_]+(\{[^}]+\})?(==|!=|\+=|:=|=)"[^"]*"'
    for n, line in enumerate((ROOT / "systemd/60-bench.rules").read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(", ")]
        assert all(re.fullmatch(token, p) for p in parts), f"line {n}: {line}"
        assert any("==" in p for p in parts) and any(re.search(r"[^=!]=\"|\+=", p) for p in parts), f"line {n}"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_doctor_all_good_on_a_fresh_station(station) -> None:
    checks = {c.name: c for c in doctor.run_checks(station)}
    assert checks["record store"].ok and checks["guard"].ok and checks["data dir"].ok
    assert "root filesystem" not in checks["guard"].detail or checks["guard"].ok


def test_doctor_missing_tools_name_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    checks = doctor.check_tools()
    nvme = next(c for c in checks if c.name == "tool nvme")
    assert not nvme.ok and nvme.hint == "apt-get install nvme-cli"
    assert all(not c.ok for c in checks)


def test_doctor_data_dir_not_writable(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    cfg = configmod.Config(data_dir=str(tmp_path / "afile" / "data"))
    [check] = doctor.check_data_dir(cfg)
    assert not check.ok and "not writable" in check.detail and check.hint


def test_doctor_broken_chain(station) -> None:
    rec = station.store.append("note", {"n": 1})
    conn = sqlite3.connect(station.config.db_path)
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute("UPDATE records SET payload = '{\"n\":2}' WHERE uuid = ?", (rec.uuid,))
    conn.commit()
    conn.close()
    check = doctor.check_store(station)
    assert not check.ok and rec.uuid in check.detail


def test_doctor_key_readable_by_others(station) -> None:
    from bench.certs.sign import key_path, load_or_create_key

    load_or_create_key(station.config)
    assert doctor.check_key(station.config).ok
    os.chmod(key_path(station.config), 0o644)
    check = doctor.check_key(station.config)
    assert not check.ok and check.hint.startswith("chmod 600")


def test_doctor_printer_offline(station) -> None:
    station.config.printer = f"tcp://127.0.0.1:{_closed_port()}"
    check = doctor.check_printer(station.config)
    assert not check.ok and check.hint


def test_doctor_register_unreachable_and_token_refused(station) -> None:
    station.config.register_url = f"http://127.0.0.1:{_closed_port()}"
    check = doctor.check_register(station.config)
    assert not check.ok and "unreachable" in check.detail
    from tests.helpers.register_server import RegisterProcess

    with RegisterProcess.start(str(Path(station.config.data_dir) / "register.db")) as reg:
        station.config.register_url = reg.url
        station.config.register_token = "wrong"
        check = doctor.check_register(station.config)
        assert not check.ok and "refused" in check.detail and "token create" in check.hint
        station.config.register_token = reg.token(station.config.station_id)
        assert doctor.check_register(station.config).ok


def test_doctor_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    check = doctor.check_privileges()
    assert not check.ok and "root" in check.hint


def test_doctor_cli_exit_code(config_file: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "bench.cli.main", "doctor", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_CONFIG": str(config_file)},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "guard" in r.stdout
