"""Wipe profiles: the shipped ones load, and every kind of mistake names the file and the key."""

from pathlib import Path

import pytest

from bench.errors import ProfileError
from bench.wipe import profiles

GOOD = """
name = "{name}"
version = 1
method = "clear"
passes = ["zeros"]
[technique]
default = "overwrite"
[verify]
mode = "full"
"""


def write(tmp_path: Path, text: str, name: str = "p") -> Path:
    f = tmp_path / f"{name}.toml"
    f.write_text(text)
    return f


def test_shipped_profiles_load_with_their_intent():
    by_name = {p.name: p for p in profiles.list_profiles()}
    assert {"nist-clear", "nist-purge", "nist-clear-flash", "verify-only"} <= set(by_name)
    assert by_name["nist-clear"].passes == ("zeros",) and by_name["nist-clear"].verify.mode == "full"
    flash = by_name["nist-clear-flash"]
    assert len(flash.passes) == 2 and flash.passes[1] == "byte:0xaa"
    assert by_name["nist-purge"].technique_for("nvme") == "purge" and by_name["nist-purge"].fallback == "refuse"
    assert by_name["verify-only"].method == "verify" and by_name["verify-only"].verify.expect == "zeros"
    assert all(not p.marker for p in by_name.values()), "the marker is off by default"


def test_load_by_name_and_unknown_name(tmp_path):
    write(tmp_path, GOOD.format(name="p"))
    assert profiles.load("p", tmp_path).name == "p"
    with pytest.raises(ProfileError, match="no wipe profile named 'nope'") as info:
        profiles.load("nope", tmp_path)
    assert "p" in info.value.hint


@pytest.mark.parametrize(
    "change, key",
    [
        (('passes = ["zeros"]', 'passes = ["zeroes"]'), "passes[0]"),
        (('passes = ["zeros"]', 'passes = ["byte:0x5"]'), "passes[0]"),
        (('method = "clear"', 'method = "shred"'), "method"),
        (('default = "overwrite"', 'floppy = "overwrite"'), "technique.floppy"),
        (('default = "overwrite"', 'default = "degauss"'), "technique.default"),
        (('mode = "full"', 'mode = "none"'), "verify.mode"),
        (('mode = "full"', 'mode = "full"\nsections = 10'), "verify.sections"),
        (('mode = "full"', 'mode = "full"\nsample_bytes = 1000'), "verify.sample_bytes"),
        (("version = 1", 'version = 1\ncolour = "red"'), "colour"),
        (("version = 1", 'version = 1\nhpa_dco = "delete"'), "hpa_dco"),
        (("version = 1", 'version = 1\non_io_error = "retry"'), "on_io_error"),
        (("version = 1", 'version = 1\nmarker = "yes"'), "marker"),
        (('default = "overwrite"', 'default = "purge"'), "technique"),  # purge inside a clear profile
        (('passes = ["zeros"]', "passes = []"), "passes"),
    ],
)
def test_invalid_profiles_name_file_and_key(tmp_path, change, key):
    text = GOOD.format(name="p").replace(*change)
    f = write(tmp_path, text)
    with pytest.raises(ProfileError) as info:
        profiles.load_file(f)
    assert str(f) in info.value.message and f"'{key}'" in info.value.message


def test_bad_toml_and_name_mismatch(tmp_path):
    f = write(tmp_path, "name = ", "broken")
    with pytest.raises(ProfileError, match="not valid TOML"):
        profiles.load_file(f)
    f = write(tmp_path, GOOD.format(name="other"), "p")
    with pytest.raises(ProfileError, match="'name' is 'other'"):
        profiles.load_file(f)


def test_verify_only_profile_must_not_write(tmp_path):
    text = GOOD.format(name="p").replace('method = "clear"', 'method = "verify"')
    with pytest.raises(ProfileError, match="'technique'"):
        profiles.load_file(write(tmp_path, text))
