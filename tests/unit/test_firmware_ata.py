"""ATA security erase and sanitize state machines, replaying real hdparm outputs
(ironic-python-agent's captured hdparm -I, QEMU's aborted security commands)."""

import threading

import pytest

from bench.errors import DeviceFrozen
from bench.tools import runner
from bench.wipe import firmware
from tests.helpers.replay import Reply
from tests.unit.firmware_support import SATA, USB, FakeClock, data, run_step

I_OK = data("hdparm/I_ironic_not_frozen.txt")
I_ENABLED = data("hdparm/I_ironic_enabled.txt")
ERASE_ABORTED = data("hdparm/erase_enhanced_rig_qemu_sata_aborted.txt").replace("/dev/sdb", "/dev/sdx")
SET_PASS_OK = 'security_password: "benchpw"\n\n/dev/sdx:\n Issuing SECURITY_SET_PASS command, password="benchpw", user=user, mode=high\n'
ERASE_OK = 'security_password: "benchpw"\n\n/dev/sdx:\n Issuing SECURITY_ERASE command, password="benchpw", user=user\n'


def test_security_erase_supported_not_frozen_is_done(replay):
    replay.add("hdparm -I /dev/sdx", [Reply(I_OK), Reply(I_ENABLED), Reply(I_OK)])
    replay.add("hdparm --user-master u --security-set-pass benchpw /dev/sdx", Reply(SET_PASS_OK))
    replay.add("hdparm --user-master u --security-erase-enhanced benchpw /dev/sdx", Reply(ERASE_OK))
    outcome, seen, _ = run_step("ata-security-erase-enhanced", SATA)
    assert outcome.status == "done", outcome.detail
    assert seen == [0.0, 1.0]
    assert [c[1:3] for c in replay.calls] == [
        ("-I", "/dev/sdx"),
        ("--user-master", "u"),
        ("-I", "/dev/sdx"),
        ("--user-master", "u"),
        ("-I", "/dev/sdx"),
    ]


def test_security_erase_timeout_comes_from_the_drive_estimate(replay):
    timeouts = []
    replay.add("hdparm -I /dev/sdx", [Reply(I_OK), Reply(I_ENABLED), Reply(I_OK)])
    replay.add("hdparm --user-master u --security-set-pass *", Reply(SET_PASS_OK))
    replay.add("hdparm --user-master u --security-erase-enhanced *", Reply(ERASE_OK))

    def spy(argv, timeout, input, env):
        timeouts.append((argv[3] if len(argv) > 3 else argv[1], timeout))
        return replay(argv, timeout, input, env)

    with runner.use_executor(spy):
        outcome, _, _ = run_step("ata-security-erase-enhanced", SATA)
    assert outcome.status == "done"
    assert ("--security-erase-enhanced", 24 * 60 * 1.5 + 300) in timeouts


def test_frozen_raises_with_replug_hint(replay):
    replay.add("hdparm -I /dev/sdx", Reply(data("hdparm/I_ironic_frozen.txt")))
    with pytest.raises(DeviceFrozen) as err:
        run_step("ata-security-erase", SATA)
    assert "re-plug" in err.value.hint and "rtcwake" not in err.value.hint
    assert len(replay.calls) == 1  # nothing was sent to a frozen drive


def test_frozen_hint_offers_rtcwake_only_where_suspend_works(replay):
    replay.add("hdparm -I /dev/sdx", Reply(data("hdparm/I_ironic_frozen.txt")))
    with pytest.raises(DeviceFrozen) as err:
        run_step("ata-security-erase", SATA, suspend_ok=True)
    assert "rtcwake -m mem -s 5" in err.value.hint


def test_exit_zero_but_aborted_is_failed_and_password_removed(replay):
    # -I: before, after set-pass, after the erase, before disable, after disable
    replay.add("hdparm -I /dev/sdx", [Reply(I_OK), Reply(I_ENABLED), Reply(I_ENABLED), Reply(I_ENABLED), Reply(I_OK)])
    replay.add("hdparm --user-master u --security-set-pass benchpw /dev/sdx", Reply(SET_PASS_OK))
    replay.add("hdparm --user-master u --security-erase-enhanced benchpw /dev/sdx", Reply(ERASE_ABORTED, rc=0))
    replay.add("hdparm --user-master u --security-disable benchpw /dev/sdx", Reply(""))
    outcome, seen, _ = run_step("ata-security-erase-enhanced", SATA)
    assert outcome.status == "failed"
    assert "aborted" in outcome.detail and "exited 0" in outcome.detail
    assert "removed again" in outcome.detail
    assert 1.0 not in seen


