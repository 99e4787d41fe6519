"""The wipe marker block: signed, recognised, and any change is detected."""

from bench import config as configmod
from bench.wipe import marker

FIELDS = {
    "station_id": "st-1",
    "job_id": "5b0f7c1e-8a61-4d1b-9a0e-0c1f9d7e2a11",
    "profile": "nist-clear",
    "method": "clear",
    "date": "2026-11-23T00:00:00.000+00:00",
    "device_id": "d-0123456789abcdef0123456789abcdef",
    "content": "prng:" + "ab" * 32,
}


def key(tmp_path):
    from bench.certs import sign

    return sign.load_or_create_key(configmod.Config(station_id="st-1", data_dir=str(tmp_path)))


def test_marker_round_trip_in_one_block(tmp_path):
    raw = marker.encode(FIELDS, key(tmp_path), 4096)
    assert len(raw) == 4096 and raw.startswith(marker.MAGIC)
    found = marker.decode(raw)
    assert found is not None and found.valid
    assert {k: found.fields[k] for k in FIELDS} == FIELDS


def test_tampered_marker_is_invalid_and_other_blocks_are_not_markers(tmp_path):
    raw = bytearray(marker.encode(FIELDS, key(tmp_path), 512))
    i = raw.index(b"nist-clear")
    raw[i : i + 10] = b"nist-purge"
    found = marker.decode(bytes(raw))
    assert found is not None and not found.valid and "signature" in found.problem
    assert marker.decode(bytes(512)) is None
    assert marker.decode(b"\xff" * 512) is None
