"""Headless Chromium through Selenium, for the HTML report's browser tests, benchmark and
screenshot. ``scripts/run-tests`` installs Debian's ``chromium`` and ``chromium-driver``."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from selenium.webdriver import Chrome

__all__ = ["find_chromium", "start_chromium"]

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> tuple[str, str] | str:
    """``(browser, driver)`` paths, or why they cannot be used."""
    browser = next((p for p in map(shutil.which, _BROWSERS) if p), None)
    driver = shutil.which("chromedriver")
    missing = [name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path]
    if missing:
        return (
            f"{' and '.join(missing)} not found on PATH: scripts/run-tests installs Debian's "
            "chromium and chromium-driver when run as root (apt-get install chromium "
            "chromium-driver)"
        )
    assert browser is not None
    assert driver is not None
    return browser, driver


def start_chromium(width: int = 1280, height: int = 900, *, dark: bool = False) -> Chrome:
    """A headless Chromium (raises when the browser is missing or does not start)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    found = find_chromium()
    if isinstance(found, str):
        raise RuntimeError(found)
    browser, driver = found
    options = Options()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in CI containers
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-extensions",
        "--no-first-run",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        "--force-device-scale-factor=1",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    if dark:
        set_color_scheme(chrome, "dark")
    return chrome


def set_color_scheme(chrome: Any, scheme: str) -> None:
    """Emulate ``prefers-color-scheme: scheme`` (``light`` or ``dark``)."""
    chrome.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )


def screenshot_report(
    chrome: Any, page: str, png: str, *, search: str, width: int = 1200, height: int = 1500
) -> bytes:
    """Load the HTML report ``page`` (a path), search for ``search``, open the first row (its
    models side by side) and save a screenshot of the viewport to ``png``; returns the PNG."""
    from pathlib import Path

    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.wait import WebDriverWait

    chrome.set_window_size(width, height)
    set_color_scheme(chrome, "light")
    chrome.get(Path(page).resolve().as_uri())
    WebDriverWait(chrome, 10).until(
        lambda d: d.execute_script("return document.documentElement.dataset.tests") == "ready"
    )
    box = chrome.find_element(By.ID, "f-search")
    box.send_keys(search, Keys.ENTER)
    chrome.find_element(By.CSS_SELECTOR, "#tests tbody tr.row button.open").click()
    chrome.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
    data: bytes = chrome.get_screenshot_as_png()
    Path(png).write_bytes(data)
    return data
