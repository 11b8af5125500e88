"""Filtering objects by a measurement and relating object sets found independently."""

from __future__ import annotations

import numpy as np

from napari_openhcs.functions._cellprofiler import labels_like
from napari_openhcs.functions._stack import as_stack
from napari_openhcs.functions.cellmeasure import measure_shape
from napari_openhcs.memory.decorators import numpy
from napari_openhcs.registry.declare import declare

__all__ = ["filter_objects", "relate_objects"]


@declare(contract="stack", category="segmentation", output_kind="labels")
@numpy
def filter_objects(
    labels: np.ndarray,
    values: object = None,
    *,
    feature: str = "AreaShape_Area",
    minimum: float | None = None,
    maximum: float | None = None,
) -> np.ndarray:
    """Keep the objects whose measurement lies within ``[minimum, maximum]``.

    Kept objects keep their numbers, so relations to other object sets still hold.

    Parameters
    ----------
    labels : (n, y, x) ndarray of int
        The objects.
    values : array-like or pyarrow.Table, optional
        The measurement: one value per object number (``values[k - 1]`` for object ``k``),
        or a table with ``ObjectNumber`` and a ``feature`` column (from ``measure_cells``).
        If omitted, ``feature`` is measured on the labels' size and shape.
    feature : str
        The measurement's name, without compartment (``AreaShape_Area``,
        ``AreaShape_Solidity``, ...).
    minimum, maximum : float, optional
        Limits (inclusive); None means unbounded.

    Returns
    -------
    labels : (n, y, x) ndarray of int32
        The kept objects; the rest set to 0.

    Examples
    --------
    >>> labels = np.zeros((1, 10, 10), dtype=np.int32)
    >>> labels[0, :2, :2] = 1; labels[0, 4:9, 4:9] = 2
    >>> np.unique(filter_objects(labels, minimum=10)).tolist()
    [0, 2]
    """
    stack = as_stack(np.asarray(labels), "labels").astype(np.int32, copy=False)
    count = int(stack.max()) if stack.size else 0
    if count == 0:
        return stack.copy()
    per_object = np.full(count + 1, np.nan)
    if values is None:
        import pyarrow as pa

        # Objects are numbered across the stack, each within its plane.
        planes = [measure_shape(plane) for plane in stack if plane.any()]
        values = pa.concat_tables(planes) if planes else measure_shape(stack[0])
    if hasattr(values, "column_names"):
        numbers = np.asarray(values.column("ObjectNumber").to_numpy(), dtype=np.int64)
        column = next(
            (n for n in values.column_names if n == feature or n.endswith("_" + feature)), None
        )
        if column is None:
            raise ValueError(f"filter_objects: no column {feature!r} in {values.column_names}")
        per_object[numbers] = values.column(column).to_numpy(zero_copy_only=False)
    else:
        given = np.asarray(values, dtype=np.float64).ravel()
        if given.size != count:
            raise ValueError(
                f"filter_objects got {given.size} values for objects numbered up to {count}"
            )
        per_object[1:] = given
    keep = np.ones(count + 1, dtype=bool)
    if minimum is not None:
        keep &= per_object >= minimum
    if maximum is not None:
        keep &= per_object <= maximum
    keep[0] = False
    return np.where(keep[stack], stack, 0).astype(np.int32)


@declare(
    contract="stack",
    category="measurement",
    output_kind="labels",
    special_outputs=("child_parents", "child_counts"),
    object_params=("children",),
)
@numpy
def relate_objects(parents: np.ndarray, children: np.ndarray) -> tuple:
    """Relate objects found independently, such as spots to cells.

    A child's parent is the parent object it overlaps most (0 for none), as CellProfiler's
    RelateObjects decides it.

    Parameters
    ----------
    parents : (n, y, x) ndarray of int
        The larger objects (cells).
    children : (n, y, x) or (y, x) ndarray of int
        The objects inside them (spots, nuclei).

    Returns
    -------
    parents : (n, y, x) ndarray
        The input parents, unchanged.
    child_parents : pyarrow.Table
        One row per child: ``ObjectNumber`` (the child's) and ``Parent``.
    child_counts : pyarrow.Table
        One row per parent object number 1..max: ``ObjectNumber`` and ``ChildCount``.

    Examples
    --------
    >>> cells = np.zeros((1, 8, 8), dtype=np.int32); cells[0, :, :4] = 1; cells[0, :, 4:] = 2
    >>> spots = np.zeros_like(cells); spots[0, 1, 1] = 1; spots[0, 5, 2] = 2; spots[0, 3, 6] = 3
    >>> _, of, counts = relate_objects(cells, spots)
    >>> of.column("Parent").to_pylist(), counts.column("ChildCount").to_pylist()
    ([1, 1, 2], [2, 1])
    """
    import pyarrow as pa

    parents = as_stack(np.asarray(parents), "parents")
    child = labels_like(children, parents.shape, "children").ravel()
    parent = parents.astype(np.int64, copy=False).ravel()
    n_parents = int(parent.max()) if parent.size else 0
    n_children = int(child.max()) if child.size else 0
    inside = child > 0
    overlap = np.zeros((n_children + 1, n_parents + 1), dtype=np.int64)
    np.add.at(overlap, (child[inside], parent[inside]), 1)
    overlap[:, 0] = 0  # background is no parent
    present = np.flatnonzero(np.bincount(child, minlength=n_children + 1)[1:]) + 1
    best = overlap[present].argmax(axis=1)
    best[overlap[present].max(axis=1) == 0] = 0
    counts = np.bincount(best[best > 0], minlength=n_parents + 1)[1:]
    return (
        parents,
        pa.table({"ObjectNumber": present.astype(np.int64), "Parent": best.astype(np.int64)}),
        pa.table(
            {
                "ObjectNumber": np.arange(1, n_parents + 1, dtype=np.int64),
                "ChildCount": counts.astype(np.int64),
            }
        ),
    )
