"""NVMe format and sanitize state machines on replayed nvme-cli outputs: a real WD SN730
id-ctrl (SANICAP crypto+block, FNA crypto), QEMU's controller (no sanitize, format works)."""

import threading

import pytest

from tests.helpers.replay import Reply
from tests.unit.firmware_support import NVME, data, run_step

CRYPTO = data("nvme/id_ctrl_ironic_sn730_crypto.json")
USERDATA = data("nvme/id_ctrl_ironic_sn730_userdata.json")
NOFORMAT = data("nvme/id_ctrl_ironic_sn730_format_unsupported.json")
QEMU = data("nvme/id_ctrl_rig_qemu_excerpt.json")
FORMAT_OK = data("nvme/format_rig_qemu_success.txt")
LOG = {
    n: data(f"nvme/sanitize_log_{n}.json")
    for n in ("never", "in_progress_25", "in_progress_50", "completed", "failed", "completed_nd")
}


def test_format_user_data_on_qemu_controller(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(QEMU))
    replay.add("nvme format /dev/nvme0n1 --ses=1 --force", Reply(FORMAT_OK))
    outcome, seen, _ = run_step("nvme-format-user-data", NVME)
    assert outcome.status == "done" and "SES=1" in outcome.detail
    assert seen == [0.0, 1.0]


def test_format_crypto_gated_on_fna(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(USERDATA))
    outcome, _, _ = run_step("nvme-format-crypto", NVME)
    assert outcome.status == "unsupported" and "FNA bit 2" in outcome.detail
    assert not any("format" in c for c in replay.calls)


def test_format_crypto_when_fna_allows(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(CRYPTO))
    replay.add("nvme format /dev/nvme0n1 --ses=2 --force", Reply("Success formatting namespace:1\n"))
    outcome, _, _ = run_step("nvme-format-crypto", NVME)
    assert outcome.status == "done" and "cryptographic" in outcome.detail


def test_format_unsupported_by_oacs(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(NOFORMAT))
    outcome, _, _ = run_step("nvme-format-user-data", NVME)
    assert outcome.status == "unsupported" and "OACS" in outcome.detail


def test_format_refused_by_drive_is_failed(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(CRYPTO))
    replay.add(
        "nvme format *",
        Reply(stderr="NVMe status: Format in Progress: A format NVM command is in progress(0x184)\n", rc=1),
    )
    outcome, _, _ = run_step("nvme-format-user-data", NVME)
    assert outcome.status == "failed" and "Format in Progress" in outcome.detail


def test_sanitize_unsupported_by_sanicap_on_qemu(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(QEMU))
    outcome, _, _ = run_step("nvme-sanitize-block", NVME)
    assert outcome.status == "unsupported" and "SANICAP 0x0" in outcome.detail


def test_sanitize_invalid_opcode_when_forced_is_unsupported(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(QEMU))
    replay.add("nvme sanitize /dev/nvme0 --sanact=2", Reply(data("nvme/sanitize_rig_qemu_invalid_opcode.txt"), rc=1))
    outcome, _, _ = run_step("nvme-sanitize-block", NVME, ignore_capabilities=True)
    assert outcome.status == "unsupported" and "Invalid Command Opcode" in outcome.detail


def test_sanitize_polls_to_completion(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(CRYPTO))
    replay.add("nvme sanitize /dev/nvme0 --sanact=4", Reply(""))
    replay.add(
        "nvme sanitize-log /dev/nvme0 -o json",
        [Reply(LOG["in_progress_25"]), Reply(LOG["in_progress_50"]), Reply(LOG["completed"])],
    )
    outcome, seen, clock = run_step("nvme-sanitize-crypto", NVME)
    assert outcome.status == "done" and "global data erased=1" in outcome.detail
    assert seen == [0.0, 0.25, 0.5, 1.0] and clock.sleeps == 2


def test_sanitize_completed_no_dealloc_is_done(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(CRYPTO))
    replay.add("nvme sanitize /dev/nvme0 --sanact=2", Reply(""))
    replay.add("nvme sanitize-log /dev/nvme0 -o json", [Reply(LOG["in_progress_25"]), Reply(LOG["completed_nd"])])
    outcome, _, _ = run_step("nvme-sanitize-block", NVME)
    assert outcome.status == "done" and "without deallocation" in outcome.detail


