"""tutor/errors.py: the input checks every face shares, in one wording."""

from __future__ import annotations

import pytest

from tutor.errors import TutorError, check_choice, check_text, check_top_k


def test_check_text_collapses_and_refuses_empty_or_long():
    assert check_text("  what   is\n dropout? ") == "what is dropout?"
    with pytest.raises(TutorError, match=r"^The question is empty; ask something\.$"):
        check_text("   ", example="ask something")
    with pytest.raises(TutorError, match="The search query is empty"):
        check_text(None, "search query")
    with pytest.raises(TutorError, match="is 12 characters long; keep it under 5"):
        check_text("x" * 12, max_chars=5)


@pytest.mark.parametrize("bad", [0, 101, -3, 2.5, True, "5"])
def test_check_top_k_refuses_anything_but_a_whole_number_in_range(bad):
    with pytest.raises(TutorError, match="top-k must be a whole number between 1 and 100"):
        check_top_k(bad)


def test_check_top_k_and_choice_pass_good_values_through():
    assert check_top_k(1) == 1 and check_top_k(100) == 100
    assert check_choice("docs", ("roadmap", "docs"), "feed") == "docs"
    with pytest.raises(TutorError, match=r"^Unknown feed 'blogs'; choose one of: roadmap, docs\.$"):
        check_choice("blogs", ("roadmap", "docs"), "feed")
