"""Docstrings as plain Markdown: reST roles and directives, HF links and LaTeX simplified, long lists cut."""

from __future__ import annotations

import re

# --------------------------------------------------------------------------- rendering

ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_ROLE = re.compile(r":(?:[a-z]+:)?([a-z]+):`~?([^`]*)`")
_LINK_TEXT = re.compile(r"^(.*?)\s*<([^<>]*)>$")
_DIRECTIVE = re.compile(r"^(\s*)\.\. ([a-zA-Z-]+)::\s*(.*)$")
_LABEL = re.compile(r"^\s*\.\. _[^:]+:\s*$")
# Hugging Face doc-builder cross references: [`~AutoModel.from_pretrained`] → AutoModel.from_pretrained.
_HF_LINK = re.compile(r"\[`~?([^`\]]+)`\]")
_LATEX_DROP = re.compile(r"\\(?:rule\{[^}]*\}\{[^}]*\}|[hv]space\{[^}]*\})|\\\\\[[^\]]*\]")
_LATEX_UNWRAP = re.compile(r"\\(?:textbf|textit|text|mathrm|mathit)\{([^{}]*)\}")
_LATEX_SPACE = re.compile(r"\\[:;,!]")
_LATEX_ENV = re.compile(r"^\s*\\(?:begin|end)\{(?:aligned|array|align\*?|equation\*?)\}(\{[^}]*\})?\s*(\\\\)?\s*$")
_BULLET = re.compile(r"^\s*[-*] ")
LIST_MAX = 24  # a bullet run longer than this is collapsed ...
LIST_KEEP = 8  # ... to its first few entries
# Directive options (":parser: myst_parser.sphinx_") left behind once the directive is flattened.
_OPTION = re.compile(r"^\s*:(parser|nowrap|label|caption|name|linenos|emphasize-lines|dedent|alt|align|width|scale):")


def clean_docstring(text: str) -> str:
    """Sphinx/RST markup → plain text that embeds and reads well.

    Hand-written because docutils renders whole documents (and chokes on docstring
    fragments), while retrieval only needs the roles and directives flattened:
    ``:class:`~torch.nn.Conv2d``` → ``torch.nn.Conv2d``, ``.. note::`` → ``Note:``.
    """
    text = ADDRESS.sub("", text)
    text = _ROLE.sub(_role_text, text)
    text = _HF_LINK.sub(r"\1", text)
    out = []
    for line in text.splitlines():
        if _LABEL.match(line) or _OPTION.match(line):
            continue
        m = _DIRECTIVE.match(line)
        if m:
            indent, name, arg = m.groups()
            if name in {"math", "code-block", "code", "testcode", "doctest"}:
                line = f"{indent}{arg}".rstrip()
                if not line.strip():
                    continue
            elif name in {"include", "autosummary", "toctree", "currentmodule", "automodule", "image", "figure", "raw"}:
                continue
            else:
                line = f"{indent}{name.replace('-', ' ').capitalize()}: {arg}".rstrip()
        out.append(line.rstrip())
    text = _simplify_latex("\n".join(out))
    text = "\n".join(_collapse_long_lists(text.split("\n")))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _role_text(m: re.Match[str]) -> str:
    """:class:`~a.B` → a.B; :ref:`TF32<tf32_on_ampere>` → TF32; :math:`x <= y` stays whole."""
    role, body = m.group(1), m.group(2).strip()
    if role != "math":
        link = _LINK_TEXT.match(body)
        if link:
            body = link.group(1) or link.group(2)
    return body


def _simplify_latex(text: str) -> str:
    r"""Strip layout-only LaTeX from math blocks (torch.optim's algorithm boxes).

    ``&\hspace{5mm}\textbf{if} \: \textit{maximize}: \\`` becomes ``if maximize:``: the
    symbols that carry meaning stay, the typesetting that only drowns them goes.
    """
    text = _LATEX_DROP.sub("", text)
    text = _LATEX_UNWRAP.sub(r"\1", text)
    text = _LATEX_SPACE.sub(" ", text)
    out = []
    for line in text.split("\n"):
        if _LATEX_ENV.match(line):
            continue
        line = re.sub(r"^(\s*)&\s*", r"\1", line)
        line = re.sub(r"\s*\\\\\s*$", "", line)
        indent = line[: len(line) - len(line.lstrip())]
        out.append(indent + re.sub(r"\s{2,}", " ", line.strip()) if line.strip() else "")
    return "\n".join(out)


def _collapse_long_lists(lines: list[str], keep: int = LIST_KEEP, longer_than: int = LIST_MAX) -> list[str]:
    """Shorten runs of one-line bullets (transformers' 300-entry "model type → class" tables).

    Such tables are the same in many docstrings, swamp the embedding of the prose around
    them and answer almost no learner's question; the first few entries show the pattern.
    """
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) > longer_than:
            out.extend(run[:keep])
            indent = run[0][: len(run[0]) - len(run[0].lstrip())]
            out.append(f"{indent}- … and {len(run) - keep} more")
        else:
            out.extend(run)
        run.clear()

    for line in lines:
        if _BULLET.match(line) and (not run or _indent(line) == _indent(run[0])):
            run.append(line)
            continue
        flush()
        if _BULLET.match(line):
            run.append(line)
        else:
            out.append(line)
    flush()
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def summary(doc: str) -> str:
    first = doc.strip().split("\n\n", 1)[0]
    return " ".join(first.split())[:200]
