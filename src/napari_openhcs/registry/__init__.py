"""The function registry: discovery, the cached index, and ``fn(ref)``.

Importing this package imports no image library; listing from a warm cache reads one JSON
file. ``fn("skimage.filters.gaussian")`` returns a ``FunctionRef`` that pickles by name.
"""

from __future__ import annotations

import difflib

from napari_openhcs.errors import FunctionUnavailableError, UnknownFunctionError
from napari_openhcs.registry.declare import declare
from napari_openhcs.registry.info import FunctionInfo, ParamSpec
from napari_openhcs.registry.reference import FunctionRef

__all__ = [
    "FunctionInfo",
    "FunctionRef",
    "call_defaults",
    "ParamSpec",
    "declare",
    "fn",
    "get_info",
    "list_functions",
    "refresh",
]


def list_functions(
    library: str | None = None, memory_type: str | None = None
) -> list[FunctionInfo]:
    """Registered functions, optionally of one library and/or memory type, sorted by ref."""
    from napari_openhcs.registry.index import load_index

    infos = load_index().values()
    return sorted(
        (
            i
            for i in infos
            if (library is None or i.library == library)
            and (memory_type is None or i.memory_type == memory_type)
        ),
        key=lambda i: i.ref,
    )


def get_info(ref: str) -> FunctionInfo:
    """The ``FunctionInfo`` of a registered reference.

    Raises
    ------
    UnknownFunctionError
        If ``ref`` is not registered; the message names the closest registered references.
    """
    from napari_openhcs.registry.index import load_index

    index = load_index()
    info = index.get(ref)
    if info is None:
        close = difflib.get_close_matches(ref, list(index), n=3, cutoff=0.6)
        if not close:
            short = ref.rsplit(".", 1)[-1]
            close = [r for r in index if r.rsplit(".", 1)[-1] == short][:3]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownFunctionError(f"{ref!r} is not a registered function{hint}")
    return info


def fn(ref: str) -> FunctionRef:
    """The registered function ``ref`` as a picklable ``FunctionRef``.

    Examples
    --------
    >>> gaussian = fn("skimage.filters.gaussian")  # doctest: +SKIP
    >>> gaussian(stack, sigma=2)  # doctest: +SKIP

    Raises
    ------
    UnknownFunctionError
        For a reference that is not registered (close matches are named).
    FunctionUnavailableError
        For a registered function that cannot run here (the reason is given: no GPU, no
        OpenCL device, ...).
    """
    info = get_info(ref)
    if not info.available:
        raise FunctionUnavailableError(f"{ref} cannot run here: {info.reason}")
    return FunctionRef(
        info.ref,
        info.memory_type,
        info.contract,
        info.adapter,
        info.output_kind,
        info.special_outputs,
    )


def call_defaults(info: FunctionInfo) -> dict:
    """Values for the parameters the library requires but the registry gave a reviewed default.

    A pipeline step starts from these and applies its own keyword arguments on top.
    """
    return {p.name: p.default for p in info.params if p.required and p.default is not None}


def refresh() -> None:
    """Rediscover every library now and rewrite the cache."""
    from napari_openhcs.registry.index import load_index

    load_index(refresh=True)
