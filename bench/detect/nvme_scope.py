"""May a command that reaches every namespace of an NVMe controller be sent for this namespace?

NVMe Sanitize always acts on the whole controller (every namespace, attached or not); Format NVM
does too when the controller's FNA bits say so. Such a step is planned only when every other
namespace on the controller would itself pass the guard; otherwise the plan says why and uses a
namespace-scoped step or the overwrite fallback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bench.detect import sysfs
from bench.errors import BenchError
from bench.model import Device, Verdict

_NAMESPACE = re.compile(r"^(nvme\d+)n(\d+)$")


def sibling_namespaces(name: str) -> list[str]:
    """Other namespace block devices of the controller `name` belongs to: nvme0n1 -> [nvme0n2, ...]."""
    m = _NAMESPACE.match(name)
    if not m:
        return []
    ctrl = m.group(1)
    try:
        entries = sorted(p.name for p in sysfs.SYS_BLOCK.iterdir())
    except OSError:
        return []
    return [e for e in entries if e != name and (found := _NAMESPACE.match(e)) is not None and found.group(1) == ctrl]


def controller_blocked(
    device: Device,
    judge: Callable[[Device], Verdict],
    describe: Callable[[str], Device] | None = None,
    siblings: Callable[[str], list[str]] = sibling_namespaces,
) -> str:
    """'' when every other namespace of the device's controller passes `judge`; else why not."""
    if device.transport != "nvme":
        return ""
    if describe is None:
        from bench.detect.enumerate import describe as describe_node

        def describe(node: str) -> Device:
            return describe_node(node, use_tools=False)

    why: list[str] = []
    for ns in siblings(device.name):
        try:
            verdict = judge(describe(f"/dev/{ns}"))
        except (BenchError, OSError) as exc:
            why.append(f"namespace {ns} cannot be judged ({exc})")
            continue
        if not verdict.wipeable:
            why.append(f"namespace {ns} is protected: {'; '.join(verdict.reasons)}")
    return "; ".join(why)


def judge_with(config: Any) -> Callable[[Device], Verdict]:
    from bench.detect import guard

    view = guard.read_system_view(config)
    return lambda dev: guard.check(dev, config, view)
