from bench.detect.sysfs import transport_of, vpd_serial, vpd_wwn


def test_vpd_serial_page() -> None:
    raw = bytes([0, 0x80, 0, 12]) + b"  WD-WCC123\0\0"[:12]
    assert vpd_serial(raw) == "WD-WCC123"
    assert vpd_serial(b"") == "" and vpd_serial(bytes([0, 0x83, 0, 0])) == ""


def test_vpd_wwn_naa_designator() -> None:
    naa = bytes.fromhex("5000c500a1b2c3d4")
    t10 = bytes([0x02, 0x01, 0, 8]) + b"ATA     "
    desig = bytes([0x01, 0x03, 0, len(naa)]) + naa
    body = t10 + desig
    raw = bytes([0, 0x83]) + len(body).to_bytes(2, "big") + body
    assert vpd_wwn(raw) == "0x5000c500a1b2c3d4"
    assert vpd_wwn(raw[:6]) == ""  # truncated page: no crash


def test_transport_from_sysfs_path() -> None:
    assert (
        transport_of("sda", "/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda") == "sata"
    )
    assert (
        transport_of("sdb", "/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb")
        == "usb"
    )
    assert transport_of("nvme0n1", "/sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1") == "nvme"
    assert transport_of("vda", "/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda") == "virtio"
    assert (
        transport_of("sdc", "/sys/devices/pci0000:00/0000:00:03.0/virtio2/host2/target2:0:0/2:0:0:0/block/sdc")
        == "scsi"
    )
    assert (
        transport_of(
            "sdd", "/sys/devices/pci0000:00/0000:02:00.0/host0/port-0:0/end_device-0:0/target0:0:0/0:0:0:0/block/sdd"
        )
        == "sas"
    )
    assert transport_of("loop0", "/sys/devices/virtual/block/loop0") == "loop"
    assert transport_of("mmcblk0", "/sys/devices/platform/mmc0/mmcblk0") == "mmc"
