"""Call signatures as a learner reads them: names and defaults, no annotations, no noise."""

from __future__ import annotations

import inspect

from knowledge.readers.api_docs.docstrings import ADDRESS


def signature(obj: object, drop_first: bool = False) -> str:
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
    return ADDRESS.sub("", str(sig))
