"""Events → chat messages (tutor/web/render.py): no browser, no model; the events are the agent's own types."""

from __future__ import annotations

import logging

from tutor.agent.ask import SourceRef
from tutor.agent.events import (
    AnswerEvent,
    ErrorEvent,
    PassagesEvent,
    TokenEvent,
    ToolCallEvent,
    ToolProgressEvent,
    ToolResultEvent,
)
from tutor.web.render import ExperimentView, TurnView, link_markers, passage_details, stored_answer_markdown


def ref(n: int, text: str = "Dropout drops units.", url: str | None = "https://example.org/x") -> SourceRef:
    return SourceRef(n=n, source=f"paper:p{n}", title=f"Paper {n}", section="Key idea", text=text, url=url)


def test_markers_link_outside_code_only():
    text = "Dropout drops units [1]. See `x[1]` and [2], [1, 2].\n```python\ny = x[1]\n```\n[3] is unknown."
    out = link_markers(text, "k", {1, 2})
    assert out.count('href="#cite-k-1"') == 2 and out.count('href="#cite-k-2"') == 2
    assert "`x[1]`" in out and "y = x[1]" in out  # code untouched
    assert "[3] is unknown" in out  # a number with no passage stays plain


def test_a_passage_is_one_escaped_html_block():
    html = passage_details(ref(1, text="a < b\n\nnew <script>alert(1)</script> para"), "k")
    assert "\n" not in html  # a blank line would end the HTML block and let Markdown in
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.startswith('<details class="passage" id="cite-k-1">') and "[1] Paper 1 › Key idea" in html
    assert 'href="https://example.org/x"' in html
    assert "javascript:" not in passage_details(SourceRef(n=2, source="s", text="t", url="javascript:alert(1)"), "k")


def test_a_knowledge_turn_folds_into_a_step_and_a_cited_answer():
    view = TurnView(key="t1")
    events = [ToolCallEvent(name="search_knowledge", arguments={"query": "dropout"}),
              PassagesEvent(passages=[ref(1), ref(2)]),
              TokenEvent(text="Dropout drops"), TokenEvent(text=" units [1].")]
    for e in events:
        view.apply(e)
    streaming = view.messages()
    assert streaming[0]["metadata"]["status"] == "pending" and "[1] Paper 1" in streaming[0]["content"]
    assert streaming[-1]["content"] == "Dropout drops units [1]."  # plain while streaming
    view.apply(ToolResultEvent(name="search_knowledge", result={"passages": 2}))
    view.apply(AnswerEvent(session_id="s1", mode="explain", text="Dropout drops units [1].", citations=[ref(1)],
                           model="scripted", latency_s=0.5, ttft_s=0.1234))
    done = view.messages()
    assert done[0]["metadata"] == {"title": "Searched the knowledge base · 2 passages", "status": "done"}
    body = done[-1]["content"]
    assert '<a class="cite-ref" href="#cite-t1-1">[1]</a>' in body and 'id="cite-t1-1"' in body
    assert 'class="turn-meta mode-explain"' in body and '<span class="meta-ttft">0.123</span>' in body
    assert view.session_id == "s1" and view.finished


def test_uncited_sources_are_listed_apart():
    view = TurnView(key="t2")
    view.apply(AnswerEvent(session_id="s", mode="explain", text="Some answer.", sources=[ref(1)]))
    body = view.messages()[-1]["content"]
    assert "not cited inline" in body and 'id="src-t2-1"' in body and "cite-ref" not in body


def test_errors_and_stops_are_plain_lines():
    view = TurnView()
    view.apply(TokenEvent(text="Partial"))
    view.apply(ErrorEvent(message="the model file is missing <x>"))
    body = view.messages()[-1]["content"]
    assert body.startswith("Partial") and 'role="alert"' in body and "&lt;x&gt;" in body
    stopped = TurnView()
    stopped.apply(TokenEvent(text="Once upon"))
    stopped.stopped = True
    assert "turn-stopped" in stopped.messages()[-1]["content"]


