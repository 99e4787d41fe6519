"""Planner decisions per media type (NIST SP 800-88 Rev 1 Table A-8 / IEEE 2883), with the
capabilities constructed directly as capability probing would report them."""

import json
from dataclasses import replace

import pytest

from bench.model import Device
from bench.wipe import profiles
from bench.wipe.capabilities import AtaSanitize, AtaSecurity, Capabilities, HpaDco, NvmeCaps, ScsiSanitize
from bench.wipe.plan import make_plan

PURGE = profiles.load("nist-purge")
CLEAR = profiles.load("nist-clear")


def dev(kind: str, transport: str, rotational=None) -> Device:
    return Device(
        devnode="/dev/sdx",
        name="sdx",
        kind=kind,
        transport=transport,
        size_bytes=500 << 30,
        rotational=rotational,
        model="Model",
        serial="SER1234",
    )


def security(**kw) -> AtaSecurity:
    base = dict(
        supported=True,
        enabled=False,
        locked=False,
        frozen=False,
        count_expired=False,
        enhanced_erase_supported=True,
        erase_minutes=60,
        enhanced_erase_minutes=60,
    )
    return AtaSecurity(**{**base, **kw})


def nvme(**kw) -> NvmeCaps:
    base = dict(
        sanitize_crypto=False,
        sanitize_block=False,
        sanitize_overwrite=False,
        fna_format_all_ns=False,
        fna_secure_erase_all_ns=False,
        fna_crypto_supported=False,
        nsid=1,
    )
    return NvmeCaps(**{**base, **kw})


def names(plan):
    return [s.name for s in plan.steps]


def test_ata_hdd_prefers_sanitize_overwrite_then_security_erase():
    caps = Capabilities(
        "ata",
        ata_security=security(),
        ata_sanitize=AtaSanitize(supported=True, crypto_scramble=False, block_erase=False, overwrite=True),
    )
    plan = make_plan(dev("hdd", "sata", True), caps, PURGE)
    assert plan.method == "purge" and plan.runnable
    assert names(plan) == ["fingerprint", "ata-sanitize-overwrite", "verify"]
    assert [s.name for s in plan.alternatives] == ["ata-security-erase-enhanced", "ata-security-erase"]
    assert all(s.reason for s in plan.steps + plan.alternatives)
    assert plan.steps[-1].params["expected"] == "uniform-non-original"


def test_ata_hdd_frozen_is_refused_with_what_to_do():
    plan = make_plan(dev("hdd", "sata", True), Capabilities("ata", ata_security=security(frozen=True)), PURGE)
    assert not plan.runnable
    assert "frozen" in plan.refused and "re-plug" in plan.refused


def test_ata_ssd_security_erase_is_only_clear():
    plan = make_plan(dev("ssd", "sata", False), Capabilities("ata", ata_security=security()), PURGE)
    assert not plan.runnable
    assert any("only counts as Clear" in r.reason for r in plan.rejected)


def test_ata_ssd_block_erase_then_crypto():
    caps = Capabilities(
        "ata",
        ata_security=security(),
        ata_sanitize=AtaSanitize(supported=True, crypto_scramble=True, block_erase=True, overwrite=True),
    )
    plan = make_plan(dev("ssd", "sata", False), caps, PURGE)
    assert names(plan)[1] == "ata-sanitize-block"
    assert [s.name for s in plan.alternatives] == ["ata-sanitize-crypto", "ata-sanitize-overwrite"]


def test_nvme_like_qemu_formats_with_ses1():
    plan = make_plan(dev("nvme", "nvme", False), Capabilities("nvme", nvme=nvme()), PURGE)
    assert names(plan) == ["fingerprint", "nvme-format-user-data", "verify"]
    rejected = {r.option for r in plan.rejected}
    assert {"nvme-sanitize-crypto", "nvme-sanitize-block", "nvme-format-crypto"} <= rejected


def test_nvme_sanicap_and_fna_order_and_crypto_expectation():
    caps = Capabilities(
        "nvme",
        nvme=nvme(sanitize_crypto=True, sanitize_block=True, fna_crypto_supported=True, fna_secure_erase_all_ns=True),
    )
    plan = make_plan(dev("nvme", "nvme", False), caps, PURGE)
    assert names(plan)[1] == "nvme-sanitize-crypto"
    assert [s.name for s in plan.alternatives] == ["nvme-sanitize-block", "nvme-format-crypto", "nvme-format-user-data"]
    assert "every namespace" in plan.alternatives[1].reason
    # crypto erase leaves noise: only "no longer the original" can be checked
    assert plan.steps[-1].params["expected"] == "non-original"


