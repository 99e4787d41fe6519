"""`bench install`: set up a fresh Debian bench PC (or a throw-away root for tests).

Steps, each idempotent and each reported: apt packages, a launcher at
/usr/local/bin/bench (executing the virtualenv bench runs from), systemd units, udev
rules, the config with safe defaults, the data dir (0700) with the station key (0600),
docs, then enabling the services.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench import config as configmod
from bench.errors import BenchError
from bench.tools import runner

#: What a bench PC needs from Debian (the test-only packages live in the Makefile).
APT_PACKAGES = [
    "hdparm",
    "nvme-cli",
    "smartmontools",
    "sg3-utils",
    "util-linux",
    "udev",
    "adb",
    "libimobiledevice-utils",
    "usbmuxd",
    "fonts-dejavu-core",
    "python3-venv",
]
UNITS = ["bench.service", "bench-sync.service", "bench-register.service"]
ENABLE = ["bench.service", "bench-sync.service"]
RULES = "60-bench.rules"


def source_root() -> Path:
    """The checkout bench was installed from (systemd/ and docs/ live there)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "systemd" / "bench.service").exists():
        raise BenchError(
            f"cannot find systemd/ beside the bench package ({root})",
            hint="run `bench install` from a checkout of bench (pip install -e .)",
        )
    return root


@dataclass
class InstallReport:
    root: Path
    steps: list[tuple[str, str]] = field(default_factory=list)  # (step, what happened)

    def add(self, step: str, detail: str) -> None:
        self.steps.append((step, detail))


def _inside(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def _write_if_changed(path: Path, text: str, mode: int = 0o644) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text() == text:
        return "unchanged"
    path.write_text(text)
    os.chmod(path, mode)
    return "written"


def install(
    root: Path = Path("/"), *, apt: bool = True, enable: bool = True, venv: Path | None = None
) -> InstallReport:
    root = Path(root)
    report = InstallReport(root)
    src = source_root()
    live = root.resolve() == Path("/")

    if apt and live:
        missing = [
            p
            for p in APT_PACKAGES
            if "install ok installed" not in runner.run(["dpkg-query", "-W", "-f=${Status}", p]).stdout
        ]
        if missing:
            runner.run(["apt-get", "update", "-qq"], timeout=600)
            done = runner.run(
                ["apt-get", "install", "-y", "-qq", *missing], timeout=1800, env={"DEBIAN_FRONTEND": "noninteractive"}
            )
            if not done.ok:
                raise BenchError(
                    "apt-get install failed: " + done.stderr.strip()[-300:],
                    hint="check the network and `apt-get update`, then run bench install again",
                )
        report.add("apt", f"installed {', '.join(missing)}" if missing else "all packages present")
    else:
        report.add("apt", "skipped")

    venv = venv or Path(sys.prefix)
    launcher = (
        f'#!/bin/sh\n# Installed by `bench install`: runs bench from its virtualenv.\nexec {venv}/bin/bench "$@"\n'
    )
    report.add(
        "launcher",
        _write_if_changed(_inside(root, "/usr/local/bin/bench"), launcher, 0o755)
        + f" /usr/local/bin/bench -> {venv}/bin/bench",
    )

    for unit in UNITS:
        text = (src / "systemd" / unit).read_text()
        report.add(unit, _write_if_changed(_inside(root, f"/etc/systemd/system/{unit}"), text))
    report.add(
        RULES, _write_if_changed(_inside(root, f"/etc/udev/rules.d/{RULES}"), (src / "systemd" / RULES).read_text())
    )

    cfg_path = _inside(root, "/etc/bench/config.toml")
    existed = cfg_path.exists()
    cfg = configmod.load(cfg_path)  # creates safe defaults on first run
    if not existed:
        cfg.data_dir = "/var/lib/bench"
        _write_if_changed(cfg_path, configmod.dumps(cfg), 0o600)
    os.chmod(cfg_path, 0o600)  # it holds register_token and the supervisor PIN hash
    report.add("config", ("kept " if existed else "created ") + "/etc/bench/config.toml (0600)")

    data = _inside(root, cfg.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    os.chmod(data, 0o700)
    from bench.certs.sign import key_path, load_or_create_key

    key_cfg = configmod.Config(station_id=cfg.station_id, data_dir=str(data))
    existed_key = key_path(key_cfg).exists()
    load_or_create_key(key_cfg)
    report.add("station key", ("kept " if existed_key else "created ") + str(Path(cfg.data_dir) / "keys"))

    docs = _inside(root, "/usr/local/share/doc/bench")
    docs.mkdir(parents=True, exist_ok=True)
    for doc in sorted((src / "docs").glob("*.md")):
        shutil.copyfile(doc, docs / doc.name)
    report.add("docs", f"{len(list(docs.glob('*.md')))} guides in /usr/local/share/doc/bench")

    if enable:
        argv = ["systemctl"] + ([] if live else [f"--root={root}"]) + ["enable", *ENABLE]
        done = runner.run(argv, timeout=60)
        if not done.ok:
            raise BenchError("systemctl enable failed: " + done.stderr.strip()[-300:])
        if live:
            runner.run(["systemctl", "daemon-reload"], timeout=60)
            runner.run(["udevadm", "control", "--reload"], timeout=30)
        report.add("services", "enabled " + ", ".join(ENABLE))
    return report
