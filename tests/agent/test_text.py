"""The agent's one stemmer and one sentence splitter (quiz rubrics, run explanations, attribution)."""

from tutor.agent.text import sentences, stem


def test_stem_strips_common_suffixes_but_keeps_short_words():
    assert [stem(w) for w in ("Regularization", "networks", "trained", "overfitting", "batches")] == [
        "regular", "network", "train", "overfitt", "batch"]
    assert stem("loss") == "loss" and stem("uses") == "uses"  # under four letters would be left: unchanged
    assert stem("Trains") == stem("training") == "train"  # both sides of a comparison meet


PASSAGE = """# Dropout

Dropout randomly zeroes **hidden units** during training, so no unit can rely on another.
- a bullet note that is long enough to count as a sentence if lists were kept.
Short one.

```python
x = layer(x)  # code is never a sentence.
```
It acts like training many thinned networks and averaging them at test time!"""


def test_sentences_keep_prose_only_in_order():
    got = sentences(PASSAGE, skip_lists=True)
    assert got == ["Dropout randomly zeroes hidden units during training, so no unit can rely on another.",
                   "It acts like training many thinned networks and averaging them at test time!"]
    with_lists = sentences(PASSAGE)
    assert any(s.startswith("- a bullet note") for s in with_lists) and len(with_lists) == 3
    assert sentences(PASSAGE, min_chars=40, max_chars=80, skip_lists=True) == [got[1]]  # the first is 85 long