def test_nvme_without_format_support_is_refused():
    plan = make_plan(dev("nvme", "nvme", False), Capabilities("nvme", nvme=nvme(format_supported=False)), PURGE)
    assert not plan.runnable and "Format NVM" in plan.refused


def test_scsi_hdd_overwrite_first_ssd_crypto_first():
    caps = Capabilities("scsi", scsi=ScsiSanitize(supported=True, overwrite=True, block_erase=True, crypto_erase=True))
    assert names(make_plan(dev("hdd", "sas", True), caps, PURGE))[1] == "scsi-sanitize-overwrite"
    assert names(make_plan(dev("ssd", "sas", False), caps, PURGE))[1] == "scsi-sanitize-crypto"


def test_usb_bridge_without_passthrough_refuses_purge():
    plan = make_plan(dev("usb-flash", "usb", False), Capabilities("usb"), PURGE)
    assert not plan.runnable and "USB bridge" in plan.refused


def test_usb_bridge_passing_ata_sanitize_through_is_used():
    caps = Capabilities(
        "usb",
        passthrough=True,
        ata_sanitize=AtaSanitize(supported=True, crypto_scramble=True, block_erase=False, overwrite=False),
    )
    plan = make_plan(dev("ssd", "usb", False), caps, PURGE)
    assert names(plan)[1] == "ata-sanitize-crypto"


def test_fallback_overwrite_is_recorded_as_clear(tmp_path):
    fallback = replace(PURGE, fallback="overwrite")
    plan = make_plan(dev("sd", "mmc", False), Capabilities("mmc"), fallback)
    assert plan.runnable and plan.method == "clear"
    assert names(plan) == ["overwrite", "verify"]
    assert any("Clear, not Purge" in w for w in plan.warnings)
    assert "SD/MMC" in plan.steps[0].reason


def test_hpa_restore_detect_ignore():
    caps = Capabilities(
        "ata",
        hpa=HpaDco(
            apparent_sectors=1000, native_sectors=2000, hpa_present=True, dco_present=False, dco_real_sectors=None
        ),
    )
    restore = make_plan(dev("hdd", "sata", True), caps, replace(CLEAR, hpa_dco="restore"))
    assert names(restore) == ["hpa-restore", "overwrite", "verify"]
    detect = make_plan(dev("hdd", "sata", True), caps, CLEAR)
    assert names(detect) == ["overwrite", "verify"] and "HPA present and left in place" in detect.warnings[0]
    ignore = make_plan(dev("hdd", "sata", True), caps, replace(CLEAR, hpa_dco="ignore"))
    assert not ignore.warnings


def test_clear_on_flash_notes_its_limit_and_flash_profile_has_two_passes():
    plan = make_plan(dev("nvme", "nvme", False), Capabilities("nvme", nvme=nvme()), CLEAR)
    assert plan.method == "clear" and any("Clear only" in n for n in plan.notes)
    flash = make_plan(dev("usb-flash", "usb", False), Capabilities("usb"), profiles.load("nist-clear-flash"))
    assert [s.pattern for s in flash.steps if s.name == "overwrite"] == ["byte:0x55", "byte:0xaa"]


@pytest.mark.parametrize("kind", ["loop", "optical"])
def test_refusals_and_verify_only(kind):
    d = dev(kind, "loop" if kind == "loop" else "sata")
    plan = make_plan(d, Capabilities("loop"), PURGE)
    assert not plan.runnable
    verify = make_plan(d, None, profiles.load("verify-only"))
    assert verify.runnable and verify.method == "verify" and not verify.writes


def test_read_only_device_and_plan_serialises():
    d = replace(dev("hdd", "sata", True), read_only=True)
    assert "read-only" in make_plan(d, None, CLEAR).refused
    plan = make_plan(dev("hdd", "sata", True), None, CLEAR)
    data = json.loads(plan.to_json())
    assert data["method"] == "clear" and data["steps"][0]["pattern"] == "zeros"
    text = plan.format_text(dev("hdd", "sata", True))
    assert "SER1234" in text and "overwrite [zeros]" in text
