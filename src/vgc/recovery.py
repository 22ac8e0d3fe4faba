"""Phase 1, slow path: report every syntax error, then hand the checker what did parse.

:func:`vgc.parser.parse` first parses the whole file at once. Only when that fails
does :func:`recover` run: it blanks characters no token can start (VG102), splits
the token stream into statements (newlines and ``;`` outside brackets, ``{`` and
``}``) and parses each statement, and each guide header, on its own with the same
LALR tables (the grammar's ``statement`` and ``guide_head`` start symbols). A
statement that does not parse is reported once and becomes a
:class:`vgc.nodes.BadStmt` that records the names it meant to define, so later
uses of those names raise no follow-on errors while unrelated mistakes still do.
"""

from __future__ import annotations

import re
import unicodedata

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken

from . import diagnostics as D
from . import nodes as N
from .parser import MAX_DEPTH, AstBuilder, GuideHead, build_program, lark_parser, too_deep

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
}

# Most telling first: separators and closers, then operands, then operators.
_ORDER = ["NEWLINE", "SEMI", "RPAR", "RSQB", "RBRACE", "COMMA", "EQUAL", "TILDE", "COLON", "NAME", "NUMBER",
          "LPAR", "LSQB", "LBRACE"]

# What may appear outside comments: the lexer's own terminals (see grammar/vg.lark).
_OK = re.compile(
    r"(?:\#[^\n]*|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[^\W\d]\w*|[ \t\f\n~=:,;()\[\]{}±+\-^*/·@']+)+"
)
_OPENERS = {"LPAR": ")", "LSQB": "]"}


def _span(tok: Token) -> N.Span:
    return N.Span(tok.line, tok.column, tok.end_line, tok.end_column)


