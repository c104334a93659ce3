"""The retrieval eval: its dataset is sound, and hybrid search meets hit@5 >= 0.9 on it.

The slow tests share one default-corpus build in a module-scoped data dir, so the corpus
is embedded once for the whole module.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from evals.retrieval import DATASET_PATH, EVAL_FEEDS, RetrievalCase, first_hit_rank, load_dataset, main, run
from tutor.errors import TutorError

HIT5_TARGET = 0.9


# --------------------------------------------------------------------------- dataset (fast)


def test_dataset_has_enough_hand_written_questions_per_feed():
    cases = load_dataset()
    assert len(cases) >= 60
    per_feed = Counter(c.feed for c in cases)
    for feed in EVAL_FEEDS:
        assert per_feed[feed] >= 20, f"only {per_feed[feed]} questions for feed {feed}"
    # Every expected source is in the id scheme of its feed, so a typo in a prefix cannot
    # silently make a question unanswerable.
    prefix = {"roadmap": "roadmap:", "papers": "paper:", "docs": "docs:"}
    for case in cases:
        assert all(s.startswith(prefix[case.feed]) for s in case.expected_source), case.id
    # No question is a duplicate of another.
    questions = [c.question.casefold().strip() for c in cases]
    assert len(set(questions)) == len(questions)


def test_hit_matching_respects_source_and_section_case_insensitively():
    case = RetrievalCase.model_validate(
        {
            "id": "t",
            "question": "why?",
            "feed": "roadmap",
            "expected_source": "roadmap:x.md",
            "expected_section_contains": ["best practices", "Toolkit"],
        }
    )
    assert case.matches("roadmap:x.md", "Deep Learning > Best Practices - Pro Tips")
    assert case.matches("roadmap:x.md", "Recommended Technologies - Your Deep Learning TOOLKIT")
    assert not case.matches("roadmap:x.md", "Resources")
    assert not case.matches("roadmap:y.md", "Best Practices")

    class Hit:
        def __init__(self, source, section=""):
            self.source, self.section = source, section

    hits = [Hit("paper:a"), Hit("roadmap:x.md", "Resources"), Hit("roadmap:x.md", "best practices")]
    assert first_hit_rank(case, hits) == 3
    assert first_hit_rank(case, hits[:2]) is None


@pytest.mark.parametrize(
    "line, complaint",
    [
        ("{not json", "line 2"),
        ('{"id": "a", "question": "why?", "feed": "blog", "expected_source": "x"}', "feed"),
        ('{"id": "a", "question": "why?", "feed": "docs"}', "expected_source"),
        ('{"id": "ok", "question": "again?", "feed": "docs", "expected_source": "docs:a"}', "repeats"),
    ],
)
def test_bad_dataset_rows_are_reported_with_their_line(tmp_path, line, complaint):
    path = tmp_path / "bad.jsonl"
    good = '{"id": "ok", "question": "what?", "feed": "docs", "expected_source": "docs:a"}'
    path.write_text(good + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(TutorError) as err:
        load_dataset(path)
    assert "line 2" in str(err.value) and complaint in str(err.value)


def test_missing_dataset_and_bad_k_are_user_errors(tmp_path):
    with pytest.raises(TutorError):
        load_dataset(tmp_path / "nope.jsonl")
    with pytest.raises(TutorError):
        run(k=0, retriever=object())
    with pytest.raises(TutorError):
        run(modes=("magic",), retriever=object())


# --------------------------------------------------------------------------- on the real corpus (slow)


@pytest.fixture(scope="module")
def default_corpus(tmp_path_factory):
    """A data dir with the default corpus (roadmap, paper notes, core API docs), built once."""
    from tutor.config import get_settings

    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("retrieval-eval-home")
        mp.setenv("TUTOR_HOME", str(home))
        mp.delenv("TUTOR_CONFIG", raising=False)
        get_settings.cache_clear()
        from knowledge.corpus_default import ensure_default_corpus

        ensure_default_corpus(show_progress=False)
        yield home
        from knowledge.store import close_clients

        close_clients()  # release the embedded store's lock for later test modules
        get_settings.cache_clear()


@pytest.fixture(scope="module")
def stored_sources(default_corpus):
    from knowledge.store import Store

    return {point.payload.get("source") for point in Store().scroll_all()}


@pytest.mark.slow
def test_every_expected_source_exists_in_the_store(stored_sources):
    missing = sorted(
        {s for case in load_dataset() for s in case.expected_source if s not in stored_sources}
    )
    # A list of alternatives only needs one of them stored; a single expected id must be.
    unanswerable = [
        case.id for case in load_dataset() if not any(s in stored_sources for s in case.expected_source)
    ]
    assert not unanswerable, f"questions whose expected source is not in the corpus: {unanswerable}; ids: {missing}"


@pytest.mark.slow
def test_hybrid_retrieval_finds_the_expected_source_in_the_top_5(default_corpus):
    report = run(modes=("hybrid",), k=5, progress=False)
    scores = report["modes"]["hybrid"]["overall"]
    misses = [f"{m['id']}: {m['question']}" for m in report["modes"]["hybrid"]["misses"]]
    assert scores["n"] == len(load_dataset())
    assert scores["hit@5"] >= HIT5_TARGET, f"hybrid hit@5 {scores['hit@5']:.3f} < {HIT5_TARGET}; misses: {misses}"
    # MRR can never exceed hit@k, and hit@1 never exceeds either: a sanity check on the maths.
    assert scores["hit@1"] <= scores["mrr"] <= scores["hit@5"]


@pytest.mark.slow
def test_main_prints_a_table_and_writes_json(default_corpus, tmp_path, capsys):
    subset = tmp_path / "subset.jsonl"
    rows = DATASET_PATH.read_text(encoding="utf-8").splitlines()
    # One question per feed keeps this test quick; the full set runs in the test above.
    picked = {}
    for row in rows:
        data = json.loads(row)
        picked.setdefault(data["feed"], row)
    subset.write_text("\n".join(picked.values()) + "\n", encoding="utf-8")
    out_json = tmp_path / "out" / "retrieval.json"

    assert main(["--dataset", str(subset), "--modes", "bm25", "dense", "--json", str(out_json), "--no-progress"]) == 0

    printed = capsys.readouterr().out
    assert "| mode | hit@1 | hit@5 | MRR |" in printed
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert set(report["modes"]) == {"bm25", "dense"}
    assert report["n_questions"] == 3
    assert set(report["modes"]["dense"]["per_feed"]) == set(EVAL_FEEDS)
