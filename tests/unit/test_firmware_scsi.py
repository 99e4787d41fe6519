"""SCSI SANITIZE, HPA/DCO restore and discard state machines on replayed outputs."""

import pytest

from bench.errors import EraseUnsupported
from tests.helpers.replay import Reply
from tests.unit.firmware_support import SAS, SATA, data, run_step

SUPPORTED = "  Opcode=0x48  Service_action=0x3\n    Command supported [conforming to SCSI standard]\n"
NOT_SUPPORTED = "  Opcode=0x48  Service_action=0x2\n    Command not supported\n"
RSOC_REFUSED = "Report supported operation codes: Illegal request, Invalid opcode\n"


def test_scsi_sanitize_qemu_invalid_opcode_is_unsupported(replay):
    replay.add("sg_opcodes *", Reply(RSOC_REFUSED, rc=9))
    replay.add(
        "sg_sanitize --quick --early --block /dev/sdy",
        Reply(data("sg/sanitize_rig_qemu_scsi_invalid_opcode.txt"), rc=9),
    )
    outcome, _, _ = run_step("scsi-sanitize-block", SAS)
    assert outcome.status == "unsupported" and "Invalid opcode" in outcome.detail


def test_scsi_sanitize_reported_not_supported_is_not_tried(replay):
    replay.add("sg_opcodes *", Reply(NOT_SUPPORTED))
    outcome, _, _ = run_step("scsi-sanitize-block", SAS)
    assert outcome.status == "unsupported"
    assert not any(c[0] == "sg_sanitize" for c in replay.calls)


def test_scsi_sanitize_polls_progress_to_done(replay):
    replay.add("sg_opcodes *", Reply(SUPPORTED))
    replay.add("sg_sanitize --quick --early --crypto /dev/sdy", Reply(""))
    replay.add(
        "sg_requests --progress /dev/sdy",
        [
            Reply("Progress indication: 10.00% done\n"),
            Reply("Progress indication: 60.00% done\n"),
            Reply(data("sg/requests_progress_rig_qemu_scsi_idle.txt")),
        ],
    )
    replay.add("sg_requests /dev/sdy", Reply(data("sg/requests_rig_qemu_scsi_no_sense.txt")))
    outcome, seen, _ = run_step("scsi-sanitize-crypto", SAS)
    assert outcome.status == "done"
    assert seen == [0.0, 0.1, 0.6, 1.0]


def test_scsi_sanitize_failed_sense(replay):
    replay.add("sg_opcodes *", Reply(SUPPORTED))
    replay.add("sg_sanitize --quick --early --crypto /dev/sdy", Reply(""))
    replay.add("sg_requests --progress /dev/sdy", [Reply("Progress indication: 10.00% done\n"), Reply("")])
    replay.add(
        "sg_requests /dev/sdy",
        Reply(
            data("sg/requests_rig_qemu_scsi_no_sense.txt")
            .replace("No Sense", "Medium Error")
            .replace("No additional sense information", "Sanitize command failed")
        ),
    )
    outcome, _, _ = run_step("scsi-sanitize-crypto", SAS)
    assert outcome.status == "failed" and "Sanitize command failed" in outcome.detail


def test_scsi_request_sense_failing_is_not_taken_for_done(replay):
    replay.add("sg_opcodes *", Reply(SUPPORTED))
    replay.add("sg_sanitize --quick --early --crypto /dev/sdy", Reply(""))
    replay.add("sg_requests --progress /dev/sdy", Reply("", timed_out=True, rc=-9))
    outcome, _, _ = run_step("scsi-sanitize-crypto", SAS)
    assert outcome.status == "failed" and "REQUEST SENSE failed 3 times" in outcome.detail


