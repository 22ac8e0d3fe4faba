"""Grammar and AST: every form of the sketch, both spellings, spans, named terminals."""

from __future__ import annotations

import vgc
from vgc import diagnostics as D
from vgc import nodes as N
from vgc.parser import lark_parser, parse


def ast(source: str) -> N.Program:
    r = D.Reporter()
    program = parse(source, r)
    assert program is not None and not r.has_errors, r.items
    return program


def test_every_terminal_is_named():
    names = {t.name for t in lark_parser().terminals}
    assert not any(n.startswith("__") for n in names), names
    assert {"PM", "MATMUL", "POW", "TILDE", "TRANSPOSE", "PARAM", "LET", "GUIDE"} <= names


def test_unicode_and_ascii_spellings_compile_identically():
    uni = "param b = 1.0 : positive\nu1 ~ Mix(Normal(±b, 1)); u2 ~ Cauchy(0, 1)\nx = rot(b)·[u1, u2^3]\n"
    asc = "param b = 1.0 : positive\nu1 ~ Mix(Normal(+-b, 1)); u2 ~ Cauchy(0, 1)\nx = rot(b)@[u1, u2**3]\n"
    assert vgc.compile(uni) == vgc.compile(asc)


def test_spans_are_one_based_with_exclusive_end():
    (s,) = ast("param θ = 0.25 : positive\n").bare
    assert isinstance(s, N.Param)
    assert s.span == N.Span(1, 1, 1, 26)
    assert s.name_span == N.Span(1, 7, 1, 8)
    assert s.init.span == N.Span(1, 11, 1, 15)
    assert s.constraint.span == N.Span(1, 18, 1, 26)


def test_param_forms():
    p = ast("param a\nparam b[2, 3]\nparam c = [0.0, 0.0]\nparam d[2] = 1.0 : interval(0, 2)\n").bare
    assert [(x.name, x.shape is not None, x.init is not None, x.constraint is not None) for x in p] == [
        ("a", False, False, False), ("b", True, False, False), ("c", False, True, False), ("d", True, True, True)]


def test_separators_comments_and_newlines_inside_brackets():
    src = ("# c\n\nparam m = 0.0 ; param s = 1.0 : positive # trailing\n"
           "u ~ Normal(\n  m,\n  s,\n)\n\nv ~ Normal([0, 0],\n  1)\nx = [[1, 0],\n     [0, 2]] · v\n")
    prog = ast(src)
    assert [type(s).__name__ for s in prog.bare] == ["Param", "Param", "Sample", "Sample", "Assign"]
    assert (prog.bare[2].span.line, prog.bare[2].span.end_line) == (4, 7)
    assert (prog.bare[4].span.line, prog.bare[4].span.end_line) == (11, 12)


def test_guide_blocks_with_and_without_arguments():
    prog = ast("guide a {\n}\nguide b() { x ~ Normal(0, 1) }\nguide c(x_data, n,) {\n  let k = 2\n}\n")
    assert [(g.name, None if g.args is None else [a.id for a in g.args]) for g in prog.guides] == [
        ("a", None), ("b", []), ("c", ["x_data", "n"])]
    assert len(prog.guides[1].body) == 1


def test_targets_and_operators():
    (a, b) = ast("[x, y] = M' · v\nz = -a^2 + b * c / d - e\n").bare
    assert isinstance(a, N.Assign) and a.is_list and [t.id for t in a.targets] == ["x", "y"]
    assert isinstance(a.value, N.BinOp) and isinstance(a.value.left, N.Transpose)
    # -a^2 is -(a^2); * and / bind tighter than + and -
    v = b.value
    assert v.op.op == "-" and v.left.op.op == "+"
    assert isinstance(v.left.left, N.UnaryOp) and v.left.left.operand.op.op == "^"


def test_names_are_nfkc_normalized():
    (p,) = ast("param ﬁne = 1.0\n").bare  # the 'fi' ligature
    assert p.name == "fine"


def test_numbers():
    vals = [s.init.value for s in ast("param a = 1\nparam b = 1.0\nparam c = .5\nparam d = 1e-3\nparam e = 2.\n").bare]
    assert vals == [1.0, 1.0, 0.5, 0.001, 2.0]


def test_keywords_are_reserved_but_prefixes_are_names():
    assert ast("param parameter = 1.0\nparam letter = 2.0\nparam guides = 3.0\n").bare[0].name == "parameter"
    assert [(d.code, d.span.column) for d in vgc.check("param let = 1.0\n")] == [("VG103", 7)]
    assert [d.code for d in vgc.check("let ~ Normal(0, 1)\n")] == ["VG101"]
