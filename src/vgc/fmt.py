"""``vgc fmt``: one canonical layout for VG source, comments kept.

The formatter works on the token stream (the AST has no comments) and asks the
parse tree only what each token *is* (a unary or binary ``-``, a call's ``(``, a
keyword argument's ``=``...). The layout:

- one space around binary operators, ``~``, ``=`` and ``:``; none around ``^``,
  after a unary operator, inside brackets, before ``,`` and ``'``, nor around a
  keyword argument's ``=``; one space after ``,``;
- statements the author joined with ``;`` stay on one line (``a; b``), the
  others one per line; a trailing ``;`` is dropped;
- a guide block's body is indented by two spaces, ``}`` on its own line;
- line breaks inside brackets are kept: the next line lines up after the open
  bracket, or, when the bracket ends its line, is indented one level;
- at most one blank line in a row, none at the start of a block or the file,
  one newline at the end; two spaces before a trailing comment;
- operators and names keep their spelling unless ``spelling`` is ``"unicode"``
  (``±``, ``·``) or ``"ascii"`` (``+-``, ``@``); both also turn ``**`` into ``^``
  and NFKC-normalize names (the spelling the compiler reads them as).

The result is checked before it is returned: it must parse to the same program
(spans aside), else the file is left alone and VG900 is reported.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from lark import Token, Tree

from . import diagnostics as D
from . import nodes as N
from . import parser
from .recovery import tokens as all_tokens

INDENT = "  "
SPELLINGS = ("keep", "unicode", "ascii")
_RESPELL = {
    "unicode": {"PM": "±", "MATMUL": "·", "POW": "^"},
    "ascii": {"PM": "+-", "MATMUL": "@", "POW": "^"},
}
_OPEN = ("LPAR", "LSQB")
_CLOSE = ("RPAR", "RSQB")
_BINARY = ("PLUS", "MINUS", "PM", "STAR", "SLASH", "MATMUL")


class Formatted(NamedTuple):
    """The formatted text (None when the source has syntax errors) and the diagnostics."""

    text: str | None
    diagnostics: list[D.Diagnostic]


def _roles(tree: Tree) -> dict[int, str]:
    """What the parse tree says about tokens whose spacing depends on it, by start offset."""
    roles: dict[int, str] = {}
    stack = [tree]
    while stack:
        t = stack.pop()
        kids = t.children
        if t.data == "unop":
            roles[kids[0].start_pos] = "unary"
        elif t.data == "call":
            roles[kids[1].start_pos] = "call"
        elif t.data in ("kwarg", "plate_opt"):
            roles[kids[1].start_pos] = "kwarg"
        elif t.data == "plate_head":
            roles[kids[2].start_pos] = "call"
        elif t.data == "subscript":
            roles[kids[1].start_pos] = "call"  # `y[data]`, `h[0:8]`
        elif t.data == "slice_bounds":
            roles[kids[1].start_pos] = "slice"  # `h[0:8]`: no spaces around the colon
        elif t.data == "shape":
            roles[kids[0].start_pos] = "call"  # `W[2, 2]` reads like an index
        elif t.data == "guide_args":
            roles[kids[0].start_pos] = "call"
        elif t.data == "sample_stmt":  # `: batch(1)` reads like a call
            roles.update({k.start_pos: "call" for k in kids if isinstance(k, Token) and k.type == "LPAR"})
        stack.extend(c for c in kids if isinstance(c, Tree))
    return roles


class _Bracket(NamedTuple):
    align: int  # where continuation lines start
    hanging: bool  # the bracket ended its line: continuations indented one level
    outer: int  # indent of the line the bracket opened on


class _Printer:
    """Lays out a token stream (comments and newlines included) line by line."""

    def __init__(self, roles: dict[int, str], spelling: str):
        self.roles = roles
        self.respell = _RESPELL.get(spelling, {})
        self.nfkc = spelling != "keep"
        self.lines: list[str] = []
        self.line = ""  # the line being built, indentation included
        self.indent = 0  # block depth
        self.brackets: list[_Bracket] = []
        self.prev: Token | None = None  # the previous code token on this line
        self.semi = False  # a ';' waits: printed only when a statement follows on this line
        self.force = False  # after '{' and '}': the next code token starts a line
        self.blank = False  # a blank line seen since the last output line
        self.opened = False  # the last output line opened a block: no blank line after it

    def flush(self) -> None:
        """End the current line (a pending blank line goes before it)."""
        if self.line.strip():
            if self.blank and self.lines and self.lines[-1] != "" and not self.opened:
                self.lines.append("")
            self.lines.append(self.line.rstrip())
            self.blank = False
            self.opened = self.prev is not None and self.prev.type == "LBRACE"
        self.line, self.prev, self.semi = "", None, False

    def begin(self, tok: Token) -> None:
        """Indent a new line that starts with ``tok``."""
        if self.brackets:
            b = self.brackets[-1]
            if not b.hanging:
                self.line = " " * b.align
            else:  # a closing bracket goes back to the opening line's indentation
                self.line = " " * (b.outer if tok.type in _CLOSE else b.outer + len(INDENT))
        else:
            self.line = INDENT * self.indent
        self.prev = None

    def text(self, tok: Token) -> str:
        if tok.type == "NAME" and self.nfkc:
            return unicodedata.normalize("NFKC", str(tok))
        return self.respell.get(tok.type, str(tok))

    def space(self, prev: Token, tok: Token) -> bool:
        """Whether a space separates two adjacent code tokens."""
        role, prev_role = self.roles.get(tok.start_pos), self.roles.get(prev.start_pos)
        if tok.type in (*_CLOSE, "COMMA", "TRANSPOSE") or prev.type in _OPEN:
            return False
        if tok.type in _OPEN and role == "call":
            return False
        if "slice" in (role, prev_role):
            return False
        if prev_role == "unary":
            # `+ -b`: `+-b` would lex as '±'
            return self.text(prev).endswith("+") and self.text(tok).startswith("-")
        return not ("POW" in (tok.type, prev.type) or "kwarg" in (role, prev_role))

    def code(self, tok: Token) -> None:
        if self.force:
            self.flush()
            self.force = False
        if not self.line.strip():
            self.begin(tok)
        elif self.semi:
            self.line += "; "
            self.prev = None
        self.semi = False
        if self.prev is not None and self.space(self.prev, tok):
            self.line += " "
        self.line += self.text(tok)
        self.prev = tok
        if tok.type in _OPEN:
            self.brackets.append(_Bracket(len(self.line), False, len(self.line) - len(self.line.lstrip())))
        elif tok.type in _CLOSE and self.brackets:
            self.brackets.pop()

    def feed(self, toks: list[Token]) -> None:
        for tok in toks:
            kind = tok.type
            if kind == "COMMENT":
                comment = str(tok).rstrip()
                if self.line.strip():
                    self.line = self.line.rstrip() + "  " + comment
                else:
                    self.begin(tok)
                    self.line += comment
            elif kind == "NEWLINE":
                if self.brackets:  # a kept line break inside brackets; blank lines there are dropped
                    if self.line.strip():
                        if self.prev is not None and self.prev.type in _OPEN:
                            self.brackets[-1] = self.brackets[-1]._replace(hanging=True)
                        self.flush()
                elif self.line.strip():
                    self.flush()
                elif self.lines and not self.brackets:
                    self.blank = True
            elif kind == "SEMI":
                if self.line.strip():
                    self.semi = True
            elif kind == "LBRACE":
                self.code(tok)
                self.indent += 1
                self.force = True
            elif kind == "RBRACE":
                self.flush()
                self.indent = max(0, self.indent - 1)
                self.blank = False
                self.code(tok)
                self.force = True
            else:
                self.code(tok)

    def result(self) -> str:
        self.flush()
        return "\n".join(self.lines) + "\n" if self.lines else ""


def _skeleton(x):
    """A node with spans and operator spellings dropped, for comparing two parses."""
    if isinstance(x, N.Span):
        return None
    if isinstance(x, N.Op):
        return ("Op", x.op)
    if isinstance(x, N.Node):
        return (type(x).__name__, *(_skeleton(getattr(x, f)) for f in N.fields(x)))
    if isinstance(x, tuple):
        return tuple(_skeleton(i) for i in x)
    return x


def _program(text: str) -> tuple[N.Program, list[D.Diagnostic]]:
    r = D.Reporter()
    return parser.parse(text, r), r.items


_SYNTAX_CODES = {D.SYNTAX.code, D.BAD_CHARACTER.code, D.TOO_DEEP.code}


def format_source(source: str, spelling: str = "keep", file: str = "<string>") -> Formatted:
    """Format VG ``source``; files with syntax errors are not formatted (their diagnostics are returned)."""
    if spelling not in SPELLINGS:
        raise ValueError(f"spelling must be one of {SPELLINGS}")
    text = parser.normalize_newlines(source.removeprefix("\ufeff"))
    reporter = D.Reporter(file)
    tree = parser.parse_tree(text)
    if tree is None or parser.too_deep(tree) is not None:
        parser.parse(text, reporter)  # the recovering parse reports every syntax error
        return Formatted(None, [d for d in reporter.sorted() if d.code in _SYNTAX_CODES])
    before = parser.AstBuilder(reporter).transform(tree)
    printer = _Printer(_roles(tree), spelling)
    comments = [
        Token("COMMENT", m.group(), m.start(), text.count("\n", 0, m.start()) + 1, 0)
        for m in re.finditer(r"#[^\n]*", text)
    ]
    toks = sorted(all_tokens(text, D.Reporter()) + comments, key=lambda t: t.start_pos)
    printer.feed(toks)
    out = printer.result()
    after, problems = _program(out)
    if any(d.code in _SYNTAX_CODES for d in problems) or _skeleton(after) != _skeleton(before):
        reporter.report(
            D.INTERNAL,
            N.Span(1, 1, 1, 2),
            "internal compiler error: formatting would change the program",
            "this is a bug in vgc fmt; the file was left unchanged; please report it with this file",
        )
        return Formatted(None, reporter.sorted())
    return Formatted(out, [])
