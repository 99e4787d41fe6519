"""HPA/DCO policy: the facts the engine records (apparent vs real size, action)."""

import pytest

from bench.wipe import hpa
from bench.wipe.capabilities import HpaDco
from tests.helpers.replay import Reply
from tests.unit.firmware_support import SATA, data


def test_leave_policy_records_sizes_without_touching_the_drive(replay):
    replay.add("hdparm -N /dev/sdx", Reply(data("hdparm/N_hpa_enabled.txt")))
    replay.add("hdparm --dco-identify /dev/sdx", Reply(data("hdparm/dco_identify.txt")))
    facts = hpa.apply_policy(SATA, "leave")
    assert facts.action == "left" and facts.hpa_present and not facts.dco_present
    assert facts.apparent_bytes == 976771055 * 512 and facts.real_bytes == 976773168 * 512
    assert "2113 sectors hidden (HPA)" in facts.detail
    assert not any("--yes-i-know-what-i-am-doing" in c for c in replay.calls)


def test_refuse_policy(replay):
    state = HpaDco(apparent_sectors=100, native_sectors=200, hpa_present=True, dco_present=False, dco_real_sectors=None)
    facts = hpa.apply_policy(SATA, "refuse", state)
    assert facts.action == "refused" and replay.calls == []


def test_restore_hpa_then_dco(replay):
    state = HpaDco(apparent_sectors=800, native_sectors=900, hpa_present=True, dco_present=True, dco_real_sectors=1000)
    replay.add(
        "hdparm -N /dev/sdx",
        [Reply(" max sectors   = 900/900, HPA is disabled\n"), Reply(" max sectors   = 1000/1000, HPA is disabled\n")],
    )
    replay.add("hdparm --yes-i-know-what-i-am-doing -N p900 /dev/sdx", Reply(""))
    replay.add("hdparm --yes-i-know-what-i-am-doing --dco-restore /dev/sdx", Reply(""))
    facts = hpa.apply_policy(SATA, "restore", state)
    assert facts.action == "restored", facts.detail
    assert facts.real_sectors == 1000 and facts.apparent_sectors == 800
    order = [c[2] if len(c) > 3 else c[1] for c in replay.calls]
    assert order == ["-N", "-N", "--dco-restore", "-N"]


def test_no_hidden_area_and_not_ata(replay):
    replay.add("hdparm -N /dev/sdx", [Reply(data("hdparm/N_hpa_disabled.txt")), Reply("\n/dev/sdx:\n")])
    replay.add("hdparm --dco-identify /dev/sdx", Reply(""))
    assert hpa.apply_policy(SATA, "restore").action == "none"
    assert hpa.apply_policy(SATA, "restore").action == "unsupported"


def test_unknown_policy():
    with pytest.raises(ValueError):
        hpa.apply_policy(SATA, "whatever")


@pytest.mark.parametrize("policy", ["detect", "ignore"])
def test_profile_policies_leave_the_area(replay, policy):
    state = HpaDco(apparent_sectors=100, native_sectors=200, hpa_present=True, dco_present=False, dco_real_sectors=None)
    facts = hpa.apply_policy(SATA, policy, state)
    assert facts.action == "left" and "not wiped" in facts.detail and replay.calls == []
