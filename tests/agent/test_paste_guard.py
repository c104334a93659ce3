"""Pasted heading lines are dropped; answer text streams untouched."""

from __future__ import annotations

from tutor.agent.paste_guard import guarded


def run(text: str, headings=(), step: int = 3) -> str:
    return "".join(guarded(iter([text[i:i + step] for i in range(0, len(text), step)]), headings))


def test_heading_lines_are_dropped():
    text = ("[1] The Perceptron › Key idea (paper:rosenblatt1958-perceptron)\n## Key idea\n"
            "A perceptron computes a weighted sum [1].\n")
    assert run(text) == "A perceptron computes a weighted sum [1].\n"


def test_a_heading_given_to_the_model_is_dropped_even_without_its_source():
    assert run("[2] Dropout › Why it matters\nDropout fights overfitting [2].", ["Dropout › Why it matters"]) == \
        "Dropout fights overfitting [2]."


def test_ordinary_answers_and_leading_citations_pass_through():
    for text in ["Dropout randomly drops units [1]. It helps [2].", "[1] says dropout drops units.",
                 "Use `x[0]` here.\n# not a heading? yes it is\nok"]:
        out = run(text, step=1)
        assert out.startswith(text.split("\n")[0][:5])
    assert run("Plain answer with no headings.") == "Plain answer with no headings."
