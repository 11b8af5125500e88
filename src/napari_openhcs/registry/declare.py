"""``declare``: how a function states its contract, category and outputs to the registry.

Deliberately tiny and import-free, so a lab's function module can use it without pulling
in the registry::

    >>> from napari_openhcs.registry.declare import declare
    >>> @declare(contract="stack", category="projection")
    ... def brightest(stack):
    ...     return stack.max(axis=0, keepdims=True)
    >>> brightest.__openhcs__["contract"]
    'stack'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from napari_openhcs.vocabulary import CONTRACTS, OUTPUT_KINDS

F = TypeVar("F", bound=Callable)


def declare(
    contract: str | None = None,
    category: str | None = None,
    output_kind: str | None = None,
    special_outputs: Sequence[str] | None = None,
    image_params: Sequence[str] | None = None,
    object_params: Sequence[str] | None = None,
) -> Callable[[F], F]:
    """Record registry metadata in ``func.__openhcs__`` (merged with what is there).

    Parameters
    ----------
    contract : {"slice", "volume", "stack"}, optional
        How the function meets an ``(n, y, x)`` stack: once per plane, on the whole stack
        when the step stacks z, or always on the whole stack.
    category : str, optional
        For browsing: filter, morphology, segmentation, measurement, projection, ...
    output_kind : {"image", "labels", "mask"}, optional
        What the first result is.
    special_outputs : sequence of str, optional
        Names of the extra results, in order (e.g. ``("measurements",)``).
    image_params : sequence of str, optional
        Keyword parameters that take a second image (e.g. ``("intensity",)``); a pipeline
        step fills them with ``{"image": source, "channel": c}`` (see the user guide).
    object_params : sequence of str, optional
        Keyword parameters that take a second object set (labels, e.g. ``("seeds",)``); a
        pipeline step fills them with ``{"objects": "<earlier step>"}`` and the compiler
        checks that step's result is labels (see ``vocabulary.objects_ref``).
    """
    if contract is not None and contract not in CONTRACTS:
        raise ValueError(f"contract must be one of {CONTRACTS}, got {contract!r}")
    if output_kind is not None and output_kind not in OUTPUT_KINDS:
        raise ValueError(f"output_kind must be one of {OUTPUT_KINDS}, got {output_kind!r}")
    values = {
        "contract": contract,
        "category": category,
        "output_kind": output_kind,
        "special_outputs": tuple(special_outputs) if special_outputs is not None else None,
        "image_params": tuple(image_params) if image_params is not None else None,
        "object_params": tuple(object_params) if object_params is not None else None,
    }

    def mark(func: F) -> F:
        meta = dict(getattr(func, "__openhcs__", None) or {})
        meta.update({k: v for k, v in values.items() if v is not None})
        func.__openhcs__ = meta
        return func

    return mark
