"""Phase 1: source text → AST.

Lark (LALR, contextual lexer) parses with ``grammar/vg.lark``; one
:class:`AstBuilder` Transformer turns the parse tree into :mod:`vgc.nodes`.
Syntax errors become diagnostics that name what was expected.
"""

from __future__ import annotations

import keyword
import math
import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import diagnostics as D
from . import nodes as N
from .registry import KEYWORDS

_OPS = {"±": "+-", "·": "@", "**": "^"}

# How terminals are named in "expected ..." messages.
TERMINAL_TEXT = {
    "NAME": "a name",
    "NUMBER": "a number",
    "NEWLINE": "a newline",
    "SEMI": "';'",
    "TILDE": "'~'",
    "EQUAL": "'='",
    "COLON": "':'",
    "COMMA": "','",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "PM": "'±'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "POW": "'^'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "MATMUL": "'·'",
    "TRANSPOSE": '"\'"',
    "PARAM": "'param'",
    "LET": "'let'",
    "GUIDE": "'guide'",
    "$END": "end of input",
}


def grammar_text() -> str:
    """The grammar shipped in the wheel (``vgc/grammar/vg.lark``), or the checkout's ``grammar/``."""
    packaged = resources.files("vgc").joinpath("grammar/vg.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "vg.lark").read_text(encoding="utf-8")


class _BracketNewlines:
    """Post-lexer: newlines inside () and [] continue the statement, as in Python.

    ``open`` keeps the unclosed brackets so a syntax error can point at the one left open.
    """

    always_accept = ("NEWLINE",)

    def __init__(self) -> None:
        self.open: list[Token] = []

    def process(self, stream):
        self.open = []
        for tok in stream:
            if tok.type in ("LPAR", "LSQB"):
                self.open.append(tok)
            elif tok.type in ("RPAR", "RSQB"):
                if self.open:
                    self.open.pop()
            elif tok.type == "NEWLINE" and self.open:
                continue
            yield tok


_POSTLEX = _BracketNewlines()


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR parser, built once per process and cached on disk by Lark between processes."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        postlex=_POSTLEX,
        cache=True,
    )


def _span(x) -> N.Span:
    if isinstance(x, Token):
        return N.Span(x.line, x.column, x.end_line, x.end_column)
    return N.Span(x.line, x.column, x.end_line, x.end_column)  # a Lark Meta


