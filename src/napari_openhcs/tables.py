"""The one table type from function to file: pyarrow tables, and the helpers every layer uses.

Functions return measurement tables as ``pyarrow.Table``; third-party functions may return a
dict of columns or a pandas DataFrame, which :func:`as_table` converts at the boundary. The
unit assembles its tables columnar (:func:`prepend_columns`, :func:`concat`), the records
write them per well as CSV and Parquet (:func:`write_csv`, :func:`write_parquet`) and the
merge reads the Parquet back typed (:func:`read_table`).

This module sits at the bottom of the layers and imports pyarrow only when a helper needs it,
so that importing ``memory/`` (which gathers per-plane tables) still imports NumPy only.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from napari_openhcs import atomic

if TYPE_CHECKING:
    import pyarrow as pa


def is_table(value: Any) -> bool:
    """Whether ``value`` is a table: a pyarrow table, a DataFrame or a dict of columns.

    A dict is a table when every value is a column (a 1-D array or a list/tuple); a dict of
    scalars (``{"count": 3}``) is not.

    Examples
    --------
    >>> is_table({"area": [3, 4]}), is_table({"count": 3}), is_table([1, 2])
    (True, False, False)
    """
    pa = sys.modules.get("pyarrow")
    if pa is not None and isinstance(value, (pa.Table, pa.RecordBatch)):
        return True
    if isinstance(value, Mapping):
        return bool(value) and all(_is_column(v) for v in value.values())
    return _is_dataframe(value)


def _is_column(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return True
    ndim = getattr(value, "ndim", None)
    return ndim == 1


def _is_dataframe(value: Any) -> bool:
    return hasattr(value, "__dataframe__") or hasattr(value, "__arrow_c_stream__")


def as_table(value: Any) -> pa.Table:
    """``value`` as a ``pyarrow.Table``.

    Accepts a pyarrow table or record batch, a pandas (or other) DataFrame, or a dict of
    columns (arrays, lists or scalars; shorter columns are padded with nulls, scalars repeated
    on every row). Columns keep their order.

    Examples
    --------
    >>> as_table({"label": [1, 2], "area": [10.0]}).to_pydict()
    {'label': [1, 2], 'area': [10.0, None]}
    """
    import pyarrow as pa  # lazy: pyarrow costs ~0.1 s; memory/ and the worker load this module

    if isinstance(value, pa.Table):
        return value
    if isinstance(value, pa.RecordBatch):
        return pa.Table.from_batches([value])
    if isinstance(value, Mapping):
        lengths = [len(v) for v in value.values() if _is_column(v)]
        n = max(lengths, default=1 if value else 0)
        return pa.table({str(k): _column(v, n) for k, v in value.items()})
    if hasattr(value, "to_dict") and hasattr(value, "columns") and hasattr(value, "index"):
        return pa.Table.from_pandas(value, preserve_index=False)
    if _is_dataframe(value):
        return pa.table(value)
    raise TypeError(f"not a table: {type(value).__qualname__}")


def column(values: Any) -> pa.ChunkedArray:
    """``values`` (a 1-D array or a list) as a table's column, built as ``as_table`` builds
    it: NumPy and plain values over their buffers, without pyarrow's pandas-importing
    conversion.

    Examples
    --------
    >>> column([1, None, 3]).to_pylist()
    [1, None, 3]
    """
    import pyarrow as pa  # lazy: see as_table

    return pa.chunked_array([_column(values, len(values))])


def _column(values: Any, n: int) -> pa.Array:
    """One column of ``n`` rows: a sequence padded with nulls, or a scalar repeated."""
    import pyarrow as pa  # lazy: see as_table

    if not _is_column(values):
        return constant(_plain(values), n)
    if hasattr(values, "get"):  # a CuPy array: to the host
        values = values.get()
    array = _from_numpy(values)
    if array is None:
        array = _from_list(values)
    if array is None:
        try:
            array = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed kinds, e.g. ints and strings
            plain = values.tolist() if hasattr(values, "tolist") else map(_plain, values)
            array = pa.array([None if v is None else str(v) for v in plain])
    if len(array) < n:
        array = pa.concat_arrays([array, pa.nulls(n - len(array), array.type)])
    return array


# pyarrow's conversions from Python and NumPy (``pa.array``, ``pa.scalar``, ``to_numpy``) import
# pandas on their first call, about 0.3 s in every process (the main one and each worker). The
# table path's own columns are 1-D NumPy arrays and constants, so it builds and reads those
# over their buffers instead; anything else still goes through ``pa.array``.
_NUMPY_KINDS = "iuf"
_ARROW_TO_NUMPY = {
    "int8": "i1",
    "int16": "i2",
    "int32": "i4",
    "int64": "i8",
    "uint8": "u1",
    "uint16": "u2",
    "uint32": "u4",
    "uint64": "u8",
    "halffloat": "f2",
    "float": "f4",
    "double": "f8",
}


def _from_numpy(values: Any) -> pa.Array | None:
    """A pyarrow array over a 1-D numeric or boolean NumPy array, or ``None`` for others.

    NaN stays NaN (not null), as ``pa.array`` keeps it for NumPy input.
    """
    import numpy as np  # lazy: this module is imported with NumPy-free callers
    import pyarrow as pa  # lazy: see as_table

    if not isinstance(values, np.ndarray) or values.ndim != 1:
        return None
    kind = values.dtype.kind
    if kind == "b":
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    if kind not in _NUMPY_KINDS or not values.dtype.isnative:
        return None
    values = np.ascontiguousarray(values)
    arrow_type = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(arrow_type, len(values), [None, pa.py_buffer(values)])


def _from_list(values: Any) -> pa.Array | None:
    """A pyarrow array of a list of one kind of plain values (``None`` for nulls): bools,
    ints (int64), ints and floats (float64) or strings, built over NumPy buffers as
    ``pa.array`` would type it; ``None`` for any other list."""
    import numpy as np  # lazy: see _from_numpy
    import pyarrow as pa  # lazy: see as_table

    if not isinstance(values, (list, tuple)):
        return None
    items = [_plain(v) for v in values]
    n = len(items)
    valid = np.array([v is not None for v in items], dtype=bool)
    kinds = {_kind(v) for v in items if v is not None}
    if not kinds:
        return pa.nulls(n)
    nulls = int(n - valid.sum())
    validity = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    if kinds == {str}:
        encoded = [b"" if v is None else v.encode() for v in items]
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        if offsets[-1] > np.iinfo(np.int32).max:
            return None
        buffers = [
            validity,
            pa.py_buffer(offsets.astype(np.int32)),
            pa.py_buffer(b"".join(encoded)),
        ]
        return pa.Array.from_buffers(pa.string(), n, buffers, null_count=nulls)
    dtype = {frozenset({bool}): bool, frozenset({int}): np.int64}.get(frozenset(kinds))
    if dtype is None and kinds <= {int, float}:
        dtype = np.float64
    if dtype is None:
        return None
    try:
        filled = np.array([0 if v is None else v for v in items], dtype=dtype)
    except OverflowError:  # ints beyond int64: as pa.array decides
        return None
    array = _from_numpy(filled)
    if not nulls:
        return array
    return pa.Array.from_buffers(array.type, n, [validity, array.buffers()[1]], null_count=nulls)


def _kind(value: Any) -> type:
    """``bool``, ``int``, ``float`` or ``str`` for values of those kinds (subclasses such as
    string enums included), else the value's own type."""
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind
    return type(value)


