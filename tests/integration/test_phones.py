"""Phones through the REAL adb and libimobiledevice tools, against fake phones on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from bench.phones import android, detect, ios
from bench.phones.workflow import PhoneReset
from tests.helpers.fake_adbd import FakeAdbd, PhoneState
from tests.helpers.fake_usbmuxd import FakeUsbmuxd, default_lockdown


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def adb_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private adb server (its own port), so tests never meet a real phone or another adb."""
    port = str(_free_port())
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", port)
    monkeypatch.setenv("USBMUXD_SOCKET_ADDRESS", f"127.0.0.1:{_free_port()}")  # nobody there: no iPhones
    subprocess.run(["adb", "start-server"], check=True, capture_output=True)
    yield port
    subprocess.run(["adb", "kill-server"], capture_output=True)


def _connect(fake: FakeAdbd) -> None:
    out = subprocess.run(["adb", "connect", fake.address], capture_output=True, text=True).stdout
    assert "connected" in out, out


def _wait_state(address: str, state: str, timeout: float = 15) -> None:
    """Until adb lists the phone in `state` (and, for "device", its facts read cleanly: after a
    reboot adb may flip a reconnected transport offline once more while it settles)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(d.serial == address and d.state == state for d in android.list_devices()) and (
            state != "device" or any(p.handle == address and p.state == "ready" for p in detect.enumerate_phones())
        ):
            return
        time.sleep(0.1)
    raise AssertionError(f"{address} never became {state}: {android.list_devices()}")


@pytest.fixture
def phone(adb_server: str) -> Iterator[FakeAdbd]:
    fake = FakeAdbd(
        PhoneState.from_capture(
            serial="RIGPHONE0001", packages=["org.example.chat"], accounts=[("donor@gmail.com", "com.google")]
        )
    )
    _connect(fake)
    _wait_state(fake.address, "device")
    yield fake
    fake.close()


def test_android_facts_through_real_adb(phone: FakeAdbd) -> None:
    [found] = [p for p in detect.enumerate_phones() if p.platform == "android"]
    assert (found.state, found.serial, found.model, found.manufacturer) == (
        "ready",
        "RIGPHONE0001",
        "FiiO M17",
        "QUALCOMM",
    )
    assert found.os_version == "Android 10" and found.encryption == "encrypted" and found.encryption_type == "file"
    assert found.storage_bytes == 55297916 * 1024
    assert found.battery.level_percent == 85 and found.battery.health == "good"
    assert found.battery.health_percent == round(100 * 45070000 / 47520000, 1)
    assert found.accounts == ("com.google",) and found.frp_protected is True
    assert found.imei == ""  # privileged on modern Android: not readable, and not invented


def test_frp_account_blocks_the_reset(phone: FakeAdbd, station) -> None:
    found = detect.find("RIGPHONE0001")
    reasons = found.blockers()
    assert reasons and "Factory Reset Protection" in reasons[0]
    with pytest.raises(Exception, match="accounts still signed in"):
        PhoneReset(station, found).start()
    assert station.store.records(kind_prefix="phone.wipe") == []


def test_unauthorized_phone_gets_an_instruction(adb_server: str) -> None:
    fake = FakeAdbd(PhoneState.from_capture(authorized=False))
    try:
        subprocess.run(["adb", "connect", fake.address], capture_output=True, timeout=20)
        _wait_state(fake.address, "unauthorized")
        [found] = [p for p in detect.enumerate_phones() if p.handle == fake.address]
        assert found.state == "unauthorized" and "Allow USB debugging" in found.instruction
        assert found.to_dict()["verdict"] == "blocked"
    finally:
        fake.close()


def _reset_to_recovery(phone: FakeAdbd, station) -> PhoneReset:
    phone.state.accounts.clear()  # the technician removed the account (step 1)
    before = detect.find("RIGPHONE0001")
    reset = PhoneReset(station, before)
    reset.start(donor="NHS Trust", batch="NHS-11")
    reset.confirm("accounts-removed")
    reset.confirm("reboot-recovery")  # bench runs `adb reboot recovery`
    assert "reboot:recovery" in phone.state.log
    reset.confirm("factory-reset")
    return reset


def test_reset_passes_when_the_same_phone_comes_back_clean(phone: FakeAdbd, station) -> None:
    reset = _reset_to_recovery(phone, station)
    phone.state.packages.clear()  # what a factory reset does to user data
    phone.state.setup_complete = False
    _connect(phone)  # re-plugged after set-up was skipped
    _wait_state(phone.address, "device")
    reset.confirm("reconnect")
    record = reset.finish(detect.find("RIGPHONE0001"))
    assert record.kind == "phone.wipe.result" and record.payload["result"] == "passed", record.payload["reason"]
    assert record.payload["method"]["method"] == "purge"  # encrypted storage: crypto erase
    assert any(c["argv"][-2:] == ["reboot", "recovery"] for c in station.store.evidence(record.uuid))
    assert station.store.verify().ok


def test_reset_fails_when_an_account_is_still_present(phone: FakeAdbd, station) -> None:
    reset = _reset_to_recovery(phone, station)
    phone.state.packages.clear()
    phone.state.accounts.append(("donor@gmail.com", "com.google"))  # reset skipped: data and account remain
    _connect(phone)
    _wait_state(phone.address, "device")
    reset.confirm("reconnect")
    record = reset.finish(detect.find("RIGPHONE0001"))
    assert record.payload["result"] == "failed" and "accounts still present" in record.payload["reason"]


def test_reset_fails_for_another_phone(phone: FakeAdbd, station) -> None:
    reset = _reset_to_recovery(phone, station)
    phone.state.props["ro.serialno"] = "OTHERPHONE"
    phone.state.packages.clear()
    _connect(phone)
    _wait_state(phone.address, "device")
    reset.confirm("reconnect")
    record = reset.finish(detect.find("OTHERPHONE"))
    assert record.payload["result"] == "failed" and "differs from RIGPHONE0001" in record.payload["reason"]


def test_phone_unplugged_mid_workflow_is_aborted_with_the_step(phone: FakeAdbd, station) -> None:
    phone.state.accounts.clear()
    reset = PhoneReset(station, detect.find("RIGPHONE0001"))
    reset.start()
    reset.confirm("accounts-removed")
    phone.close()  # cable pulled before the reboot step
    subprocess.run(["adb", "disconnect", phone.address], capture_output=True)
    assert detect.find("RIGPHONE0001") is None
    record = reset.abort("phone unplugged")
    assert record.payload["result"] == "aborted" and record.payload["step_reached"] == "reboot-recovery"


def test_cli_reset_with_the_phone_pulled_before_bench_reboots_it_is_recorded_aborted(phone: FakeAdbd, station) -> None:
    """`bench phone reset`: the cable is pulled between two steps, so bench's `adb reboot recovery`
    fails. The job is recorded aborted with the step reached, at once (it used to end in an error
    with the job left open until the next start of bench closed it)."""
    phone.state.accounts.clear()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.cli.main", "phone", "reset", "RIGPHONE0001", "--wait", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout = proc.stdout
    assert proc.stdin is not None and stdout is not None

    def until(marker: str) -> None:
        seen = ""
        while marker not in seen:
            line = stdout.readline()
            assert line, f"bench ended before {marker!r}: {seen}"
            seen += line

    try:
        until("[accounts-removed]")
        proc.stdin.write("\n")
        proc.stdin.flush()
        until("[reboot-recovery]")
        phone.close()  # the cable is pulled
        subprocess.run(["adb", "disconnect", phone.address], capture_output=True)
        proc.stdin.write("\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, (out, err)
    assert "result: aborted (adb could not reboot the phone" in out, (out, err)
    [record] = station.store.records(kind="phone.wipe.result")
    assert record.payload["result"] == "aborted" and record.payload["step_reached"] == "reboot-recovery"
    assert not station.store.open_jobs()


@pytest.fixture
def iphone(monkeypatch: pytest.MonkeyPatch, adb_server: str) -> Iterator[FakeUsbmuxd]:
    fake = FakeUsbmuxd()
    monkeypatch.setenv("USBMUXD_SOCKET_ADDRESS", fake.address)
    yield fake
    fake.close()


def test_iphone_detected_untrusted_with_basic_facts(iphone: FakeUsbmuxd) -> None:
    [found] = [p for p in detect.enumerate_phones() if p.platform == "ios"]
    assert found.state == "untrusted" and "Trust This Computer" in found.instruction
    assert (found.serial, found.os_version, found.encryption) == ("F2LXK0RIGN72", "iOS 17.5", "encrypted")
    assert found.blockers() == []  # an iPhone is reset by hand: trust is not needed


def test_iphone_assisted_erase_passes_when_it_comes_back_unactivated(iphone: FakeUsbmuxd, station) -> None:
    before = ios.facts(iphone.lockdown["UniqueDeviceID"])
    reset = PhoneReset(station, before)
    reset.start()
    for step in reset.steps:
        reset.confirm(step.id)
    iphone.lockdown = default_lockdown(activation="Unactivated")  # Hello screen after the erase
    record = reset.finish(ios.facts(iphone.lockdown["UniqueDeviceID"]))
    assert record.payload["result"] == "passed" and record.payload["method"]["technique"] == "crypto_erase"


def test_iphone_still_activated_fails(iphone: FakeUsbmuxd, station) -> None:
    before = ios.facts(iphone.lockdown["UniqueDeviceID"])
    reset = PhoneReset(station, before)
    reset.start()
    for step in reset.steps:
        reset.confirm(step.id)
    record = reset.finish(ios.facts(iphone.lockdown["UniqueDeviceID"]))
    assert record.payload["result"] == "failed" and "still activated" in record.payload["reason"]
