"""The three conversions that kill the process when DLPack is used blindly.

Each runs in a child Python, which must exit 0 with the right values: a crash (abort or
segfault) would show as a non-zero or negative return code rather than taking pytest down.
"""

from __future__ import annotations

import pytest

pytest.importorskip("torch")


def _assert_ok(result, expected_line):
    assert result.returncode == 0, f"child died ({result.returncode}):\n{result.stderr[-2000:]}"
    assert expected_line in result.stdout.splitlines(), result.stdout


def test_torch_from_negative_stride_numpy_view(run_child):
    result = run_child(
        """
        import numpy as np
        from napari_openhcs.memory import convert
        a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
        view = a[::-1, :, ::-1]
        t = convert(view, "torch")
        t.add_(1)
        assert np.array_equal(t.numpy(), view + 1)
        assert np.array_equal(a, np.arange(24, dtype=np.float32).reshape(2, 3, 4))
        print("OK", float(t.sum()))
        """
    )
    _assert_ok(result, f"OK {float(sum(range(24)) + 24)}")


def test_torch_from_pyclesperanto_array(run_child):
    pytest.importorskip("pyclesperanto")
    result = run_child(
        """
        import numpy as np
        import pyclesperanto as cle
        from napari_openhcs.memory import convert
        values = np.arange(12, dtype=np.float32).reshape(3, 4)
        g = cle.push(values)
        t = convert(g, "torch")
        t.mul_(2)
        assert np.array_equal(t.numpy(), values * 2)
        assert np.array_equal(cle.pull(g), values)
        back = convert(t, "pyclesperanto")
        assert np.array_equal(cle.pull(back), values * 2)
        print("OK", float(t.sum()))
        """
    )
    _assert_ok(result, f"OK {float(2 * sum(range(12)))}")


def test_in_place_torch_op_on_read_only_memmap(run_child, tmp_path):
    path = tmp_path / "plane.raw"
    result = run_child(
        f"""
        import numpy as np
        from napari_openhcs.memory import convert
        path = {str(path)!r}
        np.arange(64, dtype=np.uint8).reshape(8, 8).tofile(path)
        before = open(path, "rb").read()
        m = np.memmap(path, dtype=np.uint8, mode="r", shape=(8, 8))
        t = convert(m, "torch")
        t.add_(1)
        t[0, 0] = 200
        assert open(path, "rb").read() == before
        assert int(m[0, 0]) == 0 and int(t[0, 0]) == 200 and int(t[7, 7]) == 64
        print("OK", int(t.sum()))
        """
    )
    expected = sum(range(64)) + 64 - 1 + 200  # +1 everywhere, then t[0, 0] = 200
    _assert_ok(result, f"OK {expected}")
    assert path.read_bytes() == bytes(range(64))
