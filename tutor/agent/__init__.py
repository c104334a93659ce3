"""The agent: one conversation engine (``Tutor``) that every face renders.

    from tutor.agent import Tutor
    for event in Tutor().turn(None, "what does dropout do?"):
        print(event)

``tutor.py`` is the turn loop, ``router.py`` picks the tool, ``tools/`` holds one file per tool,
``memory/`` the database, ``ask.py`` the cited answer, ``prompts.py`` every prompt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutor.agent.tutor import Tutor


def __getattr__(name: str):
    # Lazy: `tutor --help` must not import the agent's dependencies.
    if name == "Tutor":
        from tutor.agent.tutor import Tutor

        return Tutor
    raise AttributeError(name)
