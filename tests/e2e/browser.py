"""Real Chromium (Debian's, installed by scripts/system-packages) driven by Playwright."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("WANGUA_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
FLAGS = [
    "--no-sandbox",  # tests run as root in CI containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def serious_accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => {
            const report = await axe.run(document, {resultTypes: ["violations"]});
            return report.violations
              .filter(v => v.impact === "serious" || v.impact === "critical")
              .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "));
        }"""
    )
    return list(found)


def screenshot(page: Page, name: str) -> None:
    """Saved into WANGUA_SCREENSHOTS when set (scripts/screenshots sets it to docs/screenshots)."""
    folder = os.environ.get("WANGUA_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def yuan_pattern(amount: str) -> re.Pattern[str]:
    """An amount as the pages write it: thousands separators and two decimals."""
    whole, _, cents = amount.partition(".")
    return re.compile(re.escape(f"{int(whole):,}.{(cents or '00')[:2]}"))
