"""Never crash (issue 3, item 2): every input yields code or diagnostics, and nothing else.

``vgc.compiler.run`` turns any exception into a VG900 diagnostic and a RecursionError into VG107,
so a crash here is any of (see ``fuzz_strategies.problems``): an exception escaping ``compiler.run``,
a VG900, a VG107 from the RecursionError fallback, a diagnostic located outside the source, generated
code that does not ``compile()``, or diagnostics that do not render. The time bound per case (2 s, or
60 µs per character for the largest inputs) is measured by ``bench/fuzz.py``, not asserted here: the
machines are shared and noisy. The regression tests for blow-ups assert the outcome that shows the
bounded path was taken (a VG107, a skipped fold); the old exponential paths would not finish at all.

The inputs come from ``tests/fuzz_strategies.py``, shared with ``bench/fuzz.py`` (which runs
20,000+ of them): programs built from the grammar and the registry, token-level mutations of every
example and good test program, arbitrary Unicode, and fixed hostile inputs. The hypothesis tests are
derandomized, so every run checks the same cases. Below them, one regression test per bug the
fuzzing found.
"""

from __future__ import annotations

import fuzz_strategies as F
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vgc import cli, compiler, parser, recovery, values
from vgc import diagnostics as D

SEEDS = F.seeds()


def fuzz(max_examples: int) -> settings:
    """Deterministic hypothesis settings: the same cases on every run, no example database."""
    return settings(
        derandomize=True,
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def assert_no_crash(source: str) -> compiler.Result:
    probs, result, _ = F.problems(source, bound=float("inf"))
    assert not probs, f"{probs}\ninput: {source!r}"
    return result


# ---------------------------------------------------------------------------------------------------
# generated inputs (600 cases)


@fuzz(200)
@given(st.data())
def test_programs_from_the_grammar(data):
    assert_no_crash(F.program(F.HypothesisChooser(data)))


@fuzz(200)
@given(st.data())
def test_mutations_of_examples_and_good_programs(data):
    c = F.HypothesisChooser(data)
    _name, source = c.pick(SEEDS)
    assert_no_crash(F.mutate(c, source))


@fuzz(100)
@given(st.data())
def test_mutations_of_generated_programs(data):
    c = F.HypothesisChooser(data)
    assert_no_crash(F.mutate(c, F.program(c)))


@fuzz(100)
@given(st.text(alphabet=st.characters(codec=None) | st.characters(categories=["Cs"]) | st.sampled_from(
    F.SPECIAL_CHARS + "()[]{}~=:,;+-*/^·@±'#\n0123456789.eE"), max_size=200))
def test_arbitrary_text_including_surrogates(text):
    assert_no_crash(text)


def test_every_seed_program_compiles_and_passes_the_oracle():
    assert len(SEEDS) >= 10
    for name, source in SEEDS:
        assert assert_no_crash(source).ok, name


# ---------------------------------------------------------------------------------------------------
# fixed hostile inputs: sizes, nesting, numbers, shapes, names (the heaviest run in bench/fuzz.py)


@pytest.mark.parametrize(("name", "source"), F.special_cases(heavy=False), ids=[n for n, _ in F.special_cases(False)])
def test_fixed_hostile_input(name, source):
    assert_no_crash(source)


def test_empty_comment_and_whitespace_inputs_give_only_the_empty_guide_warning():
    for source in ("", "# only a comment\n# and another", "  \t\n\n  \r\n", "\ufeff", ";;\n;"):
        result = assert_no_crash(source)
        assert result.ok and [d.code for d in result.diagnostics] == ["VG606"], repr(source)


# ---------------------------------------------------------------------------------------------------
# the command line on files that are not UTF-8: exit 1, VG100 at the right byte, no traceback

BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    ("data", "offset", "line", "column"),
    [
        pytest.param(b"param m = 0\nx ~ Normal(m, 1) \xff\n", 29, 2, 18, id="invalid byte in a line"),
        pytest.param(b"\xff", 0, 1, 1, id="lone 0xff"),
        pytest.param(b"param m = 0\n# \xe2\x82", 14, 2, 3, id="truncated multibyte at EOF"),
        pytest.param(b"# \xed\xa0\x80 surrogate\n", 2, 1, 3, id="encoded surrogate"),
        pytest.param(b"\xef\xbb", 0, 1, 1, id="truncated BOM"),
        # the offset counts the BOM (found here: it counted from after the BOM; fixed in cli.read)
        pytest.param(BOM + b"\xff", 3, 1, 1, id="BOM then invalid"),
        pytest.param(BOM + b"param m = 0\n# \xc3\x28", 17, 2, 3, id="BOM then invalid later"),
    ],
)
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_cli_check_reports_invalid_utf8_at_its_byte(tmp_path, capsys, data, offset, line, column, fmt):
    path = tmp_path / "bad.vg"
    path.write_bytes(data)
    status = cli.main(["check", "--format", fmt, str(path)])
    out, err = capsys.readouterr()
    assert status == 1
    assert "Traceback" not in out + err and err == ""
    assert "VG100" in out
    assert f"invalid UTF-8 byte 0x{data[offset]:02x} at byte offset {offset}" in out
    if fmt == "text":
        assert f"bad.vg:{line}:{column}: error[VG100]" in out
    else:
        assert f'"line": {line},' in out and f'"column": {column},' in out


