"""Error recovery: every independent mistake is reported once, at its own place."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import vgc
from vgc import compiler, parser, recovery
from vgc import diagnostics as D

ROOT = Path(__file__).resolve().parents[1]
GOOD = sorted((ROOT / "tests" / "cases" / "good").glob("*.vg")) + sorted((ROOT / "examples").glob("*.vg"))


def found(source: str) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in vgc.check(source) if d.is_error]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # syntax, semantic, syntax
        (
            "param m = 0.0\nx ~ Normal(m, 1\ny ~ Foo(m)\nz ~ Normal(m, 1) ]\nw ~ Normal(x + y + z, 1)\n",
            [("VG101", 2, 11), ("VG204", 3, 5), ("VG101", 4, 18)],
        ),
        # semantic, syntax, semantic
        (
            "param s = -1 : positive\nx ~ Normal(0, s) +\ny ~ Normal(q, 1)\n",
            [("VG501", 1, 11), ("VG101", 2, 19), ("VG201", 3, 12)],
        ),
        # three syntax errors of different kinds
        (
            "param = 1\nx ~ Normal(0, 1) $\ny ~ Normal(0,, 1)\n",
            [("VG101", 1, 7), ("VG102", 2, 18), ("VG101", 3, 14)],
        ),
        # inside guide blocks, the second header broken
        (
            "guide a {\n  x ~ Normal(0 1)\n}\nguide (m) {\n  y ~ Normal(m, 1)\n  z ~ Foo(0, 1)\n}\n",
            [("VG101", 2, 16), ("VG101", 4, 7), ("VG204", 6, 7)],
        ),
        # a missing '}' before the next guide, an unclosed bracket, an undefined name
        (
            "guide a {\n  x ~ Normal(0, 1)\nguide b {\n  y ~ Normal([0, 1)\n  z ~ Normal(w, 1)\n}\n",
            [("VG101", 3, 1), ("VG101", 4, 19), ("VG201", 5, 14)],
        ),
    ],
)
def test_three_independent_mistakes_are_all_reported_in_place(source, expected):
    assert found(source) == expected


def test_each_error_is_rendered_with_its_own_line_and_caret():
    source = "param m = 0.0\nx ~ Normal(m, 1\ny ~ Foo(m)\nz ~ Normal(m, 1) ]\n"
    text = D.render(vgc.check(source, file="f.vg"), source)
    assert "f.vg:2:11: error[VG101]: '(' is never closed" in text
    assert "f.vg:3:5: error[VG204]: unknown distribution 'Foo'" in text
    assert "f.vg:4:18: error[VG101]: unexpected ']'" in text
    assert text.count("^") == 5  # '(' , 'Foo', ']' (the VG204 caret spans three columns)


def test_names_a_broken_statement_defines_raise_no_follow_on_errors():
    source = "param m = 0.0\nparam s = ( : positive\nx ~ Normal(m, 1\n[a, b] = [x,\nu ~ Normal(s + x + a + b, 1)\n"
    assert [c for c, _, _ in found(source)] == ["VG101", "VG101", "VG101"]


def test_a_missing_separator_keeps_both_statements():
    source = "param m = 0.0\nx ~ Normal(m, 1) y ~ Normal(m, 1)\nz = exp(y)\n"
    assert found(source) == [("VG101", 2, 18)]
    # and the statement before the gap is checked: its own mistake is still found
    assert found("x ~ Normal(q, 1) y ~ Normal(0, 1)\n") == [("VG201", 1, 12), ("VG101", 1, 18)]


def test_braces_out_of_place():
    assert found("x ~ Normal(0, 1)\n}\n") == [("VG101", 2, 1)]
    assert found("guide g {\n  x ~ Normal(0, 1) {\n  }\n}\n") == [("VG101", 2, 20)]
    assert found("guide g(a {\n  x ~ Normal(a, 1)\n}\n") == [("VG101", 1, 11)]
    (d,) = [d for d in vgc.check("guide g {\n  x ~ Normal(0, 1)\n") if d.is_error]
    assert (d.span.line, d.span.column, d.message) == (1, 9, "'{' is never closed")


def test_runs_of_bad_characters_are_one_diagnostic_each():
    (d,) = vgc.check("param m = 0.0\nx ~ Normal(m, 1) $$$\n")
    assert (d.code, d.span.line, d.span.column, d.span.end_column) == ("VG102", 2, 18, 21)
    assert "'$$$'" in d.message
    assert len([d for d in vgc.check("x ~ Normal(0, 1) $ ?\n") if d.is_error]) == 2


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings_do_not_move_diagnostics(newline):
    source = newline.join(["param m = 0.0", "x ~ Normal(m, 1", "y ~ Foo(m)", ""])
    assert found(source) == [("VG101", 2, 11), ("VG204", 3, 5)]
    text = D.render(vgc.check(source), source)
    assert "2 | x ~ Normal(m, 1" in text and "3 | y ~ Foo(m)" in text


def test_form_feed_and_vertical_tab_do_not_shift_rendered_lines():
    source = "param m = 0.0\f\nx ~ Normal(m, 1) \v\ny ~ Foo(m)\n"
    text = D.render(vgc.check(source), source)
    assert "3 | y ~ Foo(m)" in text and "2:18: error[VG102]" in text


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_the_recovery_parser_builds_the_same_ast_as_the_fast_path(path):
    source = parser.normalize_newlines(path.read_text(encoding="utf-8"))
    fast_r, slow_r = D.Reporter(), D.Reporter()
    fast = parser.parse(source, fast_r)
    slow = recovery.recover(source, slow_r)
    assert slow == fast
    assert slow_r.items == fast_r.items == []


def test_nesting_beyond_the_limit_is_a_diagnostic_at_the_first_level_too_deep():
    ok = "x ~ Normal(" + "(" * 90 + "1" + ")" * 90 + ", 1)\n"
    assert found(ok) == []
    deep = "param m = 0.0\nx ~ Normal(" + "(" * 10_000 + "1" + ")" * 10_000 + ", 1)\ny ~ Foo(1)\n"
    assert found(deep) == [("VG107", 2, 108), ("VG204", 3, 5)]


def test_a_deep_caller_gets_a_diagnostic_not_a_recursion_error():
    source = "param m = 0.0\nx ~ Normal(" + "-" * 95 + "m, 1)\n"
    assert compiler.run(source).ok
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(150)
    try:
        result = compiler.run(source)
    finally:
        sys.setrecursionlimit(limit)
    assert [d.code for d in result.diagnostics] == ["VG107"] and not result.ok


def test_a_compiler_bug_is_an_internal_error_diagnostic(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(compiler.checker, "check_program", broken)
    result = compiler.run("x ~ Normal(0, 1)\n", "f.vg")
    (d,) = result.diagnostics
    assert (d.code, d.severity, result.ok) == ("VG900", "error", False)
    assert "KeyError" in d.message and "bug in vgc" in d.hint


def test_a_semicolon_inside_brackets_is_the_error_not_the_bracket():
    (d,) = [d for d in vgc.check("param m = 0.0\nx ~ Normal(m; 1)\n") if d.is_error][:1]
    assert (d.code, d.span.line, d.span.column, d.message) == ("VG101", 2, 13, "unexpected ';' inside brackets")
