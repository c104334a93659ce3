"""Whose uploads a learner may read (tutor/agent/uploads.py), over real citation records."""

from __future__ import annotations

from knowledge.citation import Citation
from tutor.agent.uploads import OwnUploadsOnly, user_dir
from tutor.config import Settings


def hit(source: str, feed: str = "user") -> Citation:
    return Citation(text=f"text of {source}", source=source, feed=feed)


def test_other_learners_uploads_are_dropped_and_the_rest_keeps_its_order(tmp_path):
    settings = Settings(home=tmp_path)
    mine, theirs = user_dir(settings, "ada"), user_dir(settings, "bob")
    ranking = [hit(f"user:{theirs}/notes.md"), hit("paper:srivastava2014-dropout", "papers"),
               hit(f"user:{mine}/notes.md"), hit(f"user:{tmp_path}/elsewhere/cli-added.md"),
               hit(f"user:{theirs}/more.md")]
    asked = {}

    def search(query, top_k=None, **kw):
        asked.update(top_k=top_k, **kw)
        return ranking

    view = OwnUploadsOnly(search, settings, "ada")
    out = view.search("dropout", top_k=3, feed=None)
    assert [h.source for h in out] == [ranking[1].source, ranking[2].source, ranking[3].source]
    assert asked == {"top_k": 9, "feed": None}  # asked deeper, so the dropped ones don't shorten the list
    assert [h.source for h in OwnUploadsOnly(search, settings, "bob").search("x", top_k=5)][:1] == [ranking[0].source]
