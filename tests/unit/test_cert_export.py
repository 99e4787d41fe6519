"""Supervisor export and validation through the CLI: PIN required and checked, selections, recorded actions."""

from __future__ import annotations

import hashlib
import json

import pytest

from bench import config as configmod
from bench.certs import export as ex
from bench.cli.main import main
from bench.station import open_station
from tests.data.certs.records import add_wipe, device

PIN = "1357"


@pytest.fixture
def supervised(config_file, monkeypatch):
    monkeypatch.delenv(ex.PIN_ENV, raising=False)
    cfg = configmod.load(config_file)
    cfg.supervisor.name, cfg.supervisor.title = "Pat Supervisor", "IG Lead"
    cfg.supervisor.pin_sha256 = hashlib.sha256(PIN.encode()).hexdigest()
    config_file.write_text(configmod.dumps(cfg))
    with open_station(config_file) as st:
        add_wipe(st.store, device(serial="SN-A"), "failed")
        add_wipe(st.store, device(serial="SN-A"), "passed")  # re-wipe supersedes the failure
        add_wipe(st.store, device(serial="SN-B"), "aborted")
        st.store.append(
            "device.annotated", {"donor": "NHS Trust", "batch": "NHS-7"}, device_id=device(serial="SN-C").device_id
        )
        add_wipe(st.store, device(serial="SN-C"), "passed", annotate=False, batch="", donor="")
    return config_file


def _kinds(config_file, kind):
    with open_station(config_file) as st:
        return st.store.records(kind=kind)


def test_export_needs_the_right_pin_and_is_recorded(supervised, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["certs", "export", "--batch", "CCC-2026-11", "--out", str(out)]) == 1
    assert "supervisor PIN" in capsys.readouterr().err
    assert main(["certs", "export", "--batch", "CCC-2026-11", "--out", str(out), "--pin", "0000"]) == 1
    assert "wrong supervisor PIN" in capsys.readouterr().err
    assert not out.exists() and not _kinds(supervised, "certificate.issued")
    assert (
        main(["certs", "export", "--batch", "CCC-2026-11", "--out", str(out), "--pin", PIN, "--format", "json,csv"])
        == 0
    )
    assert "2 certificate(s): 1 aborted, 1 passed" in capsys.readouterr().out
    issued = _kinds(supervised, "certificate.issued")
    assert sorted(r.payload["result"] for r in issued) == ["aborted", "passed"]
    certs = [json.loads(p.read_text())["certificate"] for p in sorted(out.glob("*.json"))]
    assert sorted(c["media"]["serial"] for c in certs) == ["SN-A", "SN-B"]
    assert not list(out.glob("*.pdf"))


def test_env_pin_and_all_attempts(supervised, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(ex.PIN_ENV, PIN)
    assert (
        main(["certs", "export", "--device", "SN-A", "--all-attempts", "--out", str(tmp_path), "--format", "csv"]) == 0
    )
    assert "2 certificate(s): 1 failed, 1 passed" in capsys.readouterr().out
    text = next(tmp_path.glob("*.csv")).read_bytes().decode("utf-8-sig")
    assert text.count("\r\n") == 3 and ",failed," in text and ",passed," in text


def test_batch_from_annotation_and_since(supervised, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(ex.PIN_ENV, PIN)
    assert main(["certs", "export", "--batch", "NHS-7", "--out", str(tmp_path / "a"), "--format", "json"]) == 0
    (cert,) = [json.loads(p.read_text())["certificate"] for p in (tmp_path / "a").glob("*.json")]
    assert cert["media"]["serial"] == "SN-C" and cert["batch"] == "NHS-7" and cert["donor"] == "NHS Trust"
    assert main(["certs", "export", "--since", "2000-01-01", "--out", str(tmp_path / "b"), "--format", "json"]) == 0
    assert len(list((tmp_path / "b").glob("*.json"))) == 3
    assert main(["certs", "export", "--since", "2999-01-01", "--out", str(tmp_path / "c")]) == 1
    assert "no wipe results" in capsys.readouterr().err
    assert main(["certs", "export", "--since", "yesterday", "--out", str(tmp_path / "c")]) == 1


def test_validate_is_recorded_and_shows_on_the_certificate(supervised, tmp_path, capsys):
    assert main(["certs", "validate", "--batch", "CCC-2026-11", "--pin", "9"]) == 1
    assert main(["certs", "validate", "--batch", "CCC-2026-11", "--pin", PIN, "--note", "10% read back"]) == 0
    (val,) = _kinds(supervised, "supervisor.validated")
    assert val.payload["supervisor"] == "Pat Supervisor" and val.payload["note"] == "10% read back"
    assert sorted(val.payload["results"].values()) == ["aborted", "passed"]
    assert main(["certs", "export", "--device", "SN-B", "--out", str(tmp_path), "--pin", PIN, "--format", "json"]) == 0
    (cert,) = [json.loads(p.read_text())["certificate"] for p in tmp_path.glob("*.json")]
    assert cert["validation"]["supervisor"] == "Pat Supervisor"
    assert cert["result"] == "aborted"  # validated or not, an aborted wipe stays aborted


def test_supervisor_actions_disabled_without_a_pin_hash(config_file, tmp_path, capsys):
    with open_station(config_file) as st:
        add_wipe(st.store)
    assert main(["certs", "export", "--batch", "CCC-2026-11", "--out", str(tmp_path), "--pin", "1"]) == 1
    assert "disabled" in capsys.readouterr().err


def test_verify_cli_exit_codes(supervised, tmp_path, capsys):
    assert main(["certs", "export", "--device", "SN-B", "--out", str(tmp_path), "--pin", PIN, "--format", "json"]) == 0
    (path,) = tmp_path.glob("*.json")
    capsys.readouterr()
    assert main(["certs", "verify", str(path)]) == 0
    assert "trust anchor: this station's own key" in capsys.readouterr().out
    path.write_text(path.read_text().replace('"result": "aborted"', '"result": "passed"', 1))
    assert main(["certs", "verify", str(path), "--json"]) == 1
    (rep,) = json.loads(capsys.readouterr().out)
    assert rep["ok"] is False
    assert 'result: certificate says "passed", its records say "aborted"' in rep["problems"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("../../etc/passwd", "etc_passwd"),
        ("\u202eevil\x00", "evil"),
        ("", "unknown"),
        ("..", "unknown"),
        ("A" * 500, "A" * 40),
        ("Ünïcødé serial", "Unicde_serial"),
    ],
)
def test_safe_name(raw, expected):
    assert ex.safe_name(raw) == expected
