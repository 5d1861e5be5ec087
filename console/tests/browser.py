"""Debian's Chromium driven by Playwright, for the console's browser tests.

Under CI (``MODELYARD_REQUIRE_BROWSER=1``, set by .ci/run, which installs Chromium) a missing browser fails
the run; on a developer's machine without it the tests are skipped with a message saying how to get them.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("MODELYARD_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "console"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


def require_browser() -> None:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return
    message = (f"Chromium not found at {CHROMIUM}: console browser tests skipped "
               "(apt-get install -y chromium, or run .ci/run, which installs it)")
    if os.environ.get("MODELYARD_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    require_browser()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes between
    # browser steps are ordinary blocking calls, so Django's async-safety guard is lifted for this test only.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Session:
    """One person's browser context: signs in through the console's form, watches for script and CSP errors."""

    def __init__(self, browser: Any, base: str, username: str, password: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.problems: list[str] = []
        self.page.on("console", lambda msg: msg.type == "error" and self.problems.append(msg.text))
        self.page.on("pageerror", lambda exc: self.problems.append(str(exc)))
        self.page.goto(f"{base}/console/login")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        try:
            self.page.wait_for_url(f"{base}/console/")
        except Exception:
            self.shot(f"sign-in-failed-{username}")
            raise AssertionError(f"{username} could not sign in: {self.page.inner_text('body')[:500]}") from None

    def go(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        return response

    def shot(self, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()