class AstBuilder(Transformer):
    """Parse tree → :mod:`vgc.nodes`. Name and number errors are reported, not raised."""

    def __init__(self, reporter: D.Reporter):
        super().__init__(visit_tokens=False)  # no token callbacks: skip Lark's per-token hook
        self.reporter = reporter

    # -- tokens
    def _name(self, tok: Token) -> str:
        name = unicodedata.normalize("NFKC", str(tok))
        why = (
            "it is a VG keyword" if name in KEYWORDS
            else "it is a Python keyword" if keyword.iskeyword(name) or keyword.issoftkeyword(name)
            else "names starting with '__' are reserved" if name.startswith("__")
            else "it is not a valid identifier" if not name.isidentifier()
            else None
        )
        if why:
            self.reporter.report(
                D.BAD_NAME, _span(tok), f"'{name}' cannot be used as a name: {why}", "choose another name"
            )
        return name

    def _op(self, tok: Token) -> N.Op:
        return N.Op(_OPS.get(str(tok), str(tok)), str(tok), _span(tok))

    # -- expressions
    @v_args(inline=True, meta=True)
    def number(self, meta, tok):
        value = float(tok)
        if not math.isfinite(value):
            self.reporter.report(
                D.BAD_NUMBER,
                _span(tok),
                f"the number {tok} is too large",
                "numbers must be finite double-precision values (below about 1.8e308)",
            )
            value = 0.0
        return N.Number(value, str(tok), _span(tok))

    @v_args(inline=True)
    def name(self, tok):
        return N.Name(self._name(tok), _span(tok))

    @v_args(inline=True, meta=True)
    def binop(self, meta, left, op, right):
        return N.BinOp(self._op(op), left, right, _span(meta))

    @v_args(inline=True, meta=True)
    def unop(self, meta, op, operand):
        return N.UnaryOp(self._op(op), operand, _span(meta))

    @v_args(inline=True, meta=True)
    def transpose(self, meta, operand, _tick):
        return N.Transpose(operand, _span(meta))

    @v_args(inline=True)
    def paren(self, _l, expr, _r):
        return expr

    @v_args(meta=True)
    def call(self, meta, children):
        func, _lpar, *rest = children
        args, kwargs = [], []
        for c in rest:
            if isinstance(c, N.Keyword):
                kwargs.append(c)
            elif c is not None and not isinstance(c, Token):
                args.append(c)
        return N.Call(self._name(func), _span(func), tuple(args), tuple(kwargs), _span(meta))

    @v_args(inline=True, meta=True)
    def kwarg(self, meta, name, _eq, value):
        return N.Keyword(self._name(name), value, _span(meta))

    @v_args(meta=True)
    def vector(self, meta, children):
        items = tuple(c for c in children if c is not None and not isinstance(c, Token))
        return N.Vector(items, _span(meta))

    # -- statements
    @v_args(meta=True)
    def param_stmt(self, meta, children):
        _kw, name, *rest = children
        shape = init = constraint = None
        it = iter(rest)
        for c in it:
            if isinstance(c, tuple):
                shape = c
            elif isinstance(c, Token) and c.type == "EQUAL":
                init = next(it)
            elif isinstance(c, Token) and c.type == "COLON":
                constraint = next(it)
        return N.Param(self._name(name), _span(name), shape, init, constraint, _span(meta))

    def shape(self, children):
        return tuple(c for c in children if c is not None and not isinstance(c, Token))

    @v_args(inline=True, meta=True)
    def let_stmt(self, meta, _kw, name, _eq, value):
        return N.Let(self._name(name), _span(name), value, _span(meta))

    @v_args(inline=True, meta=True)
    def sample_stmt(self, meta, target, _tilde, dist):
        if not isinstance(target, N.Name):
            self.reporter.report(
                D.BAD_TARGET,
                target.span,
                "the left of '~' must be one name",
                "write `x ~ Normal(0, 1)`; to define several values from one draw, sample a vector",
            )
            return N.BadStmt(_span(meta))
        return N.Sample(target.id, target.span, dist, _span(meta))

    @v_args(inline=True, meta=True)
    def assign_stmt(self, meta, target, _eq, value):
        if isinstance(target, N.Name):
            return N.Assign((target,), False, value, _span(meta))
        if isinstance(target, N.Vector) and target.items and all(isinstance(t, N.Name) for t in target.items):
            return N.Assign(tuple(target.items), True, value, _span(meta))
        self.reporter.report(
            D.BAD_TARGET,
            target.span,
            "the left of '=' must be a name or a list of names",
            "write `x = ...` or `[x, y] = ...`",
        )
        return N.BadStmt(_span(meta))

    @v_args(inline=True, meta=True)
    def expr_stmt(self, meta, expr):
        return N.ExprStmt(expr, _span(meta))

    @v_args(meta=True)
    def guide_args(self, meta, children):
        return tuple(N.Name(self._name(t), _span(t)) for t in children if isinstance(t, Token) and t.type == "NAME")

    @v_args(meta=True)
    def guide_def(self, meta, children):
        name = children[1]
        args = next((c for c in children if isinstance(c, tuple)), None)
        body = tuple(c for c in children if not isinstance(c, (Token, tuple)) and c is not None)
        return N.GuideDef(self._name(name), _span(name), args, body, _span(meta))

    def start(self, children):
        items = [c for c in children if not isinstance(c, Token)]
        guides = tuple(c for c in items if isinstance(c, N.GuideDef))
        bare = tuple(c for c in items if not isinstance(c, N.GuideDef))
        if guides and bare:
            first = bare[0] if items.index(bare[0]) > items.index(guides[0]) else guides[0]
            self.reporter.report(
                D.MIXED_PROGRAM,
                first.span,
                "a file holds either guide blocks or bare statements, not both",
                "move the bare statements into a `guide NAME { ... }` block",
            )
        end = N.Span(1, 1, 1, 1)
        return N.Program(guides, bare if not guides else (), end)


# Most telling first: separators and closers, then operands, then operators.
_ORDER = [
    "NEWLINE",
    "SEMI",
    "RPAR",
    "RSQB",
    "RBRACE",
    "COMMA",
    "EQUAL",
    "TILDE",
    "COLON",
    "NAME",
    "NUMBER",
    "LPAR",
    "LSQB",
    "LBRACE",
]


