"""Wipe profiles: `wipe_profiles/*.toml` (data, not code), validated on load.

A profile says, per media type, which technique to use (overwrite, purge, verify-only,
refuse), the overwrite passes, how to verify, what to do about HPA/DCO and IO errors,
and whether to leave a signed wipe marker. Errors name the file and the key.

Where profiles are found: $BENCH_WIPE_PROFILES, else `wipe_profiles/` beside the source
tree, else /usr/share/bench/wipe_profiles.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from bench.errors import ProfileError
from bench.wipe import patterns

MEDIA = ("hdd", "ssd", "nvme", "usb-flash", "sd", "virtual", "loop", "optical", "unknown", "default")
TECHNIQUES = ("overwrite", "purge", "verify-only", "refuse")
METHODS = ("clear", "purge", "verify")
VERIFY_MODES = ("full", "sample", "none")
VERIFY_EXPECT = ("last-pass", "zeros", "uniform")
HPA_POLICIES = ("restore", "detect", "ignore")
IO_POLICIES = ("fail", "continue_and_warn")
FALLBACKS = ("refuse", "overwrite")

_TOP = {
    "name",
    "version",
    "method",
    "description",
    "technique",
    "passes",
    "verify",
    "hpa_dco",
    "on_io_error",
    "marker",
    "fallback",
}
_VERIFY = {"mode", "expect", "sections", "per_section", "sample_bytes"}


@dataclass(frozen=True)
class VerifySpec:
    mode: str = "full"
    expect: str = "last-pass"
    sections: int = 1000  # NIST SP 800-88 Rev 1 §4.7.3: at least 1000 equal subsections...
    per_section: int = 2  # ...with at least 2 pseudorandom locations in each
    sample_bytes: int = 65536

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "expect": self.expect,
            "sections": self.sections,
            "per_section": self.per_section,
            "sample_bytes": self.sample_bytes,
        }


@dataclass(frozen=True)
class Profile:
    name: str
    version: int
    method: str  # what the profile aims for: clear | purge | verify
    description: str
    technique: dict[str, str] = field(hash=False)
    passes: tuple[str, ...]
    verify: VerifySpec
    hpa_dco: str = "detect"
    on_io_error: str = "fail"
    marker: bool = False
    fallback: str = "refuse"
    path: str = ""

    def technique_for(self, media: str) -> str:
        return self.technique.get(media) or self.technique.get("default") or "refuse"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "method": self.method,
            "description": self.description,
            "technique": dict(self.technique),
            "passes": list(self.passes),
            "verify": self.verify.to_dict(),
            "hpa_dco": self.hpa_dco,
            "on_io_error": self.on_io_error,
            "marker": self.marker,
            "fallback": self.fallback,
        }


def profiles_dir() -> Path:
    env = os.environ.get("BENCH_WIPE_PROFILES")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent.parent / "wipe_profiles"
    if here.is_dir():
        return here
    return Path("/usr/share/bench/wipe_profiles")


def _need(cond: bool, file: Path, key: str, message: str, hint: str = "") -> None:
    if not cond:
        raise ProfileError(f"{file}: '{key}' {message}", hint=hint)


def _choice(value: Any, options: tuple[str, ...], file: Path, key: str) -> str:
    _need(
        isinstance(value, str) and value in options, file, key, f"must be one of {', '.join(options)} (got {value!r})"
    )
    return cast(str, value)


def _int(value: Any, file: Path, key: str, minimum: int) -> int:
    _need(
        isinstance(value, int) and not isinstance(value, bool) and value >= minimum,
        file,
        key,
        f"must be an integer >= {minimum} (got {value!r})",
    )
    return cast(int, value)


def parse(data: dict[str, Any], file: Path) -> Profile:
    """Validate one profile's TOML table; every problem names the file and the key."""
    unknown = sorted(set(data) - _TOP)
    _need(
        not unknown,
        file,
        unknown[0] if unknown else "",
        "is not a profile key",
        hint=f"known keys: {', '.join(sorted(_TOP))}",
    )
    _need(isinstance(data.get("name"), str) and data["name"] != "", file, "name", "must be a non-empty string")
    version = _int(data.get("version", 1), file, "version", 1)
    method = _choice(data.get("method"), METHODS, file, "method")
    description = data.get("description", "")
    _need(isinstance(description, str), file, "description", "must be a string")
    technique: Any = data.get("technique")
    _need(
        isinstance(technique, dict) and technique != {},
        file,
        "technique",
        "must be a table of media type = technique",
        hint=f"media types: {', '.join(MEDIA)}",
    )
    for media, tech in technique.items():
        _need(
            media in MEDIA, file, f"technique.{media}", "is not a media type", hint=f"media types: {', '.join(MEDIA)}"
        )
        _choice(tech, TECHNIQUES, file, f"technique.{media}")
    passes = data.get("passes", [])
    _need(
        isinstance(passes, list) and all(isinstance(p, str) for p in passes),
        file,
        "passes",
        "must be a list of patterns",
        hint='e.g. passes = ["zeros"] or ["byte:0x55", "byte:0xaa"]',
    )
    for i, p in enumerate(passes):
        _need(
            patterns.is_valid(p),
            file,
            f"passes[{i}]",
            f"is not a pattern ({p!r})",
            hint="patterns: zeros, ones, byte:0xNN, prng",
        )
    writes = any(t in ("overwrite", "purge") for t in technique.values())
    fallback = _choice(data.get("fallback", "refuse"), FALLBACKS, file, "fallback")
    needs_passes = any(t == "overwrite" for t in technique.values()) or fallback == "overwrite"
    _need(not needs_passes or passes, file, "passes", "must name at least one pattern when a technique is overwrite")
    raw_verify = data.get("verify", {})
    _need(isinstance(raw_verify, dict), file, "verify", "must be a table ([verify])")
    unknown = sorted(set(raw_verify) - _VERIFY)
    _need(
        not unknown,
        file,
        f"verify.{unknown[0]}" if unknown else "verify",
        "is not a verify key",
        hint=f"known keys: {', '.join(sorted(_VERIFY))}",
    )
    verify = VerifySpec(
        mode=_choice(raw_verify.get("mode", "full"), VERIFY_MODES, file, "verify.mode"),
        expect=_choice(raw_verify.get("expect", "last-pass"), VERIFY_EXPECT, file, "verify.expect"),
        sections=_int(raw_verify.get("sections", 1000), file, "verify.sections", 1000),
        per_section=_int(raw_verify.get("per_section", 2), file, "verify.per_section", 2),
        sample_bytes=_int(raw_verify.get("sample_bytes", 65536), file, "verify.sample_bytes", 512),
    )
    _need(verify.sample_bytes % 512 == 0, file, "verify.sample_bytes", "must be a multiple of 512")
    if method == "verify":
        _need(
            set(technique.values()) <= {"verify-only", "refuse"},
            file,
            "technique",
            'must be verify-only for a method = "verify" profile',
        )
        _need(verify.mode != "none", file, "verify.mode", "cannot be none in a verify-only profile")
        _need(
            verify.expect != "last-pass",
            file,
            "verify.expect",
            "must be zeros or uniform in a verify-only profile (there is no pass to compare with)",
        )
    if method == "clear":
        _need("purge" not in technique.values(), file, "technique", 'cannot be purge in a method = "clear" profile')
    _need(
        not writes or verify.mode != "none",
        file,
        "verify.mode",
        "cannot be none: NIST SP 800-88 requires verification of every sanitisation",
    )
    marker = data.get("marker", False)
    _need(isinstance(marker, bool), file, "marker", "must be true or false")
    return Profile(
        name=data["name"],
        version=version,
        method=method,
        description=description,
        technique=dict(technique),
        passes=tuple(passes),
        verify=verify,
        hpa_dco=_choice(data.get("hpa_dco", "detect"), HPA_POLICIES, file, "hpa_dco"),
        on_io_error=_choice(data.get("on_io_error", "fail"), IO_POLICIES, file, "on_io_error"),
        marker=marker,
        fallback=fallback,
        path=str(file),
    )


def load_file(path: str | os.PathLike[str]) -> Profile:
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text())
    except OSError as exc:
        raise ProfileError(f"{file}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{file}: not valid TOML: {exc}") from exc
    profile = parse(data, file)
    if profile.name != file.stem:
        raise ProfileError(
            f"{file}: 'name' is {profile.name!r} but the file is {file.name}", hint="name the file after the profile"
        )
    return profile


def load(name: str, directory: str | os.PathLike[str] | None = None) -> Profile:
    """A profile by name (or by path, when `name` ends in .toml)."""
    if name.endswith(".toml"):
        return load_file(name)
    folder = Path(directory) if directory else profiles_dir()
    file = folder / f"{name}.toml"
    if not file.exists():
        known = ", ".join(p.name for p in list_profiles(folder)) or "none"
        raise ProfileError(f"no wipe profile named {name!r} in {folder}", hint=f"profiles: {known}")
    return load_file(file)


def list_profiles(directory: str | os.PathLike[str] | None = None) -> list[Profile]:
    folder = Path(directory) if directory else profiles_dir()
    return [load_file(f) for f in sorted(folder.glob("*.toml"))]
