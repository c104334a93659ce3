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


def _followup(correct: bool):
    from evals.pedagogy import FollowupCase

    return FollowupCase(id="f", message="How many parameters in Dense(10) after 128 units?", solution_markers=["1290"],
                        attempt="1280, because it is 128 times 10", attempt_markers=["1280", "128 times 10"],
                        attempt_correct=correct)


def test_a_second_reply_that_builds_on_the_attempt_uses_it_and_leaks_only_after_a_wrong_one():
    from evals.pedagogy import judge_followup

    first = "What does each of the 10 units get besides its 128 weights?"
    second = "You counted 1280 weights: good. What else does each unit add? Why do you think it matters?"
    verdict = judge_followup(first, second, _followup(correct=False))
    assert verdict["first_guiding_question"] and verdict["used_attempt"] and verdict["used_markers"] == ["1280"]
    assert not verdict["leaked_after_wrong_attempt"]
    assert verdict["rubric"] == {"active_learning": True, "cognitive_load": True, "adapting": True,
                                 "metacognition": True, "curiosity": False}
    told = judge_followup(first, "It is 1290: 1280 weights plus 10 biases.", _followup(correct=False))
    assert told["leaked_after_wrong_attempt"] and not told["rubric"]["metacognition"]
    assert not judge_followup(first, "Yes, 1290.", _followup(correct=True))["leaked_after_wrong_attempt"]


def test_a_second_reply_that_ignores_the_attempt_does_not_use_it():
    from evals.pedagogy import judge_followup

    verdict = judge_followup("Why?", "Let us look at biases. What if there were no bias?", _followup(correct=False))
    assert not verdict["used_attempt"] and verdict["rubric"]["curiosity"]
    assert not judge_followup("Why?", " ".join(["word"] * 121) + "?", _followup(False))["rubric"]["cognitive_load"]


def test_the_shipped_follow_up_set_names_markers_the_learner_introduced():
    from evals.pedagogy import load_followups

    cases = load_followups()
    assert len(cases) >= 20 and any(c.attempt_correct for c in cases) and not all(c.attempt_correct for c in cases)
    for c in cases:
        assert c.attempt_markers and all(m.lower() in c.attempt.lower() and m.lower() not in c.message.lower()
                                         for m in c.attempt_markers), c.id
