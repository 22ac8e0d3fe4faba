"""The Pygments lexer (:mod:`vgc.pygments_lexer`): registration, golden token streams, no ``Error`` on valid
programs, agreement with the registry's word lists and with the compiler's own lexer, exact round trip.

Regenerate the golden token files with ``pytest tests/test_pygments.py --update-golden`` and review the diff.
"""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename, get_lexer_for_mimetype
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, Punctuation, Whitespace

from vgc import pygments_lexer
from vgc.parser import grammar_text, lark_parser, normalize_newlines
from vgc.pygments_lexer import CLASS_TOKENS, CONTEXT_CLASSES, VgLexer
from vgc.registry import LEN, OPERATORS, PLATE_OPTIONS, highlight_words

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "cases"
TOKENS = CASES / "tokens"
HOSTILE = sorted((ROOT / "tests" / "hostile").glob("*.vg"))

SOURCES = sorted((ROOT / "examples").glob("*.vg")) + sorted((CASES / "good").glob("*.vg"))
HOSTILE_OK = [p for p in HOSTILE if re.search(r"^# expect: ok$", p.read_text(encoding="utf-8"), re.M)]
VALID = SOURCES + HOSTILE_OK

LAYOUT = (Whitespace, Comment)  # tokens the compiler's lexer ignores (WS, COMMENT) or we skip (NEWLINE)


def _rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def _read(p: Path) -> str:
    """A .vg file as the compiler reads it (UTF-8, BOM allowed, CR and CRLF read as LF)."""
    return normalize_newlines(p.read_bytes().decode("utf-8-sig"))


def lex(text: str, **options) -> list[tuple]:
    return list(VgLexer(**options).get_tokens(text))


def significant(text: str) -> list[tuple]:
    return [(t, v) for t, v in lex(text) if not any(t in k for k in LAYOUT)]


def _short(tokentype) -> str:
    return str(tokentype).removeprefix("Token.")


def dump(text: str) -> str:
    """The golden format: one token a line, ``TYPE<TAB>repr(value)``."""
    return "".join(f"{_short(t)}\t{v!r}\n" for t, v in lex(text))


# ---------------------------------------------------------------------------------------------------
# (a) registration


def test_lexer_is_found_by_name_filename_and_mimetype():
    assert type(get_lexer_by_name("vg")) is VgLexer
    assert type(get_lexer_for_filename("x.vg")) is VgLexer
    assert type(get_lexer_for_mimetype("text/x-vg")) is VgLexer
    lexer = VgLexer()
    assert (lexer.name, lexer.aliases, lexer.filenames, lexer.mimetypes) == ("VG", ["vg"], ["*.vg"], ["text/x-vg"])


def test_lexer_is_registered_through_the_entry_point():
    from pygments.plugin import find_plugin_lexers

    assert VgLexer in list(find_plugin_lexers())


