"""Find the public, documented objects of a package: import it, walk its modules breadth-first."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import re
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from knowledge.readers.api_docs.curation import (
    CURATED,
    EXTRA_SUBMODULES,
    METHOD_FILTERS,
    SKIP_SUBMODULES,
)
from knowledge.readers.api_docs.docstrings import clean_docstring, summary
from knowledge.readers.api_docs.signatures import signature
from tutor.errors import TutorError

# A method gets its own Document when its own docstring is at least this long; shorter
# ones ("Move all parameters to the CPU.") are fully served by the class's method index.
METHOD_DOC_MIN_CHARS = 300


@dataclass
class Entry:
    """One public object found by the walk, before it becomes a Document."""

    path: str  # public dotted path, e.g. "torch.nn.LSTM"
    module: str  # public module it was found in, e.g. "torch.nn"
    obj: object
    kind: str  # class | function | method | object (an exported instance, documented via its class)
    owner: str | None = None  # for methods: the public class path
    methods: list[str] = field(default_factory=list)  # for classes: the method index lines
    bases: list[str] = field(default_factory=list)  # for classes: base classes, public paths where known


# --------------------------------------------------------------------------- import


def import_package(package: str) -> types.ModuleType:
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


def walk(root: types.ModuleType, progress: Callable[[int, int], None] | None) -> Iterable[Entry]:
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
    best: dict[int, tuple[tuple[int, bool, str], Entry]] = {}
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


def _classify(obj: object, mod: types.ModuleType, name: str, declared: bool, root: str) -> Entry | None:
    """An Entry if ``obj`` is public API of ``root`` worth a Document, else None."""
    path = f"{mod.__name__}.{name}"
    if obj is None or isinstance(obj, types.ModuleType):
        return None
    if inspect.isclass(obj) or inspect.isroutine(obj):
        if not _belongs(obj, root, declared):
            return None
        return Entry(path=path, module=mod.__name__, obj=obj, kind="class" if inspect.isclass(obj) else "function")
    # A configured singleton deliberately exported (llama_index.core.Settings): documented
    # through its class, under the name users actually type.
    if declared and _belongs(type(obj), root.split(".")[0], False) and own_doc(type(obj)):
        return Entry(path=path, module=mod.__name__, obj=obj, kind="object")
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


def own_doc(obj: object) -> str:
    """The object's own docstring, cleaned; '' when it only inherits one."""
    raw = getattr(obj, "__doc__", None)
    if not isinstance(raw, str) or not raw.strip():
        return ""
    return clean_docstring(inspect.cleandoc(raw))


def _method_index(cls: type) -> list[str]:
    lines = []
    for name, fn in _own_members(cls):
        doc = own_doc(fn)
        if not doc:
            continue
        first = summary(doc)
        if isinstance(fn, property):
            lines.append(f"- {name} (property): {first}")
        else:
            sig = signature(fn, drop_first=_takes_self(cls, name))
            lines.append(f"- {name}{sig}: {first}")
    return lines


def _method_entries(entry: Entry, cls: type) -> Iterable[Entry]:
    for name, fn in _own_members(cls):
        if isinstance(fn, property):
            continue
        if len(own_doc(fn)) >= METHOD_DOC_MIN_CHARS:
            yield Entry(path=f"{entry.path}.{name}", module=entry.module, obj=fn, kind="method", owner=entry.path)


def _takes_self(cls: type, name: str) -> bool:
    raw = vars(cls).get(name)
    return not isinstance(raw, staticmethod)
