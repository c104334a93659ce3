"""The faithfulness suite's summary over scored rows (evals/faithfulness.py: summarise)."""

from __future__ import annotations

from evals.faithfulness import summarise


def row(kept: bool, given: bool, valid: bool, cited: int, latency: float) -> dict:
    return {"kept": kept, "given": given, "citations_valid": valid, "cited": cited, "invalid_markers": int(not valid),
            "latency_s": latency}


def test_rates_are_over_all_rows_and_keep_rate_over_the_given_ones():
    rows = [row(True, True, True, 1, 4.0), row(False, True, False, 0, 6.0), row(False, False, True, 2, 5.0)]
    m = summarise(rows, None, "exact", "first")
    assert m["questions"] == 3 and m["exact_keep_rate"] == 1 / 3 and m["given_rate"] == 2 / 3
    assert m["keep_rate_when_given"] == 0.5 and m["citation_validity"] == 2 / 3
    assert m["answers_with_citations"] == 2 / 3 and m["invalid_markers"] == 1 and m["median_latency_s"] == 5.0
    assert summarise([], None, "exact", "first")["keep_rate_when_given"] is None