def test_an_experiment_turn_tracks_epochs_then_the_result():
    view = TurnView()
    view.apply(ToolCallEvent(name="run_experiment", arguments={"kind": "cnn", "epochs": 2}, defaults={"lr": 0.01}))
    assert view.running_tool == "run_experiment" and view.steps[0]["title"] == "Training cnn · epochs=2"
    view.apply(ToolProgressEvent(name="run_experiment", run_id="cnn-1", stage="start", total_epochs=2))
    for epoch, (loss, acc) in enumerate([(1.2, 0.6), (0.5, 0.9)], 1):
        view.apply(ToolProgressEvent(name="run_experiment", run_id="cnn-1", stage="epoch", epoch=epoch,
                                     total_epochs=2, metrics={"train_loss": loss, "val_loss": loss + 0.1,
                                                              "val_accuracy": acc}))
        exp = view.experiment
        assert f'value="{epoch}" max="2"' in exp.progress_html()
        assert len(exp.series(ExperimentView.LOSS)) == 2 * epoch and len(exp.series(ExperimentView.ACCURACY)) == epoch
    result = {"run_id": "cnn-1", "kind": "cnn", "status": "ok", "primary_metric": "test_accuracy",
              "metrics": {"test_accuracy": 0.917}, "artifacts": {"curves": "/runs/cnn-1/curves.png"},
              "diagnosis": {"verdict": "still_improving", "summary": "More epochs would help.",
                            "findings": [{"kind": "x", "epoch": 2, "message": "val_loss fell"}], "suggestions": ["Run more epochs."]},
              "history": [{"epoch": 1, "train_loss": 1.2}, {"epoch": 2, "train_loss": 0.5}]}
    view.apply(ToolResultEvent(name="run_experiment", ok=True, message="run cnn-1 finished", result=result))
    assert view.running_tool is None
    assert view.steps[0]["title"] == "Trained cnn · epochs=2 · run cnn-1 · test accuracy 91.7%"
    diag = view.experiment.diagnosis_markdown()
    assert "test accuracy **91.7%**" in diag and "still improving" in diag and "val_loss fell" in diag
    assert view.experiment.curves_path == "/runs/cnn-1/curves.png"


def test_a_cancelled_run_says_so():
    view = TurnView()
    view.apply(ToolCallEvent(name="run_experiment", arguments={"kind": "cnn"}))
    view.apply(ToolResultEvent(name="run_experiment", ok=False, message="run cnn-2 ended: cancelled (on request)",
                               result={"run_id": "cnn-2", "status": "cancelled", "reason": "on request"}))
    assert view.steps[0]["title"].startswith("Training stopped: cnn") and "cancelled" in view.steps[0]["title"]
    assert 'data-state="cancelled"' in view.experiment.progress_html()
    assert "The run ended: cancelled" in view.experiment.diagnosis_markdown()


def test_a_stored_reply_links_its_markers_to_the_passages_kept_with_it():
    meta = {"citations": [ref(1).model_dump(), {"n": "x", "text": 3}],  # the broken row is left out
            "sources": [ref(2, "Batch norm.").model_dump()]}
    out = stored_answer_markdown("Dropout drops units [1]; see [2].", meta, "k")
    assert 'href="#cite-k-1"' in out and 'id="cite-k-1"' in out and "Dropout drops units." in out
    assert "[2]." in out and 'href="#cite-k-2"' not in out  # an uncited source is listed, not linked
    assert 'id="src-k-2"' in out
    assert stored_answer_markdown("Plain reply.", {}, "k") == "Plain reply."  # older rows: no passages


def test_a_stored_row_that_fails_validation_is_skipped_and_logged(caplog):
    bad = {"n": 1, "title": "No source id", "text": "Gone missing."}  # `source` is required
    meta = {"citations": [bad, ref(2).model_dump()]}
    with caplog.at_level(logging.DEBUG, logger="tutor.web"):
        out = stored_answer_markdown("Units drop [1] [2].", meta, "k")
    assert "Gone missing." not in out and 'href="#cite-k-1"' not in out
    assert 'href="#cite-k-2"' in out and 'id="cite-k-2"' in out
    assert any("stored passage row skipped" in r.message for r in caplog.records)