def numeric_values(column: Any) -> Any:
    """The non-null values of a numeric or boolean column as one NumPy array, else ``None``.

    Examples
    --------
    >>> numeric_values(as_table({"a": [1, None, 3]}).column("a")).tolist()
    [1, 3]
    >>> numeric_values(as_table({"a": ["x"]}).column("a")) is None
    True
    """
    import numpy as np  # lazy: see _from_numpy
    import pyarrow as pa  # lazy: see as_table

    kind = column.type
    boolean = pa.types.is_boolean(kind)
    if not boolean and str(kind) not in _ARROW_TO_NUMPY:
        return None
    chunks = column.chunks if hasattr(column, "chunks") else [column]
    parts = []
    for chunk in chunks:
        n, offset = len(chunk), chunk.offset
        validity, data = chunk.buffers()[:2]
        if data is None:
            continue
        if boolean:
            raw = np.frombuffer(data, dtype=np.uint8)
            values = np.unpackbits(raw, bitorder="little")[offset : offset + n].astype(bool)
        else:
            values = np.frombuffer(data, dtype=_ARROW_TO_NUMPY[str(kind)])[offset : offset + n]
        if validity is not None and chunk.null_count:
            valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
            values = values[valid[offset : offset + n].astype(bool)]
        parts.append(values)
    if not parts:
        return np.zeros(0)
    return np.concatenate(parts)


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def concat(tables: Iterable[Any]) -> pa.Table | None:
    """Rows of all ``tables`` one after the other, or ``None`` if there are none.

    Columns are united in order of first appearance; a column a table lacks is null there,
    and column types are promoted where they differ (an int column meeting a float one
    becomes float, nulls take the other's type).

    Examples
    --------
    >>> concat([{"a": [1]}, {"a": [2.5], "b": ["x"]}]).to_pydict()
    {'a': [1.0, 2.5], 'b': [None, 'x']}
    """
    import pyarrow as pa  # lazy: see as_table

    parts = [as_table(t) for t in tables]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    try:
        return pa.concat_tables(parts, promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.concat_tables(_as_text_where_mixed(parts), promote_options="permissive")


def _as_text_where_mixed(parts: list[pa.Table]) -> list[pa.Table]:
    """The tables with each column whose types cannot be united (text in one table, numbers
    in another) cast to text in all of them."""
    import pyarrow as pa  # lazy: see as_table

    types: dict[str, set] = {}
    for part in parts:
        for field in part.schema:
            if not pa.types.is_null(field.type):
                types.setdefault(field.name, set()).add(field.type)
    mixed = {
        name
        for name, kinds in types.items()
        if len(kinds) > 1
        and any(pa.types.is_string(k) or pa.types.is_large_string(k) for k in kinds)
    }
    out = []
    for part in parts:
        for name in mixed & set(part.column_names):
            index = part.column_names.index(name)
            part = part.set_column(index, name, part.column(name).cast(pa.string()))
        out.append(part)
    return out


def prepend_columns(table: Any, constants: Mapping[str, Any]) -> pa.Table:
    """``table`` with a constant column per item of ``constants`` in front of its columns.

    A constant ``None`` becomes a null column. A column ``table`` already has keeps its
    values and takes the constant's place.

    Examples
    --------
    >>> prepend_columns({"area": [3, 4]}, {"well": "A01", "label": None}).column_names
    ['well', 'label', 'area']
    """
    import pyarrow as pa  # lazy: see as_table

    table = as_table(table)
    n = table.num_rows
    own = set(table.column_names)
    columns: dict[str, Any] = {}
    for name, value in constants.items():
        columns[name] = table.column(name) if name in own else constant(value, n)
    for name in table.column_names:
        columns.setdefault(name, table.column(name))
    return pa.table(columns)


def constant(value: Any, n: int) -> pa.Array:
    """A column of ``n`` rows that all hold ``value`` (``None``: a null column).

    Examples
    --------
    >>> constant("A01", 2).to_pylist(), constant(None, 1).type
    (['A01', 'A01'], DataType(null))
    """
    import numpy as np  # lazy: see _from_numpy
    import pyarrow as pa  # lazy: see as_table

    if value is None:
        return pa.nulls(n)
    value = _plain(value)
    if isinstance(value, str):  # offsets and bytes of n copies, built directly
        data = value.encode()
        offsets = np.arange(n + 1, dtype=np.int32) * len(data)
        return pa.Array.from_buffers(
            pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data * n)]
        )
    if isinstance(value, (bool, int, float)):
        kind = bool if isinstance(value, bool) else np.int64 if isinstance(value, int) else float
        return _from_numpy(np.full(n, value, dtype=kind))
    return pa.repeat(pa.scalar(value), n)


