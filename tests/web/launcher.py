"""Start app.py for the page tests: with ``TUTOR_TEST_SCRIPTED_LLM=1`` the agent gets the scripted
LLM (tests/web/scripted_llm.py, the mock at the model boundary); everything else is the real app.

    TUTOR_TEST_SCRIPTED_LLM=1 python -m tests.web.launcher --port 7861

app.py itself never reads this variable. ``TUTOR_TEST_LLM_DELAY`` sets seconds between words.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    import app

    tutor = None
    if os.environ.get("TUTOR_TEST_SCRIPTED_LLM") == "1":
        from tests.web.scripted_llm import ScriptedLLM
        from tutor.agent import Tutor

        tutor = Tutor(llm=ScriptedLLM(delay=float(os.environ.get("TUTOR_TEST_LLM_DELAY", "0.02"))))
    return app.main(argv, tutor=tutor)


if __name__ == "__main__":  # the lab's "spawn" children import this module again: keep the guard
    sys.exit(main())
