"""Certificates end to end: a REAL loop-device wipe certified, exported through the CLI, rendered with
pdftoppm (every page), its QR decoded, verified from the PDF alone; the station key registered over HTTP."""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import zxingcpp
from PIL import Image

from bench import config as configmod
from bench.certs import export as ex
from bench.cli.main import main
from bench.station import open_station

MIB = 1 << 20
PIN = "2468"


def _configure(config_file: Path, **top) -> None:
    cfg = configmod.load(config_file)
    cfg.supervisor.name, cfg.supervisor.title = "Pat Supervisor", "Information Governance Lead"
    cfg.supervisor.pin_sha256 = hashlib.sha256(PIN.encode()).hexdigest()
    cfg.organisation.name, cfg.organisation.location = "Coventry Device Bank", "Canal Basin, Coventry"
    for k, v in top.items():
        setattr(cfg, k, v)
    config_file.write_text(configmod.dumps(cfg))


def _pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _render(path: Path, out: Path, dpi: int = 110) -> list[Path]:
    out.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(path), str(out / "p")], check=True)
    return sorted(out.glob("p-*.png"))


@pytest.mark.root
def test_real_loop_wipe_is_certified_exported_rendered_and_verified(config_file, loops, tmp_path, capsys):
    _configure(config_file, register_url="https://register.example.org")
    from bench.wipe.engine import Engine

    dev = loops(16 * MIB)
    with open_station(config_file) as station:
        engine = Engine(station)
        out = engine.wait(engine.start(dev, "nist-clear", donor="Coventry City Council", batch="CCC-2026-11"), 60)
        assert out.result == "passed", out.reason
    assert main(["certs", "validate", "--batch", "CCC-2026-11", "--pin", PIN, "--note", "spot check"]) == 0
    out_dir = tmp_path / "out"
    assert (
        main(
            [
                "certs",
                "export",
                "--batch",
                "CCC-2026-11",
                "--format",
                "pdf,json,csv",
                "--out",
                str(out_dir),
                "--pin",
                PIN,
            ]
        )
        == 0
    )
    pdfs = sorted(out_dir.glob("cert_*.pdf"))
    jsons = sorted(out_dir.glob("cert_*.json"))
    assert len(pdfs) == 1 and len(jsons) == 1 and list(out_dir.glob("certificates_*.csv"))
    env = json.loads(jsons[0].read_text())
    cert = env["certificate"]
    assert cert["result"] == "passed" and cert["sanitisation"]["method"] == "Clear"
    assert cert["sanitisation"]["techniques"] == ["Overwrite"]
    assert cert["sanitisation"]["bytes_written"] == 16 * MIB == cert["sanitisation"]["bytes_verified"]
    assert cert["sanitisation"]["verification"]["method"] == "full"
    assert cert["validation"]["supervisor"] == "Pat Supervisor"
    assert cert["donor"] == "Coventry City Council" and cert["media"]["asset_tag"]
    assert cert["sanitisation"]["tools"].get("bench")

    text = _pdftotext(pdfs[0])
    for needle in (
        cert["media"]["asset_tag"],
        "Clear",
        "Overwrite",
        "PASSED",
        cert["certificate_uuid"],
        "Pat Supervisor",
        "Coventry Device Bank",
    ):
        assert needle in text, needle
    pages = _render(pdfs[0], tmp_path / "png")
    assert len(pages) == 1
    codes = zxingcpp.read_barcodes(Image.open(pages[0]))
    assert [c.text for c in codes] == [f"https://register.example.org/v1/certificates/{cert['certificate_uuid']}"]

    # the PDF alone, pinned to the station's key
    capsys.readouterr()
    assert main(["certs", "key"]) == 0
    pem = capsys.readouterr().out.split("fingerprint")[0]
    key_file = tmp_path / "station.pem"
    key_file.write_text(pem)
    assert main(["certs", "verify", str(pdfs[0]), "--public-key", str(key_file), "--no-store"]) == 0
    assert "OK" in capsys.readouterr().out
    assert main(["certs", "verify", str(pdfs[0])]) == 0  # and against the local store
    assert "the local store holds the same records" in capsys.readouterr().out

    # the wiped loop device reads as zeros, as the certificate claims
    assert Path(loops.backing(dev)).read_bytes() == bytes(16 * MIB)


