"""Citation markers are renumbered, bogus ones dropped, code left alone — also mid-stream."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.agent.citations import CitationRewriter


def _stream(text: str, given: int, size: int) -> tuple[str, CitationRewriter]:
    rw = CitationRewriter(given)
    out = "".join(rw.feed(text[i : i + size]) for i in range(0, len(text), size)) + rw.flush()
    return out, rw


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_renumbers_in_first_cited_order_whatever_the_chunking(size):
    text = "Use `sparse_categorical_crossentropy` [3]. Conv2D has 32 filters [1][3]. Also [Passage 2]."
    out, rw = _stream(text, 3, size)
    assert out == "Use `sparse_categorical_crossentropy` [1]. Conv2D has 32 filters [2][1]. Also [3]."
    assert rw.order == [3, 1, 2] and rw.invalid == [] and rw.text == out


def test_numbers_that_point_to_no_passage_are_dropped():
    out, rw = _stream("True [1]. Made up [7]. Mixed [2, 9].", 2, 4)
    assert out == "True [1]. Made up . Mixed [2]."
    assert rw.invalid == [7, 9] and rw.order == [1, 2]


def test_ranges_and_lists_expand():
    out, rw = _stream("See [1-3] and [sources 2 and 1].", 3, 5)
    assert out == "See [1][2][3] and [2][1]."


def test_code_and_indexing_are_left_alone():
    text = "```python\nx = a[1]\ny = [2, 3]\n```\nIndex `t[0]` or arr[2] or f(x)[1]; [optional] stays. Cite [2]."
    out, rw = _stream(text, 2, 3)
    assert out == text.replace("Cite [2]", "Cite [1]")
    assert rw.order == [2]


def test_unfinished_marker_at_the_end_is_kept_verbatim():
    out, rw = _stream("It ends [2", 3, 2)
    assert out == "It ends [2" and rw.order == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab [0123]`,-\n")), max_size=80), st.integers(1, 9))
def test_any_text_streams_the_same_as_whole_and_cites_only_given(text, size):
    whole, rw1 = _stream(text, 3, 10_000)
    parts, rw2 = _stream(text, 3, size)
    assert whole == parts
    assert set(rw1.order) <= {1, 2, 3}
    assert all(n not in {1, 2, 3} for n in rw1.invalid)
