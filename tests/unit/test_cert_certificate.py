"""Certificate content: every NIST SP 800-88 App. G field from the records, and no pass is ever manufactured."""

from __future__ import annotations

import pytest

from bench.certs import certificate as certmod
from tests.data.certs.records import add_wipe, device


def _body(station, result):
    records = certmod.collect(station.store, result)
    evidence = {r.uuid: station.store.evidence(r.uuid) for r in records}
    return certmod.build(station.config, records, evidence)


REQUIRED = [
    "schema",
    "certificate_uuid",
    "issued_at",
    "station_id",
    "device_id",
    "donor",
    "batch",
    "person.name",
    "person.title",
    "person.organisation",
    "media.vendor",
    "media.model",
    "media.serial",
    "media.asset_tag",
    "media.media_type",
    "media.source_device",
    "media.classification",
    "media.apparent_size_bytes",
    "media.real_size_bytes",
    "sanitisation.method",
    "sanitisation.techniques",
    "sanitisation.steps",
    "sanitisation.tools",
    "sanitisation.verification.method",
    "sanitisation.verification.coverage_percent",
    "sanitisation.hpa_dco.action",
    "sanitisation.bytes_written",
    "sanitisation.bytes_verified",
    "sanitisation.errors",
    "sanitisation.started_at",
    "sanitisation.ended_at",
    "sanitisation.commands",
    "result",
    "destination.destination",
    "validation.status",
    "covers",
    "records",
]


def _get(d, path):
    for part in path.split("."):
        d = d[part]
    return d


def test_every_field_present_from_a_wipe_result(station):
    station.config.organisation.location = "Coventry"
    result = add_wipe(station.store)
    body = _body(station, result)
    for path in REQUIRED:
        value = _get(body, path)
        assert value not in (None, "", [], {}), path
    assert body["media"]["serial"] == "WD-WCC4N0123456"
    assert body["media"]["asset_tag"] == "BNCH-000012"
    assert body["sanitisation"]["method"] == "Clear"
    assert body["sanitisation"]["techniques"] == ["Overwrite"]
    assert body["sanitisation"]["tools"] == {"bench": "0.1.0", "hdparm": "v9.65"}
    assert body["sanitisation"]["tools_seen_in_evidence"] == ["hdparm"]
    assert body["sanitisation"]["verification"] == {
        "method": "full",
        "coverage_percent": 100.0,
        "sections": 0,
        "mismatches": 0,
        "first_mismatch_lba": None,
        "expected": "zeros",
    }
    assert body["result"] == "passed"
    assert body["person"]["name"] == "Test Technician"
    assert body["donor"] == "Coventry City Council" and body["batch"] == "CCC-2026-11"
    kinds = [c["kind"] for c in body["covers"]]
    assert kinds == ["asset.issued", "device.annotated", "health.result", "wipe.started", "wipe.result"]
    assert {c["hash"] for c in body["covers"]} == {r["hash"] for r in body["records"]}
    assert body["destination"]["destination"] == "external reuse"


@pytest.mark.parametrize("result", ["failed", "aborted"])
def test_failed_and_aborted_stay_what_they_are(station, result):
    body = _body(station, add_wipe(station.store, result=result))
    assert body["result"] == result
    assert body["destination"]["destination"] == "other"
    assert "not released" in body["destination"]["detail"]


@pytest.mark.parametrize(
    "override, reason",
    [
        ({"verification": {"mode": "full", "coverage_percent": 100.0, "mismatches": 2}}, "mismatching"),
        ({"verification": {}}, "no verification"),
        ({"steps": []}, "no steps"),
    ],
)
def test_a_record_claiming_passed_against_its_own_facts_is_failed(station, override, reason):
    body = _body(station, add_wipe(station.store, result="passed", **override))
    assert body["result"] == "failed"
    assert reason in body["result_reason"]


def test_an_unknown_result_word_is_failed(station):
    from tests.data.certs.records import result_payload

    dev = device()
    rec = add_wipe(station.store, dev)
    # a second job whose result word is not one bench writes
    job, _ = station.store.start_job("wipe", {"device": dev.to_dict()}, device_id=dev.device_id)
    odd = station.store.finish_job(job, {**result_payload(dev), "result": "PASSED!"})
    assert rec.uuid != odd.uuid
    body = _body(station, odd)
    assert body["result"] == "failed" and "unknown result" in body["result_reason"]


def test_a_failed_step_downgrades_a_claimed_pass(station):
    dev = device()
    from tests.data.certs.records import result_payload

    steps = result_payload(dev)["steps"]
    steps[1]["status"] = "failed"
    body = _body(station, add_wipe(station.store, dev, steps=steps))
    assert body["result"] == "failed" and "overwrite" in body["result_reason"]


