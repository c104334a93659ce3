"""One card per recipe (name, summary, pydantic parameters); importing the package registers them all.

The cards import pydantic only, never torch: `tutor experiment list`, the agent's argument
checks and the runner's validation read them in the launching process; the training code in
``tutor/lab/recipes/`` is imported by the run process alone.
"""

import importlib
import pkgutil

for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_mod.name}")
