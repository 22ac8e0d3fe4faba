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
from bisect import bisect_left
from collections.abc import Sequence

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken

from . import diagnostics as D
from . import nodes as N
from .frontend import MAX_DEPTH, AstBuilder, GuideHead, PlateHead, build_program, recovery_parser, too_deep

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
    "PLATE": "'plate'",
}

# Most telling first: separators and closers, then operands, then operators.
_ORDER = ["NEWLINE", "SEMI", "RPAR", "RSQB", "RBRACE", "COMMA", "EQUAL", "TILDE", "COLON", "NAME", "NUMBER",
          "LPAR", "LSQB", "LBRACE"]

# What may appear outside comments: the lexer's own terminals (see grammar/vg.lark).
_OK = re.compile(
    # a string only as a site name, right after `as` (a quote anywhere else is VG102)
    r"(?:\#[^\n]*|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|\bas[ \t\f]+\"[^\"\\\n]*\"|[^\W\d]\w*"
    r"|[ \t\f\n~=:,;()\[\]{}±+\-^*/·@']+)+"
)
_OPENERS = {"LPAR": ")", "LSQB": "]"}
_CLOSERS = ("RPAR", "RSQB")


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
            "VG has no strings but a site's NumPyro name after `as` (`lam ~ HalfCauchy(1) as \"lambda\"`)"
            if bad[0] in "\"`"
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
            toks = [t for t in recovery_parser().lex(text) if t.type != "NEWLINE"]
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


def _defined_names(toks: Sequence[Token]) -> tuple[str, ...]:
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


class _View(Sequence):
    """``body[lo:hi]`` without a copy (slices of it are lists)."""

    __slots__ = ("body", "hi", "lo")

    def __init__(self, body: list[Token], lo: int, hi: int):
        self.body, self.lo, self.hi = body, lo, hi

    def __len__(self) -> int:
        return self.hi - self.lo

    def __getitem__(self, k):
        if isinstance(k, slice):
            start, stop, step = k.indices(self.hi - self.lo)
            return self.body[self.lo + start : self.lo + stop : step]
        if k < 0:
            k += self.hi - self.lo
        if not 0 <= k < self.hi - self.lo:
            raise IndexError(k)
        return self.body[self.lo + k]

    def __iter__(self):
        return (self.body[i] for i in range(self.lo, self.hi))


