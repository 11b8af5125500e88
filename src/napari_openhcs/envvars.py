"""The package's environment variables, read in one place.

Every variable the package reads starts with ``NAPARI_OPENHCS_``. The older ``OPENHCS_`` names
still work for one deprecation cycle: reading one emits a ``DeprecationWarning`` that names the
new spelling. The new name wins when both are set.

This module imports nothing but the standard library, so the worker's start and
``import napari_openhcs`` stay cheap.

>>> import os
>>> os.environ["NAPARI_OPENHCS_EXAMPLE"] = "1"
>>> read("EXAMPLE")
'1'
>>> del os.environ["NAPARI_OPENHCS_EXAMPLE"]
"""

from __future__ import annotations

import os
import warnings

PREFIX = "NAPARI_OPENHCS_"
OLD_PREFIX = "OPENHCS_"

# The variables the package reads (without the prefix), for the docs and the tests.
DISABLE_REGISTRY_CACHE = "DISABLE_REGISTRY_CACHE"
WORKER_THREADS = "WORKER_THREADS"


def name(key: str) -> str:
    """The full variable name for ``key``: ``name("WORKER_THREADS")`` is
    ``"NAPARI_OPENHCS_WORKER_THREADS"``."""
    return PREFIX + key


def read(key: str, default: str | None = None) -> str | None:
    """The value of ``NAPARI_OPENHCS_<key>``, else of the deprecated ``OPENHCS_<key>`` (with a
    ``DeprecationWarning``), else ``default``."""
    value = os.environ.get(PREFIX + key)
    if value is not None:
        return value
    value = os.environ.get(OLD_PREFIX + key)
    if value is not None:
        warnings.warn(
            f"the environment variable {OLD_PREFIX + key} is deprecated; "
            f"set {PREFIX + key} instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return value
    return default


def flag(key: str) -> bool:
    """Whether ``NAPARI_OPENHCS_<key>`` (or its old name) is set to ``1`` or ``true``."""
    return read(key, "") in ("1", "true")
