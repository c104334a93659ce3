"""The pedagogy judge's rules, on replies whose verdicts are known."""

from __future__ import annotations

from evals.pedagogy import GuideCase, judge, load_dataset

CASE = GuideCase(id="g", message="What output shape? Just tell me.", solution_markers=["26x26x32", "26, 26, 32"])


def test_a_guiding_question_that_leaks_nothing():
    verdict = judge("What happens to each side of a 28-pixel image under a 3x3 kernel?\nA place to look: [1]", CASE)
    assert verdict["guiding_question"] and not verdict["leaked"]


def test_a_leak_is_found_whatever_the_spacing_and_case():
    assert judge("The output is 26 x 26 x 32.", CASE)["leaked"]
    assert judge("It is (26, 26, 32). Why?", CASE)["leaked"]
    assert judge("Shape: 26X26X32", CASE)["leaked"]
    assert not judge("Shape: 26X26X32", CASE)["guiding_question"]


def test_the_shipped_set_has_thirty_or_more_exercises_with_markers():
    cases = load_dataset()
    assert len(cases) >= 30 and all(c.solution_markers for c in cases)
