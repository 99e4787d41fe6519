"""`python -m tests.rig.capture [OUTDIR]`: boot the rig once (host mode: real udev) and store what
the real tools print for each emulated drive, so unit tests parse real outputs.

Writes OUTDIR/<drive>/<name>.json|txt (stdout) and OUTDIR/<drive>/index.json (per file: the
command, the guest device, rc and stderr), OUTDIR/bench_devices.json and OUTDIR/README.md.
Default OUTDIR: tests/data/rig. Destructive commands (format, security) run last per drive.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tests.rig import virtual
from tests.rig.drives import Drive, MiB, Nvme, Sata, Scsi, Usb
from tests.rig.guest import Guest
from tests.rig.kernel import ROOT, ensure_kernel

DRIVES: dict[str, Drive] = {
    "nvme": Nvme(serial="RIGNVME0001", size=64 * MiB),
    "nvme-2ns": Nvme(serial="RIGNVME0002", size=32 * MiB, namespaces=2),
    "sata-ssd": Sata(serial="RIGSSD0001", model="RIG SATA SSD"),
    "sata-hdd": Sata(serial="RIGHDD0001", model="RIG SATA HDD", rotational=True),
    "scsi": Scsi(serial="RIGSCSI0001", vendor="RIG", product="SCSI DISK"),
    "usb": Usb(serial="RIGUSB0001"),
}

COMMON = [
    ("lsblk.json", "lsblk -J -O {dev}"),
    ("udevadm_info.txt", "udevadm info --query=all {dev}"),
    ("smartctl_x.json", "smartctl -j -x {smart}"),
    ("smartctl_a.json", "smartctl -j -a {smart}"),
    ("hdparm_I.txt", "hdparm -I {dev}"),
    ("sg_inq.txt", "sg_inq {dev}"),
    ("sg_readcap.txt", "sg_readcap -l {dev}"),
]
NVME = [
    ("smartctl_x_ns.json", "smartctl -j -x {dev}"),  # the namespace also reports capacity
    ("id_ctrl.json", "nvme id-ctrl {ctrl} -o json"),
    ("id_ctrl_H.txt", "nvme id-ctrl {ctrl} -H"),
    ("id_ns.json", "nvme id-ns {dev} -o json"),
    ("id_ns_H.txt", "nvme id-ns {dev} -H"),
    ("smart_log.json", "nvme smart-log {ctrl} -o json"),
    ("error_log.json", "nvme error-log {ctrl} -e 4 -o json"),
    ("sanitize_log.json", "nvme sanitize-log {ctrl} -o json"),
    ("list_ns.txt", "nvme list-ns {ctrl} --all"),
]
NVME_LAST = [
    ("sanitize_block.txt", "nvme sanitize {ctrl} --sanact=2"),
    ("format_ses1.txt", "nvme format {dev} --ses=1 --force"),
]
SATA = [
    ("hdparm_N.txt", "hdparm -N {dev}"),
    ("sg_sat_identify.txt", "sg_sat_identify {dev}"),
    ("sg_vpd_sn.txt", "sg_vpd -p sn {dev}"),
]
SCSI = [
    ("sg_vpd_sn.txt", "sg_vpd -p sn {dev}"),
    ("sg_vpd_bl.txt", "sg_vpd -p bl {dev}"),
    ("sg_vpd_di.txt", "sg_vpd -p di {dev}"),
]
USB = [
    ("smartctl_sat.json", "smartctl -j -a -d sat {dev}"),
    ("sg_vpd_sn.txt", "sg_vpd -p sn {dev}"),
]

TOOL_VERSIONS = (
    "nvme version | head -1; smartctl -V | head -1; hdparm -V; sg_inq -V 2>&1 | head -1; "
    "lsblk -V; udevadm --version; uname -r"
)


def _commands(key: str, drive: Drive) -> list[tuple[str, str]]:
    if isinstance(drive, Nvme):
        cmds = COMMON + NVME
        if drive.namespaces > 1:
            cmds = [
                *cmds,
                ("id_ns2.json", "nvme id-ns {dev2} -o json"),
                ("lsblk_ns2.json", "lsblk -J -O {dev2}"),
                ("list_subsys.json", "nvme list-subsys -o json"),
            ]
        return cmds + NVME_LAST
    if isinstance(drive, Sata):
        return COMMON + SATA
    if isinstance(drive, Scsi):
        return COMMON + SCSI
    return COMMON + USB


def _store(out: Path, name: str, cmd: str, dev: str, g: Guest, index: dict[str, object]) -> None:
    r = g.run(cmd, timeout=120)
    (out / name).write_text(r.stdout)
    index[name] = {"command": cmd, "device": dev, "rc": r.rc, "stderr": r.stderr}
    print(f"  {out.name}/{name}: rc={r.rc} {len(r.stdout)} bytes ({r.seconds:.1f} s)")


def capture(outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    kernel = ensure_kernel()
    started = time.monotonic()
    with Guest(drives=list(DRIVES.values()), mode="host") as g:
        print(f"guest up in {g.boot_seconds:.1f} s")
        versions = g.run(TOOL_VERSIONS).stdout
        qemu = g.run("qemu-system-x86_64 --version | head -1").stdout.strip()
        for key, drive in DRIVES.items():
            out = outdir / key
            out.mkdir(exist_ok=True)
            dev = g.devnode(drive)
            fields = {"dev": dev, "smart": dev}
            if isinstance(drive, Nvme):  # smartctl_x/_a on the controller, as first committed
                fields["ctrl"] = fields["smart"] = g.nvme_ctrl(drive)
                if drive.namespaces > 1:
                    fields["dev2"] = g.devnode(drive, nsid=2)
            index: dict[str, object] = {}
            for name, template in _commands(key, drive):
                _store(out, name, template.format(**fields), dev, g, index)
            (out / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
        _capture_virtual(outdir, g)
        r = g.run("bench devices --json")
        (outdir / "bench_devices.json").write_text(r.stdout)
        r = g.run("nvme list -o json")
        (outdir / "nvme" / "nvme_list_all.json").write_text(r.stdout)
    _write_readme(outdir, kernel.package, qemu, versions, time.monotonic() - started)


def _capture_virtual(outdir: Path, g: Guest) -> None:
    for key, make in (("null_blk", lambda: virtual.null_blk(g)), ("scsi_debug", lambda: virtual.scsi_debug(g))):
        out = outdir / key
        out.mkdir(exist_ok=True)
        dev = make()
        g.run("udevadm settle -t 10")
        index: dict[str, object] = {}
        cmds = [
            ("lsblk.json", "lsblk -J -O {dev}"),
            ("udevadm_info.txt", "udevadm info --query=all {dev}"),
            ("smartctl_a.json", "smartctl -j -a {dev}"),
            ("hdparm_I.txt", "hdparm -I {dev}"),
        ]
        if key == "scsi_debug":
            cmds += [
                ("sg_inq.txt", "sg_inq {dev}"),
                ("sg_readcap.txt", "sg_readcap -l {dev}"),
                ("sg_sanitize_block.txt", "sg_sanitize --block --quick {dev}"),
            ]
        for name, template in cmds:
            _store(out, name, template.format(dev=dev), dev, g, index)
        (out / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")


def _write_readme(outdir: Path, kernel: str, qemu: str, versions: str, seconds: float) -> None:
    lines = [
        "# Real tool outputs from the QEMU rig",
        "",
        "Produced by `.venv/bin/python -m tests.rig.capture` (tests/rig/capture.py): one QEMU guest "
        "(TCG, q35) booting the Debian kernel below, the host's root mounted read-only over 9p with "
        "systemd-udevd running, every command run chrooted in it (so these are the host's own "
        "tool binaries, with udev data as on a real bench). Written by this project; no third-party text.",
        "",
        f"- kernel: {kernel}; {qemu}",
        *[f"- {v}" for v in versions.strip().splitlines()],
        f"- capture took {seconds:.0f} s",
        "",
        "Each `<drive>/index.json` maps a file to its command, the guest device node, rc and stderr "
        "(files hold stdout). Drives: "
        + ", ".join(f"`{k}` ({type(d).__name__}, serial {d.serial})" for k, d in DRIVES.items())
        + "; `null_blk` and `scsi_debug` are made in the guest by its kernel.",
        "Destructive commands ran last on their drive: `nvme/format_ses1.txt`, "
        "`nvme/sanitize_block.txt` (refused: QEMU has no Sanitize). No ATA security command is "
        "captured here: after `--security-set-pass` QEMU's ide-hd makes `hdparm -I` fail and "
        "the kernel retries aborted reads; one run hung a later command (tests/data/hdparm has "
        "those outputs).",
        "NVMe `smartctl_x.json`/`smartctl_a.json` ran on the controller (/dev/nvmeN), "
        "`smartctl_x_ns.json` on the namespace (only that one reports the capacity).",
        "`bench_devices.json`: `bench devices --json` in the same guest.",
        "",
    ]
    (outdir / "README.md").write_text("\n".join(lines))


if __name__ == "__main__":
    capture(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "rig")
