"""Harvest API documentation from the libraries installed in this environment.

``harvest("torch.nn")`` imports the package and returns one llama-index ``Document`` per
public object: the qualified name, its call signature and its cleaned docstring, with the
installed version in the metadata, so a citation reads "torch 2.13.0, torch.nn.LSTM" and
always matches the code the user actually runs (unlike docs scraped from a website).

What counts as public, in order:
  1. names in the module's ``__all__`` when it has one, otherwise every name without a
     leading underscore; private names are dropped even when ``__all__`` lists them;
  2. without ``__all__``, an object must be *defined* inside the harvested package
     (``torch.nn.functional.Tensor`` is an import of ``torch.Tensor``, not part of torch.nn);
     C builtins only carry the top-level module (``F.conv2d.__module__ == "torch"``), so
     for them the top-level package is enough;
  3. every object is documented once, under the first (shallowest) public path met in a
     breadth-first walk, so ``torch.nn.LSTM`` wins over ``torch.nn.modules.rnn.LSTM``;
  4. objects without a docstring are skipped: a bare signature retrieves badly and cites
     nothing useful;
  5. submodules are followed when ``__all__`` names them (``torch.optim.lr_scheduler``) or
     when ``EXTRA_SUBMODULES`` says so (``torch.nn`` has no ``__all__`` but users live in
     ``torch.nn.functional``); never blindly, since packages like llama_index bind hundreds
     of internal submodules as attributes.

Methods. A class Document ends with an index of its own public methods (name, signature,
first docstring line), so "which Module method freezes parameters?" lands on the class.
A method whose own docstring is substantial (``METHOD_DOC_MIN_CHARS``) also gets its own
Document (``docs:torch.nn.Module.register_forward_hook``): folding long method docs into
the class would bury them in chunks titled after the class and cite the wrong object.
Inherited methods are documented once, on the class that defines them.

Huge packages are curated (``CURATED``): transformers exposes thousands of lazily imported
model classes whose docstrings are near-identical templates; the default corpus takes the
objects users actually call instead, so it embeds in minutes on a laptop.

Written on ``inspect`` rather than griffe: griffe reads source statically and cannot see
objects built at import time (transformers' lazy module, torch's C builtins, generated
docstrings), which are exactly the ones people ask about.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import os
import re
import sys
import types
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from llama_index.core import Document

from knowledge.citation import METADATA_KEYS
from tutor.errors import TutorError

FEED = "docs"

# Metadata that identifies a passage but only adds noise to its embedding or the LLM prompt.
HIDDEN_KEYS = ["source", "page", "url", "version", "feed"]

# A method gets its own Document when its own docstring is at least this long; shorter
# ones ("Move all parameters to the CPU.") are fully served by the class's method index.
METHOD_DOC_MIN_CHARS = 300

# Hard ceiling per Document. A few docstrings (transformers' TrainingArguments) run past
# 30k characters; beyond this the tail is argument trivia that costs embedding time and
# is still reachable through the per-method Documents.
MAX_TEXT_CHARS = 24_000

# Packages without ``__all__`` whose useful API lives in submodules users import directly.
EXTRA_SUBMODULES: dict[str, tuple[str, ...]] = {
    "torch.nn": ("functional", "init", "utils"),
}

# Submodules that ``__all__`` lists but that hold internals or deprecated machinery.
SKIP_SUBMODULES = frozenset(
    {
        "torch.utils.data.datapipes",  # torchdata's DataPipes, deprecated and unused in the tutor's world
        "torch.nn.utils.stateless",  # superseded by torch.func.functional_call
    }
)

# transformers: the names a learner or practitioner types, not the ~4,000 model classes.
# The rule: the Auto* entry points, the training loop (Trainer & friends, callbacks,
# schedulers, collators), pipelines, the base model/tokenizer/config classes, generation
# and quantisation configs, and a handful of reference architectures that tutorials
# use by name (BERT, GPT-2, Llama, T5, ViT). Everything else is reachable via the Auto*
# docs or ``tutor ingest --docs transformers.models.<name>``.
_TRANSFORMERS_NAMES = frozenset(
    {
        "Trainer", "TrainingArguments", "Seq2SeqTrainer", "Seq2SeqTrainingArguments",
        "TrainerCallback", "TrainerState", "TrainerControl", "EarlyStoppingCallback",
        "PrinterCallback", "ProgressCallback", "TensorBoardCallback",
        "pipeline", "Pipeline", "TextGenerationPipeline", "TextClassificationPipeline",
        "PreTrainedModel", "PretrainedConfig", "PreTrainedTokenizer", "PreTrainedTokenizerFast",
        "PreTrainedTokenizerBase", "BatchEncoding", "ProcessorMixin", "BatchFeature",
        "GenerationConfig", "GenerationMixin", "StoppingCriteria", "StoppingCriteriaList",
        "MaxLengthCriteria", "LogitsProcessor", "LogitsProcessorList",
        "TemperatureLogitsWarper", "TopKLogitsWarper", "TopPLogitsWarper",
        "BitsAndBytesConfig", "GPTQConfig",
        "set_seed", "enable_full_determinism",
        "BertConfig", "BertModel", "BertTokenizer", "BertTokenizerFast", "BertForSequenceClassification",
        "GPT2Config", "GPT2LMHeadModel", "GPT2Tokenizer", "GPT2TokenizerFast",
        "LlamaConfig", "LlamaForCausalLM", "T5ForConditionalGeneration", "ViTForImageClassification",
        "Adafactor",
    }
)
_TRANSFORMERS_PATTERN = re.compile(
    r"^(Auto(Config|Tokenizer|Processor|ImageProcessor|FeatureExtractor|Model(For\w+)?)"
    r"|DataCollator\w*|get_\w*schedule\w*|\w+Streamer)$"
)

CURATED: dict[str, Callable[[str], bool]] = {
    "transformers": lambda name: name in _TRANSFORMERS_NAMES or bool(_TRANSFORMERS_PATTERN.match(name)),
}

# The ~50 Auto* classes share one from_pretrained/from_config text (each ~20k characters
# of "model type → class" lists). Their class Documents and method index stay; separate
# method Documents only for the Auto* classes tutorials actually use.
_AUTO_WITH_METHOD_DOCS = frozenset(
    {
        "AutoConfig", "AutoTokenizer", "AutoProcessor", "AutoImageProcessor", "AutoModel",
        "AutoModelForCausalLM", "AutoModelForSequenceClassification", "AutoModelForSeq2SeqLM",
        "AutoModelForTokenClassification", "AutoModelForImageClassification",
    }
)

# package → which class paths also get one Document per long method.
METHOD_FILTERS: dict[str, Callable[[str], bool]] = {
    "transformers": lambda path: not path.split(".")[-1].startswith("Auto")
    or path.split(".")[-1] in _AUTO_WITH_METHOD_DOCS,
}

# Curated transformers names → their page in the official docs (checked by hand). Anything
# not listed gets no URL rather than a guessed one.
_TRANSFORMERS_PAGES: dict[str, str] = {
    **dict.fromkeys(
        ["Trainer", "TrainingArguments", "Seq2SeqTrainer", "Seq2SeqTrainingArguments"], "main_classes/trainer"
    ),
    **dict.fromkeys(
        ["TrainerCallback", "TrainerState", "TrainerControl", "EarlyStoppingCallback", "PrinterCallback",
         "ProgressCallback", "TensorBoardCallback"],
        "main_classes/callback",
    ),
    **dict.fromkeys(["pipeline", "Pipeline", "TextGenerationPipeline", "TextClassificationPipeline"],
                    "main_classes/pipelines"),
    "PreTrainedModel": "main_classes/model",
    "PretrainedConfig": "main_classes/configuration",
    **dict.fromkeys(["PreTrainedTokenizer", "PreTrainedTokenizerFast", "PreTrainedTokenizerBase", "BatchEncoding"],
                    "main_classes/tokenizer"),
    **dict.fromkeys(["GenerationConfig", "GenerationMixin"], "main_classes/text_generation"),
    **dict.fromkeys(["BitsAndBytesConfig", "GPTQConfig"], "main_classes/quantization"),
    **dict.fromkeys(["Adafactor", "get_scheduler", "get_linear_schedule_with_warmup",
                     "get_cosine_schedule_with_warmup", "get_constant_schedule_with_warmup"],
                    "main_classes/optimizer_schedules"),
    "set_seed": "internal/trainer_utils",
    **dict.fromkeys(["BertConfig", "BertModel", "BertTokenizer", "BertTokenizerFast",
                     "BertForSequenceClassification"], "model_doc/bert"),
    **dict.fromkeys(["GPT2Config", "GPT2LMHeadModel", "GPT2Tokenizer", "GPT2TokenizerFast"], "model_doc/gpt2"),
    **dict.fromkeys(["LlamaConfig", "LlamaForCausalLM"], "model_doc/llama"),
    "T5ForConditionalGeneration": "model_doc/t5",
    "ViTForImageClassification": "model_doc/vit",
}

# peft objects whose reference page is known; the rest get no URL.
_PEFT_PAGES: dict[str, str] = {
    **dict.fromkeys(
        ["PeftModel", "PeftModelForCausalLM", "PeftModelForSequenceClassification", "PeftModelForSeq2SeqLM",
         "PeftModelForTokenClassification", "PeftModelForQuestionAnswering", "PeftModelForFeatureExtraction"],
        "peft_model",
    ),
    **dict.fromkeys(["PeftConfig", "PromptLearningConfig"], "config"),
    **dict.fromkeys(["LoraConfig", "LoraModel"], "lora"),
}


@dataclass
class _Entry:
    """One public object found by the walk, before it becomes a Document."""

    path: str  # public dotted path, e.g. "torch.nn.LSTM"
    module: str  # public module it was found in, e.g. "torch.nn"
    obj: object
    kind: str  # class | function | method | object (an exported instance, documented via its class)
    owner: str | None = None  # for methods: the public class path
    methods: list[str] = field(default_factory=list)  # for classes: the method index lines
    bases: list[str] = field(default_factory=list)  # for classes: base classes, public paths where known


# --------------------------------------------------------------------------- public API


def harvest(
    package: str,
    progress: Callable[[int, int], None] | None = None,
    limit: int | None = None,
) -> list[Document]:
    """One Document per public, documented object of an installed package or module.

    ``progress(done, total)`` is called as candidate names are resolved (the slow part for
    lazy packages); raising from it (e.g. KeyboardInterrupt) cancels the harvest.
    ``limit`` stops after that many Documents. The same environment always yields the
    same Documents in the same order, so ingestion by content hash stays incremental.
    """
    if limit is not None and limit < 1:
        raise TutorError(f"limit must be at least 1, got {limit}.")
    docs: list[Document] = []
    with _quiet(package.split(".")[0]):
        root = _import(package)
        version = _version_of(root)
        for entry in _walk(root, progress):
            doc = _to_document(entry, version, root.__name__)
            if doc is None:
                continue
            docs.append(doc)
            if limit is not None and len(docs) >= limit:
                break
    return docs


@contextlib.contextmanager
def _quiet(top: str) -> Iterator[None]:
    """Silence the package's own chatter while we poke at every attribute.

    Touching transformers' lazy names logs one "requires torchvision" line per image
    processor, and torch warns about deprecated aliases; none of it concerns the user, who
    is watching an ingestion progress bar. Levels are restored afterwards.
    """
    logger = logging.getLogger(top)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


# --------------------------------------------------------------------------- import


def _import(package: str) -> types.ModuleType:
    name = package.strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", name):
        raise TutorError(f"'{package}' is not a Python module name; use a dotted name such as torch.nn.")
    # Importing transformers/peft must never reach the hub; the tutor runs offline.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    top = name.split(".")[0]
    try:
        installed = importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        installed = False
    if not installed:
        raise TutorError(f"package '{name}' is not installed in this environment; install it or pick one of {_suggestions()}.")
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == name or name.startswith(exc.name + ".")):
            raise TutorError(
                f"package '{name}' is not installed in this environment; install it or pick one of {_suggestions()}."
            ) from None
        raise TutorError(f"package '{name}' failed to import (it needs the missing module '{exc.name}'); install that or pick another package.") from None
    except Exception as exc:  # noqa: BLE001 - any import-time failure is the environment's, report it in one line
        detail = " ".join(str(exc).split())[:200]
        raise TutorError(f"package '{name}' failed to import ({type(exc).__name__}: {detail}); pick another package.") from None


def _suggestions() -> str:
    """The configured default packages that are actually installed, for the error message."""
    try:
        from tutor.config import get_settings

        names = list(get_settings().docs_packages)
    except Exception:  # noqa: BLE001 - a broken config must not hide the real error
        names = []
    ok = []
    for n in names:
        try:
            if importlib.util.find_spec(n.split(".")[0]) is not None:
                ok.append(n)
        except (ImportError, ValueError):
            pass
    return ", ".join(ok) or "torch.nn"


# --------------------------------------------------------------------------- walking


def _public_names(mod: types.ModuleType) -> tuple[list[str], bool]:
    """Sorted public names of a module, and whether they come from ``__all__``."""
    declared = getattr(mod, "__all__", None)
    if declared is not None:
        names = {str(n) for n in declared}
    else:
        names = set(vars(mod))
    return sorted(n for n in names if not n.startswith("_")), declared is not None


def _modules_to_walk(root: types.ModuleType) -> list[types.ModuleType]:
    """The root and the submodules it deliberately exposes, breadth-first."""
    order = [root]
    if root.__name__ in CURATED:
        # A curated package is defined by its name list alone; its __all__ also lists
        # every model subpackage (transformers.models.*), the very long tail we cut.
        return order
    seen = {root.__name__}
    i = 0
    while i < len(order):
        mod = order[i]
        i += 1
        names, from_all = _public_names(mod)
        wanted = [n for n in names if from_all] + list(EXTRA_SUBMODULES.get(mod.__name__, ()))
        for n in sorted(set(wanted)):
            sub = _safe_getattr(mod, n)
            if sub is None:
                try:
                    sub = importlib.import_module(f"{mod.__name__}.{n}") if n in EXTRA_SUBMODULES.get(mod.__name__, ()) else None
                except Exception:  # noqa: BLE001 - an optional submodule that fails to import is skipped
                    sub = None
            if not isinstance(sub, types.ModuleType):
                continue
            if not sub.__name__.startswith(root.__name__ + ".") or sub.__name__ in seen:
                continue
            if sub.__name__ in SKIP_SUBMODULES:
                continue
            seen.add(sub.__name__)
            order.append(sub)
    return order


def _safe_getattr(obj: object, name: str) -> object | None:
    # Lazy modules (transformers) import on attribute access; a missing optional
    # dependency then raises anything from ImportError to RuntimeError. Skip such names.
    try:
        return getattr(obj, name)
    except Exception:  # noqa: BLE001
        return None


def _belongs(obj: object, root: str, declared: bool) -> bool:
    if declared:
        return True
    owner = getattr(obj, "__module__", None)
    if not isinstance(owner, str):
        return False
    if owner == root or owner.startswith(root + "."):
        return True
    # C builtins report only the top-level module (F.conv2d says "torch").
    return inspect.isbuiltin(obj) and owner.split(".")[0] == root.split(".")[0]


def _walk(root: types.ModuleType, progress: Callable[[int, int], None] | None) -> Iterable[_Entry]:
    modules = _modules_to_walk(root)
    keep = CURATED.get(root.__name__)
    plan: list[tuple[int, types.ModuleType, str, bool]] = []
    for rank, mod in enumerate(modules):
        names, declared = _public_names(mod)
        if keep is not None and mod is root:
            names = [n for n in names if keep(n)]
        plan.extend((rank, mod, n, declared) for n in names)

    # Pass 1: resolve every candidate and pick one public path per object. An object
    # reached under several names gets the shallowest module, then its own name over an
    # alias (llama_index's VectorStoreIndex, not its legacy alias GPTVectorStoreIndex).
    total = len(plan)
    best: dict[int, tuple[tuple[int, bool, str], _Entry]] = {}
    for done, (rank, mod, name, declared) in enumerate(plan, 1):
        obj = _safe_getattr(mod, name)
        if progress is not None:
            progress(done, total)
        entry = _classify(obj, mod, name, declared, root.__name__)
        if entry is None:
            continue
        key = (rank, name != getattr(obj, "__name__", name), name)
        if id(obj) not in best or key < best[id(obj)][0]:
            best[id(obj)] = (key, entry)
    found = [entry for _, entry in sorted(best.values(), key=lambda item: item[0][0::2] + (item[1].path,))]

    public_path = {id(e.obj): e.path for e in found}
    method_filter = METHOD_FILTERS.get(root.__name__)
    for entry in found:
        if entry.kind in ("class", "object"):
            cls = entry.obj if entry.kind == "class" else type(entry.obj)
            entry.methods = _method_index(cls)
            if entry.kind == "class":
                entry.bases = [_base_path(b, public_path) for b in cls.__bases__]
                entry.bases = [b for b in entry.bases if b]
            yield entry
            if method_filter is None or method_filter(entry.path):
                yield from _method_entries(entry, cls)
        else:
            yield entry


def _classify(obj: object, mod: types.ModuleType, name: str, declared: bool, root: str) -> _Entry | None:
    """An _Entry if ``obj`` is public API of ``root`` worth a Document, else None."""
    path = f"{mod.__name__}.{name}"
    if obj is None or isinstance(obj, types.ModuleType):
        return None
    if inspect.isclass(obj) or inspect.isroutine(obj):
        if not _belongs(obj, root, declared):
            return None
        return _Entry(path=path, module=mod.__name__, obj=obj, kind="class" if inspect.isclass(obj) else "function")
    # A configured singleton deliberately exported (llama_index.core.Settings): documented
    # through its class, under the name users actually type.
    if declared and _belongs(type(obj), root.split(".")[0], False) and _own_doc(type(obj)):
        return _Entry(path=path, module=mod.__name__, obj=obj, kind="object")
    return None


def _base_path(base: type, public_path: dict[int, str]) -> str | None:
    """How to name a base class in a Document; None for noise (object, typing, ABC, private)."""
    if base is object or base.__module__ in {"builtins", "typing", "abc", "collections.abc"}:
        return None
    path = public_path.get(id(base), f"{base.__module__}.{base.__qualname__}")
    return None if any(part.startswith("_") for part in path.split(".")) else path


def _own_members(cls: type) -> list[tuple[str, object]]:
    """Public callables and properties the class itself defines, in name order."""
    out = []
    for name, raw in sorted(vars(cls).items()):
        if name.startswith("_"):
            continue
        if isinstance(raw, (classmethod, staticmethod)):
            fn = raw.__func__
        elif isinstance(raw, property) or inspect.isroutine(raw):
            fn = raw
        else:
            continue
        out.append((name, fn))
    return out


def _own_doc(obj: object) -> str:
    """The object's own docstring, cleaned; '' when it only inherits one."""
    raw = getattr(obj, "__doc__", None)
    if not isinstance(raw, str) or not raw.strip():
        return ""
    return clean_docstring(inspect.cleandoc(raw))


