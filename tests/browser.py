"""Headless Chromium (Debian's ``chromium``) driven by Playwright, against the app served by uvicorn in a thread.

In CI the browser must be there (``.ci/run`` installs it); elsewhere the browser tests skip, saying why.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pyotp
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pgcluster import in_ci

PASSWORD = "browser test password"
"""The password of every staff user the browser tests create."""

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("KIBAN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        if in_ci():
            pytest.fail("chromium is not installed (CI must install Debian's chromium)")
        pytest.skip("chromium not installed: browser tests skipped (apt-get install chromium)")
    with sync_playwright() as p:  # Playwright gives the browser a fresh, empty profile
        launched = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


class LiveServer:
    """Serve ``app`` on a free local port until ``stop``."""

    def __init__(self, app: FastAPI) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="ja-JP")
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page: Page, server: LiveServer, *, lg_code: str, user_id: str, totp_secret: str) -> None:
    """Sign in as a staff user (password ``PASSWORD``) with the second factor."""
    page.goto(server.url + "/")
    page.get_by_label("団体コード（6桁）").fill(lg_code)
    page.get_by_label("ユーザーID").fill(user_id)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.get_by_label("確認コード").fill(pyotp.TOTP(totp_secret).now())
    page.get_by_role("button", name="確認").click()
    expect(page.get_by_role("button", name="ログアウト")).to_be_visible()
