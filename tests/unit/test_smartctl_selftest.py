"""SMART self-test state machine on replayed smartctl outputs.

Poll replies are the real Samsung 860 EVO `-x` capture, with the self-test status and
log changed the way the drive changes them while a test runs (ACS-4 self-test execution
status: 0xF0 | remaining/10 while running; a new log entry when done)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from bench.errors import DeviceError
from bench.health import selftest
from tests.helpers.replay import Reply

DATA = Path(__file__).resolve().parents[1] / "data" / "smartctl"
BASE = json.loads((DATA / "scrutiny-smart-ata-full.json").read_text())
POLL = "smartctl --json=c -c -l selftest -d sat /dev/sdb"
START = "smartctl --json=c -t short -d sat /dev/sdb"
ABORT = "smartctl --json=c -X -d sat /dev/sdb"


def _state(remaining: int | None = None, new_entry: dict | None = None) -> Reply:
    d = copy.deepcopy(BASE)
    st = d["ata_smart_data"]["self_test"]
    if remaining is not None:
        st["status"] = {
            "value": 0xF0 | (remaining // 10),
            "string": f"in progress, {remaining}% remaining",
            "remaining_percent": remaining,
        }
    if new_entry is not None:
        d["ata_smart_self_test_log"]["extended"]["table"].insert(0, new_entry)
    return Reply(stdout=json.dumps(d), rc=0)


PASSED = {
    "type": {"value": 1, "string": "Short offline"},
    "status": {"value": 0, "string": "Completed without error", "passed": True},
    "lifetime_hours": 14552,
}
READ_FAILURE = {
    "type": {"value": 1, "string": "Short offline"},
    "status": {"value": 0x79, "string": "Completed: read failure", "remaining_percent": 90, "passed": False},
    "lifetime_hours": 14552,
    "lba": 123456,
}
ABORTED = {
    "type": {"value": 1, "string": "Short offline"},
    "status": {"value": 0x19, "string": "Aborted by host", "remaining_percent": 90},
    "lifetime_hours": 14552,
}
# smartctl's envelope for an accepted -t/-X (exit status 0); the drive's text is not graded.
ACCEPTED = Reply(
    stdout=json.dumps(
        {
            "json_format_version": [1, 0],
            "smartctl": {
                "version": [7, 3],
                "argv": ["smartctl", "--json=c", "-t", "short", "-d", "sat", "/dev/sdb"],
                "exit_status": 0,
            },
            "device": {"name": "/dev/sdb", "info_name": "/dev/sdb [SAT]", "type": "sat", "protocol": "ATA"},
        }
    )
)


def test_parse_status_running() -> None:
    st = selftest.parse_status(_state(remaining=30).stdout)
    assert st.running and st.remaining_percent == 30 and st.log_available
    assert st.polling_minutes == {"short": 2, "extended": 85}
    assert selftest.parse_status((DATA / "scrutiny-smart-ata.json").read_text()).remaining_percent == 10


def test_short_test_passes_and_is_recorded(replay, station) -> None:
    replay.add(POLL, [_state(), _state(remaining=90), _state(remaining=30), _state(new_entry=PASSED)])
    replay.add(START, ACCEPTED)
    seen: list[int | None] = []
    result = selftest.run_selftest(
        "/dev/sdb",
        "short",
        device_type="sat",
        store=station.store,
        device_id="d-x",
        on_progress=lambda s: seen.append(s.remaining_percent),
        sleep=lambda s: None,
    )
    assert (result.result, result.status, result.lifetime_hours, result.polls) == (
        "passed",
        "Completed without error",
        14552,
        3,
    )
    assert seen == [90, 30, None]
    assert replay.calls[1] == tuple(START.split())
    started, done = station.store.records(kind="selftest.started"), station.store.records(kind="selftest.result")
    assert started[0].payload["type"] == "short" and started[0].payload["expected_minutes"] == 2
    assert done[0].payload["result"] == "passed" and done[0].payload["job_id"] == result.job_id
    assert done[0].device_id == "d-x"
    assert len(station.store.evidence(done[0].uuid)) == 5  # before, start, three polls
    assert station.store.open_jobs() == []


def test_read_failure(replay) -> None:
    replay.add(POLL, [_state(), _state(remaining=90), _state(new_entry=READ_FAILURE)])
    replay.add(START, ACCEPTED)
    result = selftest.run_selftest("/dev/sdb", device_type="sat", sleep=lambda s: None)
    assert (result.result, result.status, result.failing_lba) == ("failed", "Completed: read failure", 123456)


def test_quick_drive_never_seen_running(replay) -> None:
    # The test finished between two polls: the new log entry alone says it ran.
    replay.add(POLL, [_state(), _state(new_entry=PASSED)])
    replay.add(START, ACCEPTED)
    assert selftest.run_selftest("/dev/sdb", device_type="sat", sleep=lambda s: None).result == "passed"


def test_abort_from_callback(replay, station) -> None:
    replay.add(POLL, [_state(), _state(remaining=90), _state(new_entry=ABORTED)])
    replay.add(START, ACCEPTED)
    replay.add(ABORT, ACCEPTED)
    calls = iter([False, True])
    result = selftest.run_selftest(
        "/dev/sdb", device_type="sat", store=station.store, should_abort=lambda: next(calls), sleep=lambda s: None
    )
    assert result.result == "aborted" and result.status == "aborted by the technician"
    assert tuple(ABORT.split()) in replay.calls
    assert station.store.records(kind="selftest.result")[0].payload["result"] == "aborted"


def test_ctrl_c_aborts_on_the_drive(replay, station) -> None:
    replay.add(POLL, [_state(), _state(remaining=90), _state(new_entry=ABORTED)])
    replay.add(START, ACCEPTED)
    replay.add(ABORT, ACCEPTED)
    sleeps = iter([None, KeyboardInterrupt()])

    def sleep(_: float) -> None:
        exc = next(sleeps)
        if exc:
            raise exc

    result = selftest.run_selftest("/dev/sdb", device_type="sat", store=station.store, sleep=sleep)
    assert result.result == "aborted"
    assert tuple(ABORT.split()) in replay.calls
    assert station.store.open_jobs() == []


def test_already_running_is_refused(replay, station) -> None:
    replay.add(POLL, _state(remaining=60))
    with pytest.raises(DeviceError, match=r"already running .*60% remaining"):
        selftest.run_selftest("/dev/sdb", device_type="sat", store=station.store, sleep=lambda s: None)
    assert station.store.records(kind="selftest.started") == []


def test_refused_start_closes_the_job(replay, station) -> None:
    replay.add(POLL, _state())
    replay.add(START, Reply(stdout=(DATA / "local-loop-sat.json").read_text(), rc=2))
    with pytest.raises(DeviceError, match="could not start a short self-test"):
        selftest.run_selftest("/dev/sdb", device_type="sat", store=station.store, sleep=lambda s: None)
    result = station.store.records(kind="selftest.result")[0].payload
    assert result["result"] == "not_started" and station.store.open_jobs() == []


def test_timeout_aborts(replay) -> None:
    replay.add(POLL, [_state(), _state(remaining=90)])
    replay.add(START, ACCEPTED)
    replay.add(ABORT, ACCEPTED)
    result = selftest.run_selftest("/dev/sdb", device_type="sat", timeout_minutes=0, sleep=lambda s: None)
    assert result.result == "aborted" and "no result after" in result.status


def _rig(name: str) -> Reply:
    return Reply(stdout=(DATA / name).read_text(), rc=0)


def test_qemu_sata_short_test_real_sequence(replay) -> None:
    # Captured in the QEMU rig: the emulated drive finishes a short test at once, so the
    # first poll already shows the new log entry (the test is never seen running).
    replay.add(
        "smartctl --json=c -c -l selftest /dev/sda",
        [_rig("local-rig-sata-c-before.json"), _rig("local-rig-sata-c-after.json")],
    )
    replay.add("smartctl --json=c -t short /dev/sda", _rig("local-rig-sata-t-short.json"))
    result = selftest.run_selftest("/dev/sda", "short", sleep=lambda s: None)
    assert (result.result, result.status, result.lifetime_hours, result.polls) == (
        "passed",
        "Completed without error",
        4660,
        1,
    )


def test_nvme_self_test_log_not_in_smartctl_7_3_json(replay) -> None:
    # smartctl 7.3 starts NVMe self-tests but prints their log only as text: say so, do not guess.
    replay.add("smartctl --json=c -c -l selftest /dev/nvme0n1", _rig("local-rig-nvme-c.json"))
    replay.add("smartctl --json=c -t short /dev/nvme0n1", _rig("local-rig-nvme-t-short.json"))
    result = selftest.run_selftest("/dev/nvme0n1", "short", sleep=lambda s: None)
    assert result.result == "unknown" and result.polls == 3
    assert result.status == "this smartctl does not report the self-test log as JSON"


def test_uses_the_bridge_type_that_reached_smart(replay, station) -> None:
    # A drive behind a JMicron USB bridge: the health read found -d usbjmicron, the self-test reuses it.
    from bench.health.check import check_device

    replay.add("smartctl --json=c -x /dev/sdc", Reply(stdout=(DATA / "local-loop-auto.json").read_text(), rc=1))
    replay.add("smartctl --json=c -x -d sat /dev/sdc", Reply(stdout=(DATA / "local-loop-sat.json").read_text(), rc=2))
    replay.add(
        "smartctl --json=c -x -d snt* /dev/sdc", Reply(stdout=(DATA / "local-loop-sntjmicron.json").read_text(), rc=2)
    )
    replay.add(
        "smartctl --json=c -x -d usbjmicron /dev/sdc",
        Reply(stdout=(DATA / "scrutiny-smart-fail2.json").read_text(), rc=216),
    )
    report = check_device("/dev/sdc", transport="usb", store=station.store)
    assert report.device_type == "usbjmicron"
    replay.add(
        "smartctl --json=c -c -l selftest -d usbjmicron /dev/sdc",
        [_rig("local-rig-sata-c-before.json"), _rig("local-rig-sata-c-after.json")],
    )
    replay.add("smartctl --json=c -t short -d usbjmicron /dev/sdc", _rig("local-rig-sata-t-short.json"))
    result = selftest.run_selftest("/dev/sdc", store=station.store, device_id=report.device_id, sleep=lambda s: None)
    assert result.result == "passed"
    started = station.store.records(kind="selftest.started")[0].payload
    assert started["device_type"] == "usbjmicron"
