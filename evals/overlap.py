"""Keep training data and the knowledge corpus apart from every eval set (ours and the public ones).

The rule (docs/evals.md), on normalised text (lower case, punctuation dropped, spaces collapsed):

- fine-tuning data (``whole=False``): no example may share a run of ``N_WORDS`` consecutive words
  with an eval item's question; a short item (under ``N_WORDS`` words, e.g. "hi") only counts
  when an example *is* that item, so greetings do not flag everything;
- the knowledge corpus (``whole=True``): no document may contain an eval question whole. The
  corpus is *meant* to hold the answers our answers set asks about, in words close to the
  questions', so only a copied question (of ``MIN_WHOLE`` words or more) counts there.

    from evals.overlap import eval_items, find_overlaps
    hits = find_overlaps(training_texts)          # [] = clean; else (text index, eval set, item id)
    hits = find_overlaps(corpus_texts, whole=True)

The fine-tuning data builder calls ``find_overlaps`` on its examples; a test runs it on the
shipped corpus.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

DATASETS = Path(__file__).parent / "datasets"
EXTERNAL = Path(__file__).resolve().parents[1].parent / "shared" / "external"
N_WORDS = 10
MIN_WHOLE = 6
_NON_WORD = re.compile(r"[^\w]+")
#: The text field that holds the learner's words in each of our sets.
_FIELDS = ("question", "message")


def normalise(text: str) -> list[str]:
    return [w for w in _NON_WORD.sub(" ", text.lower()).split() if w]


def eval_items(external: Path | None = EXTERNAL) -> list[tuple[str, str, str]]:
    """(set name, item id, text) for every item of our sets and, when present, the public ones."""
    items: list[tuple[str, str, str]] = []
    for path in sorted(DATASETS.glob("*.jsonl")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                text = next((row[f] for f in _FIELDS if isinstance(row.get(f), str)), None)
                if text:
                    items.append((path.stem, str(row.get("id", i)), text))
    if external is not None and external.is_dir():
        from evals.external import read_halueval, read_mlquestions, read_mmlu

        readers = {"mmlu-redux_machine_learning.csv": lambda p: [(q.id, q.question) for q in read_mmlu(p)[0]],
                   "mlquestions_test.tsv": lambda p: [(q.id, q.question) for q in read_mlquestions(p)],
                   "halueval_qa_one-turn.json": lambda p: [(q.id, q.question) for q in read_halueval(p)]}
        for name, read in readers.items():
            if (external / name).is_file():
                items += [(Path(name).stem, i, t) for i, t in read(external / name)]
    return items


def _shingles(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def find_overlaps(texts: Iterable[str], items: list[tuple[str, str, str]] | None = None,
                  n_words: int = N_WORDS, whole: bool = False) -> list[tuple[int, str, str]]:
    """(index of the text, eval set, item id) for every text that overlaps an eval item (see the rule)."""
    items = eval_items() if items is None else items
    if whole:
        # A question of a few words ("Neural networks:", an MMLU stem) is in every text on the topic.
        phrases = [(f" {' '.join(normalise(t))} ", name, i) for name, i, t in items if len(normalise(t)) >= MIN_WHOLE]
        out = []
        for k, text in enumerate(texts):
            flat = f" {' '.join(normalise(text))} "
            found = next(((name, i) for phrase, name, i in phrases if phrase in flat), None)
            if found is not None:
                out.append((k, *found))
        return out
    index: dict[tuple[str, ...], tuple[str, str]] = {}
    short: dict[str, tuple[str, str]] = {}
    for name, item_id, text in items:
        words = normalise(text)
        if len(words) < n_words:
            short[" ".join(words)] = (name, item_id)
        for sh in _shingles(words, n_words):
            index.setdefault(sh, (name, item_id))
    hits: list[tuple[int, str, str]] = []
    for k, text in enumerate(texts):
        words = normalise(text)
        found = short.get(" ".join(words))
        if found is None:
            found = next((index[sh] for sh in _shingles(words, n_words) if sh in index), None)
        if found is not None:
            hits.append((k, *found))
    return hits