def test_scsi_sanitize_stall(replay):
    replay.add("sg_opcodes *", Reply(SUPPORTED))
    replay.add("sg_sanitize --quick --early --crypto /dev/sdy", Reply(""))
    replay.add("sg_requests --progress /dev/sdy", Reply("    Progress indication: 10.00% done\n"))
    outcome, _, _ = run_step("scsi-sanitize-crypto", SAS, poll_interval=2, stall_seconds=20)
    assert outcome.status == "failed" and "no progress" in outcome.detail


def test_hpa_restore(replay):
    replay.add(
        "hdparm -N /dev/sdx", [Reply(data("hdparm/N_hpa_enabled.txt")), Reply(data("hdparm/N_hpa_disabled.txt"))]
    )
    replay.add(
        "hdparm --yes-i-know-what-i-am-doing -N p976773168 /dev/sdx",
        Reply("\n/dev/sdx:\n setting max visible sectors to 976773168 (permanent)\n"),
    )
    outcome, _, _ = run_step("hpa-restore", SATA)
    assert outcome.status == "done" and "976771055 -> 976773168" in outcome.detail


def test_hpa_restore_that_does_not_take_is_failed(replay):
    replay.add("hdparm -N /dev/sdx", Reply(data("hdparm/N_hpa_enabled.txt")))
    replay.add("hdparm --yes-i-know-what-i-am-doing -N p976773168 /dev/sdx", Reply(""))
    outcome, _, _ = run_step("hpa-restore", SATA)
    assert outcome.status == "failed" and "did not take effect" in outcome.detail


def test_hpa_restore_non_ata_is_unsupported(replay):
    replay.add("hdparm -N /dev/sdx", Reply(data("hdparm/I_rig_qemu_nvme.txt")))
    outcome, _, _ = run_step("hpa-restore", SATA)
    assert outcome.status == "unsupported"


def test_dco_restore(replay):
    dco_smaller = data("hdparm/N_hpa_disabled.txt").replace("976773168/976773168", "900000000/900000000")
    replay.add("hdparm -N /dev/sdx", [Reply(dco_smaller), Reply(data("hdparm/N_hpa_disabled.txt"))])
    replay.add("hdparm --dco-identify /dev/sdx", Reply(data("hdparm/dco_identify.txt")))
    replay.add("hdparm --yes-i-know-what-i-am-doing --dco-restore /dev/sdx", Reply(""))
    outcome, _, _ = run_step("dco-restore", SATA)
    assert outcome.status == "done" and "900000000 -> 976773168" in outcome.detail


def test_blkdiscard_by_path(replay):
    replay.add("*blkdiscard -f /dev/sdx", Reply(""))
    outcome, _, _ = run_step("blkdiscard", SATA)
    assert outcome.status == "done" and "not a purge" in outcome.detail
    assert replay.calls[0][0].endswith("blkdiscard")


def test_blkdiscard_unsupported(replay):
    replay.add(
        "*blkdiscard -f -z /dev/sdx",
        Reply(stderr="blkdiscard: /dev/sdx: BLKZEROOUT ioctl failed: Operation not supported\n", rc=1),
    )
    outcome, _, _ = run_step("blkdiscard", SATA, zero=True)
    assert outcome.status == "unsupported"


def test_unknown_step(replay):
    with pytest.raises(EraseUnsupported):
        run_step("sg-format", SAS)


def test_blkdiscard_real_usb_refusal_is_unsupported(replay):
    replay.add("*blkdiscard -f /dev/sdx", Reply(stderr=data("sg/blkdiscard_rig_qemu_usb_unsupported.txt"), rc=1))
    outcome, _, _ = run_step("blkdiscard", SATA)
    assert outcome.status == "unsupported" and "Operation not supported" in outcome.detail


def test_hpa_restore_on_scsi_garbage_is_unsupported(replay):
    replay.add("hdparm -N /dev/sdx", Reply(data("hdparm/N_rig_qemu_scsi_garbage.txt")))
    outcome, _, _ = run_step("hpa-restore", SATA)
    assert outcome.status == "unsupported"
    assert not any("--yes-i-know-what-i-am-doing" in c for c in replay.calls)
