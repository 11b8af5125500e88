"""The function registry: discovery, the cached catalog (``catalog.py``), and ``fn(ref)``.

Importing this package imports no image library; listing from a warm cache reads one JSON
file. ``fn("skimage.filters.gaussian")`` returns a ``FunctionRef`` that pickles by name.
"""

from __future__ import annotations

import difflib
from typing import Any

from napari_openhcs.errors import FunctionUnavailableError, UnknownFunctionError
from napari_openhcs.registry.declare import declare
from napari_openhcs.registry.info import FunctionInfo, ParamSpec
from napari_openhcs.registry.reference import FunctionRef, resolve_target

__all__ = [
    "FunctionInfo",
    "FunctionRef",
    "call_defaults",
    "ParamSpec",
    "declare",
    "fn",
    "get_info",
    "list_functions",
    "ref_of",
    "refresh",
]


def list_functions(
    library: str | None = None, memory_type: str | None = None
) -> list[FunctionInfo]:
    """Registered functions, optionally of one library and/or memory type, sorted by ref."""
    infos = _load_index().values()
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
    if not isinstance(ref, str):
        raise UnknownFunctionError(
            f"a function reference is a string like 'skimage.filters.gaussian', "
            f"not {type(ref).__name__} {ref!r}"
        )
    index = _load_index()
    info = index.get(ref)
    if info is None:
        close = difflib.get_close_matches(ref, list(index), n=3, cutoff=0.6)
        if not close:
            short = ref.rsplit(".", 1)[-1]
            close = [r for r in index if r.rsplit(".", 1)[-1] == short][:3]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownFunctionError(f"{ref!r} is not a registered function{hint}")
    return info


def fn(ref: str | Any) -> FunctionRef:
    """The registered function ``ref`` as a picklable ``FunctionRef``.

    ``ref`` is a reference string, or the registered function object itself (mapped to its
    public reference); a ``FunctionRef`` is returned as it is.

    Examples
    --------
    >>> gaussian = fn("skimage.filters.gaussian")  # doctest: +SKIP
    >>> gaussian(stack, sigma=2)  # doctest: +SKIP
    >>> import skimage.filters  # doctest: +SKIP
    >>> fn(skimage.filters.gaussian)  # doctest: +SKIP
    fn('skimage.filters.gaussian')

    Raises
    ------
    UnknownFunctionError
        For a reference that is not registered (close matches are named), or a function
        object that is not registered (the reason is given).
    FunctionUnavailableError
        For a registered function that cannot run here (the reason is given: no GPU, no
        OpenCL device, ...).
    """
    if isinstance(ref, FunctionRef):
        return ref
    ref = ref_of(ref)
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


def ref_of(func: Any) -> str:
    """The registered reference of a ``FunctionRef``, a reference string or a function object.

    Raises
    ------
    UnknownFunctionError
        For a function object that workers could not import (defined in a notebook, a
        script's ``__main__`` or inside another function) or that is not registered.
    """
    if isinstance(func, FunctionRef):
        return func.ref
    if isinstance(func, str):
        return func
    if not callable(func):
        raise UnknownFunctionError(
            f"not a function or function reference: {type(func).__name__} {func!r}"
        )
    name = getattr(func, "__name__", repr(func))
    module = getattr(func, "__module__", None)
    if module == "__main__" or "<locals>" in getattr(func, "__qualname__", ""):
        raise UnknownFunctionError(
            f"{name!r} is defined in a notebook, a script's __main__ or another function: "
            "worker processes cannot import it. Move it to an importable module and register "
            "it (see docs/writing-functions.md)."
        )
    ref = _registered_ref_of(func)
    if ref is None:
        raise UnknownFunctionError(
            f"{module}.{name} is not a registered function: use fn('<reference>') with a "
            "registered reference (napari-openhcs functions lists them) or register it "
            "(see docs/writing-functions.md)"
        )
    return ref


def _registered_ref_of(func: Any) -> str | None:
    """The registered reference whose target is ``func`` (public path, not ``__module__``)."""
    name = getattr(func, "__name__", None)
    candidates = [i.ref for i in list_functions() if i.ref.rsplit(".", 1)[-1] == name]
    direct = f"{getattr(func, '__module__', '')}.{name}"
    candidates.sort(key=lambda r: r != direct)
    for ref in candidates:
        try:
            if resolve_target(ref) is func:
                return ref
        except Exception:  # noqa: BLE001 - an unimportable candidate is simply not it
            continue
    return None


def call_defaults(info: FunctionInfo) -> dict:
    """Values for the parameters the library requires but the registry gave a reviewed default.

    A pipeline step starts from these and applies its own keyword arguments on top.
    """
    return {p.name: p.default for p in info.params if p.required and p.default is not None}


def refresh() -> None:
    """Rediscover every library now and rewrite the cache."""
    _load_index(refresh=True)


def _load_index(refresh: bool = False) -> dict[str, FunctionInfo]:
    """The catalog (``registry.catalog.load_index``), imported on first use."""
    from napari_openhcs.registry.catalog import load_index  # lazy: kept out of workers (tested)

    return load_index(refresh=refresh)
