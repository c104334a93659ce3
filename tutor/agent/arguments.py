"""Tool arguments read from the learner's own words, driven by each tool's pydantic schema.

Why not let the model fill them: measured on the default 0.5B model, it invented values the
learner never gave (docs/agent.md). Here a value is only ever taken from the message: a
number next to a parameter's name ("3 epochs", "dropout of 0.3", "lr=1e-3"), a choice the
schema lists ("with sgd", "a GRU"), or a flag ("no augmentation"). Anything else keeps the
recipe's default, and the tutor says which defaults it used. Parsing numbers-next-to-names is
hand-written because no library maps free learner text onto a JSON schema's fields.
"""

from __future__ import annotations

import re
from typing import Any, Literal, get_args, get_origin

#: The recipes a learner can ask for, with the words that name them. Order matters: a model
#: name ("cnn") beats a technique ("dropout") when a message mentions both.
KIND_WORDS: list[tuple[str, list[str]]] = [
    ("timeseries", ["time series", "timeseries", "time-series", "forecast", "forecasting", "co2", "sunspot", "sunspots"]),
    ("mlp-uat", ["universal approximation", "approximation theorem", "uat", "mlp-uat", "mlp uat", "fit a function",
                 "approximate a function", "approximate sin", "curve fitting", "widths", "fit sin", "fit a sine",
                 "sawtooth", "xsin3x", "approximator", "step function", "x*sin", "fit the", "fitting sin"]),
    ("backprop", ["backprop", "backpropagation", "back-propagation", "back propagation", "xor", "autograd check",
                  "hand-computed gradients", "gradients by hand", "hand-gradients", "hand gradients", "autograd"]),
    ("cnn", ["cnn", "convnet", "conv net", "convolutional", "convolution", "conv2d", "image classifier",
             "digit classifier", "cnns"]),
    ("rnn", ["rnn", "lstm", "gru", "recurrent", "sentiment", "text classifier", "rnns", "lstms"]),
    ("activations", ["activation functions", "activations", "activation", "vanishing gradient", "vanishing gradients",
                     "sigmoid vs relu", "relu vs sigmoid", "gradient flow"]),
    ("optimizers", ["optimizers", "optimiser", "optimisers", "optimizer race", "rosenbrock", "ravine",
                    "race the optimizers", "compare optimizers", "adam vs sgd", "sgd vs adam"]),
    ("overfitting", ["overfitting", "overfit", "regularization", "regularisation", "remedy", "remedies",
                     "early stopping", "weight decay"]),
]

#: Extra names a learner uses for a parameter; the field name itself (underscores as spaces) always counts.
SYNONYMS: dict[str, list[str]] = {
    "epochs": ["epochs", "epoch", "passes"],
    "lr": ["learning rate", "learning-rate", "lr", "step size"],
    "batch_size": ["batch size", "batch-size", "batchsize", "batches of", "batch"],
    "hidden_size": ["hidden size", "hidden units", "hidden dim", "hidden dimension", "hidden", "units"],
    "hidden": ["hidden units", "hidden size", "hidden", "units"],
    "embedding_dim": ["embedding dim", "embedding dimension", "embedding size", "embeddings of", "embedding"],
    "filters": ["filters", "filter", "kernels", "channels"],
    "dropout": ["dropout", "drop out", "drop-out"],
    "weight_decay": ["weight decay", "weight-decay", "l2"],
    "n_train": ["training examples", "training samples", "training digits", "train size", "examples", "samples"],
    "n_points": ["points", "training points", "samples"],
    "label_noise": ["label noise", "noisy labels"],
    "steps": ["steps", "step", "iterations", "iters"],
    "width": ["width", "units per layer", "wide"],
    "depth": ["depth", "layers deep", "hidden layers", "deep"],
    "layers": ["layers", "stacked layers"],
    "window": ["window", "lookback", "look-back", "past steps"],
    "horizon": ["horizon", "steps ahead", "years ahead", "months ahead", "ahead"],
    "sentences": ["sentences"],
    "seed": ["seed", "random seed"],
    "patience": ["patience"],
    "momentum": ["momentum"],
    # The optimizer race's per-optimizer learning rates, as learners say them.
    **{f"lr_{o}": [f"{o} learning rate", f"{o}'s learning rate", f"learning rate for {o}", f"learning rate of {o}",
                   f"{o} lr", f"{o}'s lr", f"lr for {o}"] for o in ("sgd", "momentum", "rmsprop", "adam")},
    "threshold": ["threshold"],
    "noise": ["noise"],
    "shift": ["shift", "pixels"],
    "image_size": ["image size", "image-size", "resolution"],
    "widths": ["widths", "width", "hidden widths"],
}