def test_batch_pdf_every_page_renders_and_offline_qr_is_the_uuid(station, tmp_path):
    from tests.data.certs.records import add_wipe, device

    envs = [
        ex.issue(station, add_wipe(station.store, device(serial=f"SN-{i}"), r))
        for i, r in enumerate(["passed", "failed", "aborted"])
    ]
    files = ex.write_files(station.config, envs, ("pdf",), tmp_path / "out", "batch CCC-2026-11")
    report = next(f for f in files if f.name.startswith("report_"))
    pages = _render(report, tmp_path / "png", dpi=100)
    assert len(pages) == 2 + 3
    for page in pages:
        img = Image.open(page)
        assert img.size[0] > 700 and img.getextrema() != ((255, 255), (255, 255), (255, 255))  # not blank
    decoded = [c.text for p in pages[2:] for c in zxingcpp.read_barcodes(Image.open(p))]
    assert decoded == [e["certificate"]["certificate_uuid"] for e in envs]
    text = _pdftotext(report)
    assert "FAILED" in text and "ABORTED" in text and "SN-1" in text


class _KeyHandler(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict, str]]] = []  # one handler per request; the test reads them all

    def do_PUT(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, body, self.headers.get("Authorization", "")))
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def test_public_key_is_registered_or_queued(station):
    from bench.certs import sign as signmod

    # offline: queued as a station.key record, once
    assert ex.register_public_key(station) == "queued"
    assert ex.register_public_key(station) == "queued"
    keys = station.store.records(kind="station.key")
    assert len(keys) == 1
    pem = signmod.public_key_pem(signmod.load_or_create_key(station.config))
    assert keys[0].payload == {"algorithm": "Ed25519", "public_key": pem, "fingerprint": signmod.fingerprint(pem)}

    # a register that is down: still queued, nothing lost
    station.config.register_url, station.config.register_token = "http://127.0.0.1:9", "tok"
    station.config.sync.timeout_seconds = 2.0
    assert ex.register_public_key(station) == "queued"

    server = HTTPServer(("127.0.0.1", 0), _KeyHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        station.config.register_url = f"http://127.0.0.1:{server.server_port}/"
        assert ex.register_public_key(station) == "registered"
        assert ex.register_public_key(station) == "already registered"
    finally:
        server.shutdown()
    ((path, body, auth),) = _KeyHandler.received
    assert path == f"/v1/stations/{station.config.station_id}/key"
    assert body["public_key_pem"] == pem and auth == "Bearer tok"
    assert len(station.store.records(kind="station.key")) == 1


def test_with_the_real_register_key_and_certificate_page_agree(tmp_path):
    """The register helper's real service: the key PUT lands, and after a sync the QR target
    (GET /v1/certificates/{uuid}) says every covered record is held and the key matches."""
    import httpx

    from bench.sync.client import sync_once
    from tests.data.certs.records import add_wipe
    from tests.helpers.register_server import RegisterProcess, database_url

    with RegisterProcess.start(database_url("sqlite", tmp_path / "reg")) as reg:
        cfg = configmod.Config(
            station_id="cert-st-1",
            data_dir=str(tmp_path / "bench"),
            register_url=reg.url,
            register_token=reg.token("cert-st-1"),
        )
        with open_station(config=cfg) as station:
            env = ex.issue(station, add_wipe(station.store))
            assert ex.register_public_key(station) == "registered"
            report = sync_once(station)
            assert report.error == "", report.error
            uuid = env["certificate"]["certificate_uuid"]
            page = httpx.get(f"{reg.url}/v1/certificates/{uuid}").json()
            assert page["all_records_held"] is True and page["key_matches"] is True
            assert page["station_key_fingerprint"] == env["signature"]["key_fingerprint_sha256"]
            pem = httpx.get(f"{reg.url}/v1/stations/cert-st-1/key", headers={"accept": "application/x-pem-file"}).text
    # the register's copy of the key pins the certificate
    from bench.certs import verify as ver

    assert ver.verify_bytes(json.dumps(env).encode(), "x", pinned_pem=pem).ok
