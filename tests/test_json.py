"""`vgc check --format json` against the documented schema (docs/diagnostics.schema.json)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from vgc.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "diagnostics.schema.json").read_text(encoding="utf-8"))
CASES = sorted((ROOT / "tests" / "cases" / "bad").glob("*.vg")) + sorted((ROOT / "examples").rglob("*.vg"))


def check_json(path: Path, capsys) -> tuple[int, list[dict]]:
    status = main(["check", str(path), "--format", "json"])
    out = capsys.readouterr().out
    return status, json.loads(out)


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_every_case_validates_and_matches_the_text_output(path: Path, capsys):
    status, diags = check_json(path, capsys)
    jsonschema.validate(diags, SCHEMA)
    assert status == (1 if any(d["severity"] == "error" for d in diags) else 0)
    assert all(d["file"] == str(path) for d in diags)
    main(["check", str(path)])
    text = capsys.readouterr().out
    for d in diags:  # the same diagnostics, at the same places, as the text report
        assert f"{path}:{d['line']}:{d['column']}: {d['severity']}[{d['code']}]: {d['message']}" in text


def test_fields_are_one_based_with_exclusive_end(tmp_path: Path, capsys):
    f = tmp_path / "f.vg"
    f.write_text("param m = 0.0\nx ~ Normal(m, sigma)\nparam θ = 1e400\n", encoding="utf-8")
    _, diags = check_json(f, capsys)
    jsonschema.validate(diags, SCHEMA)
    assert [(d["code"], d["line"], d["column"], d["end_line"], d["end_column"]) for d in diags] == [
        ("VG201", 2, 15, 2, 20),
        ("VG104", 3, 11, 3, 16),
    ]


def test_undecodable_file_is_a_vg100_object(tmp_path: Path, capsys):
    f = tmp_path / "bad.vg"
    f.write_bytes(b"param m = 0.0\nx ~ Normal(m, \xff)\n")
    status, diags = check_json(f, capsys)
    jsonschema.validate(diags, SCHEMA)
    assert status == 1
    assert [(d["code"], d["line"], d["column"]) for d in diags] == [("VG100", 2, 15)]
    assert "byte offset 28" in diags[0]["message"]


def test_a_schema_violation_would_be_caught():
    good = {"code": "VG201", "severity": "error", "message": "m", "hint": "", "file": "f.vg",
            "line": 1, "column": 1, "end_line": 1, "end_column": 2}
    jsonschema.validate([good], SCHEMA)
    for broken in ({**good, "line": 0}, {**good, "code": "E201"}, {**good, "severity": "note"},
                   {k: v for k, v in good.items() if k != "hint"}, {**good, "extra": 1}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate([broken], SCHEMA)
