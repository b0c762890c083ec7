"""Let ``clientela.load(...)`` and ``clientela.rfm(...)`` work although ``clientela.load``
and ``clientela.rfm`` are also modules.

Importing a submodule sets it as an attribute of the package, shadowing a function of the
same name; the module's class is swapped for one whose call runs that function.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any


def make_module_callable(module_name: str, func: Callable[..., Any]) -> None:
    """Calling the module ``module_name`` calls ``func``."""

    class _CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

    sys.modules[module_name].__class__ = _CallableModule
