"""Issue 15 item 4: a controller-wide NVMe erase (Sanitize, or a Format NVM whose FNA covers every
namespace) is planned only when every other namespace of the controller passes the guard; else the
plan says why and falls back to a namespace format, or to the profile's overwrite fallback.

Capabilities come from real captured `nvme id-ctrl` outputs (tests/data/nvme), read the way the
probe reads them; the FNA-all-namespaces case sets FNA bits 0/1 on a captured output (no capture
of such a controller is at hand), which the test says where it does it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from bench.detect import nvme_scope
from bench.model import Device, Verdict
from bench.tools import nvme
from bench.wipe import profiles
from bench.wipe.capabilities import Capabilities, NvmeCaps
from bench.wipe.plan import make_plan

DATA = Path(__file__).resolve().parents[1] / "data" / "nvme"
PURGE = profiles.load("nist-purge")
BLOCKED = "namespace nvme0n2 is protected: mounted at /srv/photos"


def caps_from(text: str) -> Capabilities:
    ic = nvme.parse_id_ctrl(text)
    return Capabilities(
        "nvme",
        nvme=NvmeCaps(
            sanitize_crypto=ic.sanitize_crypto,
            sanitize_block=ic.sanitize_block,
            sanitize_overwrite=ic.sanitize_overwrite,
            fna_format_all_ns=ic.fna_format_all_ns,
            fna_secure_erase_all_ns=ic.fna_secure_erase_all_ns,
            fna_crypto_supported=ic.fna_crypto_supported,
            nsid=1,
            format_supported=ic.format_supported,
        ),
        passthrough=True,
    )


def capture(name: str, **override: int) -> Capabilities:
    data = json.loads((DATA / name).read_text())
    data.update(override)
    return caps_from(json.dumps(data))


NS1 = Device(
    devnode="/dev/nvme0n1",
    name="nvme0n1",
    kind="nvme",
    transport="nvme",
    size_bytes=256 << 30,
    rotational=False,
    model="WDC PC SN730 SDBQNTY-256G-1001",
    serial="SN730TEST0001",
)


def rejected(plan) -> dict[str, str]:
    return {r.option: r.reason for r in plan.rejected}


def test_sanitize_is_chosen_when_the_whole_controller_may_be_erased() -> None:
    plan = make_plan(NS1, capture("id_ctrl_ironic_sn730_crypto.json"), PURGE)
    assert plan.steps[1].name == "nvme-sanitize-crypto"


def test_sanitize_refused_when_another_namespace_is_protected_falls_back_to_a_namespace_format() -> None:
    plan = make_plan(NS1, capture("id_ctrl_ironic_sn730_crypto.json"), PURGE, controller_blocked=BLOCKED)
    names = [s.name for s in (*plan.steps, *plan.alternatives)]
    assert not any(n.startswith("nvme-sanitize") for n in names), names
    assert plan.runnable and plan.steps[1].name == "nvme-format-crypto"  # FNA: this namespace only
    why = rejected(plan)
    for step in ("nvme-sanitize-crypto", "nvme-sanitize-block"):
        assert "controller-wide" in why[step] and BLOCKED in why[step], why


def test_format_covering_all_namespaces_is_refused_too_and_the_plan_says_why() -> None:
    # The SN730 capture with FNA bits 0 and 1 set: Format NVM then erases every namespace.
    caps = capture("id_ctrl_ironic_sn730_crypto.json", fna=0x7)
    assert caps.nvme is not None and caps.nvme.fna_format_all_ns
    assert make_plan(NS1, caps, PURGE).steps[1].name == "nvme-sanitize-crypto"  # nothing protected: allowed
    plan = make_plan(NS1, caps, PURGE, controller_blocked=BLOCKED)
    assert not plan.runnable and BLOCKED in plan.refused and "FNA" in plan.refused, plan.refused
    fallback = make_plan(NS1, caps, replace(PURGE, fallback="overwrite"), controller_blocked=BLOCKED)
    assert fallback.runnable and fallback.method == "clear"
    assert [s.name for s in fallback.steps] == ["overwrite", "verify"]


def _verdicts(protected: dict[str, str]):
    def judge(dev: Device) -> Verdict:
        why = protected.get(dev.name)
        return Verdict(dev.devnode, why is None, (why,) if why else (), dev.identity)

    return judge


def _describe(node: str) -> Device:
    name = node.rsplit("/", 1)[1]
    return replace(NS1, devnode=node, name=name)


def test_controller_blocked_names_each_protected_namespace() -> None:
    siblings = {"nvme0n1": ["nvme0n2", "nvme0n3"]}.get
    judge = _verdicts({"nvme0n3": "mounted at /srv/photos"})
    why = nvme_scope.controller_blocked(NS1, judge, _describe, lambda n: siblings(n, []))
    assert why == "namespace nvme0n3 is protected: mounted at /srv/photos"
    assert nvme_scope.controller_blocked(NS1, _verdicts({}), _describe, lambda n: siblings(n, [])) == ""


def test_namespaces_of_the_same_controller_only() -> None:
    assert nvme_scope.sibling_namespaces("sda") == []
    assert nvme_scope.controller_blocked(replace(NS1, transport="sata"), _verdicts({"x": "y"})) == ""