def test_sanitize_failed_status(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(CRYPTO))
    replay.add("nvme sanitize /dev/nvme0 --sanact=2", Reply(""))
    replay.add("nvme sanitize-log /dev/nvme0 -o json", [Reply(LOG["in_progress_25"]), Reply(LOG["failed"])])
    outcome, _, _ = run_step("nvme-sanitize-block", NVME)
    assert outcome.status == "failed" and "SSTAT 3" in outcome.detail


def test_sanitize_no_progress_watchdog(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(CRYPTO))
    replay.add("nvme sanitize /dev/nvme0 --sanact=2", Reply(""))
    replay.add("nvme sanitize-log /dev/nvme0 -o json", Reply(LOG["in_progress_25"]))
    outcome, _, clock = run_step("nvme-sanitize-block", NVME, poll_interval=1, stall_seconds=30)
    assert outcome.status == "failed" and "no progress for" in outcome.detail and "25.0%" in outcome.detail
    assert 30 < clock.now <= 32


def test_sanitize_never_started_is_caught_by_the_watchdog(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(CRYPTO))
    replay.add("nvme sanitize /dev/nvme0 --sanact=2", Reply(""))
    replay.add("nvme sanitize-log /dev/nvme0 -o json", Reply(LOG["never"]))
    outcome, _, _ = run_step("nvme-sanitize-block", NVME, poll_interval=1, stall_seconds=10)
    assert outcome.status == "failed" and "stuck at unknown" in outcome.detail


def test_sanitize_timeout(replay):
    logs = [Reply(LOG["in_progress_25"].replace("16384", str(16384 + i))) for i in range(200)]
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(CRYPTO))
    replay.add("nvme sanitize /dev/nvme0 --sanact=2", Reply(""))
    replay.add("nvme sanitize-log /dev/nvme0 -o json", logs)
    outcome, _, _ = run_step("nvme-sanitize-block", NVME, poll_interval=5, timeout=120)
    assert outcome.status == "failed" and "did not complete within 120 s" in outcome.detail


def test_sanitize_log_unreadable(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(CRYPTO))
    replay.add("nvme sanitize /dev/nvme0 --sanact=2", Reply(""))
    replay.add(
        "nvme sanitize-log /dev/nvme0 -o json", Reply(data("nvme/sanitize_log_rig_qemu_invalid_field.txt"), rc=1)
    )
    outcome, _, _ = run_step("nvme-sanitize-block", NVME)
    assert outcome.status == "failed" and "unreadable 3 times" in outcome.detail


def test_sanitize_cancel_cannot_abort(replay):
    cancel = threading.Event()

    def log(argv):
        cancel.set()
        return Reply(LOG["in_progress_25"])

    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(CRYPTO))
    replay.add("nvme sanitize /dev/nvme0 --sanact=2", Reply(""))
    replay.add("nvme sanitize-log /dev/nvme0 -o json", log)
    outcome, _, _ = run_step("nvme-sanitize-block", NVME, cancel=cancel)
    assert outcome.status == "failed" and "cannot be aborted" in outcome.detail


def test_overwrite_pattern_is_passed(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(CRYPTO))
    outcome, _, _ = run_step("nvme-sanitize-overwrite", NVME)
    assert outcome.status == "unsupported"  # SN730 SANICAP has no overwrite bit


@pytest.mark.parametrize("step", ["nvme-format-user-data", "nvme-sanitize-crypto"])
def test_id_ctrl_failure_is_failed(replay, step):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(stderr="identify controller: Permission denied\n", rc=1))
    outcome, _, _ = run_step(step, NVME)
    assert outcome.status == "failed" and "id-ctrl failed" in outcome.detail


def test_non_nvme_devnode_is_failed_not_a_crash(replay):
    from dataclasses import replace

    outcome, _, _ = run_step("nvme-format-user-data", replace(NVME, devnode="/dev/sdq"))
    assert outcome.status == "failed" and "not an NVMe device node" in outcome.detail
    assert replay.calls == []