def _position(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def blank_bad_characters(text: str, reporter: D.Reporter) -> tuple[str, list[tuple[int, int]]]:
    """Report each run of characters that cannot start a token (VG102) and blank it out."""
    runs = []
    pos, n = 0, len(text)
    while pos < n:
        m = _OK.match(text, pos)
        pos = m.end() if m else pos
        if pos >= n:
            break
        start = pos
        pos += 1
        while pos < n and not _OK.match(text, pos):
            pos += 1
        runs.append((start, pos))
    if not runs:
        return text, runs
    parts, last = [], 0
    for start, end in runs:
        bad = text[start:end]
        line, col = _position(text, start)
        hint = (
            "VG has no strings" if bad[0] in "\"`"
            else "VG has no comparison or logical operators" if bad[0] in "!<>&|"
            else "VG uses names, numbers, [ ] ( ) { }, + - * / ^ ± · @ ~ = : , ; and # comments"
        )
        shown = bad if len(bad) <= 20 else bad[:20] + "…"
        what = f"character {shown!r}" if len(bad) == 1 else f"characters {shown!r}"
        reporter.report(D.BAD_CHARACTER, N.Span(line, col, line, col + len(bad)), f"unexpected {what}", hint)
        parts += [text[last:start], " " * len(bad)]
        last = end
    parts.append(text[last:])
    return "".join(parts), runs


def tokens(text: str, reporter: D.Reporter) -> list[Token]:
    """Every token of ``text`` including newlines inside brackets (the parser's post-lexer drops those)."""
    while True:
        try:
            toks = [t for t in lark_parser().lex(text) if t.type != "NEWLINE"]
            break
        except UnexpectedCharacters as err:  # a gap in _OK; report it rather than fail
            reporter.report(D.BAD_CHARACTER, N.Span(err.line, err.column, err.line, err.column + 1),
                            f"unexpected character {text[err.pos_in_stream]!r}")
            text = text[: err.pos_in_stream] + " " + text[err.pos_in_stream + 1 :]
    newlines, line_start = [], 0
    for line, m in enumerate(re.finditer("\n", text), start=1):
        newlines.append(Token("NEWLINE", "\n", m.start(), line, m.start() - line_start + 1, line + 1, 1, m.end()))
        line_start = m.end()
    return sorted(toks + newlines, key=lambda t: t.start_pos)


def _defined_names(toks: list[Token]) -> tuple[str, ...]:
    """The names a statement that failed to parse meant to define (to silence follow-on errors)."""
    def norm(t):
        return unicodedata.normalize("NFKC", str(t))

    if len(toks) > 1 and toks[0].type in ("PARAM", "LET") and toks[1].type == "NAME":
        return (norm(toks[1]),)
    depth = 0
    for k, t in enumerate(toks):
        if t.type in ("LPAR", "LSQB"):
            depth += 1
        elif t.type in ("RPAR", "RSQB"):
            depth -= 1
        elif depth == 0 and t.type in ("TILDE", "EQUAL"):
            return tuple(norm(x) for x in toks[:k] if x.type == "NAME")
    return ()


def _expected(terminals, end_means: tuple[str, ...]) -> str:
    names = set()
    for t in terminals:
        names.update(end_means if t == "$END" else (t,))
    ranked = sorted(
        (t for t in names if t in TERMINAL_TEXT),
        key=lambda t: (_ORDER.index(t) if t in _ORDER else len(_ORDER), t),
    )
    shown = [TERMINAL_TEXT[t] for t in ranked]
    return ", ".join(shown[:6] + ["…"] * (len(shown) > 6))


def _hint(tok: Token | None, expected) -> str:
    kind = tok.type if tok is not None else "$END"
    if kind in ("NEWLINE", "SEMI", "$END") and ("RPAR" in expected or "RSQB" in expected):
        return "a bracket is not closed"
    if kind in ("PARAM", "LET", "GUIDE"):
        return f"'{tok}' is a keyword and cannot be used as a name; statements are separated by newlines or ';'"
    if kind in ("NAME", "NUMBER", "LSQB") and "$END" in expected:
        return "separate statements with a newline or ';'"
    if kind == "EQUAL" and "NAME" in expected:
        return "a name is missing before '='"
    return ""


class _Recovery:
    """Statement-at-a-time parsing of a token list, collecting a Program and the syntax errors."""

    def __init__(self, text: str, reporter: D.Reporter, bad_runs: list[tuple[int, int]]):
        self.text = text
        self.r = reporter
        self.bad_runs = bad_runs
        self.toks = tokens(text, reporter)
        self.index = {t.start_pos: k for k, t in enumerate(self.toks)}
        self.i = 0
        self.rewound = False  # the last statement ended early: its separator is still ahead
        self.builder = AstBuilder(reporter)
        self.first = self.accepts([], "statement")  # the tokens that can start a statement

    # -- splitting
    def next_chunk(self) -> tuple[list[Token], Token | None, bool]:
        """The next statement's tokens, what ends it (a separator, a brace, or None at the end)
        and whether a bracket was left open (then the newlines after it were taken as continuations)."""
        depth, out = 0, []
        while self.i < len(self.toks):
            t = self.toks[self.i]
            self.i += 1
            if t.type in ("LPAR", "LSQB"):
                depth += 1
            elif t.type in ("RPAR", "RSQB"):
                depth = max(0, depth - 1)
            elif t.type == "NEWLINE":
                if depth == 0:
                    return out, t, False
                continue
            elif t.type in ("SEMI", "LBRACE", "RBRACE"):
                return out, t, depth > 0
            out.append(t)
        return out, None, depth > 0

    def _bad_characters_before(self, toks: list[Token], k: int, end: Token | None) -> bool:
        """True when a blanked character lies in the statement before where it failed."""
        stop = toks[k] if k < len(toks) else end
        hi = stop.start_pos if stop is not None else len(self.text)
        return any(toks[0].start_pos <= s < hi for s, _ in self.bad_runs)

    # -- parsing one piece
    def feed(self, toks: list[Token], start: str):
        """Parse ``toks`` as ``start``: (tree, None) or (None, index of the token that failed)."""
        ip = lark_parser().parse_interactive(start=start)
        for k, t in enumerate(toks):
            try:
                ip.feed_token(t)
            except UnexpectedToken:
                return None, k
        try:
            return ip.feed_eof(toks[-1] if toks else None), None
        except UnexpectedToken:
            return None, len(toks)

    def accepts(self, toks: list[Token], start: str) -> set[str]:
        ip = lark_parser().parse_interactive(start=start)
        for t in toks:
            ip.feed_token(t)
        return ip.accepts()

    def report_error(self, toks, k, end, start, in_block) -> None:
        """Report why ``toks`` fails at index ``k`` (``len(toks)``: at the statement's end)."""
        tok = toks[k] if k < len(toks) else end
        expected = self.accepts(toks[:k], start)
        end_means = ("NEWLINE", "SEMI", "RBRACE") if in_block else ("NEWLINE", "SEMI")
        if tok is None:
            line, col = _position(self.text, len(self.text.rstrip(" \t\f\n")))
            span, shown = N.Span(line, col, line, col + 1), "end of input"
        else:
            span = _span(tok)
            shown = "newline" if tok.type == "NEWLINE" else repr(str(tok))
        self.r.report(D.SYNTAX, span, f"unexpected {shown}; expected {_expected(expected, end_means)}",
                      _hint(tok, expected))

    def unclosed(self, toks, k) -> int | None:
        """When ``toks`` fails at ``k`` because a bracket opened on an earlier line is never closed,
        report that bracket and return where the next statement starts (``k`` when at the end)."""
        stack = []
        for t in toks[:k]:
            if t.type in _OPENERS:
                stack.append(t)
            elif t.type in ("RPAR", "RSQB") and stack:
                stack.pop()
        if not stack:
            return None
        b = stack[-1]
        at_end = k >= len(toks)
        if not at_end and toks[k].line == b.line:
            return None
        restart = k if at_end else next(j for j in range(k + 1) if toks[j].line == toks[k].line)
        nxt = "" if at_end else f" (the next line, {toks[k].line}, starts a new one)"
        self.r.report(D.SYNTAX, _span(b), f"'{b}' is never closed",
                      f"add '{_OPENERS[b.type]}' before the end of the statement{nxt}")
        return restart

    def statement(self, toks: list[Token], end: Token | None, in_block: bool, depth: int, unbalanced: bool):
        """One statement's node; on a syntax error a BadStmt (and maybe a restart point)."""
        tree, k = self.feed(toks, "statement")
        if tree is not None:
            deep = too_deep(tree, depth)
            if deep is None:
                return self.builder.transform(tree)
            m = deep.meta
            self.r.report(
                D.TOO_DEEP,
                N.Span(m.line, m.column, m.line, m.column + 1),
                f"the expression is nested more than {MAX_DEPTH} levels deep",
                "split it into steps with `let`",
            )
            return self.bad(toks)
        restart = self.unclosed(toks, k)
        if restart is not None:
            if restart < len(toks):
                self.rewind(toks[restart])
            return self.bad(toks[:restart])
        if not self._bad_characters_before(toks, k, end):  # else already reported as VG102
            if 0 < k < len(toks) and "$END" in self.accepts(toks[:k], "statement"):
                # A separator is missing: keep the complete statement, go on from what follows
                # when it can start one, else drop it.
                self.report_error(toks, k, end, "statement", in_block)
                if toks[k].type in self.first:
                    self.rewind(toks[k])
                return self.statement(toks[:k], None, in_block, depth, False)
            self.report_error(toks, k, end, "statement", in_block)
        if unbalanced and k < len(toks):
            # A bracket stays open to the end: the lines after the error are other statements.
            later = next((j for j in range(k, len(toks)) if toks[j].line > toks[k].line), None)
            if later is not None:
                self.rewind(toks[later])
                return self.bad(toks[:later])
        return self.bad(toks)

    def rewind(self, tok: Token) -> None:
        """Go on splitting from ``tok``: the current statement ended before it."""
        self.i = self.index[tok.start_pos]
        self.rewound = True

    def bad(self, toks: list[Token]) -> N.BadStmt:
        first, last = toks[0], toks[-1]
        return N.BadStmt(N.Span(first.line, first.column, last.end_line, last.end_column), _defined_names(toks))

    def head(self, toks: list[Token], end: Token | None) -> GuideHead:
        """``guide NAME(ARGS) {``; when broken, reported and rebuilt from the tokens that are there."""
        piece = toks + [end] if end is not None and end.type == "LBRACE" else toks
        tree, k = self.feed(piece, "guide_head")
        if tree is not None:
            return self.builder.transform(tree)
        if not self._bad_characters_before(piece, k, end):
            self.report_error(piece, k, end, "guide_head", False)
        name_tok = toks[1] if len(toks) > 1 and toks[1].type == "NAME" else toks[0]
        name = str(name_tok) if name_tok.type == "NAME" else f"<guide at line {name_tok.line}>"
        lpar = next((j for j, t in enumerate(toks) if t.type == "LPAR"), None)
        args = None if lpar is None else tuple(N.Name(str(t), _span(t)) for t in toks[lpar:] if t.type == "NAME")
        return GuideHead(name, _span(name_tok), args, _span(toks[0]))

    # -- the whole file
    def program(self) -> N.Program:
        items: list = []
        block: tuple[GuideHead, list, Token] | None = None  # the open guide: head, body, its '{'
        pending: GuideHead | None = None  # a header whose '{' is not on its line
        stray = 0  # '{' not opened by a guide header: its '}' closes nothing

        def close(rbrace: Token | None) -> None:
            head, body, lbrace = block
            last = rbrace or (body[-1] if body else lbrace)
            end = _span(last) if isinstance(last, Token) else last.span
            span = N.Span(head.span.line, head.span.column, end.end_line, end.end_column)
            items.append(N.GuideDef(head.name, head.name_span, head.args, tuple(body), span))

        while True:
            toks, end, unbalanced = self.next_chunk()
            if toks and toks[0].type == "GUIDE":
                head = self.head(toks, end)
                if block is not None:
                    self.r.report(
                        D.SYNTAX,
                        _span(toks[0]),
                        "a guide block cannot be inside another",
                        f"is a '}}' missing to close guide '{block[0].name}' (line {block[2].line})?",
                    )
                    close(None)
                    block = None
                if end is not None and end.type == "LBRACE":
                    block, pending = (head, [], end), None
                    continue
                pending = head
            elif toks:
                pending = None
                body = block[1] if block is not None else items
                body.append(self.statement(toks, end, block is not None, 3 if block is not None else 2, unbalanced))
                if self.rewound:
                    self.rewound = False
                    continue
            if end is None:
                break
            if end.type == "LBRACE":
                if pending is not None and block is None:
                    block, pending = (pending, [], end), None
                else:
                    self.r.report(D.SYNTAX, _span(end), "unexpected '{'", "braces only enclose a guide's body")
                    stray += 1
            elif end.type == "RBRACE":
                if stray:
                    stray -= 1
                elif block is not None:
                    close(end)
                    block = None
                else:
                    self.r.report(D.SYNTAX, _span(end), "unexpected '}'", "no guide block is open here")
        if block is not None:
            self.r.report(D.SYNTAX, _span(block[2]), "'{' is never closed",
                          f"add '}}' to end guide '{block[0].name}'")
            close(None)
        return build_program(items, self.r)


def recover(text: str, reporter: D.Reporter) -> N.Program:
    """Parse ``text`` (newlines already normalized) statement by statement, reporting every syntax error."""
    text, bad_runs = blank_bad_characters(text, reporter)
    return _Recovery(text, reporter, bad_runs).program()
