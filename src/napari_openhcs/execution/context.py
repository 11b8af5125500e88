"""Which work unit is running in this thread (set by the unit runner).

Functions normally never need this; it exists for provenance and fault-injection tests::

    >>> from napari_openhcs.execution.context import current_unit
    >>> current_unit() is None
    True
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

_UNIT: contextvars.ContextVar[Any] = contextvars.ContextVar("openhcs_unit", default=None)


def current_unit() -> Any:
    """The ``WorkUnit`` being run in this thread, or ``None``."""
    return _UNIT.get()


@contextlib.contextmanager
def running_unit(unit: Any) -> Iterator[None]:
    """Mark ``unit`` as the one running in this thread for the duration of the block."""
    token = _UNIT.set(unit)
    try:
        yield
    finally:
        _UNIT.reset(token)
