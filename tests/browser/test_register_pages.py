"""The register's pages in a real headless Chromium against a real register process (SQLite and
PostgreSQL), over a scenario made by real stations and sync: sign in as each role and walk the
pages; every page refused to every role it is not for; a donor contact cannot reach another
donor's batch by URL; upload a manifest, download the certificates ZIP, read the impact PDF."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import httpx
import pdfplumber
import pytest

from tests.browser.chromium import Browser
from tests.browser.scenario import ACME_MANIFEST, PASSWORD, ROLES, USER_OF_ROLE, Scenario

pytestmark = pytest.mark.browser

STAFF = {"admin", "coordinator", "supervisor", "auditor"}


def pages(sc: Scenario) -> dict[str, set[str]]:
    """Every page (GET) and the roles it is for; every other role is refused."""
    acme, nhs, wolv = sc.batches["ACME-1"], sc.batches["NHS-1"], sc.batches["WOLV-1"]
    sa1 = sc.devices["SA1"]["device_id"]
    return {
        "/dashboard": {"admin", "coordinator", "supervisor"},
        "/devices": STAFF,
        f"/devices/{sa1}": STAFF | {"donor_contact"},  # the donor contact is Acme's
        f"/devices/{sc.devices['SN1']['device_id']}": STAFF,  # NHS's device: not for Acme's contact
        f"/devices/{sc.devices['SW1']['device_id']}": set(),  # another organisation's device
        "/batches": STAFF | {"donor_contact"},
        f"/batches/{acme}": STAFF | {"donor_contact"},
        f"/batches/{acme}/certificates.zip": STAFF | {"donor_contact"},
        f"/batches/{acme}/report.pdf": STAFF | {"donor_contact"},
        f"/batches/{nhs}": STAFF,
        f"/batches/{nhs}/certificates.zip": STAFF,
        f"/batches/{wolv}": set(),
        "/donor": {"admin", "coordinator", "supervisor", "donor_contact"},
        f"/donor/{sc.donors['Acme Ltd']}": {"admin", "coordinator", "supervisor", "donor_contact"},
        f"/donor/{sc.donors['Acme Ltd']}/impact.pdf": {"admin", "coordinator", "supervisor", "donor_contact"},
        f"/donor/{sc.donors['NHS Trust']}": {"admin", "coordinator", "supervisor"},
        f"/donor/{sc.donors['NHS Trust']}/impact.pdf": {"admin", "coordinator", "supervisor"},
        f"/donor/{sc.donors['Wolves FC']}": set(),
        "/audit": {"admin", "auditor"},
        "/audit/samples": {"admin", "auditor"},
        "/audit/stations/st-cov-1": {"admin", "auditor"},
        "/regional": {"admin"},
        "/regional.csv": {"admin"},
        "/allocations": STAFF | {"partner"},
        f"/check/{sc.devices['SA1']['certificate_uuid']}": set(ROLES) | {"anonymous"},
    }


def _sign_in(browser: Browser, sc: Scenario, username: str, password: str = PASSWORD) -> None:
    browser.clear_cookies()
    browser.get(sc.url + "/signin")
    browser.find("#username").send_keys(username)
    browser.find("#password").send_keys(password)
    browser.click_and_wait("form.stack button[type=submit]")


def _fetch(browser: Browser, path: str) -> dict:
    """GET from inside the page (its cookies), following redirects: the final status and path."""
    return browser.driver.execute_script(  # type: ignore[no-any-return]
        "const r = await fetch(arguments[0]); return {status: r.status, path: new URL(r.url).pathname};", path
    )


def words(text: str) -> str:
    """Text as read aloud: cards print the number above its label, so whitespace is folded."""
    return " ".join(text.split())


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_every_page_is_refused_to_every_role_it_is_not_for(browser: Browser, site: Scenario, role: str) -> None:
    if role == "anonymous":
        browser.clear_cookies()
        browser.get(site.url + "/check")
    else:
        _sign_in(browser, site, USER_OF_ROLE[role])
        assert browser.path != "/signin", browser.text()
    wrong = []
    for path, roles in pages(site).items():
        got = _fetch(browser, path)
        if role in roles:
            ok = got["status"] == 200 and got["path"] != "/signin"
        elif role == "anonymous":
            ok = got["path"] == "/signin"  # sent to sign in, nothing shown
        else:
            ok = got["status"] in (403, 404)
        if not ok:
            wrong.append((path, got))
    assert not wrong, f"{role}: {wrong}"


def _a_sample(browser: Browser, site: Scenario) -> tuple[str, str]:
    """A validation sample the auditor drew through the form (once per register): its id and one wipe in it."""
    if "sample" not in site.made:
        _sign_in(browser, site, "audit")
        browser.get(site.url + "/audit/samples")
        pct = browser.find("#percent")
        pct.clear()
        pct.send_keys("100")
        browser.click_and_wait("form.inline button")
        site.made["sample"] = browser.path.rsplit("/", 1)[1]
        site.made["wipe"] = str(browser.find("form.inline input[name=wipe_uuid]").get_attribute("value"))
    return site.made["sample"], site.made["wipe"]


def forms(sc: Scenario, sample: str, wipe: str) -> list[tuple[str, dict[str, str], set[str]]]:
    """Every form the pages post (path, fields, the roles it is for); a manifest field is a file."""
    return [
        ("/audit/samples", {"percent": "50"}, {"auditor"}),
        (
            f"/audit/samples/{sample}/rechecks",
            {"wipe_uuid": wipe, "method": "evidence review", "outcome": "confirmed", "notes": "matrix"},
            {"auditor"},
        ),
        (f"/batches/{sc.batches['ACME-1']}/manifest", {"manifest": "Serial Number\nSA1\n"}, {"admin", "coordinator"}),
        (f"/batches/{sc.batches['NHS-1']}/manifest", {"manifest": "Serial Number\nSN1\n"}, {"admin", "coordinator"}),
        (f"/batches/{sc.batches['WOLV-1']}/manifest", {"manifest": "Serial Number\nSW1\n"}, set()),
    ]


_POST_FROM_PAGE = """
const [path, fields] = arguments;
const form = new FormData();
form.append('csrf_token', document.querySelector("input[name=csrf_token]").value);
for (const [k, v] of Object.entries(fields)) {
  if (k === 'manifest') form.append(k, new Blob([v], {type: 'text/csv'}), 'matrix.csv');
  else form.append(k, v);
}
const r = await fetch(path, {method: 'POST', body: form, redirect: 'manual'});
return r.type === 'opaqueredirect' ? 303 : r.status;
"""


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_every_form_is_refused_to_every_role_it_is_not_for(browser: Browser, site: Scenario, role: str) -> None:
    """The POST side of the matrix: with the session's own valid CSRF token, so that only the role
    check can refuse; a refused form changes nothing (the sample keeps its re-checks, the batch its
    manifest)."""
    sample, wipe = _a_sample(browser, site)
    before = _fetch_json(browser, site, "audit", f"/audit/samples/{sample}?format=json")
    batches_before = {
        ref: _fetch_json(browser, site, "coord", f"/batches/{b}?format=json")
        for ref, b in site.batches.items()
        if ref != "WOLV-1"
    }
    wrong = []
    if role == "anonymous":
        for path, fields, _ in forms(site, sample, wipe):
            files = {"manifest": ("m.csv", fields.pop("manifest").encode())} if "manifest" in fields else None
            r = httpx.post(
                site.url + path, data=fields, files=files, headers={"Origin": site.url}, follow_redirects=False
            )
            if not (r.status_code in (401, 403) or r.headers.get("location", "").startswith("/signin")):
                wrong.append((path, r.status_code, r.headers.get("location")))
    else:
        _sign_in(browser, site, USER_OF_ROLE[role])
        browser.get(site.url + "/allocations" if role == "partner" else site.url + "/batches")
        for path, fields, roles in forms(site, sample, wipe):
            if role in roles:
                continue  # the allowed side is walked by the upload and sampling tests
            status = browser.driver.execute_script(_POST_FROM_PAGE, path, fields)
            if status not in (403, 404):
                wrong.append((path, status))
    assert not wrong, f"{role}: {wrong}"
    assert _fetch_json(browser, site, "audit", f"/audit/samples/{sample}?format=json") == before
    for ref, b in site.batches.items():
        if ref != "WOLV-1":
            assert _fetch_json(browser, site, "coord", f"/batches/{b}?format=json") == batches_before[ref]


def _fetch_json(browser: Browser, site: Scenario, username: str, path: str) -> object:
    _sign_in(browser, site, username)
    return browser.driver.execute_script("const r = await fetch(arguments[0]); return await r.json();", path)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_signs_in_and_walks_its_pages(browser: Browser, site: Scenario, role: str) -> None:
    _sign_in(browser, site, USER_OF_ROLE[role])
    first = browser.path
    links = [(a.text, a.get_attribute("href")) for a in browser.find_all("nav.main a")]
    assert links, f"{role} has no navigation"
    assert any(first == href.split(site.url, 1)[1] for _, href in links)
    for label, href in links:
        browser.get(href)
        assert browser.find("h1").text, (label, href)
        assert "Not allowed" not in browser.text() and "Internal Server Error" not in browser.driver.page_source
        current = browser.find("nav.main a[aria-current=page]")
        assert current.text == label
    browser.click_and_wait("header.site form button")  # sign out
    assert browser.path == "/signin"
    assert _fetch(browser, links[0][1])["path"] == "/signin"


def test_session_cookie_is_httponly_and_samesite_and_sign_in_rotates_it(browser: Browser, site: Scenario) -> None:
    _sign_in(browser, site, "coord")
    cookie = browser.cookies()["bench_session"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert browser.driver.execute_script("return document.cookie") == ""  # no script can read it
    first = cookie["value"]
    assert httpx.get(site.url + "/dashboard", cookies={"bench_session": first}).status_code == 200
    browser.click_and_wait("header.site form button")  # sign out ends the session on the register
    old = httpx.get(site.url + "/dashboard", cookies={"bench_session": first}, follow_redirects=False)
    assert old.status_code == 303 and old.headers["location"].startswith("/signin")
    _sign_in(browser, site, "coord")
    assert browser.cookies()["bench_session"]["value"] != first


def test_dashboard_shows_todays_work(browser: Browser, site: Scenario) -> None:
    _sign_in(browser, site, "super")
    assert browser.path == "/dashboard"
    today = words(browser.find("ul.cards[aria-label=Today]").text)
    assert "4 wiped and passed" in today and "1 failed" in today and "5 received" in today
    failed = browser.text("section[aria-labelledby=h-failed]")
    assert sc_tag(site, "SA3") in failed and "verification found 3 mismatched sectors" in failed
    stations = browser.text("section[aria-labelledby=h-stations]")
    assert "st-cov-1" in stations and "st-wolv-1" not in stations
    svg = browser.find("section[aria-labelledby=h-through] svg")
    assert svg.get_attribute("role") == "img"
    twin = browser.driver.execute_script("const r = await fetch('/dashboard?format=json'); return await r.json();")
    assert twin["periods"][0]["wiped"]["passed"] == 4 and twin["periods"][0]["wiped"]["failed"] == 1
    anonymous = httpx.get(site.url + "/dashboard?format=json", follow_redirects=False)
    assert anonymous.status_code == 401 and "periods" not in anonymous.text


def sc_tag(site: Scenario, serial: str) -> str:
    return site.devices[serial]["asset_tag"]


def test_find_a_device_and_follow_its_timeline(browser: Browser, site: Scenario) -> None:
    _sign_in(browser, site, "coord")
    browser.get(site.url + "/devices")
    browser.find("#q").send_keys(sc_tag(site, "SA3"))
    browser.click_and_wait("form[role=search] button")
    assert browser.path == f"/devices/{site.devices['SA3']['device_id']}"
    page = browser.text()
    for expected in (
        "Wipe failed",
        "Health poor",
        "412 reallocated sectors",
        "Clear (nist-clear)",
        "sample, 1.0 % covered, 3 mismatches",
        "MB/s average",
        "Label printed",
        "ACME-1",
        site.devices["SA3"]["certificate_uuid"],
    ):
        assert expected in page, expected
    browser.get(site.url + "/devices?q=SA1")  # by serial
    assert browser.path == f"/devices/{site.devices['SA1']['device_id']}"
    browser.get(site.url + "/devices?q=SW1")  # another organisation's serial
    assert "0 found" in browser.text()


def test_upload_a_manifest_and_see_each_reconciliation_list(browser: Browser, site: Scenario, tmp_path) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "acme manifest.csv"
    manifest.write_bytes(ACME_MANIFEST)
    _sign_in(browser, site, "coord")
    browser.get(f"{site.url}/batches/{site.batches['ACME-1']}")
    browser.find("#manifest").send_keys(str(manifest))
    browser.click_and_wait("form[enctype='multipart/form-data'] button")
    assert "Manifest read: 4 expected devices." in browser.text()

    def listed(name: str) -> str:
        return browser.text(f"section[aria-labelledby=list-{name}]")

    assert "Expected (4)" in listed("expected") and "ACME-0004" in listed("expected")
    assert "Received (4)" in listed("received")
    assert "Wiped (3)" in listed("wiped")
    assert "Failed (1)" in listed("failed") and "SA3" in listed("failed")
    assert "Missing (1)" in listed("missing") and "SA4" in listed("missing")
    assert "Unexpected (1)" in listed("unexpected") and "SX9" in listed("unexpected")
    browser.get(site.url + "/devices?q=ACME-0002")  # found by the donor's own tag from the manifest
    assert browser.path == f"/devices/{site.devices['SA2']['device_id']}"


def test_manifest_upload_needs_the_forms_csrf_token(browser: Browser, site: Scenario) -> None:
    _sign_in(browser, site, "coord")
    session = browser.cookies()["bench_session"]["value"]
    url = f"{site.url}/batches/{site.batches['ACME-1']}/manifest"
    files = {"manifest": ("m.csv", b"Serial Number\nEVIL1\n", "text/csv")}
    no_token = httpx.post(url, files=files, cookies={"bench_session": session})
    assert no_token.status_code == 403
    forged = httpx.post(url, files=files, data={"csrf_token": "0" * 64}, cookies={"bench_session": session})
    assert forged.status_code == 403
    browser.get(f"{site.url}/batches/{site.batches['ACME-1']}")
    token = browser.find("input[name=csrf_token]").get_attribute("value")
    cross = httpx.post(
        url,
        files=files,
        data={"csrf_token": token},
        cookies={"bench_session": session},
        headers={"Origin": "http://evil.example"},
    )
    assert cross.status_code == 403
    assert "EVIL1" not in browser.text()


def test_donor_contact_sees_only_their_batches_and_downloads_the_zip(
    browser: Browser,
    site: Scenario,
    downloads,  # type: ignore[no-untyped-def]
) -> None:
    _sign_in(browser, site, "acme")
    browser.get(site.url + "/batches")
    listed = browser.text()
    assert "ACME-1" in listed and "NHS-1" not in listed and "WOLV-1" not in listed
    for other in (site.batches["NHS-1"], site.batches["WOLV-1"]):
        browser.get(f"{site.url}/batches/{other}")
        assert browser.find("h1").text == "Not found"
        assert "NHS" not in browser.text() and "SN1" not in browser.driver.page_source
    browser.get(f"{site.url}/batches/{site.batches['ACME-1']}")
    browser.find("a[href$='certificates.zip']").click()
    path = browser.wait_for_download(".zip")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        index = list(csv.DictReader(io.StringIO(zf.read("index.csv").decode())))
        wanted = {site.devices[s]["certificate_uuid"] for s in ("SA1", "SA2", "SA3", "SX9")}
        assert {row["certificate_uuid"] for row in index} == wanted
        for uuid in wanted:
            doc = json.loads(zf.read(f"certificate-{uuid}.json"))
            assert doc["certificate_uuid"] == uuid
            assert f"certificate-{uuid}.pdf" in names
        failed = json.loads(zf.read(f"certificate-{site.devices['SA3']['certificate_uuid']}.json"))
        assert failed["result"] == "failed" and failed["valid"] is False
    assert site.devices["SN1"]["certificate_uuid"] not in " ".join(names)


def test_donor_impact_page_and_pdf_state_the_estimate_and_its_factors(
    browser: Browser,
    site: Scenario,
    downloads,  # type: ignore[no-untyped-def]
) -> None:
    _sign_in(browser, site, "acme")
    browser.get(site.url + "/donor")
    assert browser.path == f"/donor/{site.donors['Acme Ltd']}"
    page = words(browser.text())
    assert "4 received" in page and "3 reused" in page and "0 recycled" in page
    assert "≈ 708 kgCO2e" in page and "boavizta-2026.1" in page and "never a carbon offset" in page
    browser.find("a[href$='impact.pdf']").click()
    with pdfplumber.open(browser.wait_for_download(".pdf")) as pdf:
        text = "\n".join(p.extract_text() or "" for p in pdf.pages)
    assert "Impact report: Acme Ltd" in text
    assert "Received 4" in text and "Reused 3" in text
    assert "≈ 708 kgCO2e" in text and "laptop" in text and "236.0" in text
    assert "Factors" in text and "boavizta-2026.1" in text
    assert "offset" not in text.replace("never a carbon offset", "")
    assert "NHS" not in text


def test_public_certificate_check_needs_no_sign_in(browser: Browser, site: Scenario) -> None:
    browser.clear_cookies()
    browser.get(f"{site.url}/check/{site.devices['SA1']['certificate_uuid']}")
    assert browser.find("#verdict").text == "Valid certificate"
    shown = browser.text()
    assert "st-cov-1" in shown and "SA1" not in shown and "Acme" not in shown  # only what the certificate holds
    browser.get(f"{site.url}/check/{site.devices['SA3']['certificate_uuid']}")
    assert browser.find("#verdict").text == "Not valid"
    assert "did not pass (failed)" in browser.text()
    browser.get(site.url + "/check")
    browser.find("#certificate").send_keys("00000000-0000-4000-8000-000000000000")
    browser.click_and_wait("form[role=search] button")
    assert "No certificate with this number is on the register" in browser.text()


def test_auditor_verifies_chains_and_records_validation_sampling(browser: Browser, site: Scenario) -> None:
    _sign_in(browser, site, "audit")
    browser.get(site.url + "/audit")
    chains = browser.text("section[aria-labelledby=h-chains]")
    assert "st-cov-1" in chains and "st-wolv-1" not in chains
    browser.click_and_wait("a[href='/audit/stations/st-cov-1']")
    assert browser.find("#chain-verdict").text.startswith("Chain verified: ")
    assert _fetch(browser, "/audit/stations/st-wolv-1")["status"] == 404  # another organisation's station
    browser.get(site.url + "/audit")
    assert "current" in browser.text("section[aria-labelledby=h-keys]")
    browser.get(site.url + "/audit/samples")
    pct = browser.find("#percent")
    pct.clear()
    pct.send_keys("50")
    browser.click_and_wait("form.inline button")
    assert browser.path.startswith("/audit/samples/")
    assert "50 % of 4 passed wipes" in browser.text()
    assert "2 in the sample" in words(browser.text()) and "2 still to re-check" in words(browser.text())
    browser.find("form.inline select[name=outcome]").send_keys("confirmed")
    browser.find("form.inline input[name=notes]").send_keys("re-read 1000 sectors: zeros")
    browser.click_and_wait("form.inline button")
    report = words(browser.text("ul.cards"))
    assert "1 confirmed" in report and "1 still to re-check" in report
    assert "by audit" in browser.text() and "re-read 1000 sectors: zeros" in browser.text()


def test_regional_snapshot_has_aggregates_only(browser: Browser, site: Scenario) -> None:
    _sign_in(browser, site, "admin")
    browser.get(site.url + "/regional")
    page = words(browser.text())
    assert "Coventry Device Bank" in page and "Wolverhampton Reuse Hub" in page
    assert "6 received" in page
    csv_text = browser.driver.execute_script("const r = await fetch('/regional.csv'); return await r.text();")
    assert "total,all,6," in csv_text
    for serial, dev in site.devices.items():
        assert serial not in csv_text and dev["asset_tag"] not in csv_text and dev["device_id"] not in page


def test_keyboard_skip_link_labels_and_focus(browser: Browser, site: Scenario) -> None:
    from selenium.webdriver.common.keys import Keys

    _sign_in(browser, site, "coord")
    for path in ("/dashboard", f"/batches/{site.batches['ACME-1']}", "/devices", "/donor"):
        browser.get(site.url + path)
        body = browser.find("body")
        body.send_keys(Keys.TAB)
        active = browser.driver.switch_to.active_element
        assert active.text == "Skip to main content", path
        active.send_keys(Keys.ENTER)
        assert browser.driver.switch_to.active_element.get_attribute("id") == "main", path
        unlabeled = browser.driver.execute_script(
            "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
            ".filter(e => !(e.id && document.querySelector(`label[for='${e.id}']`)) && !e.closest('label')"
            " && !e.getAttribute('aria-label')).map(e => e.name);"
        )
        assert unlabeled == [], (path, unlabeled)


def test_sign_in_attempts_are_rate_limited(browser: Browser, site: Scenario) -> None:
    """Last in the module: it locks `super` out of this register process for 15 minutes."""
    for _ in range(5):
        _sign_in(browser, site, "super", "not the password at all")
        assert "do not match" in browser.text()
    _sign_in(browser, site, "super", PASSWORD)  # even the right password waits now
    assert "Too many failed sign-ins" in browser.text()
    assert browser.path == "/signin" and "bench_session" not in browser.cookies()
