"""Drive bays: which physical slot a drive sits in, and its locate LED.

A bay is named by the config's `[bays]` table, keyed by the drive's /dev/disk/by-path name (the
path through controller and port, stable across reboots and whatever drive is plugged in):

    [bays]
    "pci-0000:00:17.0-ata-1" = "Bay 1"

`bench bays learn` fills it by asking the technician to plug a drive into each bay in turn. The
locate LED is lit with ledctl (ledmon) where the enclosure supports it; where there is no ledctl
or the enclosure has no LED control, the answer says so in words (never silently).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import ToolMissing
from bench.tools import runner

BY_PATH = Path("/dev/disk/by-path")


def by_path_dir() -> Path:
    """/dev/disk/by-path, or $BENCH_BY_PATH_DIR (tests and odd udev setups)."""
    return Path(os.environ.get("BENCH_BY_PATH_DIR") or BY_PATH)


def _whole_disk(name: str) -> bool:
    return "-part" not in name


def paths_of(devnode: str, directory: Path | None = None) -> list[str]:
    """The by-path names that point at `devnode` (whole-disk links only), sorted."""
    folder = directory or by_path_dir()
    try:
        target = os.path.realpath(devnode)
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    out = []
    for link in entries:
        if _whole_disk(link.name):
            try:
                if os.path.realpath(link) == target:
                    out.append(link.name)
            except OSError:
                continue
    return out


def bay_of(devnode: str, bays: dict[str, str], directory: Path | None = None) -> str:
    """The configured bay name of the drive at `devnode`, or '' when its slot has none."""
    if not bays:
        return ""
    for name in paths_of(devnode, directory):
        if name in bays:
            return bays[name]
    return ""


def present(directory: Path | None = None) -> dict[str, str]:
    """Whole-disk by-path name -> device node, for every drive plugged in now."""
    folder = directory or by_path_dir()
    out: dict[str, str] = {}
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return out
    for link in entries:
        if _whole_disk(link.name):
            out[link.name] = os.path.realpath(link)
    return out


def learn(
    names: list[str],
    *,
    ask: Callable[[str], str],
    say: Callable[[str], None],
    directory: Path | None = None,
    timeout: float = 300.0,
    poll: float = 0.5,
) -> dict[str, str]:
    """For each bay name in turn: ask for a drive to be plugged in there and wait for a new by-path
    link to appear; returns by-path name -> bay name. `ask` answers '' to go on or 'skip'/'stop'."""
    learned: dict[str, str] = {}
    for bay in names:
        answer = ask(f"Plug a drive into {bay} (leave the other bays as they are), then press Enter [skip/stop]: ")
        if answer.strip().lower() == "stop":
            break
        if answer.strip().lower() == "skip":
            continue
        before = set(present(directory)) - set(learned)
        deadline = time.monotonic() + timeout
        new: list[str] = []
        while time.monotonic() < deadline:
            new = [n for n in present(directory) if n not in before and n not in learned]
            if new:
                break
            time.sleep(poll)
        if not new:
            # A drive that was already in when Enter was pressed cannot be told from the others: never guess.
            say(f"  no new drive appeared for {bay} within {timeout:.0f} s; skipped (learn it again later on its own)")
            continue
        if len(new) > 1:
            say(f"  {len(new)} new drives appeared at once ({', '.join(new)}); {bay} skipped: plug in one at a time")
            continue
        learned[new[0]] = bay
        say(f"  {bay} = {new[0]} ({present(directory).get(new[0], '?')})")
    return learned


@dataclass(frozen=True)
class LedResult:
    lit: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"lit": self.lit, "detail": self.detail}


def locate(devnode: str, *, on: bool = True) -> LedResult:
    """Light (or switch off) the locate LED of the bay holding `devnode` with ledctl."""
    pattern = "locate" if on else "locate_off"
    try:
        r = runner.run(["ledctl", f"{pattern}={devnode}"], timeout=30)
    except ToolMissing:
        return LedResult(False, "no LED control: ledctl (Debian package ledmon) is not installed")
    text = " ".join((r.stderr or r.stdout or "").split())[:300]
    if r.rc == 0:
        return LedResult(on, f"locate LED {'on' if on else 'off'} for {devnode} (ledctl)")
    return LedResult(False, f"no LED control for {devnode}: the enclosure does not support it (ledctl: {text})")