def test_supervisor_validation_is_carried(station):
    result = add_wipe(station.store)
    station.store.append(
        "supervisor.validated", {"supervisor": "Pat", "title": "IG Lead", "records": [result.uuid], "note": "checked"}
    )
    body = _body(station, result)
    assert body["validation"]["status"] == "validated"
    assert body["validation"]["supervisor"] == "Pat" and body["validation"]["title"] == "IG Lead"
    assert body["validation"]["date"]
    assert body["covers"][-1]["kind"] == "supervisor.validated"


def test_only_a_wipe_result_can_be_certified(station):
    from bench.errors import CertificateError

    add_wipe(station.store)
    other = station.store.records(kind="health.result")[0]
    with pytest.raises(CertificateError, match="not a wipe result"):
        certmod.collect(station.store, other)


@pytest.mark.parametrize(
    "technique, tool, name",
    [
        ("crypto_erase", "nvme", "Cryptographic Erase"),
        ("block_erase", "sg_sanitize", "Block Erase"),
        ("security_erase", "hdparm", "ATA Security Erase"),
        ("user_data_erase", "nvme", "NVMe Format (User Data Erase)"),
    ],
)
def test_firmware_techniques_as_the_engine_names_them(station, technique, tool, name):
    from tests.data.certs.records import result_payload

    dev = device(kind="nvme")
    steps = result_payload(dev)["steps"]
    steps[1].update(technique=technique, tool=tool, pattern="")
    body = _body(
        station,
        add_wipe(station.store, dev, steps=steps, profile={"name": "nist-purge", "method": "purge", "version": 1}),
    )
    assert body["result"] == "passed"
    assert body["sanitisation"]["method"] == "Purge" and body["sanitisation"]["techniques"] == [name]
    assert body["media"]["media_type"].startswith("Flash memory (NVMe")


def _iphone(**over):
    from bench.phones.model import Phone

    base = dict(
        platform="ios",
        handle="00008110-001A2B3C4D5E801E",
        state="ready",
        manufacturer="Apple",
        model="iPhone13,2",
        serial="F2LXK0ABCDEF",
        os_version="17.5.1",
        storage_bytes=128_000_000_000,
        encryption="encrypted",
        activation_lock="off",
        setup_complete=True,
    )
    base.update(over)
    return Phone(**base)


@pytest.mark.parametrize("finish", ["passed", "failed", "aborted"])
def test_phone_reset_certificate_from_the_real_workflow(station, finish):
    from bench.certs import carbon
    from bench.phones.workflow import PhoneReset

    reset = PhoneReset(station, _iphone())
    reset.start(donor="NHS Trust", batch="NHS-7")
    for step in reset.steps:
        reset.confirm(step.id)
    if finish == "aborted":
        rec = reset.abort("phone unplugged")
    else:
        rec = reset.finish(after=_iphone(state="untrusted", setup_complete=finish == "failed"))
    body = _body(station, rec)
    assert body["result"] == finish
    assert body["media"]["serial"] == "F2LXK0ABCDEF" and body["media"]["vendor"] == "Apple"
    assert body["media"]["media_type"] == "Flash memory (smartphone), storage encrypted"
    assert body["sanitisation"]["method"] == ("Purge" if finish == "passed" else "Purge (not completed)")
    assert body["donor"] == "NHS Trust" and body["batch"] == "NHS-7"
    if finish == "passed":
        assert body["sanitisation"]["techniques"] == ["Cryptographic Erase"]
        assert body["sanitisation"]["verification"]["method"] == "post-reset checks"
        assert body["sanitisation"]["verification"]["mismatches"] == 0
        assert carbon.category(body) == "smartphone"
    else:
        assert body["sanitisation"]["techniques"] == []
        assert body["destination"]["destination"] == "other"


def test_carbon_category_is_the_annotation_the_certificate_uses() -> None:
    """The latest annotation up to the wipe result, as for the certificate's other fields: a device
    re-categorised before its re-wipe counts as what it was then, not as what it was first called,
    and an annotation after the wipe does not change what that wipe's certificate says."""
    from bench.certs import carbon

    def rec(kind: str, at: str, payload: dict[str, object]) -> dict[str, object]:
        return {"kind": kind, "created_at": f"2026-12-0{at}T10:00:00+00:00", "payload": payload}

    first = rec("device.annotated", "1", {"category": "laptop"})
    second = rec("device.annotated", "3", {"category": "Desktop"})
    wipe = rec("wipe.result", "4", {"device": {"kind": "hdd"}})
    later = rec("device.annotated", "5", {"category": "tablet"})
    assert carbon.category({"records": [wipe, first, second, later]}) == "desktop"
    assert carbon.category({"records": [wipe, second, first]}) == "desktop"
    assert carbon.category({"records": [wipe, later]}) == "hdd"  # said only after this wipe
