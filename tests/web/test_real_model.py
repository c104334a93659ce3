"""The page with a real model (SmolLM2-135M through llama.cpp, no scripted LLM): it streams an answer."""

from __future__ import annotations

import pytest

from tests.web.conftest import AppServer
from tests.web.driver import last_bot, open_page, send, wait_turn

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_tiny_model_streams_an_answer(browser, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    server = AppServer(home, auth=False, args=("--no-prewarm",),
                       extra_env={"TUTOR_TEST_SCRIPTED_LLM": "0", "TUTOR_MAX_NEW_TOKENS": "48",
                                  "TUTOR_CONTEXT_WINDOW": "2048"})
    try:
        server.wait_http()
        server.wait_corpus()
        page = open_page(browser, server.url)
        before = send(page, "What does dropout do?")
        # Text shows before the turn ends: streamed, not delivered whole.
        page.wait_for_function("""n => {
            const bots = [...document.querySelectorAll('#chat [data-testid=bot]')].filter(b => !b.querySelector('.thought-group'));
            const a = bots[bots.length - 1];
            return a && !a.querySelector('.thinking') && a.innerText.trim().length > 0
                   && document.querySelectorAll('#chat .turn-meta, #chat .turn-error').length === n;
        }""", arg=before, timeout=240_000)
        wait_turn(page, before, timeout_s=240)
        bot = last_bot(page)
        assert bot.locator(".turn-error").count() == 0, bot.inner_text()
        assert "model smollm2-135m" in bot.locator(".turn-meta").inner_text()
        assert len(bot.inner_text().split("explain ·")[0].strip()) > 10
        page.context.close()
    finally:
        server.stop()
