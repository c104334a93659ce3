"""First launch on an empty data dir: the page opens at once and says the knowledge base is building."""

from __future__ import annotations

import pytest

from tests.web.conftest import AppServer
from tests.web.driver import goto_tab, last_bot, open_page, send, wait_turn

pytestmark = pytest.mark.integration


@pytest.mark.slow
def test_the_page_opens_while_the_knowledge_base_builds(browser, tmp_path, shots):
    home = tmp_path / "home"
    home.mkdir()
    server = AppServer(home, auth=False, args=("--no-prewarm",))
    try:
        server.wait_http()
        page = open_page(browser, server.url)
        banner = page.locator("#banner")
        assert "building the knowledge base" in banner.inner_text()
        page.wait_for_function("() => document.querySelector('#msg textarea').placeholder.includes('building')")
        assert "Local user" in page.locator("#who").inner_text()  # no logins: the one local learner
        page.screenshot(path=str(shots / "first-launch.png"))
        # A question now gets a clear answer instead of silence.
        before = send(page, "What does dropout do?")
        wait_turn(page, before, timeout_s=20)
        notice = last_bot(page).locator(".turn-notice")
        assert notice.count() == 1 and "building the knowledge base" in notice.inner_text()
        # The banner moves on while the build runs (its elapsed seconds at least).
        first = banner.inner_text()
        page.wait_for_function("t => document.querySelector('#banner').innerText !== t", arg=first, timeout=10_000)
        goto_tab(page, "Status")
        page.wait_for_selector("#status table.status")
        assert "building the knowledge base" in page.locator("#status").inner_text()
        page.context.close()
    finally:
        server.stop()