class _Spans(HTMLParser):
    """The ``<span class=...>`` elements of Pygments' HTML as (class, text) pairs, entities decoded
    (how a formatter escapes, e.g. ``'`` as ``&#39;`` or not at all since Pygments 2.21, does not matter)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.spans: list[list] = []
        self._open: list[list | None] = []  # one entry per open <span>: its [class, text] or None (no class)

    def handle_starttag(self, tag, attrs):
        if tag == "span":
            cls = dict(attrs).get("class")
            self._open.append([cls, ""] if cls else None)
            if cls:
                self.spans.append(self._open[-1])

    def handle_endtag(self, tag):
        if tag == "span" and self._open:
            self._open.pop()

    def handle_data(self, data):
        current = next((s for s in reversed(self._open) if s is not None), None)
        if current is not None:
            current[1] += data


def _spans(html: str) -> list[tuple[str, str]]:
    parser = _Spans()
    parser.feed(html)
    parser.close()
    return [(cls, text) for cls, text in parser.spans]


def _html(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "pygments", *args, "-f", "html", str(ROOT / "examples" / "design_card.vg")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_span_parser_decodes_entities_either_way():
    for comment in ("# the card&#39;s", "# the card&#x27;s", "# the card's"):
        assert _spans(f'<pre><span></span><span class="c1">{comment}</span>\n<span class="n">&lt;</span></pre>') == [
            ("c1", "# the card's"),
            ("n", "<"),
        ]


@pytest.mark.parametrize("args", [("-l", "vg"), ()], ids=["-l vg", "by file name"])
def test_pygmentize_highlights_the_design_card(args):
    spans = _spans(_html(*args))
    for expected in [
        ("kd", "param"),
        ("nc", "Mix"),
        ("nc", "Normal"),
        ("nb", "rot"),
        ("no", "positive"),
        ("o", "±"),
        ("o", "·"),
        ("mf", "1.0"),
        ("mi", "1"),
        ("c1", "# the design card's notation"),
        ("n", "θ"),
    ]:
        assert expected in spans
    assert [text for cls, text in spans if "err" in cls.split()] == []


def test_importing_the_lexer_imports_neither_jax_nor_lark():
    code = "import sys, vgc.pygments_lexer; print(sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'lark')))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------------
# (b) golden token streams


def test_golden_token_file_names_are_unique_and_none_is_stale():
    stems = [p.stem for p in SOURCES]
    assert len(stems) == len(set(stems))
    assert {p.stem for p in TOKENS.glob("*.tokens")} <= set(stems)


@pytest.mark.parametrize("vg", SOURCES, ids=_rel)
def test_token_stream_matches_golden_file(vg: Path, update_golden: bool):
    actual = dump(_read(vg))
    golden = TOKENS / (vg.stem + ".tokens")
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"missing golden file {golden}; run pytest --update-golden"
    assert actual == golden.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------------
# (c) Error only on characters VG rejects


@pytest.mark.parametrize("vg", VALID, ids=_rel)
def test_valid_program_has_no_error_token(vg: Path):
    assert [v for t, v in lex(_read(vg)) if t in Error] == []


@pytest.mark.parametrize("text, bad", [("x = $m", "$"), ('x ~ Normal("0", 1)', '"'), ("m\\u0041 = 1", "\\")])
def test_characters_vg_rejects_are_errors(text: str, bad: str):
    assert [v for t, v in lex(text) if t in Error] == [bad] * text.count(bad)


_VG102 = [p for p in HOSTILE if "VG102 at" in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("vg", _VG102, ids=_rel)
def test_first_error_token_is_where_the_compiler_reports_vg102(vg: Path):
    """The hostile corpus's unexpected characters (quotes, backslashes, NUL, U+2028, zero-width and
    combining characters, RTL override): the lexer's first ``Error`` is at the compiler's VG102."""
    text = _read(vg)
    line, col = map(int, re.search(r"VG102 at (\d+):(\d+)", text).groups())
    index = next(i for i, t, _ in VgLexer().get_tokens_unprocessed(text) if t in Error)
    before = text[:index]
    assert (before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1) == (line, col)


# ---------------------------------------------------------------------------------------------------
# (d) consistency with the registry and the compiler

# The words highlighted wherever they appear (the plate options only in a plate header: tested below).
WORDS = [(cls, w) for cls, words in highlight_words().items() if cls not in CONTEXT_CLASSES for w in words]


def test_every_highlight_class_has_a_distinct_token_type():
    assert set(CLASS_TOKENS) == set(highlight_words())
    assert len(set(CLASS_TOKENS.values())) == len(CLASS_TOKENS)
    assert Error not in CLASS_TOKENS.values() and all(t not in Error for t in CLASS_TOKENS.values())
    assert CLASS_TOKENS["keyword"] in Keyword
    assert {"plate_option"} == CONTEXT_CLASSES and highlight_words()["plate_option"] == PLATE_OPTIONS
    assert "plate" in highlight_words()["keyword"] and LEN in highlight_words()["function"]


def test_the_patterns_are_the_grammars():
    grammar = grammar_text()
    for terminal in ("NAME", "NUMBER"):
        pattern = re.search(rf"^{terminal}: /(.*)/$", grammar, re.M).group(1)
        assert getattr(pygments_lexer, terminal) == pattern


@pytest.mark.parametrize("cls, word", WORDS, ids=lambda x: x if isinstance(x, str) else None)
def test_registry_word_lexes_to_its_class_token(cls: str, word: str):
    token = CLASS_TOKENS[cls]
    assert lex(word) == [(token, word), (Whitespace, "\n")]
    for text in (f"x ~ {word}(0, 1)", f"y = [a, {word}]  # {word}", f"z = 2{word}·{word}'"):
        assert [v for t, v in lex(text) if t is token] == [word] * text.split("#")[0].count(word), text


@pytest.mark.parametrize("cls, word", WORDS, ids=lambda x: x if isinstance(x, str) else None)
def test_registry_word_with_a_prefix_or_suffix_is_a_plain_name(cls: str, word: str):
    for affixed in (f"{word}x", f"x{word}", f"{word}_", f"_{word}", f"{word}1", f"{word}θ", f"θ{word}"):
        assert significant(f"q ~ {affixed}(0, 1)") == [
            (Name, "q"),
            (Operator, "~"),
            (Name, affixed),
            (Punctuation, "("),
            (Number.Integer, "0"),
            (Punctuation, ","),
            (Number.Integer, "1"),
            (Punctuation, ")"),
        ]


def _fullwidth(word: str) -> str:
    """Fullwidth letters and digits; `_` stays (FULLWIDTH LOW LINE is no word character, VG102)."""
    return "".join(c if c == "_" else chr(ord(c) + 0xFEE0) for c in word)


@pytest.mark.parametrize("cls, word", WORDS, ids=lambda x: x if isinstance(x, str) else None)
def test_names_are_classified_after_nfkc_like_the_compiler_reads_them(cls: str, word: str):
    wide = _fullwidth(word)
    assert unicodedata.normalize("NFKC", wide) == word
    # a fullwidth keyword is a name (which the checker rejects, VG103), never the keyword
    expected = Name if cls == "keyword" else CLASS_TOKENS[cls]
    assert significant(wide) == [(expected, wide)]


def test_guide_name_is_a_function():
    assert significant("guide g(a, b) {\n}") == [
        (Keyword.Declaration, "guide"),
        (Name.Function, "g"),
        (Punctuation, "("),
        (Name, "a"),
        (Punctuation, ","),
        (Name, "b"),
        (Punctuation, ")"),
        (Punctuation, "{"),
        (Punctuation, "}"),
    ]
    assert significant("guide θ_1 {}")[:2] == [(Keyword.Declaration, "guide"), (Name.Function, "θ_1")]
    assert significant("guide\tNormal\f(){}")[:2] == [(Keyword.Declaration, "guide"), (Name.Function, "Normal")]
    # a param or let name is a plain name; a keyword after `guide` stays a keyword
    assert significant("param m = 0; let v = m")[:2] == [(Keyword.Declaration, "param"), (Name, "m")]
    assert significant("guide param {}")[:2] == [(Keyword.Declaration, "guide"), (Keyword.Declaration, "param")]


def test_guide_name_rule_is_only_for_guide():
    # `param`/`let` followed by a name and `(`/`{` (syntax errors) do not make a function name
    assert significant("param m(1)")[:2] == [(Keyword.Declaration, "param"), (Name, "m")]
    assert significant("let f {")[:2] == [(Keyword.Declaration, "let"), (Name, "f")]


OPT, LABEL = CLASS_TOKENS["plate_option"], Name.Label


def test_plate_header():
    assert significant("plate data(len(y), subsample=100, dim=-1) {\n  z ~ Normal(y[data], 1)\n}") == [
        (Keyword.Declaration, "plate"), (LABEL, "data"), (Punctuation, "("),
        (Name.Builtin, "len"), (Punctuation, "("), (Name, "y"), (Punctuation, ")"), (Punctuation, ","),
        (OPT, "subsample"), (Operator, "="), (Number.Integer, "100"), (Punctuation, ","),
        (OPT, "dim"), (Operator, "="), (Operator, "-"), (Number.Integer, "1"), (Punctuation, ")"),
        (Punctuation, "{"),
        (Name, "z"), (Operator, "~"), (Name.Class, "Normal"), (Punctuation, "("), (Name, "y"),
        (Punctuation, "["), (Name, "data"), (Punctuation, "]"), (Punctuation, ","), (Number.Integer, "1"),
        (Punctuation, ")"),
        (Punctuation, "}"),
    ]  # fmt: skip
    # the label may equal an argument; a header may span lines and nest calls; options need `=`
    assert significant("plate J(J)")[:4] == [
        (Keyword.Declaration, "plate"),
        (LABEL, "J"),
        (Punctuation, "("),
        (Name, "J"),
    ]
    header = significant("plate p(sum([3,\n 4]) , dim\t= -2,subsample =dim)")
    assert [(t, v) for t, v in header if t is OPT] == [(OPT, "dim"), (OPT, "subsample")]
    assert header[-2:] == [(Name, "dim"), (Punctuation, ")")]
    assert significant("plate p(dim)")[3] == (Name, "dim")  # the size: an argument called dim
    # NFKC, like the compiler reads option names; an unknown option (VG109) or a keyword is not one
    assert (OPT, "ｄｉｍ") in significant("plate p(3, ｄｉｍ=-1)")
    assert (Name, "foo") in significant("plate p(3, foo=1)")
    assert (Keyword.Declaration, "param") in significant("plate p(3, param=1)")
    # a keyword after `plate` is no label, and `plate` is a keyword only as a whole name
    assert significant("plate param(3)")[:2] == [(Keyword.Declaration, "plate"), (Keyword.Declaration, "param")]
    assert significant("platex = plate_2")[::2] == [(Name, "platex"), (Name, "plate_2")]


@pytest.mark.parametrize("option", PLATE_OPTIONS)
def test_plate_options_are_plain_names_outside_a_plate_header(option: str):
    for text in (
        f"param {option} = 1.0",
        f"u ~ Normal({option}, 1)",
        f"u ~ Normal({option}=1)",  # a keyword argument of a call
        f"plate p(f({option}=1)) {{ {option} = 2 * u }}",  # nested in the size; in the body
        f"plate p(3) {{\n{option} ~ Normal(0, 1)\n}}",
    ):
        assert (Name, option) in significant(text) and OPT not in {t for t, _ in significant(text)}, text
    assert significant(option) == [(Name, option)]


def test_an_unclosed_plate_header_ends_at_a_brace():
    tokens = significant("plate p(len(y {\n  dim = 1\n}\nplate q(3, dim=-1 }\ndim = 2")
    assert [v for t, v in tokens if t is OPT] == ["dim"]  # only the one in q's header
    assert [v for _, v in tokens] == _lark_values("plate p(len(y {\n  dim = 1\n}\nplate q(3, dim=-1 }\ndim = 2")


SPELLINGS = sorted({op for ops in OPERATORS.values() for op in ops})


@pytest.mark.parametrize("op", SPELLINGS)
def test_every_operator_spelling_is_one_operator_token(op: str):
    assert significant(op) == [(Operator, op)]
    assert significant(f"a{op}b") == [(Name, "a"), (Operator, op), (Name, "b")]
    assert significant(f"a {op} -b") == [(Name, "a"), (Operator, op), (Operator, "-"), (Name, "b")]


def test_plus_minus_and_power_are_split_like_the_compiler():
    assert [v for _, v in significant("a +-b + -c ** d*e * *f")] == [
        "a", "+-", "b", "+", "-", "c", "**", "d", "*", "e", "*", "*", "f"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1", [(Number.Integer, "1")]),
        ("120", [(Number.Integer, "120")]),
        ("١٢", [(Number.Integer, "١٢")]),  # Arabic-Indic digits: \d, in the grammar too
        ("1.0", [(Number.Float, "1.0")]),
        (".5", [(Number.Float, ".5")]),
        ("2.", [(Number.Float, "2.")]),
        ("1e-3", [(Number.Float, "1e-3")]),
        ("1E+30", [(Number.Float, "1E+30")]),
        ("1.e5", [(Number.Float, "1.e5")]),
        ("1e", [(Number.Integer, "1"), (Name, "e")]),
        ("1e+", [(Number.Integer, "1"), (Name, "e"), (Operator, "+")]),
        ("1.2.3", [(Number.Float, "1.2"), (Number.Float, ".3")]),
        ("2exp", [(Number.Integer, "2"), (Name.Builtin, "exp")]),
        ("3x1", [(Number.Integer, "3"), (Name, "x1")]),
    ],
)
def test_numbers(text: str, expected: list):
    assert significant(text) == expected
    assert [v for _, v in expected] == _lark_values(text)


def _lark_values(text: str) -> list[str]:
    return [str(tok) for tok in lark_parser().lex(text) if tok.type != "NEWLINE"]


TRICKY = (
    "guide g(a,b){param θ[2]=.5e1:greater_than(1)\n  let M=[[1,2],\n[3,4]]';u~Mix(Normal(±b,1))}\n"
    "guide h { x ~ Ｎｏｒｍａｌ(0, 1)**2+-3·M@N^2 # comment ~ Normal\n}\n"
)


@pytest.mark.parametrize("vg", [*VALID, None], ids=lambda p: "tricky" if p is None else _rel(p))
def test_tokens_agree_with_the_compilers_lexer(vg: Path | None):
    text = TRICKY if vg is None else _read(vg)
    assert [v for _, v in significant(text)] == _lark_values(text)


def test_layout_tokens():
    tokens = lex("x ~ Normal(0, 1)\t\f# c\n\n")
    assert (Comment.Single, "# c") in tokens
    assert (Whitespace, "\t\f") in tokens
    assert tokens[-2:] == [(Whitespace, "\n"), (Whitespace, "\n")]


# ---------------------------------------------------------------------------------------------------
# (e) round trip


@pytest.mark.parametrize("vg", SOURCES + HOSTILE, ids=_rel)
def test_tokens_reproduce_the_input(vg: Path):
    text = _read(vg)
    assert "".join(v for _, v in lex(text, ensurenl=False)) == text
    assert "".join(v for _, v in lex(text)) == (text if text.endswith("\n") else text + "\n")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("\n\nx ~ Normal(0, 1)\n\n", "\n\nx ~ Normal(0, 1)\n\n"),  # leading blank lines are kept
        ("x ~ Normal(0, 1)", "x ~ Normal(0, 1)\n"),  # ensurenl
        ("a = b\r\nc = d\re = f\n", "a = b\nc = d\ne = f\n"),  # CR and CRLF read as LF, like the compiler
        ("\ufeffx = m\n", "x = m\n"),  # a BOM is dropped, like the compiler
    ],
)
def test_round_trip_with_default_options(text: str, expected: str):
    assert "".join(v for _, v in lex(text)) == expected
    assert "".join(v for _, v in lex(text)) == "".join(v for _, v in get_lexer_by_name("vg").get_tokens(text))
