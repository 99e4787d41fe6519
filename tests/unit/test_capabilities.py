"""probe() by transport, on replayed real outputs; it never raises for a missing capability."""

from bench.errors import ToolMissing
from bench.model import Device
from bench.wipe import capabilities
from tests.helpers.replay import Reply
from tests.unit.firmware_support import NVME, SAS, SATA, USB, data


def test_loop_needs_no_programs(replay):
    loop = Device(devnode="/dev/loop7", name="loop7", kind="loop", transport="loop", size_bytes=1 << 20)
    caps = capabilities.probe(loop)
    assert caps.protocol == "loop" and caps.ata_security is None and caps.nvme is None
    assert replay.calls == []


def test_sata_not_frozen_with_hpa(replay):
    replay.add("hdparm -I /dev/sdx", Reply(data("hdparm/I_ironic_not_frozen.txt")))
    replay.add("hdparm -N /dev/sdx", Reply(data("hdparm/N_hpa_enabled.txt")))
    replay.add("hdparm --dco-identify /dev/sdx", Reply(data("hdparm/dco_identify.txt")))
    caps = capabilities.probe(SATA)
    assert caps.protocol == "ata" and caps.passthrough
    sec = caps.ata_security
    assert sec and sec.supported and not sec.frozen and sec.enhanced_erase_supported and sec.erase_minutes == 24
    assert caps.ata_sanitize and not caps.ata_sanitize.supported
    assert caps.hpa and caps.hpa.hpa_present and caps.hpa.native_sectors == 976773168
    assert caps.discard  # TRIM advertised
    assert any("HPA present" in n for n in caps.notes)


def test_sata_frozen_is_a_note_not_an_error(replay):
    replay.add("hdparm -I /dev/sdx", Reply(data("hdparm/I_ironic_frozen.txt")))
    replay.add("hdparm -N /dev/sdx", Reply(data("hdparm/N_hpa_disabled.txt")))
    replay.add("hdparm --dco-identify /dev/sdx", Reply(data("hdparm/dco_identify.txt")))
    caps = capabilities.probe(SATA)
    assert caps.ata_security and caps.ata_security.frozen
    assert any("frozen" in n for n in caps.notes)
    assert caps.hpa and not caps.hpa.hpa_present and not caps.hpa.dco_present


def test_qemu_sata_without_security(replay):
    replay.add("hdparm -I /dev/sdx", Reply(data("hdparm/I_rig_qemu_sata.txt")))
    caps = capabilities.probe(SATA)
    assert caps.protocol == "ata" and caps.ata_security is None and caps.hpa is None
    assert any("no ATA Security" in n for n in caps.notes)


def test_nvme_capabilities(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(data("nvme/id_ctrl_ironic_sn730_crypto.json")))
    caps = capabilities.probe(NVME)
    n = caps.nvme
    assert caps.protocol == "nvme" and n is not None and n.nsid == 1
    assert n.sanitize_crypto and n.sanitize_block and not n.sanitize_overwrite
    assert n.fna_crypto_supported and n.format_supported


def test_nvme_qemu_notes(replay):
    replay.add("nvme id-ctrl /dev/nvme0 -o json", Reply(data("nvme/id_ctrl_rig_qemu_excerpt.json")))
    caps = capabilities.probe(NVME)
    assert caps.nvme and not caps.nvme.sanitize_block and caps.nvme.format_supported
    assert any("SANICAP 0" in n for n in caps.notes)


def test_usb_without_passthrough(replay):
    replay.add("hdparm -I /dev/sdz", Reply(data("hdparm/I_rig_qemu_usb_stub.txt")))
    caps = capabilities.probe(USB)
    assert caps.protocol == "usb" and not caps.passthrough and caps.ata_security is None
    assert any("does not pass ATA commands" in n for n in caps.notes)


def test_usb_with_sat_passthrough(replay):
    replay.add("hdparm -I /dev/sdz", Reply(data("hdparm/I_ironic_not_frozen.txt")))
    replay.add("hdparm -N /dev/sdz", Reply(data("hdparm/N_hpa_disabled.txt")))
    replay.add("hdparm --dco-identify /dev/sdz", Reply(""))
    caps = capabilities.probe(USB)
    assert caps.protocol == "usb" and caps.passthrough and caps.ata_security is not None


def test_scsi_sanitize_unknown_on_qemu(replay):
    replay.add("hdparm -I /dev/sdy", Reply(data("hdparm/I_rig_qemu_scsi_stub.txt")))
    replay.add("sg_inq /dev/sdy", Reply(data("sg/inq_rig_qemu_scsi.txt")))
    replay.add("sg_opcodes *", Reply("Report supported operation codes: Illegal request, Invalid opcode\n", rc=9))
    caps = capabilities.probe(SAS)
    assert caps.protocol == "scsi" and caps.scsi and not caps.scsi.supported
    assert any("SANITIZE support unknown" in n for n in caps.notes)
    assert any("sg_format" in n for n in caps.notes)


def test_missing_tool_is_a_note(replay):
    def missing(argv):
        raise ToolMissing("hdparm is not installed", hint="install it with: apt-get install hdparm")

    replay.add("hdparm *", missing)
    caps = capabilities.probe(SATA)
    assert caps.protocol == "ata" and caps.ata_security is None
    assert "hdparm is not installed" in caps.notes[0]


def test_sata_drive_on_a_sas_hba_is_probed_as_ata(replay):
    replay.add("hdparm -I /dev/sdy", Reply(data("hdparm/I_ironic_sanitize.txt")))
    replay.add("hdparm -N /dev/sdy", Reply(data("hdparm/N_hpa_disabled.txt")))
    replay.add("hdparm --dco-identify /dev/sdy", Reply(""))
    caps = capabilities.probe(SAS)
    assert caps.protocol == "ata" and caps.ata_sanitize and caps.ata_sanitize.block_erase
    assert caps.ata_security and caps.ata_security.supported and caps.scsi is None
    assert any("SAS/SCSI host adapter" in n for n in caps.notes)
    assert not any(c[0] == "sg_inq" for c in replay.calls)


def test_sd_node_with_unknown_transport_is_still_probed(replay):
    from dataclasses import replace

    replay.add("hdparm -I /dev/sdx", Reply(data("hdparm/I_rig_qemu_sata.txt")))
    caps = capabilities.probe(replace(SATA, transport="unknown"))
    assert caps.protocol == "ata" and caps.passthrough
    vd = Device(devnode="/dev/vda", name="vda", kind="virtual", transport="virtio", size_bytes=1 << 30)
    caps = capabilities.probe(vd)
    assert caps.protocol == "unknown" and "virtio" in caps.notes[0]
