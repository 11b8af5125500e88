"""``FunctionRef``: a registered function, addressed and pickled by its public import path.

A ``FunctionRef`` is what ``fn("skimage.filters.gaussian")`` returns and what work units
carry to workers. It pickles to its reference plus the few facts a worker needs to call it
(memory type, contract, adapter, outputs), so a worker imports only this module and the
function's own module: no registry scan, no monkey-patching, no captured process state.
"""

from __future__ import annotations

import importlib
from typing import Any

from napari_openhcs.errors import PipelineError

_SEP = "|"


def resolve_target(ref: str) -> Any:
    """Import the object named by a public dotted path, e.g. ``skimage.filters.gaussian``.

    The longest importable module prefix is imported and the rest looked up as attributes.
    A module that exists but fails to import (a missing dependency) raises its own error.
    """
    parts = ref.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:i])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing == module_name or module_name.startswith(missing + "."):
                continue
            raise
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            raise PipelineError(f"{ref}: {module_name} has no attribute {attr!r}") from None
        return obj
    raise PipelineError(f"{ref}: no importable module in this reference")


class FunctionRef:
    """A registered function; call it like the function, pickle it by reference.

    Parameters
    ----------
    ref : str
        Public import path.
    memory_type : str
        ``numpy``, ``cupy``, ``torch`` or ``pyclesperanto``: input is converted to it.
    contract : {"slice", "volume", "stack"}
        ``slice`` calls the function once per plane of an ``(n, y, x)`` stack; ``volume``
        passes the whole stack when called with ``whole_volume=True`` (the step stacks z),
        else per plane; ``stack`` always passes the whole stack.
    adapter : str, optional
        ``threshold_mask`` (a scalar threshold ``t`` becomes ``image > t``) or
        ``blobs_table`` (coordinates become a table; the image passes through).
    output_kind : {"image", "labels", "mask"}
    special_outputs : tuple of str
        Names of the extra results; the call then returns ``(main, *specials)``.

    Examples
    --------
    >>> import pickle, numpy as np
    >>> f = FunctionRef("numpy.fliplr", "numpy", "slice")
    >>> len(pickle.dumps(f)) <= 200
    True
    >>> f(np.arange(4).reshape(1, 2, 2)).tolist()
    [[[1, 0], [3, 2]]]
    """

    __slots__ = (
        "ref",
        "memory_type",
        "contract",
        "adapter",
        "output_kind",
        "special_outputs",
        "_target",
    )

    def __init__(
        self,
        ref: str,
        memory_type: str = "numpy",
        contract: str = "slice",
        adapter: str | None = None,
        output_kind: str = "image",
        special_outputs: tuple[str, ...] = (),
    ) -> None:
        self.ref = ref
        self.memory_type = memory_type
        self.contract = contract
        self.adapter = adapter or None
        self.output_kind = output_kind
        self.special_outputs = tuple(special_outputs)
        self._target = None

    # -- identity and pickling -----------------------------------------------------------
    def _key(self) -> tuple:
        return (
            self.ref,
            self.memory_type,
            self.contract,
            self.adapter,
            self.output_kind,
            self.special_outputs,
        )

    def __reduce__(self):
        packed = _SEP.join(
            [
                self.ref,
                self.memory_type,
                self.contract,
                self.adapter or "",
                self.output_kind,
                ",".join(self.special_outputs),
            ]
        )
        return (_restore, (packed,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FunctionRef) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"fn({self.ref!r})"

    @property
    def __name__(self) -> str:  # noqa: PLW3201 - behaves like the function it names
        return self.ref.rsplit(".", 1)[-1]

    @property
    def target(self) -> Any:
        """The original function, imported on first use."""
        if self._target is None:
            self._target = resolve_target(self.ref)
        return self._target

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        return getattr(self.target, "__doc__", None)

    # -- calling ---------------------------------------------------------------------------
    def __call__(self, image: Any, /, *, whole_volume: bool = False, **kwargs: Any) -> Any:
        """Run the function on ``image`` (a 2-D plane or an ``(n, y, x)`` stack)."""
        from napari_openhcs.registry import calling  # lazy: the registry's numpy-free import

        return calling.call_function(self, image, whole_volume, kwargs)


def _restore(packed: str) -> FunctionRef:
    ref, memory_type, contract, adapter, output_kind, specials = packed.split(_SEP)
    return FunctionRef(
        ref,
        memory_type,
        contract,
        adapter or None,
        output_kind,
        tuple(s for s in specials.split(",") if s),
    )