# ---------------------------------------------------------------------------------------------------
# regressions: one per bug the fuzzing found


def codes(source: str, **kw) -> list[str]:
    return [d.code for d in compiler.run(source, **kw).diagnostics]


def timed(source: str, limit: float) -> compiler.Result:
    """Compile without a crash; ``limit`` (seconds, measured by bench/fuzz.py) documents the expectation."""
    return assert_no_crash(source)


HEAD = "param m = 0.0; param s = 1.0 : positive\nu ~ Normal(m, s)\nv ~ Normal([m, m], s)\n"


def test_doubling_lets_in_a_transform_are_refused_not_expanded():
    # `let a{i+1} = a{i} + a{i}` 40 times: substituting the lets made a tree of 2^40 nodes (hours).
    src = "param m = 0.0\nu ~ Normal(m, 1)\nlet a0 = u\n" + "".join(
        f"let a{i + 1} = a{i} + a{i}\n" for i in range(40)) + "x = a40"
    result = timed(src, 1.0)
    (d,) = [d for d in result.diagnostics if d.is_error]
    assert (d.code, d.span.line) == ("VG107", 44) and "more than 5,000 operations" in d.message


def test_a_long_chain_of_lets_is_refused_with_vg107_not_the_stack_fallback():
    # 2,000 lets each one deeper: substitution recursed past Python's limit (the VG107 fallback at 1:1).
    for op in ("a{i} + 1", "exp(a{i})", "a{i}'"):
        src = "param m = 0.0\nu ~ Normal(m, 1)\nlet a0 = u\n" + "".join(
            f"let a{i + 1} = {op.format(i=i)}\n" for i in range(2_000)) + "x = a2000"
        (d,) = compiler.run(src).diagnostics
        assert (d.code, d.span.line) == ("VG107", 2004) and "nested more than 100 levels" in d.message, op


def test_the_substitution_limit_allows_what_the_parser_allows():
    src = "param m = 0.0\nu ~ Normal(m, 1)\nlet a0 = u\n" + "".join(
        f"let a{i + 1} = exp(a{i})\n" for i in range(95)) + "x = a95"
    assert assert_no_crash(src).ok


def test_matrix_lets_are_followed_for_the_log_determinant_only_while_small():
    # `let M{i+1} = M{i} · M{i}`: following the lets for log|det| made 2^n terms; a long chain of
    # transposes recursed too deep. Past the limit the matrix's log|det| is computed by slogdet.
    doubling = HEAD + "let M0 = [[1, 2], [3, 4]]\n" + "".join(f"let M{i + 1} = M{i} · M{i}\n" for i in range(40))
    result = timed(doubling + "x = M40 · v", 1.0)
    assert result.ok and "slogdet(M40)" in result.code
    chain = HEAD + "let M0 = [[1, 2], [3, 4]]\n" + "".join(f"let M{i + 1} = M{i}'\n" for i in range(2_000))
    assert timed(chain + "x = M2000 · v", 2.0).ok
    small = HEAD + "param θ = 0.1\nlet R = rot(θ)\nlet M = R · R\nx = M · v"
    result = assert_no_crash(small)
    assert result.ok and "slogdet" not in result.code  # rotations: log|det| = 0 in closed form