def _expected(tokens) -> str:
    ranked = sorted(
        (t for t in set(tokens) if t in TERMINAL_TEXT),
        key=lambda t: (_ORDER.index(t) if t in _ORDER else len(_ORDER), t),
    )
    names = [TERMINAL_TEXT[t] for t in ranked]
    if len(names) > 6:
        names = names[:6] + ["…"]
    return ", ".join(names)


def _unclosed(tok_line: int | None, reporter: D.Reporter) -> bool:
    """Report the innermost bracket left open before ``tok_line``; True when there was one."""
    if not _POSTLEX.open:
        return False
    b = _POSTLEX.open[-1]
    if tok_line is not None and tok_line == b.line:
        return False
    closer = ")" if b.type == "LPAR" else "]"
    reporter.report(
        D.SYNTAX,
        _span(b),
        f"'{b}' is never closed",
        f"add '{closer}' before the end of the statement"
        + (f" (the next line, {tok_line}, starts a new one)" if tok_line else ""),
    )
    return True


def _syntax_diagnostic(err: UnexpectedInput, source: str, reporter: D.Reporter) -> None:
    if isinstance(err, UnexpectedCharacters):
        ch = source[err.pos_in_stream] if err.pos_in_stream < len(source) else ""
        span = N.Span(err.line, err.column, err.line, err.column + 1)
        hint = ""
        if ch in "\"'`":
            hint = "VG has no strings"
        elif ch == "!" or ch == "<" or ch == ">" or ch == "&" or ch == "|":
            hint = "VG has no comparison or logical operators"
        reporter.report(
            D.BAD_CHARACTER,
            span,
            f"unexpected character {ch!r}",
            hint or "VG uses names, numbers, [ ] ( ) { }, + - * / ^ ± · @ ~ = : , ; and # comments",
        )
        return
    if isinstance(err, UnexpectedToken) and err.token.type != "$END":
        tok = err.token
        if _unclosed(tok.line, reporter):
            return
        span = _span(tok)
        shown = "a newline" if tok.type == "NEWLINE" else repr(str(tok))
        # ``accepts`` is exact; ``expected`` may include terminals of merged LALR states.
        expected = err.accepts or err.expected
        reporter.report(D.SYNTAX, span, f"unexpected {shown}; expected {_expected(expected)}",
                        _syntax_hint(tok, expected))
        return
    if _unclosed(None, reporter):
        return
    # End of input: point just past the last character.
    lines = source.splitlines() or [""]
    line = len(lines)
    col = len(lines[-1]) + 1
    expected = err.expected if isinstance(err, (UnexpectedToken, UnexpectedEOF)) else []
    reporter.report(
        D.SYNTAX,
        N.Span(line, col, line, col + 1),
        f"unexpected end of input; expected {_expected(expected)}",
        "a bracket or a block may be left open",
    )


def _syntax_hint(tok: Token, expected) -> str:
    if tok.type == "NEWLINE" and ("RPAR" in expected or "RSQB" in expected):
        return "a bracket is not closed"
    if tok.type in ("PARAM", "LET", "GUIDE"):
        return f"'{tok}' is a keyword and cannot be used as a name; statements are separated by newlines or ';'"
    if tok.type in ("NAME", "NUMBER", "LSQB") and ("NEWLINE" in expected or "SEMI" in expected):
        return "separate statements with a newline or ';'"
    if tok.type == "EQUAL" and "NAME" in expected:
        return "a name is missing before '='"
    return ""


def parse(source: str, reporter: D.Reporter) -> N.Program | None:
    """Parse ``source`` into a Program; on a syntax error report it and return None."""
    text = source.removeprefix("\ufeff")
    try:
        tree = lark_parser().parse(text)
    except UnexpectedInput as err:
        _syntax_diagnostic(err, text, reporter)
        return None
    except RecursionError:
        reporter.report(D.SYNTAX, N.Span(1, 1, 1, 2), "the program is nested too deeply", "simplify the expression")
        return None
    try:
        return AstBuilder(reporter).transform(tree)
    except (VisitError, RecursionError) as err:
        cause = getattr(err, "orig_exc", err)
        if isinstance(cause, RecursionError):
            reporter.report(D.SYNTAX, N.Span(1, 1, 1, 2), "the program is nested too deeply", "simplify the expression")
            return None
        raise


__all__ = ["AstBuilder", "Tree", "grammar_text", "lark_parser", "parse"]
