"""The recipes a learner can run, and their parameters: list, describe, validate, parse.

    cards()                      -> {"cnn": RecipeCard, ...}   (no torch imported)
    get_recipe("cnn")            -> the cnn RecipeCard, or a TutorError naming the valid kinds
    validate_params("cnn", {...}) -> CNNParams, or a TutorError such as
                                   "epochs must be an integer between 1 and 200 (got 0)"
    parse_cli_params("cnn", ["--epochs", "3", "--no-augmentation"]) -> {"epochs": "3", "augmentation": False}

Each recipe's pydantic model describes itself: ``param_spec`` reads ``model_json_schema()``
(bounds, choices, descriptions) and ``parse_cli_params`` hands the command line to
pydantic-settings' CLI source built from the same model, so a new recipe needs no CLI code.
The one thing written here by hand is the wording of an invalid value: pydantic's messages
("Input should be greater than or equal to 1") do not say the whole valid range at once.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from tutor.errors import TutorError
from tutor.lab.base import CARDS, RecipeCard, RecipeParams


def cards() -> dict[str, RecipeCard]:
    """Every recipe's card by name (importing the cards registers them; recipes registered
    by other code, such as the tests' recipes, are included)."""
    import tutor.lab.cards  # noqa: F401  (import side effect: registration)

    return CARDS


def get_recipe(kind: str) -> RecipeCard:
    """The card of ``kind``: name, summary, Params, primary metric... (no training code imported)."""
    known = cards()
    if kind not in known:
        raise TutorError(f"unknown experiment '{kind}'; choose one of: {', '.join(sorted(known))}")
    return known[kind]


# --- describing parameters ---------------------------------------------------------------------

_JSON_TYPES = {"integer": "int", "number": "float", "boolean": "bool", "string": "str"}


def param_spec(kind: str) -> list[dict[str, Any]]:
    """Each parameter of a recipe: name, type, default, bounds or choices, description.

    Read from the model's JSON schema; defaults come from the model itself, because a
    ``default_factory`` (a list default) does not appear in the schema.
    """
    model = get_recipe(kind).Params
    schema = model.model_json_schema()
    spec = []
    for name, prop in schema.get("properties", {}).items():
        info = model.model_fields[name]
        entry: dict[str, Any] = {"name": name, "default": info.get_default(call_default_factory=True),
                                 "description": prop.get("description", "")}
        if "enum" in prop:
            entry.update(type="choice", choices=list(prop["enum"]))
        elif prop.get("type") == "array":
            items = prop.get("items", {})
            entry["type"] = "list"
            if "enum" in items:
                entry["choices"] = list(items["enum"])
            else:
                entry["item_type"] = _JSON_TYPES.get(items.get("type", ""), "str")
        else:
            entry["type"] = _JSON_TYPES.get(prop.get("type", ""), prop.get("type", "str"))
        for key, bound, exclusive in (("min", "minimum", "exclusiveMinimum"), ("max", "maximum", "exclusiveMaximum")):
            if exclusive in prop or bound in prop:
                entry[key] = prop.get(exclusive, prop.get(bound))
                entry[f"{key}_exclusive"] = exclusive in prop
        spec.append(entry)
    return spec


def describe_param(entry: dict[str, Any]) -> str:
    """'an integer between 1 and 200', 'one of adam, sgd', 'a number greater than 0 and at most 1'."""
    if entry["type"] == "choice":
        return "one of " + ", ".join(str(c) for c in entry["choices"])
    if entry["type"] == "bool":
        return "true or false"
    if entry["type"] == "list":
        items = ("any of " + ", ".join(str(c) for c in entry["choices"])) if entry.get("choices") else (
            f"{entry.get('item_type', 'value')} values")
        return f"a comma-separated list ({items})"
    noun = {"int": "an integer", "float": "a number"}.get(entry["type"], f"a {entry['type']}")
    lo, hi = entry.get("min"), entry.get("max")
    num = lambda v: str(v) if isinstance(v, int) else f"{v:g}"
    if lo is not None and hi is not None and not entry.get("min_exclusive") and not entry.get("max_exclusive"):
        return f"{noun} between {num(lo)} and {num(hi)}"
    parts = []
    if lo is not None:
        parts.append(f"{'greater than' if entry.get('min_exclusive') else 'at least'} {num(lo)}")
    if hi is not None:
        parts.append(f"{'less than' if entry.get('max_exclusive') else 'at most'} {num(hi)}")
    return noun + (" " + " and ".join(parts) if parts else "")


