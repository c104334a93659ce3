"""Small helpers that drive the page the way a learner does (type, click, wait for what shows)."""

from __future__ import annotations

import time

#: What ends a turn on the page: the answer's meta line, an error, a Stop, or a notice.
TURN_END = "#chat .turn-meta, #chat .turn-error, #chat .turn-stopped, #chat .turn-notice"


def open_page(browser, url: str, user: str | None = None, password: str | None = None, *, width: int = 1280,
              height: int = 1000):
    """A fresh browser context (its own cookies: its own browser session), logged in when asked."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    if user is not None:
        page.fill("input[data-testid='textbox']", user)
        page.fill("input[type='password']", password or "")
        page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#msg textarea")
    page.wait_for_function("() => /Local user|Signed in/.test(document.querySelector('#who')?.innerText || '')")
    return page


def turn_ends(page) -> int:
    return page.locator(TURN_END).count()


def send(page, text: str) -> int:
    """Type and send; returns how many turn ends there were before (pass it to wait_turn)."""
    before = turn_ends(page)
    page.fill("#msg textarea", text)
    page.click("#send")
    return before


def wait_turn(page, before: int, timeout_s: float = 60) -> float:
    page.wait_for_function(f"n => document.querySelectorAll({TURN_END!r}).length > n", arg=before,
                           timeout=timeout_s * 1000)
    return time.perf_counter()


def ask(page, text: str, timeout_s: float = 60):
    """Send a message and wait for the turn to end; returns the last bot message."""
    before = send(page, text)
    wait_turn(page, before, timeout_s)
    return last_bot(page)


def last_bot(page):
    return page.locator("#chat [data-testid='bot']").last


def goto_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def dropdown_options(page, elem_id: str) -> list[str]:
    """The choices of a Gradio dropdown (opened, read, closed)."""
    box = page.locator(f"#{elem_id} input")
    box.click()
    page.wait_for_timeout(300)
    options = page.locator(f"#{elem_id} li[role=option]").all_inner_texts()
    page.locator("#header h1").click()  # closes the list
    return [o.strip() for o in options]


def pick_dropdown(page, elem_id: str, contains: str) -> None:
    """Choose the option holding ``contains`` the way a keyboard user does: type to filter, then Enter."""
    box = page.locator(f"#{elem_id} input")
    box.click()
    box.fill("")
    box.press_sequentially(contains, delay=20)
    page.locator(f"#{elem_id} li[role=option]", has_text=contains).first.wait_for(state="visible")
    box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_function("([id, text]) => document.querySelector(`#${id} input`).value.includes(text)",
                           arg=[elem_id, contains])



def drawn_curves(page, elem_id: str) -> int:
    """How many series the plot in ``#elem_id`` really draws: line marks with a path of at least
    two points and a coloured stroke (Gradio's Vega plots render SVG; empty axes give 0, and so do
    lines whose colour scale lost its domain, which are drawn but invisible)."""
    return page.evaluate("""(id) => {
        let n = 0;
        for (const p of document.querySelectorAll(`#${id} svg [aria-roledescription="line mark"]`)) {
            const m = getComputedStyle(p).stroke.match(/rgba?\((\d+), *(\d+), *(\d+)/);
            if (!m || !/L/.test(p.getAttribute('d') || '')) continue;
            const v = m.slice(1, 4).map(Number);
            if (Math.max(...v) - Math.min(...v) > 60) n++;
        }
        return n;
    }""", elem_id)
