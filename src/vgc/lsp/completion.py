"""Completion: what may be written at the cursor.

The names defined above the cursor in the same guide and visible there (a name defined in a plate only
inside it), then functions, distributions and, at a statement's start, keywords; constraints after ``:``;
distributions first after ``~``; activations after ``act=``; in a plate header ``len(`` and the guide's
arguments for the size, ``subsample=`` and ``dim=`` after it; the open plates in ``ARG[``. Nothing in a
comment. The text before the cursor is scanned for the open bracket (:func:`bracket_context`) rather than
parsed, because while a header is being typed it does not parse.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from lsprotocol import types

from .. import nodes as N
from .. import registry as R
from .cursor import _TOKEN, _body_at, _inside, _parse
from .positions import UTF16, Source, from_position
from .registry_docs import (
    KEYWORD_DOCS,
    LEN_DOC,
    MIX_DOC,
    NETWORK_DOCS,
    PLATE_OPTION_DOCS,
    constraint_markdown,
    dist_markdown,
    func_markdown,
)

_KIND_TEXT = {"param": "param", "random": "draw", "latent": "latent", "let": "let", "arg": "model argument",
              "net": "network"}


def _stmt_names(s: N.Stmt) -> list[tuple[str, str]]:
    if isinstance(s, N.Param):
        return [(s.name, "param")]
    if isinstance(s, N.Sample):
        return [(s.name, "random")]
    if isinstance(s, N.Assign):
        return [(t.id, "latent") for t in s.targets]
    if isinstance(s, N.Let):
        return [(s.name, "let")]
    if isinstance(s, N.Net):
        return [(s.name, "net")]
    if isinstance(s, N.BadStmt):
        return [(n, "broken") for n in s.defines]
    return []


def _scope_at(text: str, line: int, column: int) -> tuple[list[tuple[str, str]], list[N.Plate]]:
    """The names visible at the 1-based ``(line, column)`` (see :func:`names_in_scope`) and the plates open
    there, outermost first."""
    program, _ = _parse(text)
    source = Source.of(text)
    at = (line, column)
    index, body = _body_at(program, source, at)
    if index is None:
        return [], []
    out = [(a.id, "arg") for a in program.guides[index].args or ()] if program.guides else []
    plates: list[N.Plate] = []
    while True:
        inner = None
        for s in body:
            if isinstance(s, N.Plate):
                if _inside(source, s, at):  # a plate's names are visible only inside it
                    inner = s
            elif (s.span.end_line, s.span.end_column) < at:
                out += _stmt_names(s)
        if inner is None:
            break
        plates.append(inner)
        body = inner.body
    first: dict[str, str] = {}
    for name, kind in out:
        first.setdefault(name, kind)
    return list(first.items()), plates


def names_in_scope(text: str, line: int, column: int) -> list[tuple[str, str]]:
    """``(name, kind)`` for the guide arguments and the names defined by statements that end before the
    1-based ``(line, column)``, in the guide that contains it and visible there: a name defined inside a plate
    only inside that plate (and the plates nested in it)."""
    return _scope_at(text, line, column)[0]


@dataclass
class _Bracket:
    """An open ``(`` or ``[`` before the cursor, as :func:`bracket_context` sees it."""

    kind: str  # "header" (a plate header's parentheses), "len" (`len(` in one), "index" (`NAME[`), "other"
    owner: str | None = None  # the name before it
    commas: int = 0  # at its own depth
    last_name: str | None = None  # the last name at its own depth
    option: str | None = None  # in a header: the option whose value follows (`subsample=`)
    options: tuple[str, ...] = ()  # in a header: the options already written


_SCAN = re.compile(r"(?P<comment>#[^\r\n]*)|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[^\W\d]\w*)"
                   r"|(?P<space>\s+)|(?P<other>.)", re.S)


def bracket_context(before: str) -> _Bracket | None:
    """The innermost bracket open at the end of ``before`` (the document up to the cursor), or None.

    A plate header's ``(`` is one right after ``plate NAME``. Braces and ``;`` cannot be inside brackets, so
    they close whatever is open (an unfinished header never captures the rest of the file).
    """
    stack: list[_Bracket] = []
    recent: list[str] = []  # the last significant tokens
    for m in _SCAN.finditer(before):
        kind, tok = m.lastgroup, m.group()
        if kind in ("comment", "space"):
            continue
        top = stack[-1] if stack else None
        if kind == "name":  # keywords are spelled exactly; other names are read after NFKC
            if top is not None:
                top.last_name = unicodedata.normalize("NFKC", tok)
        elif tok == "(":
            if len(recent) >= 2 and recent[-2] == "plate" and recent[-1] not in R.KEYWORDS \
                    and re.fullmatch(r"[^\W\d]\w*", recent[-1]):
                stack.append(_Bracket("header", recent[-1]))
            elif recent and unicodedata.normalize("NFKC", recent[-1]) == R.LEN and top is not None \
                    and top.kind == "header":
                stack.append(_Bracket("len", R.LEN))
            else:
                stack.append(_Bracket("other", recent[-1] if recent else None))
        elif tok == "[":
            named = len(recent) >= 1 and re.fullmatch(r"[^\W\d]\w*", recent[-1]) and recent[-1] not in R.KEYWORDS
            shape = len(recent) >= 2 and recent[-2] == "param"
            stack.append(_Bracket("index" if named and not shape else "other", recent[-1] if named else None))
        elif tok in ")]":
            if stack:
                stack.pop()
        elif tok in "{};":
            stack.clear()
        elif top is not None and tok == ",":
            top.commas += 1
            top.option = top.last_name = None
        elif top is not None and tok == "=" and top.kind == "header" and top.last_name is not None:
            top.option = top.last_name
            top.options += (top.last_name,)
        recent = [*recent[-1:], tok]
    return stack[-1] if stack else None


def _item(label, kind, detail, doc, rank) -> types.CompletionItem:
    return types.CompletionItem(
        label=label,
        kind=kind,
        detail=detail,
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=doc) if doc else None,
        sort_text=f"{rank}{label}",
        insert_text=label,
    )


def _arg_items(text: str, line: int, column: int) -> list[types.CompletionItem]:
    return [
        _item(name, types.CompletionItemKind.Variable, _KIND_TEXT["arg"], None, 0)
        for name, kind in names_in_scope(text, line, column)
        if kind == "arg"
    ]


def _bracket_completions(text: str, source: Source, line: int, start: int) -> list[types.CompletionItem] | None:
    """Completions in a plate header (size: ``len(`` and the arguments; then ``subsample=``, ``dim=``; a
    subsample's value: the arguments) and in ``ARG[`` (the plates open here); None elsewhere."""
    before = "\n".join([*source.lines[: line - 1], source.line(line - 1)[: start - 1]])
    ctx = bracket_context(before)
    if ctx is None:
        return None
    if ctx.kind == "header":
        if ctx.commas == 0:
            size = types.CompletionItem(
                label=R.LEN, kind=types.CompletionItemKind.Function, detail="len(ARG): the length of ARG's first axis",
                documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=LEN_DOC),
                sort_text=f"1{R.LEN}", insert_text=f"{R.LEN}(",
            )
            return [*_arg_items(text, line, start), size]
        if ctx.option is None:
            return [
                types.CompletionItem(
                    label=f"{o}=", kind=types.CompletionItemKind.Property, detail="plate option",
                    documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=PLATE_OPTION_DOCS[o]),
                    sort_text=f"0{o}", insert_text=f"{o}=",
                )
                for o in R.PLATE_OPTIONS
                if o not in ctx.options
            ]
        return _arg_items(text, line, start) if ctx.option == "subsample" else []
    if ctx.kind == "len":
        return _arg_items(text, line, start)
    if ctx.kind == "index":
        names, plates = _scope_at(text, line, start)
        if dict(names).get(ctx.owner) != "arg":
            return None
        return [
            _item(name, types.CompletionItemKind.Module, "plate open here", None, 0)
            for name in dict.fromkeys(p.name for p in reversed(plates))
        ]
    return None


def completions(text: str, position: types.Position, encoding=UTF16) -> list[types.CompletionItem]:
    """What may be written at ``position``: constraints after ``:``, distributions first after ``~``, else
    the names defined above in the same guide and visible here, then functions, distributions and (at a
    statement's start) keywords; in a plate header what it takes, in ``ARG[`` the open plates. Nothing in
    a comment."""
    source = Source.of(text)
    line, column = from_position(source, position, encoding)
    before = source.line(line - 1)[: column - 1]
    start = len(before)
    for m in _TOKEN.finditer(before):
        if m.lastgroup == "comment":
            return []
        if m.lastgroup == "name" and m.end() == len(before):
            start = m.start()
    bracket = _bracket_completions(text, source, line, start + 1)
    if bracket is not None:
        return bracket
    lead = before[:start].rstrip()
    if lead.endswith(":"):
        return [
            _item(c.name, types.CompletionItemKind.EnumMember, f"constraint: {c.doc}", constraint_markdown(c), 0)
            for c in R.CONSTRAINTS.values()
        ]
    if re.search(r"\bact\s*=\s*$", lead):  # an mlp's activation
        return [_item(a, types.CompletionItemKind.EnumMember, "activation", NETWORK_DOCS.get(a), 0)
                for a in R.ACTIVATIONS]
    after_tilde = lead.endswith("~")
    dist_rank, other_rank = (0, 2) if after_tilde else (2, 1)
    items = []
    if not after_tilde:
        for name, kind in names_in_scope(text, line, start + 1):
            items.append(_item(name, types.CompletionItemKind.Variable, _KIND_TEXT.get(kind, "defined above"),
                               None, 0))
    for f in R.FUNCTIONS.values():
        items.append(_item(f.name, types.CompletionItemKind.Function, f"{f.name}(x): {f.doc}", func_markdown(f),
                           other_rank))
    for d in R.DISTRIBUTIONS.values():
        items.append(_item(d.name, types.CompletionItemKind.Class, d.signature(), dist_markdown(d), dist_rank))
    items.append(_item(R.MIX, types.CompletionItemKind.Class, "Mix(weights?, components...)", MIX_DOC, dist_rank))
    for f in (R.MLP, R.CONCAT):
        items.append(_item(f, types.CompletionItemKind.Function, NETWORK_DOCS[f].split(" — ")[0].strip("`"),
                           NETWORK_DOCS[f], other_rank))
    if not lead or lead.endswith((";", "{", "}")):
        for k in R.KEYWORDS:
            items.append(_item(k, types.CompletionItemKind.Keyword, "keyword", KEYWORD_DOCS.get(k), 3))
    return items