#: Choice values that are everyday words: taken only right after their field's name.
AMBIGUOUS_CHOICES = {"and", "or", "step", "abs", "all", "torch", "momentum"}
#: Other words for choice values.
CHOICE_SYNONYMS = {"pytorch": "torch", "sgd with momentum": "momentum", "long short-term memory": "lstm",
                   "vanilla rnn": "rnn", "plain rnn": "rnn", "simple rnn": "rnn", "co2": "co2", "sunspot": "sunspots",
                   "early stop": "early_stopping", "early stopping": "early_stopping", "weight decay": "weight_decay",
                   "data augmentation": "augmentation", "rms prop": "rmsprop", "rmsprop": "rmsprop",
                   "x*sin(3x)": "xsin3x", "x sin 3x": "xsin3x", "x sin(3x)": "xsin3x", "every remedy": "all",
                   "all remedies": "all", "all the remedies": "all", "all four remedies": "all", "abs(x)": "abs",
                   "sin(x)": "sin", "sin(2x)": "sin", "|x|": "abs", "step function": "step"}
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "fifty": 50,
                "hundred": 100, "a hundred": 100}
_NUM = r"(?:\d+(?:\.\d+)?(?:e-?\d+)?|\.\d+(?:e-?\d+)?|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")%?"
#: Words that may stand between a number and its parameter ("2 lstm layers", "5 more epochs").
_FILLER = (r"(?:lstm|gru|hidden|more|conv|convolution|convolutional|recurrent|training|stacked|dense|extra|"
           r"step|day|month|year|point)")
RUN_ID = re.compile(r"\b[a-z][a-z0-9-]*-\d{8}-\d{6}-[0-9a-f]{4}\b")


def _vocabulary() -> set[str]:
    words: set[str] = set()
    for _, names in KIND_WORDS:
        words.update(w for n in names for w in n.split())
    for names in SYNONYMS.values():
        words.update(w for n in names for w in n.split())
    words.update(["dropout", "augmentation", "sigmoid", "momentum", "rmsprop", "optimizer", "convolutional",
                  "learning", "recurrent", "sunspots", "sawtooth", "float32", "float64", "keras", "pytorch"])
    return {w for w in words if len(w) >= 5 and w.isalpha()}


_VOCAB = _vocabulary()


def fix_typos(text: str, vocabulary=None, cutoff: float = 0.82) -> str:
    """Snap near-misses of known words ('epocs', 'droput', 'overfiting') onto them (words of 5+ letters)."""
    import difflib

    vocabulary = _VOCAB if vocabulary is None else vocabulary

    def fix(m: re.Match) -> str:
        word = m.group(0)
        if len(word) < 5 or word in vocabulary:
            return word
        close = difflib.get_close_matches(word, vocabulary, n=1, cutoff=cutoff)
        return close[0] if close else word

    return re.sub(r"[a-z]+", fix, text)


def _norm(text: str) -> str:
    return " " + fix_typos(re.sub(r"\s+", " ", text.lower().replace("×", "x"))) + " "


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![a-z0-9_]){re.escape(phrase)}(?![a-z0-9_])", text) is not None


def _number(raw: str) -> float | None:
    raw = raw.strip().lower()
    percent = raw.endswith("%")
    raw = raw.rstrip("%")
    if raw in NUMBER_WORDS:
        value = float(NUMBER_WORDS[raw])
    else:
        try:
            value = float(raw)
        except ValueError:
            return None
    return value / 100 if percent else value


_ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "gelu")
_OPTIMIZER_NAMES = ("sgd", "momentum", "rmsprop", "adam")


def detect_kind(message: str) -> str | None:
    """Which recipe the message asks for, or None."""
    text = _norm(message)
    # Naming several activations (or optimizers) to set side by side is the comparison recipe itself.
    if sum(_has(text, a) for a in _ACTIVATION_NAMES) >= 2 and not any(_has(text, w) for w in ("cnn", "rnn", "lstm")):
        return "activations"
    if sum(_has(text, o) for o in _OPTIMIZER_NAMES) >= 3:
        return "optimizers"
    for kind, words in KIND_WORDS:
        if any(_has(text, w) for w in words):
            return kind
    return None


def run_ids(message: str) -> list[str]:
    return RUN_ID.findall(message.lower())