def test_drive_left_locked_is_said_loudly_with_the_password(replay):
    locked = Reply(data("hdparm/I_ironic_locked.txt"))
    replay.add("hdparm -I /dev/sdx", [Reply(I_OK), Reply(I_ENABLED), locked, locked])
    replay.add("hdparm --user-master u --security-set-pass benchpw /dev/sdx", Reply(SET_PASS_OK))
    replay.add("hdparm --user-master u --security-erase benchpw /dev/sdx", Reply(ERASE_ABORTED))
    replay.add("hdparm --user-master u --security-unlock benchpw /dev/sdx", Reply(ERASE_ABORTED))
    replay.add("hdparm --user-master u --security-disable benchpw /dev/sdx", Reply(ERASE_ABORTED))
    outcome, _, _ = run_step("ata-security-erase", SATA)
    assert outcome.status == "failed"
    assert "DRIVE LEFT WITH SECURITY PASSWORD 'benchpw' SET AND LOCKED" in outcome.detail
    assert "--security-disable benchpw /dev/sdx" in outcome.detail
    ops = [c[3] for c in replay.calls if c[1] == "--user-master"]
    assert ops == ["--security-set-pass", "--security-erase", "--security-unlock", "--security-disable"]


def test_qemu_drive_aborting_set_pass_is_failed_not_done(replay):
    """The real QEMU behaviour: no Security section; forced anyway, SET PASSWORD is aborted
    while hdparm exits 0, so bench never even sends the erase."""
    qemu_i = data("hdparm/I_rig_qemu_sata.txt")
    replay.add("hdparm -I /dev/sdx", Reply(qemu_i))
    replay.add(
        "hdparm --user-master u --security-set-pass benchpw /dev/sdx",
        Reply(data("hdparm/set_pass_rig_qemu_sata_aborted.txt"), rc=0),
    )
    outcome, _, _ = run_step("ata-security-erase", SATA)
    assert outcome.status == "unsupported"
    outcome, _, _ = run_step("ata-security-erase", SATA, ignore_capabilities=True)
    assert outcome.status == "failed" and "aborted by the drive" in outcome.detail
    assert not any("--security-erase" in c for c in replay.calls)


@pytest.mark.parametrize(
    "name, step, word",
    [
        ("I_ironic_unsupported.txt", "ata-security-erase", "does not support the ATA Security"),
        ("I_ironic_no_enhanced.txt", "ata-security-erase-enhanced", "ENHANCED"),
    ],
)
def test_unsupported(replay, name, step, word):
    replay.add("hdparm -I /dev/sdx", Reply(data("hdparm/" + name)))
    outcome, _, _ = run_step(step, SATA)
    assert outcome.status == "unsupported" and word in outcome.detail


def test_password_already_set_by_someone_else(replay):
    replay.add("hdparm -I /dev/sdx", Reply(data("hdparm/I_ironic_locked.txt")))
    c = FakeClock()
    outcome = firmware.execute(
        "ata-security-erase", SATA, {"clock": c, "sleep": c.sleep}, progress=lambda p: None, cancelled=threading.Event()
    )
    assert outcome.status == "failed" and "does not know it" in outcome.detail
    assert len(replay.calls) == 1


def test_usb_bridge_without_passthrough_is_unsupported(replay):
    replay.add("hdparm -I /dev/sdz", Reply(data("hdparm/I_rig_qemu_usb_stub.txt")))
    for step in ("ata-security-erase", "ata-sanitize-block"):
        outcome, _, _ = run_step(step, USB)
        assert outcome.status == "unsupported" and "bridge" in outcome.detail


# --- ATA sanitize --------------------------------------------------------------

I_SAN = data("hdparm/I_ironic_sanitize.txt")
ST_PROG = data("hdparm/sanitize_status_in_process.txt")
ST_OK = data("hdparm/sanitize_status_idle_ok.txt")
ST_IDLE = data("hdparm/sanitize_status_idle.txt")


def _progress(hexval: str) -> Reply:
    return Reply(ST_PROG.replace("0x41c2 (25%)", f"{hexval} (x%)"))


def test_sanitize_polls_to_completion(replay):
    replay.add("hdparm -I /dev/sdx", Reply(I_SAN))
    replay.add(
        "hdparm --sanitize-status /dev/sdx",
        [Reply(ST_IDLE), _progress("0x1000"), _progress("0x8000"), _progress("0xc000"), Reply(ST_OK)],
    )
    replay.add("hdparm --yes-i-know-what-i-am-doing --sanitize-block-erase /dev/sdx", Reply("\n/dev/sdx:\n"))
    outcome, seen, clock = run_step("ata-sanitize-block", SATA)
    assert outcome.status == "done", outcome.detail
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen[1:4] == pytest.approx([0x1000 / 0xFFFF, 0x8000 / 0xFFFF, 0xC000 / 0xFFFF])
    assert clock.sleeps == 3


