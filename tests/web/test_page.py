"""The page end to end: a real app process, real Chromium, one login per test.

Only the model is scripted (tests/web/scripted_llm.py); retrieval, memory, the lab and the
browser are real. What each test checks is what a learner would see.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.web.conftest import USERS
from tests.web.driver import (
    ask,
    drawn_curves,
    dropdown_options,
    goto_tab,
    last_bot,
    open_page,
    pick_dropdown,
    send,
    wait_turn,
)

pytestmark = pytest.mark.integration


def login(browser, app, user: str):
    return open_page(browser, app.url, user, USERS[user])


def test_question_streams_a_cited_answer_and_opens_the_passage(browser, app, shots):
    page = login(browser, app, "ada")
    bot = ask(page, "What does dropout do?")
    # The answer links its marker to the exact passage, closed until asked for.
    marker = bot.locator("a.cite-ref").first
    assert marker.inner_text() == "[1]"
    passage = page.locator(marker.get_attribute("href"))
    assert passage.evaluate("d => d.tagName") == "DETAILS" and not passage.evaluate("d => d.open")
    marker.click()
    page.wait_for_function("id => document.getElementById(id).open", arg=marker.get_attribute("href")[1:])
    summary = passage.locator("summary").inner_text()
    assert summary.startswith("[1] ") and len(summary) > 6
    text = passage.locator(".passage-text").inner_text()
    quoted = re.search(r'"(.+?) …"', bot.inner_text()).group(1)
    assert " ".join(quoted.split()[:6]) in " ".join(text.split()).replace("[", "(").replace("]", ")")
    assert passage.locator(".passage-source code").inner_text()  # the source id, e.g. paper:...
    # Markdown and code render; a bracket inside code is not a citation.
    code = bot.locator("pre code").inner_text()
    assert "torch.nn.Dropout" in code and bot.locator("pre a.cite-ref").count() == 0
    # The step shows what the tool did.
    assert page.locator("#chat", has_text="Searched the knowledge base").count() == 1
    page.screenshot(path=str(shots / "chat-cited-passage.png"), full_page=True)
    # Reopened later, the reply still links its marker to the same passage.
    page.locator("#new-session").click()
    page.wait_for_function("() => !document.querySelector('#chat').innerText.includes('torch.nn.Dropout')")
    pick_dropdown(page, "sessions", "What does dropout do?")
    page.wait_for_selector("#chat a.cite-ref")
    again = page.locator("#chat a.cite-ref").first
    again.click()
    page.wait_for_function("id => document.getElementById(id).open", arg=again.get_attribute("href")[1:])
    reopened = page.locator(again.get_attribute("href")).locator(".passage-text").inner_text()
    assert reopened == text
    page.context.close()


def test_guide_mode_answers_with_a_question(browser, app):
    page = login(browser, app, "grace")
    page.locator("#mode label", has_text="guide").click()
    bot = ask(page, "What does dropout do?")
    assert bot.locator(".turn-meta.mode-guide").count() == 1
    reply = bot.inner_text()
    assert "?" in reply.split("A place to look")[0]
    assert "According to my sources" not in reply  # guide mode never hands over the answer
    # The session keeps its mode: reopened, the switch shows guide again.
    page.locator("#new-session").click()
    page.locator("#mode label", has_text="explain").click()
    pick_dropdown(page, "sessions", "What does dropout do?")
    page.wait_for_function("() => document.querySelector('#mode input[value=guide]').checked")
    page.context.close()


@pytest.mark.slow
def test_two_browsers_do_not_see_each_other(browser, app):
    alice = login(browser, app, "alice")
    bob = login(browser, app, "bob")
    ask(alice, "What is a convolution? asks alice-only-marker")
    assert "alice-only-marker" not in bob.locator("#chat").inner_text()
    bob.reload()
    bob.wait_for_selector("#msg textarea")
    bob.wait_for_timeout(1000)
    assert not any("alice-only-marker" in o for o in dropdown_options(bob, "sessions"))
    ask(bob, "What is an LSTM? asks bob-only-marker")
    assert "bob-only-marker" not in alice.locator("#chat").inner_text()
    # Alice's own history survives a reload and reopens.
    alice.reload()
    alice.wait_for_selector("#msg textarea")
    alice.wait_for_timeout(1000)
    options = dropdown_options(alice, "sessions")
    assert any("alice-only-marker" in o for o in options) and not any("bob-only-marker" in o for o in options)
    alice.locator("#new-session").click()
    alice.wait_for_function("() => !document.querySelector('#chat').innerText.includes('alice-only-marker')")
    pick_dropdown(alice, "sessions", "alice-only-marker")
    alice.wait_for_function("() => document.querySelector('#chat').innerText.includes('alice-only-marker')")
    alice.context.close()
    bob.context.close()


def test_stop_ends_a_generation(browser, app):
    page = login(browser, app, "stop")
    before = send(page, "tell me a long story about neural networks")
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('Once upon a time')")
    streamed = last_bot(page).inner_text()
    time.sleep(0.5)
    assert len(last_bot(page).inner_text()) > len(streamed)  # it is streaming
    page.click("#stop")
    wait_turn(page, before, timeout_s=10)
    bot = last_bot(page)
    assert bot.locator(".turn-stopped").count() == 1
    words = bot.inner_text().count("Once upon a time")
    assert 0 < words < 100  # the scripted story has 100 sentences
    time.sleep(1.0)
    assert last_bot(page).inner_text().count("Once upon a time") == words  # and nothing more arrives
    assert page.locator("#send").is_enabled()
    # The model is free again: the next question is answered normally.
    bot = ask(page, "What does dropout do?")
    assert bot.locator(".turn-meta").count() == 1
    page.context.close()


def test_errors_are_one_readable_line(browser, app):
    page = login(browser, app, "quinn")
    cases = [
        ("why " * 600, "2000"),  # over the 2000-character limit of a question
        ("What does dropout do? simulate a missing model", "does not exist"),  # the backend's TutorError
        ("What does dropout do? simulate a crash", "RuntimeError"),  # anything else the model raises
    ]
    for message, expected in cases:
        before = send(page, message)
        wait_turn(page, before)
        error = last_bot(page).locator(".turn-error")
        assert error.count() == 1, message[:40]
        text = error.inner_text()
        assert expected in text and "Traceback" not in text and "\n" not in text.strip()
    # The conversation goes on.
    assert ask(page, "What does dropout do?").locator(".turn-meta").count() == 1
    page.context.close()


def test_roadmap_quiz_and_mastery(browser, app, shots):
    page = login(browser, app, "linus")
    goto_tab(page, "Roadmap")
    page.wait_for_selector("#roadmap table.roadmap")
    assert page.locator("#roadmap tr.next").count() == 1
    page.click("#quiz-next")
    page.wait_for_function("() => document.querySelector('#msg textarea').value.startsWith('quiz me on')")
    bot = ask(page, page.locator("#msg textarea").input_value())
    assert "Quiz on" in bot.inner_text()
    bot = ask(page, "It is about neurons, weights, activation functions and layers of perceptrons.")
    assert "score" in bot.inner_text()
    goto_tab(page, "Roadmap")
    page.wait_for_function("() => /\\b1\\b/.test(document.querySelector('#roadmap tr.topic:not(.not-tried) td:nth-child(5)')?.innerText || '')")
    page.screenshot(path=str(shots / "roadmap.png"), full_page=True)
    page.context.close()


def test_status_shows_model_machine_and_knowledge(browser, app):
    page = login(browser, app, "runa")
    goto_tab(page, "Status")
    page.wait_for_selector("#status table.status")
    text = page.locator("#status").inner_text()
    assert "scripted" in text and "CPU" in text and "GPU" in text
    assert re.search(r"adapter\s+\S", text)  # the adapter in use, or "none (the base model)"
    assert "Qdrant Edge (in-process)" in text  # the default engine
    passages = int(re.search(r"(\d+) passages in", text).group(1))
    assert passages > 100
    page.context.close()


def reply_text(bot) -> str:
    """A reply without its timing line ("first token 0.424 s" must not count as the note's 0.42)."""
    text = bot.inner_text()
    for meta in bot.locator(".turn-meta").all_inner_texts():
        text = text.replace(meta, "")
    return text


@pytest.mark.slow
def test_upload_a_file_and_find_it_through_the_chat(browser, app, shots, tmp_path):
    note = tmp_path / "zorblax notes.md"
    note.write_text("# The zorblax regulariser\n\nThe zorblax regulariser multiplies every weight by 0.42 "
                    "after each epoch, which keeps the zorblax network from overfitting its training set.\n")
    page = login(browser, app, "upload")
    goto_tab(page, "Knowledge")
    page.locator("#upload input[type=file]").set_input_files(str(note))
    page.wait_for_timeout(1000)
    page.click("#ingest")
    page.wait_for_function("() => document.querySelector('#ingest-report').innerText.includes('passages added')",
                           timeout=120_000)
    page.wait_for_function("() => document.querySelector('#sources-table').innerText.includes('zorblax_notes.md')")
    page.screenshot(path=str(shots / "knowledge.png"), full_page=True)

    goto_tab(page, "Chat")
    bot = ask(page, "What does the zorblax regulariser do?")
    assert "0.42" in reply_text(bot)
    marker = bot.locator("a.cite-ref").first
    marker.click()
    passage = page.locator(marker.get_attribute("href"))
    assert "zorblax" in passage.locator(".passage-text").inner_text()
    assert "zorblax_notes.md" in passage.locator(".passage-source").inner_text()

    # Another learner neither lists it nor gets it in an answer: an upload belongs to its login.
    other = login(browser, app, "bob")
    goto_tab(other, "Knowledge")
    other.wait_for_timeout(1000)
    assert "zorblax_notes.md" not in other.locator("#sources-table").inner_text()
    goto_tab(other, "Chat")
    theirs = ask(other, "What does the zorblax regulariser do?")
    assert "0.42" not in reply_text(theirs) and "zorblax_notes.md" not in theirs.inner_text()
    other.context.close()

    # Removed, it is gone from the list and from the answers.
    goto_tab(page, "Knowledge")
    page.wait_for_function("() => document.querySelector('#sources-table').innerText.includes('zorblax_notes.md')")
    page.click("#source-remove")
    page.wait_for_function("() => document.querySelector('#ingest-report').innerText.includes('Removed')")
    assert "zorblax_notes.md" not in page.locator("#sources-table").inner_text()
    goto_tab(page, "Chat")
    bot = ask(page, "What does the zorblax regulariser do?")
    assert "0.42" not in reply_text(bot)
    page.context.close()


@pytest.mark.slow
def test_train_the_cnn_shows_progress_curves_and_accuracy(browser, app, shots):
    page = login(browser, app, "alice")
    # Record every epoch the progress bar shows, as it shows it.
    page.evaluate("""() => {
        window.__epochs = [];
        new MutationObserver(() => {
            const el = document.querySelector('#experiment .exp-progress');
            if (el && !window.__epochs.includes(el.dataset.epoch)) window.__epochs.push(el.dataset.epoch);
        }).observe(document.body, {subtree: true, childList: true, attributes: true});
    }""")
    before = send(page, "train the cnn for 2 epochs")
    page.wait_for_selector("#experiment progress.exp-bar", timeout=120_000)
    page.wait_for_function("() => document.querySelector('#experiment .exp-progress').dataset.epoch === '1'",
                           timeout=120_000)
    # After epoch 1 the plot holds its first points (a line needs a second epoch).
    page.wait_for_selector('#loss-plot svg [aria-roledescription="line mark"]', state="attached", timeout=30_000)
    wait_turn(page, before, timeout_s=300)
    # Two epochs make a visible line per series: train and validation, in each plot.
    assert drawn_curves(page, "loss-plot") == 2 and drawn_curves(page, "acc-plot") == 2
    seen = page.evaluate("() => window.__epochs")
    assert "1" in seen and "2" in seen and seen.index("1") < seen.index("2")
    bar = page.locator("#experiment progress.exp-bar")
    assert bar.get_attribute("value") == "2" and bar.get_attribute("max") == "2"
    step = page.locator("#chat", has_text="Trained cnn").inner_text()
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", step).group(1))
    assert 30 < accuracy <= 100  # far above chance (10%) after two epochs on the digits
    page.wait_for_selector("#exp-image img", state="visible")  # the final figure, from the run's curves.png
    diagnosis = page.locator("#exp-diagnosis").inner_text()
    assert "Final: test accuracy" in diagnosis and "Diagnosis:" in diagnosis
    page.screenshot(path=str(shots / "experiment.png"), full_page=True)

    # A second run, then the Runs tab lists both and compares them side by side.
    ask(page, "train the cnn for 1 epochs with dropout 0.3", timeout_s=300)
    goto_tab(page, "Runs")
    page.wait_for_function("() => (document.querySelector('#runs-table').innerText.match(/cnn-/g) || []).length >= 2")
    page.click("#run-compare")
    page.wait_for_function("() => document.querySelector('#compare-summary').innerText.includes('B differs from A')")
    assert "dropout" in page.locator("#compare-summary").inner_text()
    page.screenshot(path=str(shots / "runs-compare.png"), full_page=True)
    page.context.close()


@pytest.mark.slow
def test_stop_cancels_a_running_experiment(browser, app):
    page = login(browser, app, "bob")
    before = send(page, "train the cnn for 150 epochs")
    page.wait_for_function("() => Number(document.querySelector('#experiment .exp-progress')?.dataset.epoch) >= 1",
                           timeout=120_000)
    page.click("#stop")
    wait_turn(page, before, timeout_s=60)
    page.wait_for_function("() => document.querySelector('#experiment .exp-progress').dataset.state === 'cancelled'")
    assert int(page.locator("#experiment .exp-progress").get_attribute("data-epoch")) < 150
    assert "Training stopped" in page.locator("#chat").inner_text()
    page.context.close()