def _shown(value: Any) -> str:
    # A command-line value arrives as text: '0' reads better as 0, and 'three' keeps its quotes.
    if isinstance(value, str):
        try:
            float(value)
            return value
        except ValueError:
            pass
    return repr(value)


def explain_validation(kind: str, exc: ValidationError) -> str:
    """One sentence per problem, naming the valid range, e.g. 'epochs must be between 1 and 200 (got 0)'."""
    spec = {e["name"]: e for e in param_spec(kind)}
    messages = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        name = str(loc[0]) if loc else ""
        if err["type"] == "extra_forbidden":
            messages.append(f"unknown parameter '{name}' for {kind}; valid parameters: {', '.join(spec)}")
        elif name in spec and err["type"] == "value_error":  # the field's own rule, worded for people
            messages.append(f"{name}: {str(err.get('msg', '')).removeprefix('Value error, ')}")
        elif name in spec:
            messages.append(f"{name} must be {describe_param(spec[name])} (got {_shown(err.get('input'))})")
        else:  # a rule across fields (model validator): its message is already meant for people
            messages.append(str(err.get("msg", "")).removeprefix("Value error, "))
    return "; ".join(dict.fromkeys(messages))  # a list with two bad items: one sentence, not two


def validate_params(kind: str, params: dict[str, Any] | RecipeParams | None) -> RecipeParams:
    """The recipe's parameters, validated once by its own model; a TutorError says what is wrong."""
    model = get_recipe(kind).Params
    if isinstance(params, model):
        return params
    try:
        return model.model_validate(dict(params or {}))
    except ValidationError as exc:
        raise TutorError(explain_validation(kind, exc)) from None


# --- the command line --------------------------------------------------------------------------


def parse_cli_params(kind: str, args: list[str]) -> dict[str, Any]:
    """``["--epochs", "3", "--no-augmentation"]`` -> ``{"epochs": "3", "augmentation": False}``.

    pydantic-settings' CLI source, built from the recipe's model, reads the arguments: kebab or
    snake names, ``--flag`` / ``--no-flag`` for a bool, ``--widths 4,16,64`` for a list. Values stay
    as given; ``validate_params`` turns them into the model (and words any error).
    """
    from pydantic_settings import CliSettingsSource, SettingsError

    model = get_recipe(kind).Params
    names = list(model.model_fields)
    if args and not args[0].startswith("--"):
        raise TutorError(f"unexpected argument '{args[0]}'; give parameters as --name value, e.g. --epochs 3")
    # Unknown names first, in the same words as the API uses (argparse would say "unrecognized arguments").
    for token in args:
        if token.startswith("--"):
            key = token[2:].partition("=")[0].replace("-", "_")
            if key not in names and not (key.startswith("no_") and key[3:] in names):
                raise TutorError(f"unknown parameter '{key}' for {kind}; valid parameters: {', '.join(names)}")
    try:
        source = CliSettingsSource(model, cli_parse_args=list(args), cli_prog_name=f"tutor experiment run {kind}",
                                   cli_kebab_case=True, cli_implicit_flags=True, cli_exit_on_error=False)
        values = dict(source())
    except SettingsError as exc:
        detail = str(exc).removeprefix("error parsing CLI: ")
        raise TutorError(f"{detail} (a true/false parameter is a flag: --augmentation or --no-augmentation)"
                         if "explicit argument" in detail or "unrecognized" in detail else detail) from None
    # A number among the choices (image_size 8 or 28) arrives as text, and pydantic's Literal does
    # not convert "28" to 28: match it against the choices' own spelling.
    for entry in param_spec(kind):
        value = values.get(entry["name"])
        if entry["type"] == "choice" and isinstance(value, str):
            values[entry["name"]] = next((c for c in entry["choices"] if str(c) == value), value)
    return values
