"""The example in docs/writing-functions.md runs against the real decorators."""

from __future__ import annotations

import doctest
import importlib
import sys
from pathlib import Path

import numpy as np

DOC = Path(__file__).resolve().parents[2] / "docs" / "writing-functions.md"


def _example_module_source() -> str:
    text = DOC.read_text()
    after = text[text.index("`mylab_hcs/functions.py`:") :]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_documented_example_module_works(tmp_path, monkeypatch):
    package = tmp_path / "mylab_hcs"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "functions.py").write_text(_example_module_source())
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("mylab_hcs.functions")
    try:
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0

        stack = np.zeros((2, 32, 32), dtype=np.uint16)
        stack[0, 4:12, 4:12] = 1000
        stack[1, 20:26, 20:30] = 1000
        labels, table = module.count_bright_objects(stack)
        assert table["area"].tolist() == [64, 60]
        assert set(np.unique(labels)) == {0, 1, 2}

        meta = module.count_bright_objects.__openhcs__
        assert meta["input_memory_type"] == "numpy"
        assert meta["output_kind"] == "labels"
        assert meta["special_outputs"] == ("measurements",)
        assert module.clip_and_gamma.__openhcs__["contract"] == "slice"
    finally:
        for name in ("mylab_hcs.functions", "mylab_hcs"):
            sys.modules.pop(name, None)