def _names(field: str) -> list[str]:
    names = list(SYNONYMS.get(field, []))
    plain = field.replace("_", " ")
    for name in {plain, field}:  # "lr adam" and, as typed by people who read the schema, "lr_adam"
        if name not in names:
            names.insert(0, name)
    return sorted(set(names), key=len, reverse=True)


def _numeric(text: str, field: str, is_int: bool) -> float | int | None:
    for name in _names(field):
        n = re.escape(name)
        patterns = [
            rf"(?<![a-z0-9_]){n}(?:\s+(?:coefficient|value|rate|factor|amount|level))?\s*"
            rf"(?:of|=|:|to|at|is|as|set to|around|about)?\s*({_NUM})(?![a-z0-9]|\.\d)",
            # "3 epochs", "2 stacked lstm layers", "a 30-step window"
            rf"(?<![a-z0-9_.])({_NUM})\s*(?:x\s*)?(?:-?{_FILLER}[\s-]+){{0,2}}{n}(?![a-z0-9_])",
        ]
        for pattern in patterns:
            m = re.search(pattern, text)
            if m:
                value = _number(m.group(1))
                if value is None:
                    continue
                if is_int:
                    return int(value) if float(value).is_integer() else value
                return value
    return None


def _choices(annotation: Any) -> list[Any] | None:
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    return None


def _choice_mentions(text: str, field: str, choices: list[Any], kind: str | None = None) -> list[Any]:
    found: list[tuple[int, Any]] = []
    for choice in choices:
        word = str(choice).replace("_", " ")
        candidates = [word, str(choice)] + [k for k, v in CHOICE_SYNONYMS.items() if v == choice]
        # A value that is also the recipe's name ("rnn" in the rnn recipe) names the recipe, not the value.
        ambiguous = word in AMBIGUOUS_CHOICES or word == kind
        for cand in candidates:
            if ambiguous and cand == word:
                # "and"/"or"/"step": only as "task xor", "function step", "or gate", "AND task".
                pattern = rf"(?:{re.escape(field.replace('_', ' '))}\s*(?:=|:|of|is)?\s*){re.escape(cand)}(?![a-z0-9])" \
                          rf"|(?<![a-z0-9]){re.escape(cand)}\s+(?:gate|task|function|cell|optimizer|optimiser|wave|curve)" \
                          rf"|(?:fit|fits|fitting|approximate|approximating)\s+(?:the\s+|a\s+)?{re.escape(cand)}(?![a-z0-9])" \
                          rf"|(?:vanilla|plain|simple)\s+{re.escape(cand)}(?![a-z0-9])"
                m = re.search(pattern, text)
            else:
                m = re.search(rf"(?<![a-z0-9_]){re.escape(cand)}(?![a-z0-9_])", text)
            if m:
                found.append((m.start(), choice))
                break
    return [c for _, c in sorted(found, key=lambda x: x[0])]


def _allows_zero(info: Any) -> bool:
    """True when the field's bounds admit 0 (a ``ge`` of at most 0, and no ``gt`` at or above 0)."""
    low_ok = False
    for rule in info.metadata:
        ge, gt = getattr(rule, "ge", None), getattr(rule, "gt", None)
        if gt is not None and gt >= 0 or ge is not None and ge > 0:
            return False
        low_ok = low_ok or ge is not None
    return low_ok


def _joined(text: str, choice: Any, choices: list[Any]) -> bool:
    """True when another of ``choices`` is listed right beside ``choice`` ("adam and momentum", "relu vs tanh")."""
    others = "|".join(re.escape(str(c)) for c in choices if c != choice)
    link = r"\s*(?:,|and|&|vs\.?|versus|or|against)\s*"
    here = re.escape(str(choice))
    return re.search(rf"(?<![a-z0-9_])(?:{here}{link}(?:{others})|(?:{others}){link}{here})(?![a-z0-9_])", text) is not None