class _Recovery:
    """Statement-at-a-time parsing of a token list, collecting a Program and the syntax errors."""

    def __init__(self, text: str, reporter: D.Reporter, bad_runs: list[tuple[int, int]]):
        self.text = text
        self.r = reporter
        self.bad_starts = [start for start, _ in bad_runs]  # in source order
        self.toks = tokens(text, reporter)
        self.index = {t.start_pos: k for k, t in enumerate(self.toks)}
        self.i = 0
        self.rewound = False  # the last statement ended early: its separator is still ahead
        self.builder = AstBuilder(reporter)
        self.accepts_memo: dict[tuple, set[str]] = {}
        self.expected_memo: dict[tuple, str] = {}
        self.first = self.accepts([], "statement")  # the tokens that can start a statement
        self._index_chunks()

    # -- splitting
    #
    # A statement whose bracket is never closed runs to the next ';', brace or the end of the file,
    # but parsing it stops at its first lines and goes on from there (see `statement`). Scanning and
    # copying the rest of the file again for each such statement made a file of 10,000 lines like
    # `x ~ Normal(0,` (or 50,000 names on one line) take minutes. So the token list is indexed once
    # and a chunk is a view of it: the newline-free tokens `body`, each bracket's matching bracket,
    # the next hard separator, and a memo of where the chunk starting at each position ends.
    def _index_chunks(self) -> None:
        n = len(self.toks)
        self.body = [t for t in self.toks if t.type != "NEWLINE"]
        self.body_at = [0] * (n + 1)  # body_at[i]: how many of toks[:i] are in body
        self.match: dict[int, int] = {}  # opening bracket -> its closing bracket ('(' may close with ']')
        self.stop_at = [n] * (n + 1)  # the first ';', '{' or '}' at or after i
        stack = []
        for i, t in enumerate(self.toks):
            self.body_at[i + 1] = self.body_at[i] + (t.type != "NEWLINE")
            if t.type in ("LPAR", "LSQB"):
                stack.append(i)
            elif t.type in ("RPAR", "RSQB") and stack:
                self.match[stack.pop()] = i
        for i in range(n - 1, -1, -1):
            self.stop_at[i] = i if self.toks[i].type in ("SEMI", "LBRACE", "RBRACE") else self.stop_at[i + 1]
        self.extent_memo: dict[int, tuple[int, bool]] = {}

    def extent(self, start: int) -> tuple[int, bool]:
        """Where the chunk starting at ``start`` ends (the index of its separator or brace, ``len(toks)``
        at the end) and whether a bracket is open there. Equivalent to scanning the tokens with a
        bracket depth (newlines end the chunk at depth 0 only; ';' and braces at any depth), but it
        jumps over closed brackets and remembers the answer for every position it passes."""
        n, p, path = len(self.toks), start, []
        while p not in self.extent_memo:
            if p >= n:
                result = (n, False)
                break
            t = self.toks[p]
            if t.type in ("NEWLINE", "SEMI", "LBRACE", "RBRACE"):
                result = (p, False)
                break
            path.append(p)
            if t.type in ("LPAR", "LSQB"):
                close, stop = self.match.get(p), self.stop_at[p]
                if close is None or close > stop:  # still open at the next separator or the end
                    result = (stop, True)
                    break
                p = close + 1
            else:
                p += 1
        else:
            result = self.extent_memo[p]
        for q in path:
            self.extent_memo[q] = result
        return result

    def next_chunk(self) -> tuple[Sequence[Token], Token | None, bool]:
        """The next statement's tokens, what ends it (a separator, a brace, or None at the end)
        and whether a bracket was left open (then the newlines after it were taken as continuations)."""
        start = self.i
        end, unbalanced = self.extent(start)
        self.i = end + 1
        toks = _View(self.body, self.body_at[start], self.body_at[end])
        return toks, (self.toks[end] if end < len(self.toks) else None), unbalanced

    def _bad_characters_before(self, toks: Sequence[Token], k: int, end: Token | None) -> bool:
        """True when a blanked character lies in the statement before where it failed."""
        stop = toks[k] if k < len(toks) else end
        hi = stop.start_pos if stop is not None else len(self.text)
        j = bisect_left(self.bad_starts, toks[0].start_pos)  # not a scan of all of them: once per statement
        return j < len(self.bad_starts) and self.bad_starts[j] < hi

    # -- parsing one piece
    def feed(self, toks: Sequence[Token], start: str):
        """Parse ``toks`` as ``start``: (tree, None) or (None, index of the token that failed)."""
        ip = recovery_parser().parse_interactive(start=start)
        for k, t in enumerate(toks):
            try:
                ip.feed_token(t)
            except UnexpectedToken:
                return None, k
        try:
            return ip.feed_eof(toks[-1] if toks else None), None
        except UnexpectedToken:
            return None, len(toks)

    def accepts(self, toks: Sequence[Token], start: str) -> set[str]:
        # Lark's accepts() tries every terminal on a copy of the parser: on a file with an error
        # every few characters that was most of the time. The answer depends only on the kinds of
        # the tokens fed (the tokens are already lexed), so it is memoized on them.
        key = (start, *(t.type for t in toks))
        if key not in self.accepts_memo:
            ip = recovery_parser().parse_interactive(start=start)
            for t in toks:
                ip.feed_token(t)
            self.accepts_memo[key] = ip.accepts()
        return self.accepts_memo[key]

    def report_error(self, toks, k, end, start, in_block) -> None:
        """Report why ``toks`` fails at index ``k`` (``len(toks)``: at the statement's end)."""
        tok = toks[k] if k < len(toks) else end
        expected = self.accepts(toks[:k], start)
        end_means = ("NEWLINE", "SEMI", "RBRACE") if in_block else ("NEWLINE", "SEMI")
        key = (id(expected), end_means)  # the sets live in accepts_memo, so their ids stay theirs
        if key not in self.expected_memo:
            self.expected_memo[key] = _expected(expected, end_means)
        if tok is None:
            line, col = _position(self.text, len(self.text.rstrip(" \t\f\n")))
            span, shown = N.Span(line, col, line, col + 1), "end of input"
        else:
            span = _span(tok)
            shown = "newline" if tok.type == "NEWLINE" else repr(str(tok))
        self.r.report(D.SYNTAX, span, f"unexpected {shown}; expected {self.expected_memo[key]}", _hint(tok, expected))

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

    def statement(self, toks: Sequence[Token], end: Token | None, in_block: bool, depth: int, unbalanced: bool):
        """One statement's node; on a syntax error a BadStmt (and maybe a restart point)."""
        tree, k = self.feed(toks, "statement")
        if tree is not None:
            deep = too_deep(tree, depth)
            if deep is None:
                return self.builder.transform(tree)
            m = deep.meta
            blocks = depth - 2  # the guide and plate blocks around the statement
            if blocks > 10:
                self.r.report(
                    D.TOO_DEEP,
                    _span(toks[0]),
                    f"this statement is inside {blocks} nested blocks: with its expression, more than "
                    f"{MAX_DEPTH} levels deep",
                    "real models nest a few plates; nest fewer",
                )
            else:
                self.r.report(
                    D.TOO_DEEP,
                    N.Span(m.line, m.column, m.line, m.column + 1),
                    f"the expression is nested more than {MAX_DEPTH} levels deep",
                    "split it into steps with `let`",
                )
            return self.bad(toks)
        if k >= len(toks) and unbalanced and end is not None and end.type == "SEMI":
            # `f(a; b)`: the ';' is the mistake, not the bracket it interrupts
            self.r.report(D.SYNTAX, _span(end), "unexpected ';' inside brackets",
                          "';' separates statements; inside ( ) and [ ] separate items with ','")
            self.skip_to_close(sum(t.type in _OPENERS for t in toks) - sum(t.type in _CLOSERS for t in toks))
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

    def skip_to_close(self, depth: int) -> None:
        """Skip what is left of ``depth`` open brackets on this line (the rest of a broken statement)."""
        while self.i < len(self.toks) and depth > 0:
            t = self.toks[self.i]
            if t.type in ("NEWLINE", "SEMI", "LBRACE", "RBRACE"):
                return
            depth += (t.type in _OPENERS) - (t.type in _CLOSERS)
            self.i += 1

    def rewind(self, tok: Token) -> None:
        """Go on splitting from ``tok``: the current statement ended before it."""
        self.i = self.index[tok.start_pos]
        self.rewound = True

    def bad(self, toks: Sequence[Token]) -> N.BadStmt:
        first, last = toks[0], toks[-1]
        return N.BadStmt(N.Span(first.line, first.column, last.end_line, last.end_column), _defined_names(toks))

    def head(self, toks: Sequence[Token], end: Token | None) -> GuideHead:
        """``guide NAME(ARGS) {``; when broken, reported and rebuilt from the tokens that are there."""
        piece = [*toks, end] if end is not None and end.type == "LBRACE" else toks
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

    def plate_head(self, toks: Sequence[Token], end: Token | None) -> PlateHead:
        """``plate NAME(SIZE, OPTIONS) {``; when broken, reported and rebuilt with what is there (no size)."""
        piece = [*toks, end] if end is not None and end.type == "LBRACE" else toks
        tree, k = self.feed(piece, "plate_head")
        if tree is not None:
            return self.builder.transform(tree)
        if not self._bad_characters_before(piece, k, end):
            self.report_error(piece, k, end, "plate_head", False)
        name_tok = toks[1] if len(toks) > 1 and toks[1].type == "NAME" else toks[0]
        name = str(name_tok) if name_tok.type == "NAME" else f"<plate at line {name_tok.line}>"
        return PlateHead(name, _span(name_tok), None, (), _span(toks[0]))

    # -- the whole file
    def program(self) -> N.Program:
        items: list = []
        # The open blocks, outermost first: a guide, then the plates inside it (or plates of a bare file).
        # Each is (head, body, its '{').
        blocks: list[tuple[GuideHead | PlateHead, list, Token]] = []
        pending: GuideHead | PlateHead | None = None  # a header whose '{' is not on its line
        stray = 0  # '{' not opened by a header: its '}' closes nothing

        def close(rbrace: Token | None) -> None:
            head, body, lbrace = blocks.pop()
            last = rbrace or (body[-1] if body else lbrace)
            end = _span(last) if isinstance(last, Token) else last.span
            span = N.Span(head.span.line, head.span.column, end.end_line, end.end_column)
            if isinstance(head, GuideHead):
                node = N.GuideDef(head.name, head.name_span, head.args, tuple(body), span)
            else:
                node = N.Plate(head.name, head.name_span, head.size, head.options, tuple(body), span, head.site)
            (blocks[-1][1] if blocks else items).append(node)

        while True:
            toks, end, unbalanced = self.next_chunk()
            if toks and toks[0].type in ("GUIDE", "PLATE"):
                is_guide = toks[0].type == "GUIDE"
                head = self.head(toks, end) if is_guide else self.plate_head(toks, end)
                guide = next((b for b in blocks if isinstance(b[0], GuideHead)), None)
                if is_guide and guide is not None:
                    self.r.report(
                        D.SYNTAX,
                        _span(toks[0]),
                        "a guide block cannot be inside another",
                        f"is a '}}' missing to close guide '{guide[0].name}' (line {guide[2].line})?",
                    )
                    while blocks:
                        close(None)
                if end is not None and end.type == "LBRACE":
                    blocks.append((head, [], end))
                    pending = None
                    continue
                pending = head
            elif toks:
                pending = None
                body = blocks[-1][1] if blocks else items
                body.append(self.statement(toks, end, bool(blocks), 2 + len(blocks), unbalanced))
                if self.rewound:
                    self.rewound = False
                    continue
            if end is None:
                break
            if end.type == "LBRACE":
                if pending is not None:
                    blocks.append((pending, [], end))
                    pending = None
                else:
                    self.r.report(D.SYNTAX, _span(end), "unexpected '{'",
                                  "braces only enclose the body of a guide or a plate")
                    stray += 1
            elif end.type == "RBRACE":
                if stray:
                    stray -= 1
                elif blocks:
                    close(end)
                else:
                    self.r.report(D.SYNTAX, _span(end), "unexpected '}'", "no guide or plate block is open here")
        while blocks:
            head, _, lbrace = blocks[-1]
            what = "guide" if isinstance(head, GuideHead) else "plate"
            self.r.report(D.SYNTAX, _span(lbrace), "'{' is never closed", f"add '}}' to end {what} '{head.name}'")
            close(None)
        return build_program(items, self.r)


def recover(text: str, reporter: D.Reporter) -> N.Program:
    """Parse ``text`` (newlines already normalized) statement by statement, reporting every syntax error."""
    text, bad_runs = blank_bad_characters(text, reporter)
    return _Recovery(text, reporter, bad_runs).program()
