"""The one table type from function to file (napari_openhcs.tables)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from napari_openhcs import tables
from napari_openhcs.vocabulary import WellStatus


def _dictwriter_text(columns: dict) -> str:
    """What the earlier row-by-row writer (csv.DictWriter over Python values) wrote."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    n = max(len(v) for v in columns.values())
    for i in range(n):
        writer.writerow({k: v[i] for k, v in columns.items()})
    return buf.getvalue()


def test_dicts_dataframes_and_arrow_tables_become_the_same_table():
    columns = {"label": np.array([1, 2], np.int64), "area": np.array([3.5, 4.0])}
    expected = pa.table(columns)
    assert tables.as_table(columns).equals(expected)
    assert tables.as_table(pd.DataFrame(columns)).equals(expected)
    assert tables.as_table(expected) is expected
    assert tables.as_table(expected.to_batches()[0]).equals(expected)


def test_short_columns_are_padded_and_scalars_repeated():
    table = tables.as_table({"label": [1, 2, 3], "area": [10], "well": "A01"})
    assert table.to_pydict() == {
        "label": [1, 2, 3],
        "area": [10, None, None],
        "well": ["A01"] * 3,
    }


def test_a_dict_of_numbers_is_not_a_table_but_a_dict_of_columns_is():
    assert tables.is_table({"area": np.zeros(3)})
    assert tables.is_table(pa.table({"a": [1]}))
    assert tables.is_table(pd.DataFrame({"a": [1]}))
    assert not tables.is_table({"count": 3})
    assert not tables.is_table({})
    assert not tables.is_table(np.zeros(3))


def test_concat_unites_columns_and_promotes_types():
    merged = tables.concat([{"a": [1], "b": [None]}, {"a": [2.5], "c": ["x"]}, {"b": [True]}])
    assert merged.column_names == ["a", "b", "c"]
    assert merged.to_pydict() == {
        "a": [1.0, 2.5, None],
        "b": [None, None, True],
        "c": [None, "x", None],
    }
    assert tables.concat([]) is None


def test_concat_of_text_and_numbers_in_one_column_keeps_both_as_text():
    merged = tables.concat([{"channel": [1, 2]}, {"channel": ["DNA"]}])
    assert merged.column("channel").to_pylist() == ["1", "2", "DNA"]


def test_prepended_constants_lead_and_own_columns_keep_their_values():
    table = tables.prepend_columns(
        {"label": [5, 6], "area": [1, 2]}, {"well": "A01", "label": None, "t": None}
    )
    assert table.column_names == ["well", "label", "t", "area"]
    assert table.to_pydict() == {
        "well": ["A01", "A01"],
        "label": [5, 6],
        "t": [None, None],
        "area": [1, 2],
    }


def test_per_plane_tables_get_a_leading_plane_column():
    joined = tables.concat_planes([{"area": [3]}, pa.table({"area": [4, 5]}), {"area": []}])
    assert joined.column_names == ["plane", "area"]
    assert joined.column("plane").type == pa.int64()
    assert joined.to_pydict() == {"plane": [0, 1, 1], "area": [3, 4, 5]}


def test_csv_text_is_the_text_of_the_row_by_row_writer():
    columns = {
        "well": ["A01", "A,02", 'say "x"', None],
        "area": [12, 3, None, 0],
        "mean": [1.0, 1e-07, float("nan"), 0.1 + 0.2],
        "ok": [True, False, None, True],
        "timepoint": [None, None, None, None],
        "big": [1e16, 123456789.125, -0.0, 2.5e-05],
    }
    assert tables.csv_text(columns) == _dictwriter_text(columns)
    assert tables.csv_text({"a": []}) == "a\n"


def test_float32_columns_are_written_as_their_python_floats():
    values = np.array([0.1, 2.5], np.float32)
    assert tables.csv_text({"x": values}) == _dictwriter_text({"x": values.tolist()})