def extract_params(message: str, params_model: type, kind: str | None = None) -> dict[str, Any]:
    """The parameters of ``params_model`` (a pydantic model) that ``message`` states, and only those."""
    text = _norm(message)
    out: dict[str, Any] = {}
    for field, info in params_model.model_fields.items():
        ann = info.annotation
        choices = _choices(ann)
        if choices is not None and all(isinstance(c, int) and not isinstance(c, bool) for c in choices):
            value = _numeric(text, field, True)
            if value is None and field == "image_size":
                m = re.search(r"(?<![0-9])(\d+)\s*x\s*\d+", text)
                value = int(m.group(1)) if m else None
            if value is not None:
                out[field] = value
            continue
        if choices is not None:
            hits = _choice_mentions(text, field, choices, kind)
            if hits:
                out[field] = hits[0]
            continue
        origin = get_origin(ann)
        if origin in (list, tuple):
            item = (get_args(ann) or (str,))[0]
            item_choices = _choices(item)
            if item_choices:
                hits = _choice_mentions(text, field, item_choices, kind)
                # In a list of choices an everyday word is a choice too: "sgd, momentum, adam", and
                # one joined to a clear choice, "adam and momentum".
                listed = len(hits) >= 2 or (len(hits) == 1 and _joined(text, hits[0], item_choices))
                if listed:
                    hits = [c for c in item_choices if re.search(rf"(?<![a-z0-9_]){re.escape(str(c))}(?![a-z0-9_])", text)]
                    hits.sort(key=lambda c: re.search(rf"(?<![a-z0-9_]){re.escape(str(c))}(?![a-z0-9_])", text).start())
                if len(hits) >= 2 or (hits and any(_has(text, n) for n in _names(field))):
                    out[field] = hits
            elif item is int:
                for name in _names(field):
                    m = re.search(rf"{re.escape(name)}\s*(?:of|=|:)?\s*((?:\d+\s*(?:,|and|&)?\s*)+)", text)
                    if m:
                        values = [int(v) for v in re.findall(r"\d+", m.group(1))]
                        if values:
                            out[field] = values
                            break
            continue
        if ann is bool:
            names = _names(field)
            alt = "|".join(re.escape(n) for n in names)
            if re.search(rf"(?<![a-z])(?:no|without|disable|turn off|off)\s+(?:\w+\s+)?(?:{alt})(?![a-z])"
                         rf"|(?<![a-z])(?:{alt})\s+(?:off|disabled|false)(?![a-z])", text):
                out[field] = False
            elif re.search(rf"(?<![a-z])(?:with|enable|turn on|use)\s+(?:\w+\s+)?(?:{alt})(?![a-z])"
                           rf"|(?<![a-z])(?:{alt})\s+(?:on|enabled|true)(?![a-z])", text):
                out[field] = True
            continue
        if ann in (int, float):
            value = _numeric(text, field, ann is int)
            if value is None and _allows_zero(info) and re.search(
                    rf"(?<![a-z])(?:no|without|zero)\s+(?:{'|'.join(re.escape(n) for n in _names(field))})(?![a-z])", text):
                value = 0 if ann is int else 0.0  # "no label noise" states a value: zero
            if value is not None:
                out[field] = value
    return out


def stated(value: Any, message: str, field: str) -> bool:
    """Whether ``message`` states ``value`` for the parameter ``field``.

    The check a value from anyone but the learner (a model's tool call) must pass before it is
    used: a number must appear in the message, a choice by its name or a synonym, a flag by its
    field's name, and every item of a list.
    """
    return _states(value, _norm(message), _names(field))


def _states(value: Any, text: str, names: list[str]) -> bool:
    if isinstance(value, bool):  # before int: a bool is an int
        return any(_has(text, n) for n in names)
    if isinstance(value, (int, float)):
        return any(abs(n - float(value)) <= 1e-9 * max(1.0, abs(n)) for n in _numbers(text))
    if isinstance(value, str):
        words = [value.lower(), value.lower().replace("_", " ")]
        words += [k for k, v in CHOICE_SYNONYMS.items() if v == value]
        return any(_has(text, w) for w in words)
    if isinstance(value, list):
        return bool(value) and all(_states(v, text, names) for v in value)
    return False


def _numbers(text: str) -> list[float]:
    """Every number the text contains, wherever it stands."""
    found = [_number(m) for m in re.findall(_NUM, text)]
    return [n for n in found if n is not None]


def search_feed(message: str) -> str | None:
    """The feed a learner explicitly names ('in the roadmap', 'the paper notes', 'the docs'), else None."""
    text = _norm(message)
    if re.search(r"\b(?:the |my )?roadmap\b", text):
        return "roadmap"
    if re.search(r"\bpaper notes?\b|\bin the (?:research )?papers?\b|\bfrom the (?:research )?papers?\b|\bpapers say\b"
                 r"|\baccording to the paper|\bresearch papers\b"
                 r"|\bnotes? (?:on|about|of|for) the papers?\b", text):
        return "papers"
    if re.search(r"\b(?:api )?docs\b|\bdocumentation\b|\bapi reference\b|\bdocstring", text):
        return "docs"
    return None