def _method_index(cls: type) -> list[str]:
    lines = []
    for name, fn in _own_members(cls):
        doc = _own_doc(fn)
        if not doc:
            continue
        summary = _summary(doc)
        if isinstance(fn, property):
            lines.append(f"- {name} (property): {summary}")
        else:
            sig = _signature(fn, drop_first=_takes_self(cls, name))
            lines.append(f"- {name}{sig}: {summary}")
    return lines


def _method_entries(entry: _Entry, cls: type) -> Iterable[_Entry]:
    for name, fn in _own_members(cls):
        if isinstance(fn, property):
            continue
        if len(_own_doc(fn)) >= METHOD_DOC_MIN_CHARS:
            yield _Entry(path=f"{entry.path}.{name}", module=entry.module, obj=fn, kind="method", owner=entry.path)


def _takes_self(cls: type, name: str) -> bool:
    raw = vars(cls).get(name)
    return not isinstance(raw, staticmethod)


# --------------------------------------------------------------------------- rendering

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
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
    text = _ADDRESS.sub("", text)
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
    """Strip layout-only LaTeX from math blocks (torch.optim's algorithm boxes).

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


def _summary(doc: str) -> str:
    first = doc.strip().split("\n\n", 1)[0]
    return " ".join(first.split())[:200]


def _signature(obj: object, drop_first: bool = False) -> str:
    """``(a, b=1)`` or '' when Python cannot tell (C builtins) or it says nothing."""
    target = obj.fget if isinstance(obj, property) else obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError, RuntimeError):
        return ""
    params = list(sig.parameters.values())
    if drop_first and params and params[0].name in {"self", "cls"}:
        sig = sig.replace(parameters=params[1:])
        params = params[1:]
    kinds = [p.kind for p in params]
    if kinds == [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD]:
        # `(*args, **kwargs)` (torch.nn.LSTM's overloaded __init__) is noise, not a signature.
        return ""
    # Names and defaults only: annotations like `Callable[[~T, tuple[Any, ...]], Any | None]`
    # drown the parameter names in the embedding and the docstring explains types anyway.
    empty = inspect.Parameter.empty
    sig = sig.replace(parameters=[p.replace(annotation=empty) for p in params], return_annotation=empty)
    return _ADDRESS.sub("", str(sig))


def _render(entry: _Entry, doc: str) -> str:
    kind = entry.kind
    sig = "" if kind == "object" else _signature(entry.obj, drop_first=kind == "method")
    # First line "class torch.nn.LSTM(input_size, ...)": the name and call shape lead every
    # chunk's first window, where both BM25 and the embedding weigh them most.
    lines = [f"{kind} {entry.path}{sig}"]
    if kind == "class":
        if entry.bases:
            lines.append("Bases: " + ", ".join(entry.bases))
    if kind == "method":
        lines.append(f"Method of {entry.owner}.")
    lines += ["", doc]
    if entry.methods:
        lines += ["", f"Methods and properties of {entry.path}:", *entry.methods]
    text = "\n".join(lines).strip()
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rsplit("\n", 1)[0] + "\n[… truncated]"
    return text


def _is_generated_dataclass_doc(obj: object, doc: str) -> bool:
    # @dataclass writes "Name(field: type = default, ...)" into an empty __doc__: that is
    # a signature, not documentation, and the object counts as undocumented.
    return dataclasses.is_dataclass(obj) and inspect.isclass(obj) and "\n" not in doc and doc.startswith(f"{obj.__name__}(")


def _to_document(entry: _Entry, version: str | None, root: str) -> Document | None:
    # The object's own docstring only: inspect.getdoc would hand a bare subclass its
    # parent's text, duplicating the parent's Document under another name.
    doc = _own_doc(type(entry.obj) if entry.kind == "object" else entry.obj)
    if not doc or _is_generated_dataclass_doc(entry.obj, doc):
        return None
    text = _render(entry, doc)
    source = f"docs:{entry.path}"
    metadata = dict.fromkeys(METADATA_KEYS)
    metadata.update(
        source=source,
        title=entry.path,
        section=entry.module,
        page=None,
        url=_url_for(entry, root),
        version=version,
        feed=FEED,
    )
    return Document(
        text=text,
        id_=source,
        metadata=metadata,
        excluded_embed_metadata_keys=list(HIDDEN_KEYS),
        excluded_llm_metadata_keys=list(HIDDEN_KEYS),
    )


# --------------------------------------------------------------------------- version & url

_DIST_CACHE: dict[str, list[str]] | None = None


def _version_of(mod: types.ModuleType) -> str | None:
    """"<distribution> <version>" for the distribution that ships ``mod``; "Python x.y.z" for
    stdlib; None for a module no installed distribution claims (a local source tree)."""
    top = mod.__name__.split(".")[0]
    if top in sys.stdlib_module_names:
        return f"Python {sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    global _DIST_CACHE
    if _DIST_CACHE is None:
        _DIST_CACHE = importlib.metadata.packages_distributions()
    dists = sorted(set(_DIST_CACHE.get(top, [])))
    dist = _dist_holding(mod, dists) if len(dists) > 1 else (dists[0] if dists else None)
    if dist is None:
        version = getattr(sys.modules.get(top), "__version__", None)
        return f"{top} {version}" if isinstance(version, str) else None
    version = importlib.metadata.version(dist)
    # Drop a local build tag ("2.13.0+cpu"): the API is the same for every build, and a
    # CPU→CUDA switch should not look like new docs to the content-hash ingestion.
    return f"{dist} {version.split('+')[0]}"


def _dist_holding(mod: types.ModuleType, dists: list[str]) -> str | None:
    """Among distributions sharing a namespace (llama_index.*), the one that owns ``mod``'s files."""
    rel = mod.__name__.replace(".", "/") + "/"
    single = mod.__name__.replace(".", "/") + ".py"
    for dist in dists:
        files = importlib.metadata.files(dist) or []
        if any(str(f).startswith(rel) or str(f) == single for f in files):
            return dist
    return dists[0] if dists else None