def test_doubling_constant_vectors_are_not_folded():
    # `let a{i+1} = [a{i}, a{i}]`: the constant shares structure, walking it visited 2^40 entries.
    src = "let a0 = [1.0, 2.0]\n" + "".join(f"let a{i + 1} = [a{i}, a{i}]\n" for i in range(40))
    timed(src + "let b = a40 + 1\nparam p = a40 : simplex\n", 1.0)
    assert values.const_eval("diag", [1.0] * 1_000) is None  # n² = 10^6 entries: not folded
    assert values.const_eval("diag", [1.0, 2.0]) == [[1.0, 0.0], [0.0, 2.0]]


def test_diag_of_a_matrix_is_a_shape_error_not_an_internal_error():
    # diag of a constant matrix was folded into a ragged "matrix"; its determinant raised TypeError (VG900).
    assert codes(HEAD + "x = inv(diag([[1, 2], [3, 4]])) · v") == ["VG406"]
    assert values.const_eval("diag", [[1.0, 2.0], [3.0, 4.0]]) is None
    assert values.const_eval("rot", [1.0, 2.0]) is None


def test_a_let_with_a_broken_call_does_not_reach_the_transform_analysis():
    # `let a = u + sin()` reported VG205, but a transform using `a` substituted it and transforms.py
    # looked for sin's argument (IndexError, VG900). Now the let is tainted and the transform silent.
    src = "param m = 0.0\nu ~ Normal(m, 1)\nlet a = u + sin()\nx = exp(a)"
    assert codes(src) == ["VG205"]
    assert codes("param m = 0.0\nu ~ Normal(m, 1)\nlet a = exp() + u\nx = a") == ["VG205"]  # no follow-on VG407
    assert codes("param m = 0.0\nv ~ Normal([m, m], 1)\nlet M = inv()\nx = M · v") == ["VG205"]


def test_a_constant_of_matrices_is_not_a_matrix_for_the_singularity_check():
    # inv([[R]]) with R = rot(1): the constant is a 1x1 "matrix" of 2x2 matrices; the determinant
    # called float() on a list (VG900).
    assert codes("let R = rot(1)\nv ~ Normal([0, 0], 1)\nx = inv([[R]]) · v") == ["VG406"]
    from vgc import transforms

    assert transforms.numeric_det([[[[1.0, 0.0], [0.0, 1.0]]]]) is None
    assert transforms.numeric_det([[2.0, 0.0], [0.0, 3.0]]) == 6.0


def test_constant_folding_broadcasts_like_numpy():
    # [[1, 2], [3, 4]] + [2, 0] is [[3, 2], [5, 4]] (det 2), not [[3, 4], [3, 4]] (singular: a false VG404).
    assert values.const_eval("+", [[1.0, 2.0], [3.0, 4.0]], [2.0, 0.0]) == [[3.0, 2.0], [5.0, 4.0]]
    assert values.const_eval("*", [2.0], [[1.0, 2.0], [3.0, 4.0]]) == [[2.0, 4.0], [6.0, 8.0]]
    assert values.const_eval("-", [[1.0], [2.0]], [1.0, 2.0]) == [[0.0, -1.0], [1.0, 0.0]]
    assert values.const_eval("+", [1.0, 2.0], [1.0, 2.0, 3.0]) is None
    assert "VG404" not in codes(HEAD + "x = inv([[1, 2], [3, 4]] + [2, 0]) · v")
    assert "VG404" in codes(HEAD + "x = inv([[1, 2], [3, 4]] + [1, 0]) · v")  # [[2, 2], [4, 4]]


@pytest.mark.parametrize(
    "dist",
    ["Mix(Normal(±n, 1.0))", "Mix([0.25, 0.75], Normal([n, 1.0], [1.0, 2.0]))", "Mix(Normal(m ± n, 1))"],
)
def test_a_mixture_component_of_unknown_shape_is_vg407_not_an_internal_error(dist):
    # A model argument inside a one-family mixture: the code generator needs the component's batch
    # shape and failed with TypeError (VG900).
    result = assert_no_crash(f"guide g(n) {{\n  param m = 0.0\n  u ~ {dist}\n}}\n")
    assert [d.code for d in result.diagnostics] == ["VG407"]
    assert "mixture component is not known" in result.diagnostics[0].message


