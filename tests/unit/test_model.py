from bench.model import Device, Identity, clean_text, device_id


def test_device_id_normalises_separators_and_case() -> None:
    a = device_id("drive", "WDC", "WD10EZEX-08WN4A0", "WD-WCC6Y0ABCDEF")
    b = device_id("drive", "wdc", "wd10ezex 08wn4a0", "wd_wcc6y0abcdef")
    assert a == b and a.startswith("d-")
    assert a != device_id("drive", "WDC", "WD10EZEX-08WN4A0", "WD-WCC6Y0ABCDEG")
    assert a != device_id("phone", "WDC", "WD10EZEX-08WN4A0", "WD-WCC6Y0ABCDEF")


def test_clean_text_neutralises_hostile_strings() -> None:
    hostile = "SAM\x1b[31mSUNG\x00\x07 \u202eevil\u202c\r\nX"
    out = clean_text(hostile)
    assert "\x1b" not in out and "\x00" not in out and "\u202e" not in out and "\n" not in out
    assert out.startswith("SAM?SUNG")
    assert len(clean_text("A" * 70000, 256)) == 256 and clean_text("A" * 300, 10).endswith("…")
    assert clean_text(None) == ""


def test_identity_differences_name_the_field() -> None:
    a = Identity("S1", "0x5", "M", 100, "/tmp/a.img")
    b = Identity("S1", "0x5", "M", 100, "/tmp/b.img")
    assert a.differences(a) == []
    assert a.differences(b) == ["backing_file was '/tmp/a.img', now '/tmp/b.img'"]


def test_loop_device_id_uses_backing_file() -> None:
    d1 = Device("/dev/loop3", "loop3", "loop", "loop", 1 << 20, backing_file="/tmp/a.img")
    d2 = Device("/dev/loop3", "loop3", "loop", "loop", 1 << 20, backing_file="/tmp/b.img")
    assert d1.device_id != d2.device_id
    assert d1.to_dict()["device_id_algorithm"] == "sha256-nfkc-casefold-v1"