def _url_for(entry: _Entry, root: str) -> str | None:
    top = root.split(".")[0]
    path = entry.path
    page_path = entry.owner or path  # methods live on their class's page
    if top == "torch":
        base = "https://pytorch.org/docs/stable"
        if page_path.startswith("torch.utils.data."):
            return f"{base}/data.html#{path}"
        if page_path.startswith("torch.nn.init."):
            return f"{base}/nn.init.html#{path}"
        if page_path.startswith(("torch.nn.", "torch.optim.")):
            anchor = f"#{path}" if entry.owner else ""
            return f"{base}/generated/{page_path}.html{anchor}"
        return None
    if top == "transformers":
        name = page_path.split(".")[1] if page_path.count(".") >= 1 else ""
        page = _TRANSFORMERS_PAGES.get(name)
        if page is None and name.startswith("Auto"):
            page = "model_doc/auto"
        elif page is None and name.startswith("DataCollator"):
            page = "main_classes/data_collator"
        if page is None or page_path != f"transformers.{name}":
            return None
        return f"https://huggingface.co/docs/transformers/{page}#{path}"
    if top == "peft":
        page = _PEFT_PAGES.get(page_path.removeprefix("peft."))
        return f"https://huggingface.co/docs/peft/package_reference/{page}#{path}" if page else None
    if top in sys.stdlib_module_names:
        return f"https://docs.python.org/3/library/{root}.html#{path}"
    return None