def test_error_recovery_is_linear_in_the_file():
    # Every statement whose bracket stays open ran to the end of the file and was scanned and copied
    # again: 10,000 such lines took 45 s; 50,000 errors on one line took minutes.
    result = timed("".join(f"x{i} ~ Normal(0,\n" for i in range(10_000)), 4.0)
    assert [d.code for d in result.diagnostics] == ["VG101"] * 10_000
    result = timed("x ~ Normal(0 0, " * 3_000, 3.0)
    assert len(result.diagnostics) == 1
    result = timed("a " * 10_000, 3.0)
    assert len(result.diagnostics) == 19_999


def test_undefined_name_hints_are_budgeted():
    # difflib against every name in scope for every undefined use: 200 similar 100-character names
    # took 25 s, 10,000 undefined names in a scope of 10,000 about a minute.
    long = "".join(f"param {'a' * 100}{i} = 0\n" for i in range(200)) + "".join(
        f"u{i} ~ Normal({'a' * 100}x{i}, 1)\n" for i in range(200))
    timed(long, 2.0)
    many = timed("".join(f"x{i} ~ Normal(q{i}, 1)\n" for i in range(10_000)), 6.0)
    assert sum(d.code == "VG201" for d in many.diagnostics) == 10_000
    hint = compiler.run("param scale = 1.0\nu ~ Normal(0, scal)").diagnostics[0].hint
    assert hint == "did you mean 'scale'?"  # ordinary files keep their hints


def test_long_lines_are_rendered_as_a_window_around_the_caret():
    # 100,000 diagnostics on one 100,000-character line rendered the whole line for each: gigabytes.
    source = "a " * 20_000
    diags = compiler.run(source).diagnostics
    text = D.render(diags, source)
    assert len(text) < len(diags) * (2 * D.MAX_SHOWN + 300)  # the line, the caret line, message and hint
    line = "x = " + "y" * 1000 + " + zz\n"
    text = D.render(compiler.run("param m = 0\n" + line).diagnostics, "param m = 0\n" + line)
    shown, caret = text.splitlines()[2:4]
    assert shown.startswith("2 | x = yyy") and shown.endswith("…") and len(shown) == 4 + D.MAX_SHOWN + 1
    assert caret == "  |     " + "^" * (D.MAX_SHOWN - 4)  # cut where the line is cut
    late = "param m = 0\nx = [" + "1, " * 300 + "zz]\n"
    text = D.render(compiler.run(late).diagnostics, late)
    shown, caret = text.splitlines()[2:4]
    assert shown.startswith("2 | …") and shown.endswith("zz]") and len(shown) == 4 + 1 + D.MAX_SHOWN
    assert caret.endswith("^^") and shown[len(caret) - 2 : len(caret)] == "zz"


def _scan(toks, i):
    """The chunk end as error recovery used to find it: one token at a time, with a bracket depth."""
    depth = 0
    while i < len(toks):
        t = toks[i]
        if t.type in ("LPAR", "LSQB"):
            depth += 1
        elif t.type in ("RPAR", "RSQB"):
            depth = max(0, depth - 1)
        elif t.type == "NEWLINE" and depth == 0:
            return i, False
        elif t.type in ("SEMI", "LBRACE", "RBRACE"):
            return i, depth > 0
        i += 1
    return len(toks), depth > 0


@fuzz(60)
@given(st.data())
def test_chunk_index_agrees_with_a_token_by_token_scan(data):
    c = F.HypothesisChooser(data)
    _name, source = c.pick(SEEDS)
    text = parser.normalize_newlines(F.mutate(c, source, max_mutations=8))
    reporter = D.Reporter()
    text, runs = recovery.blank_bad_characters(text, reporter)
    rec = recovery._Recovery(text, reporter, runs)
    for i in reversed(range(len(rec.toks) + 1)):  # memo filled from the end and from the start
        assert rec.extent(i) == _scan(rec.toks, i), (i, text)
    for i in range(len(rec.toks) + 1):
        end, _ = rec.extent(i)
        rec.i = i
        chunk, _end, _ = rec.next_chunk()
        assert list(chunk) == [t for t in rec.toks[i:end] if t.type != "NEWLINE"]
