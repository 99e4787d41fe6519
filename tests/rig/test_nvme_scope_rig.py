"""Issue 15 item 4 in the QEMU guest: a 2-namespace NVMe controller whose namespace 2 holds a
mounted ext4. QEMU's controller offers no Sanitize (and FNA 0), so its id-ctrl is answered by the
fake `nvme` (tests/fakes/bin/nvme) replaying a real WD SN730 capture (Sanitize Crypto/Block, crypto
Format per namespace); the namespaces, sysfs, the mount and the guard are the guest's own.
`bench wipe --plan` only: nothing is written."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.rig import Guest, MiB, Nvme

NS2 = Nvme(serial="RIGSCOPE0001", size=24 * MiB, namespaces=2)
MNT = "/tmp/ns2mnt"
FAKE = 'PATH="$RIG_REPO/tests/fakes/bin:$PATH" FAKE_NVME_STATE=/tmp/fake-nvme.json'


@pytest.fixture(scope="module")
def guest() -> Iterator[Guest]:
    with Guest(mode="host", drives=[NS2]) as g:
        g.run('echo \'{"id_ctrl": "id_ctrl_ironic_sn730_crypto.json"}\' > /tmp/fake-nvme.json').check()
        yield g


def _plan(g: Guest, node: str) -> dict:
    r = g.run(f"{FAKE} bench wipe --plan {node} --profile nist-purge --json", timeout=120)
    assert r.stdout.strip().startswith("{"), (r.rc, r.stdout, r.stderr)
    return json.loads(r.stdout)


def test_sanitize_is_planned_only_while_no_other_namespace_is_protected(guest: Guest) -> None:
    ns1, ns2 = guest.devnode(NS2, 1), guest.devnode(NS2, 2)
    free = _plan(guest, ns1)
    assert free["steps"][1]["name"] == "nvme-sanitize-crypto", free

    guest.run(f"mkfs.ext4 -q -F {ns2} && mkdir -p {MNT} && mount -t ext4 {ns2} {MNT}").check()
    try:
        held = _plan(guest, ns1)
    finally:
        guest.run(f"umount {MNT}")
    names = [s["name"] for s in held["steps"] + held["alternatives"]]
    assert held["steps"][1]["name"] == "nvme-format-crypto" and not any("sanitize" in n for n in names), held
    why = {r["option"]: r["reason"] for r in held["rejected"]}
    expected = f"namespace {ns2.rsplit('/', 1)[1]} is protected: mounted at {MNT}"
    assert "controller-wide" in why["nvme-sanitize-crypto"] and expected in why["nvme-sanitize-crypto"], why