# --------------------------------------------------------------------------- measurement


def main(argv: list[str] | None = None) -> None:
    """``python -m knowledge.readers.api_docs [PACKAGE ...] [--json PATH]``: size and time per package.

    Defaults to the configured docs packages; rerun it on a quiet machine for real timings.
    Each package is timed in this one process, so later ones reuse modules imported earlier
    (torch.optim after torch.nn): the first number is the honest cold-import cost.
    """
    import argparse
    import json
    import time

    from tutor.config import get_settings

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("packages", nargs="*", help="packages to harvest (default: settings.docs_packages)")
    parser.add_argument("--json", dest="json_path", help="also write the table as JSON here")
    args = parser.parse_args(argv)
    rows = []
    for package in args.packages or get_settings().docs_packages:
        start = time.perf_counter()
        try:
            docs = harvest(package)
        except TutorError as exc:
            rows.append({"package": package, "error": str(exc)})
            continue
        rows.append(
            {
                "package": package,
                "version": docs[0].metadata["version"] if docs else None,
                "documents": len(docs),
                "characters": sum(len(d.text) for d in docs),
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
    print(f"{'package':<20} {'docs':>6} {'chars':>10} {'seconds':>8}  version")
    for r in rows:
        if "error" in r:
            print(f"{r['package']:<20} error: {r['error']}")
        else:
            print(f"{r['package']:<20} {r['documents']:>6} {r['characters']:>10} {r['seconds']:>8}  {r['version']}")
    ok = [r for r in rows if "error" not in r]
    print(f"{'total':<20} {sum(r['documents'] for r in ok):>6} {sum(r['characters'] for r in ok):>10} "
          f"{round(sum(r['seconds'] for r in ok), 2):>8}")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