def test_parquet_round_trip_keeps_types_and_leaves_no_temporary_file(tmp_path):
    table = pa.table({"row": ["A", "B"], "site": [1, 2], "code": ["007", "010"]})
    path = tmp_path / "t.parquet"
    tables.write_parquet(table, path)
    assert tables.read_table(path).equals(table)
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]
    tables.write_csv(table, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == "row,site,code\nA,1,007\nB,2,010\n"


def test_importing_the_tables_module_imports_no_pyarrow():
    code = "import sys, napari_openhcs.tables; print('pyarrow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_a_value_that_is_no_table_is_refused():
    with pytest.raises(TypeError, match="not a table"):
        tables.as_table([1, 2])


def test_csv_text_of_random_wide_tables_is_the_row_by_row_writers():
    rng = np.random.default_rng(3)
    n = 2000
    columns = {
        "tiny": rng.random(n) * 10.0 ** rng.integers(-30, 30, n),
        "ints_as_floats": rng.integers(-1000, 1000, n).astype(np.float64),
        "f32": rng.random(n).astype(np.float32),
        "label": rng.integers(0, 10**12, n),
        "name": [f"w{i}" for i in range(n)],
        "flag": rng.random(n) > 0.5,
    }
    columns["tiny"][::7] = np.nan
    columns["tiny"][::11] = np.inf
    table = tables.as_table(columns)
    expected = _dictwriter_text({k: table.column(k).to_pylist() for k in table.column_names})
    assert tables.csv_text(table) == expected


def test_numpy_columns_and_constants_keep_their_values_and_types():
    columns = {
        "i": np.array([1, -2, 3], dtype=np.int32),
        "u": np.array([1, 2, 3], dtype=np.uint16),
        "f": np.array([0.5, np.nan, 2.0]),
        "b": np.array([True, False, True]),
        "strided": np.arange(6, dtype=np.int64)[::2],
    }
    table = tables.as_table(columns)
    for name, values in columns.items():
        assert table.column(name).type == pa.array(values).type
        assert table.column(name).to_pylist() == pa.array(values).to_pylist() or name == "f"
    assert np.isnan(table.column("f").to_pylist()[1])
    for value in ("A01", 7, 2.5, True):
        assert tables.constant(value, 3).equals(pa.repeat(pa.scalar(value), 3))
    assert tables.numeric_values(tables.as_table({"a": [1, None, 3]}).column("a")).tolist() == [
        1,
        3,
    ]
    sliced = tables.as_table({"a": np.arange(10.0)}).column("a").slice(3, 4)
    assert tables.numeric_values(sliced).tolist() == [3.0, 4.0, 5.0, 6.0]


def test_the_table_path_does_not_import_pandas(tmp_path):
    # pyarrow's conversions import pandas on first use (~0.3 s in every worker and the main
    # process); the table path from a function's NumPy columns to the merged file avoids them.
    code = f"""
import sys
import numpy as np
from napari_openhcs import tables
from napari_openhcs.execution import records
t = tables.as_table({{"label": np.arange(1, 4), "area": np.array([3.0, 4.0, 5.0])}})
t = tables.prepend_columns(t, {{"plate": "p", "well": "A01", "site": 1, "label": None}})
t = tables.concat([t, tables.concat_planes([t])])
records.measurement_summary(t.append_column("step", tables.constant("nuclei", t.num_rows)))
tables.write_parquet(t, {str(tmp_path / "t.parquet")!r})
tables.write_csv(tables.read_table({str(tmp_path / "t.parquet")!r}), {str(tmp_path / "t.csv")!r})
print("pandas" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_lists_of_plain_values_become_the_arrays_pa_array_makes():
    for values in (
        [1, None, 3],
        [1, 2.5, None],
        [True, None, False],
        ["A01", None, "B02", ""],
        [None, None],
        [0.5, float("nan")],
        [np.int64(4), 5],
        [],
    ):
        got = tables.as_table({"v": values}).column("v").combine_chunks()
        want = pa.array([v.item() if hasattr(v, "item") else v for v in values])
        assert got.type == want.type, values
        assert str(got.to_pylist()) == str(want.to_pylist()), values  # NaN stays NaN
        assert got.null_count == want.null_count, values
    assert tables.as_table({"v": [1, "x"]}).column("v").to_pylist() == ["1", "x"]
    status = tables.as_table({"v": [WellStatus.DONE, None]}).column("v")
    assert status.type == pa.string() and status.to_pylist() == ["done", None]


def test_written_csv_parses_back_to_the_parquet_values_in_column_order(tmp_path):
    # The per-plate single-cell table's CSV: pandas (which pycytominer reads with) gets the
    # columns in the table's order and every float exactly, whatever its layout (whole
    # numbers, below 1e-4, from 1e16, NaN, inf, nulls), over several blocks of rows.
    rng = np.random.default_rng(5)
    n = 3000
    features = {
        f"Cells_F{i:03d}": rng.random(n) * 10.0 ** rng.integers(-9, 18, n) for i in range(40)
    }
    features["Cells_F000"][::3] = np.round(features["Cells_F000"][::3])
    features["Cells_F001"][::5] = np.nan
    features["Cells_F002"][::7] = -np.inf
    columns = {"Metadata_Well": ["A01"] * n, "Metadata_ObjectNumber": np.arange(1, n + 1)}
    table = tables.as_table({**columns, **features})
    table = table.set_column(5, "Cells_F003", pa.array([None, 0.5] * (n // 2)))
    tables.write_csv(table, tmp_path / "single_cell.csv")
    frame = pd.read_csv(tmp_path / "single_cell.csv")
    assert list(frame.columns) == table.column_names
    for name in table.column_names[2:]:
        want = np.array([np.nan if v is None else v for v in table.column(name).to_pylist()])
        assert np.array_equal(frame[name].to_numpy(float), want, equal_nan=True), name
    text = b"".join(tables._csv_chunks(table, rows=700)).decode()  # five blocks of rows
    assert text == (tmp_path / "single_cell.csv").read_text() == tables.csv_text(table)
    assert text == _dictwriter_text({k: table.column(k).to_pylist() for k in table.column_names})
