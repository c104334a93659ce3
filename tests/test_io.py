"""tutor/io.py: one-line errors, strict JSON, atomic writes."""

from __future__ import annotations

import json
import math

import pytest
from pydantic import BaseModel, ValidationError

from tutor.io import atomic_path, atomic_write_text, json_safe, one_line, write_json


def test_one_line_collapses_whitespace_and_names_the_type():
    assert one_line(ValueError("bad\n  shape   (3, 4)")) == "ValueError: bad shape (3, 4)"
    assert one_line(KeyError()) == "KeyError"
    assert one_line(RuntimeError("a\nb"), with_type=False) == "a b"


def test_one_line_reads_a_pydantic_error_field_by_field():
    class M(BaseModel):
        n: int
        s: str

    with pytest.raises(ValidationError) as info:
        M(n="x", s=3)
    text = one_line(info.value, with_type=False)
    assert "\n" not in text and text.startswith("n: ") and "; s: " in text


def test_json_safe_makes_strict_json():
    np = pytest.importorskip("numpy")
    data = {"loss": float("nan"), "best": float("inf"), "acc": np.float32(0.5), 3: [np.int64(2), (1.0,)]}
    out = json_safe(data)
    assert out == {"loss": None, "best": None, "acc": 0.5, "3": [2, [1.0]]}
    json.loads(json.dumps(out, allow_nan=False))  # strict: no NaN token anywhere


def test_write_json_is_atomic_and_strict(tmp_path):
    target = tmp_path / "deep" / "r.json"
    assert write_json(target, {"x": math.nan, "y": [1, 2]}) == target
    assert json.loads(target.read_text()) == {"x": None, "y": [1, 2]}
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = atomic_write_text(tmp_path / "f.txt", "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("checksum failed")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]
