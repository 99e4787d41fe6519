"""Machine certificates: one per computer, `passed` only when every linked drive's latest wipe
passed; re-derived from their records by `certs verify`, so a re-signed lie is still caught."""

from __future__ import annotations

import json

from bench.certs import machine
from bench.certs import machine_report as mr
from bench.certs import sign as signmod
from bench.certs import verify as ver
from bench.custody import events, intake
from bench.custody.model import Grading
from tests.data.certs.records import device, result_payload


def _host(station, serial="5CG9123ABC", category="laptop"):
    return intake.register_host(station.store, station.config, serial=serial, category=category, batch="B1").host


def _drive(station, host, serial, result=None):
    dev = device(serial=serial)
    intake.link_drive(station.store, station.config, dev, host)
    if result:
        station.store.append("wipe.result", result_payload(dev, result), device_id=dev.device_id)
    return dev


def test_passed_only_when_every_drive_passed(station) -> None:
    host = _host(station)
    assert machine.issue(station, host)["certificate"]["result"] == "incomplete"
    _drive(station, host, "S1", "passed")
    d2 = _drive(station, host, "S2", "failed")
    cert = machine.issue(station, host)["certificate"]
    tag2 = cert["components"][1]["asset_tag"]
    assert cert["result"] == "failed" and cert["result_reason"] == f"not every drive passed: {tag2} failed"
    assert cert["destination"]["destination"] == "other"
    # A re-wipe that passes supersedes the failure (the latest wipe per drive counts).
    station.store.append("wipe.result", result_payload(d2, "passed"), device_id=d2.device_id)
    events.grade(station.store, station.config, host, Grading("A", {"powers_on": True}, "reuse", "all good"))
    cert = machine.issue(station, host)["certificate"]
    assert cert["result"] == "passed" and [c["result"] for c in cert["components"]] == ["passed", "passed"]
    assert cert["destination"] == {"destination": "external reuse", "detail": "all good", "source": "host.graded"}
    assert {c["media"]["serial"] for c in cert["components"]} == {"S1", "S2"}
    rec = station.store.records(kind="certificate.issued")[0]
    assert rec.payload["scope"] == "host" and rec.device_id == host.host_id
    # The signed document travels with the record, so the register checks the signature at ingest.
    assert rec.payload["certificate"] == cert


def test_a_passed_wipe_claim_its_own_facts_contradict_is_not_passed(station) -> None:
    host = _host(station)
    dev = device(serial="S1")
    intake.link_drive(station.store, station.config, dev, host)
    lie = result_payload(dev, "passed")
    lie["verification"]["mismatches"] = 4
    station.store.append("wipe.result", lie, device_id=dev.device_id)
    assert machine.issue(station, host)["certificate"]["result"] == "failed"


def test_verify_re_derives_and_catches_a_resigned_lie(station) -> None:
    host = _host(station)
    _drive(station, host, "S1", "passed")
    _drive(station, host, "S2", "failed")
    env = machine.issue(station, host)
    rep = ver.verify_bytes(json.dumps(env).encode(), "m.json", store=station.store)
    assert rep.ok, rep.problems
    body = env["certificate"]
    body["result"], body["result_reason"] = "passed", ""
    key = signmod.load_or_create_key(station.config)
    forged = signmod.seal(key, body)  # validly signed, but its records say otherwise
    rep = ver.verify_bytes(json.dumps(forged).encode(), "m.json", store=station.store)
    assert not rep.ok
    assert any(p.startswith('result: certificate says "passed", its records say "failed"') for p in rep.problems)


def test_batch_report_counts_hosts_by_category(station) -> None:
    a = _host(station, "L1", "laptop")
    b = _host(station, "D1", "desktop")
    c = _host(station, "P1", "phone")
    for h, s in ((a, "S1"), (b, "S2"), (c, "S3")):
        _drive(station, h, s, "passed")
    _drive(station, b, "S4", "passed")  # two drives in the desktop: still one desktop
    events.grade(station.store, station.config, c, Grading("D", {"powers_on": False}, "recycle", "dead"))
    envs = [machine.issue(station, h) for h in (a, b, c)]
    from bench.certs import carbon

    rep = mr.report(station.store, "B1", envs, carbon.load_table())
    assert [(e["category"], e["devices"]) for e in rep["carbon"]["estimate"]] == [("desktop", 1), ("laptop", 1)]
    assert rep["carbon"]["total_kgco2e"] == 485.0
    assert [h["destination"] for h in rep["hosts"]] == ["external reuse", "external reuse", "recycling"]
    csv_text = mr.to_csv(rep)
    assert csv_text.splitlines()[0].startswith("certificate_uuid,result,category")
    assert len(csv_text.splitlines()) == 4


def test_a_phone_is_its_own_host_asset(station) -> None:
    from bench.phones.model import Phone
    from bench.phones.workflow import PhoneReset

    def iphone(**over):
        base = {
            "platform": "ios",
            "handle": "00008110-001A2B3C4D5E801E",
            "state": "ready",
            "manufacturer": "Apple",
            "model": "iPhone13,2",
            "serial": "F2LXK0ABCDEF",
            "os_version": "17.5.1",
            "storage_bytes": 128_000_000_000,
            "encryption": "encrypted",
            "activation_lock": "off",
            "setup_complete": True,
        }
        base.update(over)
        return Phone(**base)

    reset = PhoneReset(station, iphone())
    reset.start(donor="NHS Trust", batch="NHS-7")
    for step in reset.steps:
        reset.confirm(step.id)
    reset.finish(after=iphone(state="untrusted", setup_complete=False))
    got, link = intake.register_phone(station.store, station.config, "f2lxk0abcdef", batch="NHS-7")
    assert got.host.category == "phone" and got.host.make == "Apple" and link.record is not None
    assert link.drive_id == iphone().device_id
    cert = machine.issue(station, got.host)["certificate"]
    assert cert["result"] == "passed" and cert["components"][0]["media"]["serial"] == "F2LXK0ABCDEF"
    from bench.certs import carbon

    rows, _ = mr.carbon_by_host([cert], carbon.load_table())
    assert [(r.category, r.devices) for r in rows] == [("smartphone", 1)]


def test_machine_pdf_carries_the_signed_json(station, tmp_path) -> None:
    host = _host(station)
    _drive(station, host, "S1", "passed")
    env = machine.issue(station, host)
    files = mr.write(station.config, [env], None, tmp_path, ("pdf", "json"))
    pdf = next(p for p in files if p.suffix == ".pdf")
    reports = ver.verify_file(pdf, store=station.store)
    assert [r.ok for r in reports] == [True], [r.problems for r in reports]
    assert reports[0].certificate_uuid == env["certificate"]["certificate_uuid"]
