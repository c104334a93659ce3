"""The one mock of the page tests, at the model boundary: an LLM that replies from a script.

A real llama-index ``CustomLLM`` (the agent cannot tell it from a backend), used while the real
model cannot run on the test machine, and wherever a test needs an exact, known reply:

- a knowledge answer quotes the start of the passage that shares most words with the question
  and cites it, e.g. ``According to my sources, "Dropout randomly ..." [2].`` plus a code block;
- guide mode replies with a question;
- small talk gets one sentence;
- a question with "story" in it gets a long reply (for the Stop test);
- "simulate a missing model" / "simulate a crash" raise what a broken backend raises.

Words stream with ``delay`` seconds between them, like a slow model.
"""

from __future__ import annotations

import re
from typing import Any

from tests.agent.scripted import ScriptedLLM as AgentScriptedLLM
from tutor.errors import TutorError

LONG_WORDS = 600
# A passage block: "[n] heading\nbody" (the first one follows the chat role prefix "user: ").
_PASSAGE = re.compile(r"(?:^|\buser: )\[(\d+)\] (.*?)(?=^\[\d+\] |\Z)", re.MULTILINE | re.DOTALL)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower())}


class ScriptedLLM(AgentScriptedLLM):
    """The agent tests' scripted LLM (streaming, metadata, prompts kept) with the page's replies."""

    delay: float = 0.02

    def __init__(self, **kw: Any):
        super().__init__(reply=self.reply, **kw)

    def reply(self, prompt: str) -> str:
        question = (re.findall(r"(?:Question|Student|user):\s*(.*)", prompt) or [prompt[-300:]])[-1]
        if "simulate a missing model" in question:  # what the real loader raises when the GGUF is gone
            raise TutorError("the model file /models/missing.gguf does not exist; run `tutor models` to see what is available")
        if "simulate a crash" in question:
            raise RuntimeError("CUDA error: device-side assert triggered")
        if "guide mode" in prompt:
            return "Good question. What do you think happens to a unit's output when it is dropped during training?"
        if "numbered passages" in prompt:
            best, best_n, best_score = "", 1, -1
            asked = _words(question)
            for m in _PASSAGE.finditer(prompt.split("Question:")[0]):
                score = len(asked & _words(m.group(2)))
                if score > best_score:
                    best, best_n, best_score = m.group(2), int(m.group(1)), score
            lines = best.split("\n")[1:]  # the block's first line is its heading
            body = " ".join(" ".join(line for line in lines if not line.lstrip().startswith("#")).split())
            quote = " ".join(body.split()[:14]).replace("[", "(").replace("]", ")").replace("`", "'")
            text = f'According to my sources, "{quote} …" [{best_n}].'
            if "story" in question.lower():
                text = " ".join(["Once upon a time a network learned."] * (LONG_WORDS // 6)) + f" [{best_n}]"
            return text + "\n\n```python\nlayer = torch.nn.Dropout(p=0.5)  # x[1] stays code\n```"
        if "story" in question.lower():
            return " ".join(["Once upon a time a network learned."] * (LONG_WORDS // 6))
        return "Hello! Ask me anything about deep learning."
