"""Regenerate the register page screenshots in docs/images (PNG) from a real register process in
headless Chromium, over the same scenario the browser tests build (real stations, real sync).

    .venv/bin/python docs/images/register_screenshots.py      # writes docs/images/register-*.png

Needs Debian's chromium and chromium-driver (`make setup` installs them). The register and the
stations live in a temp dir that is removed afterwards.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.browser.chromium import Browser  # noqa: E402
from tests.browser.scenario import ACME_MANIFEST, PASSWORD, build  # noqa: E402
from tests.helpers.register_server import RegisterProcess  # noqa: E402

# (file, user or None, path, width)
SHOTS = [
    ("register-check.png", None, "/check/{cert_sa1}", 1024),
    ("register-dashboard.png", "super", "/dashboard", 1280),
    ("register-device.png", "coord", "/devices/{device_sa3}", 1280),
    ("register-batch.png", "coord", "/batches/{acme}", 1280),
    ("register-impact.png", "acme", "/donor/{acme_donor}", 1024),
    ("register-audit.png", "audit", "/audit", 1280),
    ("register-sample.png", "audit", "/audit/samples/1", 1280),
    ("register-regional.png", "admin", "/regional", 1280),
    ("register-dashboard-tablet.png", "coord", "/dashboard", 768),
]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-register-shots-") as tmp:
        root = Path(tmp)
        with RegisterProcess.start(str(root / "register.db")) as reg:
            sc = build(reg, root)
            values = {
                "cert_sa1": sc.devices["SA1"]["certificate_uuid"],
                "device_sa3": sc.devices["SA3"]["device_id"],
                "acme": sc.batches["ACME-1"],
                "acme_donor": sc.donors["Acme Ltd"],
            }
            browser = Browser()
            try:
                _prepare(browser, reg.url, sc.batches["ACME-1"], root)
                for name, user, path, width in SHOTS:
                    browser.clear_cookies()
                    if user:
                        _sign_in(browser, reg.url, user)
                    browser.get(reg.url + path.format(**values))
                    browser.screenshot(HERE / name, width)
                    print(f"wrote docs/images/{name}")
            finally:
                browser.quit()


def _sign_in(browser: Browser, url: str, user: str) -> None:
    browser.get(url + "/signin")
    browser.find("#username").send_keys(user)
    browser.find("#password").send_keys(PASSWORD)
    browser.click_and_wait("form.stack button[type=submit]")


def _prepare(browser: Browser, url: str, acme: str, root: Path) -> None:
    """The manifest uploaded and a validation sample drawn, as a coordinator and an auditor would."""
    manifest = root / "acme-manifest.csv"
    manifest.write_bytes(ACME_MANIFEST)
    _sign_in(browser, url, "coord")
    browser.get(f"{url}/batches/{acme}")
    browser.find("#manifest").send_keys(str(manifest))
    browser.click_and_wait("form[enctype='multipart/form-data'] button")
    browser.clear_cookies()
    _sign_in(browser, url, "audit")
    browser.get(url + "/audit/samples")
    browser.click_and_wait("form.inline button")
    browser.click_and_wait("form.inline button")  # one re-check recorded (the first wipe, 'confirmed')


if __name__ == "__main__":
    main()