def concat_planes(tables: Sequence[Any]) -> pa.Table:
    """One table of per-plane tables, with a leading int64 ``plane`` column (their index).

    Examples
    --------
    >>> concat_planes([{"area": [3]}, {"area": [4, 5]}]).to_pydict()
    {'plane': [0, 1, 1], 'area': [3, 4, 5]}
    """
    parts = []
    for index, table in enumerate(tables):
        table = as_table(table)
        plane = constant(index, table.num_rows)
        if "plane" in table.column_names:
            table = table.drop_columns(["plane"])
        parts.append(table.add_column(0, "plane", plane))
    return concat(parts)


def select_first(table: pa.Table, first: Sequence[str]) -> pa.Table:
    """``table`` with the columns of ``first`` it has moved to the front, in that order."""
    names = table.column_names
    front = [n for n in first if n in names]
    return table.select(front + [n for n in names if n not in front])


# -- files -------------------------------------------------------------------------------------
def csv_text(table: Any) -> str:
    """CSV text of ``table`` exactly as Python's ``csv`` module writes its Python values:
    nulls empty, floats as ``repr`` (``1.0``, ``1e-07``; float32 as its Python float), so they
    parse back equal, booleans ``True``/``False``, fields with a comma, quote or newline quoted:
    >>> print(csv_text({"well": ["A01"], "area": [12.0], "ok": [True]}), end="")
    well,area,ok
    A01,12.0,True
    """
    return b"".join(_csv_chunks(as_table(table))).decode("utf-8")


def write_csv(table: Any, path: str | os.PathLike) -> None:
    """Write ``table`` to ``path`` as CSV (see :func:`csv_text`), atomically."""
    with atomic.replace_file(path) as tmp, open(tmp, "wb") as fh:
        fh.writelines(_csv_chunks(as_table(table)))


def _csv_line(row: list) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


_CSV_QUOTED = "".join(c for c in ',"\r\n' if _csv_line([f"a{c}", 0])[0] == '"')  # 3.11: no \r


def _s(value: Any) -> Any:
    return constant(value, 1)[0]  # a pyarrow scalar: a Python one for a kernel imports pandas


