"""Progress events: plain dicts with a ``kind`` (``unit_started``, ``step_done``, ``unit_done``,
``unit_failed``, ``run_started``, ...), the ``well`` and ``site`` they are about, and details.

Every executor reports how a unit ended with the same event, built here.
"""

from __future__ import annotations

from napari_openhcs.pipeline.workunits import UnitResult
from napari_openhcs.vocabulary import UnitStatus


def unit_event(result: UnitResult) -> dict:
    """The progress event that says how a unit ended (``unit_done`` or ``unit_failed``).

    >>> unit_event(UnitResult(well="A01", site=1, ok=True))["kind"]
    'unit_done'
    """
    return {
        "kind": UnitStatus.of(result.ok).event_kind,
        "well": result.well,
        "site": result.site,
        "error": None if result.ok else result.error.message,
    }
