"""Debian's headless Chromium driven by Selenium through Debian's chromium-driver (no browser is
ever downloaded: Selenium Manager is bypassed by naming both binaries)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # we run as root in tests
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


def available() -> bool:
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


class Browser:
    """One Chromium with a fresh profile and its own download folder."""

    def __init__(self, width: int = 1280, height: int = 900) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = Path(tempfile.mkdtemp(prefix="bench-chromium-"))
        self.downloads = self.profile / "downloads"
        self.downloads.mkdir()
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile / 'profile'}")
        options.add_experimental_option(
            "prefs",
            {
                "download.default_directory": str(self.downloads),
                "download.prompt_for_download": False,
                "safebrowsing.enabled": False,
            },
        )
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_window_size(width, height)
        self.driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(self.downloads)}
        )
        self.driver.set_page_load_timeout(30)

    # -- small helpers ----------------------------------------------------------------------
    def get(self, url: str) -> None:
        self.driver.get(url)

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def click_and_wait(self, css: str, timeout: float = 15.0) -> None:
        """Click (a submit button or link) and wait until the next page has replaced this one."""
        from selenium.webdriver.support.ui import WebDriverWait

        old = self.find("html")
        self.find(css).click()
        WebDriverWait(self.driver, timeout).until(lambda _driver: _gone(old))

    def text(self, css: str = "main") -> str:
        return str(self.find(css).text)

    @property
    def path(self) -> str:
        from urllib.parse import urlsplit

        return urlsplit(self.driver.current_url).path

    def status_of(self, url: str) -> int:
        """The HTTP status of a GET made by the page itself (its cookies, its origin)."""
        return int(self.driver.execute_script("const r = await fetch(arguments[0]); return r.status;", url))

    def cookies(self) -> dict[str, dict[str, Any]]:
        return {c["name"]: c for c in self.driver.get_cookies()}

    def clear_cookies(self) -> None:
        self.driver.delete_all_cookies()

    def wait_for_download(self, suffix: str, timeout: float = 20.0) -> Path:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [p for p in self.downloads.iterdir() if p.name.endswith(suffix)]
            partial = [p for p in self.downloads.iterdir() if p.name.endswith(".crdownload")]
            if done and not partial:
                return done[0]
            time.sleep(0.1)
        raise AssertionError(f"no {suffix} download within {timeout}s: {list(self.downloads.iterdir())}")

    def clear_downloads(self) -> None:
        for p in self.downloads.iterdir():
            p.unlink()

    def screenshot(self, path: Path, width: int | None = None) -> None:
        """The whole page at this width (not only the viewport), as PNG."""
        import base64

        self.driver.set_window_size(width or 1280, 900)
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width or 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width or 1280, "height": min(size["height"], 3000), "scale": 1},
            },
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        self.driver.set_window_size(1280, 900)

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def _gone(element: Any) -> bool:
    """Has the page that held `element` been replaced? Selenium's staleness_of only knows the
    StaleElementReference answer; while a navigation is in flight, Chromium may instead answer
    "Node with given id does not belong to the document" (an unknown error): gone as well."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc) or "No node with given id" in str(exc):
            return True
        raise
    return False