def _csv_chunks(table: pa.Table, rows: int = 16384) -> Iterator[bytes]:
    """UTF-8 CSV text: the header, then blocks of rows made in kernels (floats as one array)."""
    import pyarrow as pa  # lazy: see as_table
    import pyarrow.compute as pc  # lazy: see as_table

    yield _csv_line(table.column_names).encode("utf-8")
    for start in range(0, table.num_rows, rows):
        block, n = table.slice(start, rows), min(rows, table.num_rows - start)
        floats = [i for i, c in enumerate(block.columns) if pa.types.is_floating(c.type)]
        fields = {i: _csv_field(c) for i, c in enumerate(block.columns) if i not in floats}
        if floats:
            parts = [block.column(i).combine_chunks().cast(pa.float64()) for i in floats]
            text = _repr_floats(pa.concat_arrays(parts))
            fields.update((i, text.slice(k * n, n)) for k, i in enumerate(floats))
        fields = map(fields.get, range(block.num_columns))
        lines = pc.binary_join_element_wise(*fields, _s(","), options=pc.JoinOptions("replace", ""))
        if block.num_columns == 1:  # csv quotes a lone empty field, so that the row shows
            lines = pc.if_else(pc.equal(lines, _s("")), _s('""'), lines)
        yield ("\n".join(lines.to_pylist()) + "\n").encode("utf-8")


def _csv_field(column: pa.ChunkedArray) -> pa.Array:
    """A non-float column's CSV fields (strings; null: empty), as ``csv`` writes them."""
    import pyarrow as pa  # lazy: see as_table
    import pyarrow.compute as pc  # lazy: see as_table

    column, kind = column.combine_chunks(), column.type
    if pa.types.is_integer(kind) or pa.types.is_null(kind):
        return column.cast(pa.string())
    if pa.types.is_boolean(kind):
        return pc.if_else(column, _s("True"), _s("False"))
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        column = _from_list([None if v is None else str(v) for v in column.to_pylist()])
    text = column.cast(pa.string())
    quote = pc.match_substring_regex(text, f"[{_CSV_QUOTED}]")
    doubled = pc.replace_substring(text, '"', '""')
    quoted = pc.binary_join_element_wise(_s('"'), doubled, _s('"'), _s(""))
    return pc.if_else(quote, quoted, text)


def _repr_floats(column: pa.Array) -> pa.Array:
    """float64 values as ``repr`` writes them, from pyarrow's shortest round-trip text (the
    same digits): ``1`` gets its ``.0`` and ``1e-7`` becomes ``1e-07`` here; ``repr`` formats
    the cells where only one of the two uses an exponent (``repr``: below 1e-4, from 1e16)."""
    import pyarrow.compute as pc  # lazy: see as_table

    text, size, finite = column.cast("string"), pc.abs(column), pc.is_finite(column)
    python_e = pc.or_(pc.greater_equal(size, _s(1e16)), pc.less(size, _s(1e-4)))
    python_e = pc.and_(pc.and_(finite, python_e), pc.not_equal(size, _s(0.0)))
    arrow_e = pc.match_substring(text, "e")
    if pc.any(both := pc.and_(arrow_e, python_e)).as_py():  # RE2's \1, then "0":
        padded = pc.replace_substring_regex(text.filter(both), r"e([+-])([0-9])$", r"e\10\2")
        text = pc.replace_with_mask(text, both, padded)
    whole = pc.and_(pc.and_(finite, pc.equal(column, pc.floor(column))), pc.invert(arrow_e))
    if pc.any(whole).as_py():
        pointed = pc.binary_join_element_wise(text.filter(whole), _s(".0"), _s(""))
        text = pc.replace_with_mask(text, whole, pointed)
    if pc.any(other := pc.not_equal(python_e, arrow_e)).as_py():
        fixed = [repr(v) for v in numeric_values(column.filter(other)).tolist()]
        text = pc.replace_with_mask(text, other, _from_list(fixed))
    return text


def write_parquet(table: Any, path: str | os.PathLike) -> None:
    """Write ``table`` to ``path`` as Parquet, atomically."""
    import pyarrow.parquet as pq  # lazy: see as_table

    with atomic.replace_file(path) as tmp:
        pq.write_table(as_table(table), tmp)


def read_table(path: str | os.PathLike) -> pa.Table:
    """A Parquet file written by :func:`write_parquet`, with its column types."""
    import pyarrow.parquet as pq  # lazy: see as_table

    with pq.ParquetFile(path) as file:  # not pq.read_table: its dataset layer imports pandas
        return file.read()


def read_csv(path: str | os.PathLike) -> pa.Table:
    """A CSV file as a table, column types inferred (empty fields are nulls)."""
    import pyarrow.csv as pacsv  # lazy: see as_table

    return pacsv.read_csv(path)