def test_sanitize_idle_without_success_is_failed(replay):
    replay.add("hdparm -I /dev/sdx", Reply(I_SAN))
    replay.add("hdparm --sanitize-status /dev/sdx", [Reply(ST_IDLE), _progress("0x1000"), Reply(ST_IDLE)])
    replay.add("hdparm --yes-i-know-what-i-am-doing --sanitize-crypto-scramble /dev/sdx", Reply(""))
    outcome, _, _ = run_step("ata-sanitize-crypto", SATA)
    assert outcome.status == "failed" and "completed without error" in outcome.detail


def test_sanitize_no_progress_watchdog(replay):
    replay.add("hdparm -I /dev/sdx", Reply(I_SAN))
    replay.add("hdparm --sanitize-status /dev/sdx", [Reply(ST_IDLE), _progress("0x2000")])
    replay.add("hdparm --yes-i-know-what-i-am-doing --sanitize-block-erase /dev/sdx", Reply(""))
    outcome, _, clock = run_step("ata-sanitize-block", SATA, poll_interval=5, stall_seconds=60)
    assert outcome.status == "failed" and "no progress for" in outcome.detail and "12.5%" in outcome.detail
    assert 60 < clock.now <= 70


def test_sanitize_overall_timeout(replay):
    counter = iter(range(1, 10_000))
    replay.add("hdparm -I /dev/sdx", Reply(I_SAN))
    replay.add(
        "hdparm --sanitize-status /dev/sdx", [Reply(ST_IDLE)] + [_progress(hex(next(counter))) for _ in range(500)]
    )
    replay.add("hdparm --yes-i-know-what-i-am-doing --sanitize-block-erase /dev/sdx", Reply(""))
    outcome, _, _clock = run_step("ata-sanitize-block", SATA, poll_interval=10, timeout=300)
    assert outcome.status == "failed" and "did not complete within 300 s" in outcome.detail


def test_sanitize_frozen_raises(replay):
    replay.add("hdparm -I /dev/sdx", Reply(I_SAN))
    replay.add("hdparm --sanitize-status /dev/sdx", Reply(data("hdparm/sanitize_status_frozen.txt")))
    with pytest.raises(DeviceFrozen):
        run_step("ata-sanitize-block", SATA)


def test_sanitize_unsupported_action(replay):
    replay.add("hdparm -I /dev/sdx", Reply(I_SAN))
    outcome, _, _ = run_step("ata-sanitize-overwrite", SATA)
    assert outcome.status == "unsupported" and "overwrite" in outcome.detail


def test_sanitize_cancel_says_it_cannot_be_stopped(replay):
    cancel = threading.Event()
    replay.add("hdparm -I /dev/sdx", Reply(I_SAN))

    def status(argv):
        cancel.set()
        return _progress("0x1000")

    replay.add("hdparm --sanitize-status /dev/sdx", [Reply(ST_IDLE), status])
    replay.add("hdparm --yes-i-know-what-i-am-doing --sanitize-block-erase /dev/sdx", Reply(""))
    outcome, _, _ = run_step("ata-sanitize-block", SATA, cancel=cancel)
    assert outcome.status == "failed" and "cannot be stopped" in outcome.detail


def test_sanitize_status_poll_timing_out_is_not_taken_for_idle(replay):
    replay.add("hdparm -I /dev/sdx", Reply(I_SAN))
    replay.add(
        "hdparm --sanitize-status /dev/sdx", [Reply(ST_IDLE), _progress("0x1000"), Reply("", timed_out=True, rc=-9)]
    )
    replay.add("hdparm --yes-i-know-what-i-am-doing --sanitize-block-erase /dev/sdx", Reply(""))
    outcome, _, _ = run_step("ata-sanitize-block", SATA)
    assert outcome.status == "failed" and "unreadable 3 times" in outcome.detail


def test_missing_hdparm_is_unsupported_with_the_package_name(replay):
    from bench.errors import ToolMissing

    def missing(argv):
        raise ToolMissing("hdparm is not installed", hint="install it with: apt-get install hdparm")

    replay.add("hdparm *", missing)
    outcome, _, _ = run_step("ata-security-erase", SATA)
    assert outcome.status == "unsupported" and "apt-get install hdparm" in outcome.detail
