"""``vgc lsp``: a language server for VG over stdio (pygls 2).

Features: diagnostics on open and change (full document sync; cleared on close), hover (distributions,
functions, constraints and keywords from :mod:`vgc.registry`; the params, draws, lets and model arguments of
the guide; for a transformed latent the log-Jacobian the compiler derived and the draws it consumed),
completion (names defined above the cursor in the same guide, functions, distributions, keywords;
constraints after ``:``; distributions first after ``~``) and whole-document formatting with
:func:`vgc.fmt.format_source`.

The compiler counts lines from 1 and columns in code points from 1 (end exclusive); LSP counts both from 0
and columns in the units of the negotiated position encoding, UTF-16 code units by default (a character
outside the BMP, such as ``𝜃``, is two). :func:`to_position` and :func:`from_position` convert.

Everything above :func:`build_server` is pure (text in, ``lsprotocol`` values out) and tested without a
server. Each handler catches its exceptions and logs them: bad input never stops the server.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types

from . import __version__, checker, codegen, compiler, ir, parser, unparse
from . import diagnostics as D
from . import nodes as N
from . import registry as R

log = logging.getLogger("vgc.lsp")

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the lexer's newlines, which are also LSP's
# One line as the lexer sees it: a comment ends it; numbers before names (`1e3` is one number).
_TOKEN = re.compile(r"(?P<comment>#.*)|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[^\W\d]\w*)|.", re.S)


# ---------------------------------------------------------------- positions


def _encoding(encoding) -> str:
    """``PositionEncodingKind`` or its string value (None → UTF-16, the LSP default)."""
    value = getattr(encoding, "value", encoding) or UTF16
    return value if value in (UTF8, UTF16, UTF32) else UTF16


def _units(c: str, encoding: str) -> int:
    cp = ord(c)
    if encoding == UTF16:
        return 2 if cp > 0xFFFF else 1
    if encoding == UTF8:
        return 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4
    return 1


def encode_column(line: str, index: int, encoding=UTF16) -> int:
    """The LSP ``character`` of code-point offset ``index`` (0-based) in ``line``; clamped to the line."""
    enc = _encoding(encoding)
    prefix = line[: max(0, index)]
    return len(prefix) if enc == UTF32 else sum(_units(c, enc) for c in prefix)


def decode_column(line: str, character: int, encoding=UTF16) -> int:
    """The code-point offset (0-based) of LSP ``character`` in ``line``.

    A position inside a character (between the two halves of a surrogate pair) is its start; one past the
    end of the line is the end of the line.
    """
    enc = _encoding(encoding)
    units = 0
    for i, c in enumerate(line):
        units += _units(c, enc)
        if units > character:
            return i
    return len(line)


@dataclass(frozen=True)
class Source:
    """A document's lines as the compiler numbers them (a leading byte-order mark is not on line 1)."""

    lines: tuple[str, ...]
    bom: bool = False

    @staticmethod
    def of(text: str) -> Source:
        """Split ``text`` at ``\\r\\n``, ``\\r`` and ``\\n`` (the lexer's newlines, and LSP's)."""
        bom = text.startswith("\ufeff")
        return Source(tuple(_LINE_BREAK.split(text.removeprefix("\ufeff"))), bom)

    def line(self, index: int) -> str:
        """Line ``index`` (0-based), or ``""`` past the end."""
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def _bom_units(self, line: int, encoding) -> int:
        return _units("\ufeff", _encoding(encoding)) if self.bom and line == 0 else 0


def to_position(source: Source, line: int, column: int, encoding=UTF16) -> types.Position:
    """The LSP position of the compiler's 1-based ``line`` and code-point ``column`` (clamped to the text)."""
    index = line - 1
    if index >= len(source.lines):
        index, column = len(source.lines) - 1, len(source.lines[-1]) + 1
    index = max(index, 0)
    text = source.lines[index]
    character = encode_column(text, min(max(column - 1, 0), len(text)), encoding)
    return types.Position(line=index, character=character + source._bom_units(index, encoding))


def to_range(source: Source, span: N.Span, encoding=UTF16) -> types.Range:
    """The LSP range of a compiler span (end exclusive in both)."""
    start = to_position(source, span.line, span.column, encoding)
    end = to_position(source, span.end_line, span.end_column, encoding)
    if (end.line, end.character) < (start.line, start.character):
        end = start
    return types.Range(start=start, end=end)


def from_position(source: Source, position: types.Position, encoding=UTF16) -> tuple[int, int]:
    """The compiler's 1-based ``(line, column)`` (code points) of an LSP position (past the end: the end)."""
    if position.line >= len(source.lines):
        return len(source.lines), len(source.lines[-1]) + 1
    index = max(position.line, 0)
    bom = source._bom_units(index, encoding)
    column = decode_column(source.lines[index], max(position.character - bom, 0), encoding)
    return index + 1, column + 1


def end_position(source: Source, encoding=UTF16) -> types.Position:
    """The position just after the last character of the document."""
    last = len(source.lines) - 1
    return types.Position(
        line=last, character=encode_column(source.lines[last], len(source.lines[last]), encoding)
        + source._bom_units(last, encoding)
    )


# ---------------------------------------------------------------- diagnostics


def _catalog_uri() -> str | None:
    """A file URI of ``diagnostics.md`` (packaged or in the checkout), when it exists on disk."""
    from importlib import resources

    try:
        packaged = resources.files("vgc").joinpath("docs/diagnostics.md")
        candidates = [Path(str(packaged)), Path(__file__).resolve().parents[2] / "docs" / "diagnostics.md"]
    except Exception:  # a zipped or unusual install: no link
        return None
    for path in candidates:
        if path.is_file():
            return path.resolve().as_uri()
    return None


@functools.lru_cache(maxsize=1)
def _catalog() -> str | None:
    return _catalog_uri()


def _anchor(code: str) -> str:
    """The GitHub-style anchor of the catalog heading ``## VG201 — undefined name``."""
    entry = D.REGISTRY.get(code)
    heading = f"{code} — {entry.title}" if entry else code
    slug = re.sub(r"[^\w\- ]", "", heading.lower())
    return slug.replace(" ", "-")


def lsp_diagnostic(d: D.Diagnostic, source: Source, encoding=UTF16) -> types.Diagnostic:
    """One compiler diagnostic as an LSP diagnostic (the hint is appended to the message)."""
    catalog = _catalog()
    return types.Diagnostic(
        range=to_range(source, d.span, encoding),
        message=d.message + (f"\nhint: {d.hint}" if d.hint else ""),
        severity=types.DiagnosticSeverity.Error if d.is_error else types.DiagnosticSeverity.Warning,
        code=d.code,
        code_description=types.CodeDescription(href=f"{catalog}#{_anchor(d.code)}") if catalog else None,
        source="vgc",
    )


def diagnostics(text: str, path: str = "<string>", encoding=UTF16) -> list[types.Diagnostic]:
    """Every diagnostic ``vgc check`` gives for ``text``, as LSP diagnostics."""
    source = Source.of(text)
    result = compiler.run(text, path, generate=False)
    return [lsp_diagnostic(d, source, encoding) for d in result.diagnostics]


# ---------------------------------------------------------------- registry documentation

_RANK = {0: "a scalar", 1: "a vector", 2: "a matrix"}

KEYWORD_DOCS = {
    "param": "`param NAME[SHAPE] = INIT : CONSTRAINT` — a learnable parameter (`numpyro.param`); "
    "every part after the name is optional.",
    "let": "`let NAME = EXPR` — a local value, never a site.",
    "guide": "`guide NAME(ARGS) { ... }` — a guide block; `ARGS` are the model's arguments.",
}

MIX_DOC = (
    "```vg\nMix(WEIGHTS?, COMPONENT, ...)\n```\n"
    "A mixture (`MixtureSameFamily` for one family, `MixtureGeneral` for several), equal weights unless "
    "weights come first.\n\n"
    "- `Mix(Normal(±b, 1))` — one `±` makes two components;\n"
    "- `Mix(Normal([m1, m2, m3], s))` — one component per entry of the leading batch axis;\n"
    "- `Mix(w, Normal([m1, m2], [s1, s2]))` — weights: a `simplex` param or a literal vector summing to 1;\n"
    "- `Mix(Normal(0, 1), Cauchy(0, 1))` — components of different families.\n\n"
    "Learnable weights get a biased `Trace_ELBO` gradient (VG603)."
)


def dist_markdown(spec: R.DistSpec) -> str:
    """Hover text of a distribution: signature, arguments, the shape of one draw."""
    args = []
    for a in spec.args:
        facts = ["required" if a.required else "optional"]
        if a.rank:
            facts.append(_RANK.get(a.rank, f"rank {a.rank}"))
        if a.positive:
            facts.append("> 0")
        args.append(f"- `{a.name}`: {', '.join(facts)}")
    draw = (
        "one draw is a scalar (event rank 0); vector arguments draw one vector-valued site"
        if spec.event_rank == 0
        else f"one draw is {_RANK.get(spec.event_rank, f'rank {spec.event_rank}')} (event rank {spec.event_rank})"
    )
    doc = f"{spec.doc}. " if spec.doc else ""
    return (
        f"```vg\n{spec.signature()}\n```\n{doc}Distribution `numpyro.distributions.{spec.name}`: {draw}.\n\n"
        + "\n".join(args)
    )


def func_markdown(spec: R.FuncSpec) -> str:
    """Hover text of a function: signature, meaning, whether a transform may apply it to random values."""
    if spec.elementwise and spec.monotone:
        use = "elementwise and monotone: usable on random values in a transform (exact log-derivative)"
    elif spec.elementwise:
        use = "elementwise but not monotone: rejected on random values in a transform (VG403)"
    else:
        use = "not elementwise: a matrix or a reduction"
    return f"```vg\n{spec.name}(x)\n```\n{spec.doc} — {use}."


def constraint_markdown(spec: R.ConstraintSpec) -> str:
    """Hover text of a constraint."""
    args = ", ".join("ab"[: spec.arity]) if spec.arity else ""
    sig = f"{spec.name}({args})" if spec.arity else spec.name
    return f"```vg\nparam NAME : {sig}\n```\nConstraint `{sig}`: {spec.doc}."


def registry_markdown(name: str) -> str | None:
    """Hover text of a name VG knows (keyword, distribution, function, constraint, refused name)."""
    if name in KEYWORD_DOCS:
        return f"**{name}** (keyword) — {KEYWORD_DOCS[name]}"
    if name in R.DISTRIBUTIONS:
        return dist_markdown(R.DISTRIBUTIONS[name])
    if name == R.MIX:
        return MIX_DOC
    if name in R.FUNCTIONS:
        return func_markdown(R.FUNCTIONS[name])
    if name in R.CONSTRAINTS:
        return constraint_markdown(R.CONSTRAINTS[name])
    if name == R.FACTOR:
        return "`factor` is not a sampler: in a guide it only adds a term to the ELBO (VG301)."
    if name in R.IMPROPER_DISTRIBUTIONS:
        return f"`{name}` is improper: it cannot be sampled, so a guide cannot use it (VG303)."
    if name in R.DISCRETE_DISTRIBUTIONS:
        return f"`{name}` is discrete; VG guides draw continuous latents (VG304)."
    return None


# ---------------------------------------------------------------- the program at the cursor


@dataclass(frozen=True)
class Word:
    """The name under (or just before) the cursor."""

    text: str  # NFKC-normalized, as the compiler reads it
    line: int  # 1-based
    start: int  # 1-based code-point columns, end exclusive
    end: int
    call: bool  # followed by '('


def word_at(source: Source, line: int, column: int) -> Word | None:
    """The name containing the cursor or ending at it; None in a comment, a number or whitespace."""
    text = source.line(line - 1)
    i = column - 1
    for m in _TOKEN.finditer(text):
        if m.start() > i:
            break
        if m.lastgroup == "comment":
            return None
        if m.lastgroup == "name" and m.start() <= i <= m.end():
            call = text[m.end() :].lstrip().startswith("(")
            return Word(unicodedata.normalize("NFKC", m.group()), line, m.start() + 1, m.end() + 1, call)
    return None


def _contains(span: N.Span, at: tuple[int, int]) -> bool:
    return (span.line, span.column) <= at <= (span.end_line, span.end_column)


def _closed(source: Source, g: N.GuideDef) -> bool:
    text = source.line(g.span.end_line - 1)
    return 0 < g.span.end_column - 1 <= len(text) and text[g.span.end_column - 2] == "}"


def guide_at(program: N.Program, source: Source, at: tuple[int, int]) -> int | None:
    """Index of the guide block containing ``at`` (an unclosed last block extends to the end); None outside."""
    for i, g in enumerate(program.guides):
        if _contains(g.span, at):
            return i
    if program.guides:
        last = program.guides[-1]
        if (last.span.line, last.span.column) <= at and not _closed(source, last):
            return len(program.guides) - 1
    return None


def _parse(text: str) -> tuple[N.Program, D.Reporter]:
    reporter = D.Reporter()
    return parser.parse(text, reporter), reporter


# ---------------------------------------------------------------- hover


def _shape_text(shape) -> str:
    if shape is None:
        return "shape unknown at compile time"
    if shape == ():
        return "scalar"
    return "shape [" + ", ".join(str(d) for d in shape) + "]"


def _term_text(gen: codegen.GuideGen, t) -> tuple[float, str]:
    """``(coef, text)`` of one log-Jacobian term; ``text`` needs no parentheses after ``-`` or ``2·``."""
    e = t.expr
    if t.kind == "logabs":
        body = f"log|{unparse.expr(e)}|"
    elif t.kind == "slogdet":
        body = f"log|det {unparse.expr(e)}|"
    elif isinstance(e, (N.Name, N.Number, N.Call, N.Vector)):
        body = unparse.expr(e)
    else:
        body = f"({unparse.expr(e)})"
    coef = t.coef
    if t.shape:
        if t.inner == ():  # a scalar broadcast over the shape: n copies
            n = 1
            for d in t.shape:
                n *= d
            coef *= n
        else:
            body = f"Σ {body}"
    return coef, body


def log_jacobian_text(gen: codegen.GuideGen, plan) -> str:
    """``log|det J|`` as VG-like math (``log|s|``, ``Σ log|d|``, ``-2·(log(2) - u)``...); Σ sums over entries."""
    out = ""
    for t in plan.terms:
        coef, body = _term_text(gen, t)
        mag = abs(coef)
        if mag != 1:
            body = f"{mag:g}·{body}"
        if not out:
            out = ("-" if coef < 0 else "") + body
        else:
            out += (" - " if coef < 0 else " + ") + body
    return out or "0"


def _generator(g: ir.GuideIR) -> codegen.GuideGen:
    names = codegen.NameMap(set(codegen.MODULE_NAMES), set(g.symbols) | set(g.args or ()))
    return codegen.GuideGen(codegen.Writer(), g, names, set())


def transform_markdown(g: ir.GuideIR, item: ir.TransformIR, name: str) -> str:
    """Hover text of a transformed latent: its statement, log|det J| and the draws it consumed."""
    stmt, plan = item.stmt, item.plan
    targets = [t.id for t in stmt.targets]
    shape = "scalar" if stmt.is_list else _shape_text(item.shape)
    lines = [f"```vg\n{unparse.stmt(stmt)}\n```", f"**latent** `{name}`: a `Delta` site, {shape}."]
    if not plan.consumed:
        lines.append("No random input: a point mass, `Delta(value)` with no log-density (a MAP estimate).")
        return "\n\n".join(lines)
    consumed = ", ".join(f"`{n}`" for n in plan.consumed)
    many = len(plan.consumed) > 1
    site = "auxiliary sites" if many else "an auxiliary site"
    lines.append(f"Consumes the draw{'s' * many} {consumed} (now {site}).")
    if stmt.is_list and name != targets[0]:
        lines.append(f"The log-density of `[{', '.join(targets)}]` is carried by `{targets[0]}`; "
                     f"`{name}` carries none.")
    gen = _generator(g)
    if plan.numeric:
        lines.append(
            "No closed form: `log|det J|` is computed in the generated code with `jax.jacfwd` + "
            "`jnp.linalg.slogdet`, and invertibility is not proven (VG604)."
        )
        return "\n\n".join(lines)
    jac = log_jacobian_text(gen, plan)
    lines.append(f"log-Jacobian derived by vgc{' (Σ sums over the entries)' if 'Σ' in jac else ''}:\n\n"
                 f"```\nlog|det J| = {jac}\n```")
    try:
        python = gen.log_density(plan)
        lines.append(f"Generated: `log_density={python}` (that is −log|det J|).")
    except Exception:  # the Python rendering is a bonus
        log.debug("no Python rendering of the log-density", exc_info=True)
    return "\n\n".join(lines)


def symbol_markdown(g: ir.GuideIR, name: str) -> str | None:
    """Hover text of a name the guide defines."""
    sym = g.symbols.get(name)
    if sym is None:
        return None
    for item in g.walk():
        stmt = item.stmt
        if isinstance(item, ir.TransformIR) and any(t.id == name for t in stmt.targets):
            return transform_markdown(g, item, name)
        if isinstance(item, ir.ParamIR) and stmt.name == name:
            text = f"```vg\n{unparse.stmt(stmt)}\n```\n**param** `{name}`: {_shape_text(item.shape)}, "
            cargs = ", ".join(unparse.expr(a) for a in item.constraint_args)
            text += f"constraint `{item.constraint}{f'({cargs})' if cargs else ''}`"
            text += "" if stmt.init is not None else " (default initial value)"
            return text + "."
        if isinstance(item, ir.SampleIR) and stmt.name == name:
            text = f"```vg\n{unparse.stmt(stmt)}\n```\n**draw** `{name}`: {_shape_text(sym.shape)}"
            if sym.consumed_at is not None:
                text += f"; an auxiliary site, consumed by the transform on line {sym.consumed_at}"
            else:
                text += "; a latent site"
            return text + "."
        if isinstance(item, ir.LetIR) and stmt.name == name:
            return f"```vg\n{unparse.stmt(stmt)}\n```\n**let** `{name}`: a local value, never a site " \
                f"({_shape_text(sym.shape)})."
    kinds = {
        "arg": f"**argument** `{name}` of guide `{g.name}`: a model argument (shape unknown at compile time).",
        "latent": f"**latent** `{name}`: its transform was rejected (see the diagnostics).",
        "random": f"**draw** `{name}`: its distribution was rejected (see the diagnostics).",
        "param": f"**param** `{name}`.",
        "let": f"**let** `{name}`.",
    }
    return kinds.get(sym.kind.value)


def hover(text: str, position: types.Position, path: str = "<string>", encoding=UTF16) -> types.Hover | None:
    """Markdown about the name at ``position``, or None."""
    source = Source.of(text)
    line, column = from_position(source, position, encoding)
    word = word_at(source, line, column)
    if word is None:
        return None
    rng = to_range(source, N.Span(word.line, word.start, word.line, word.end), encoding)
    md = None
    if word.text in KEYWORD_DOCS:
        md = registry_markdown(word.text)
    elif not word.call:
        program, reporter = _parse(text)
        guides = checker.check_program(program, reporter, compiler.default_guide_name(path))
        index = guide_at(program, source, (line, column)) if program.guides else 0
        if index is not None and index < len(guides):
            md = symbol_markdown(guides[index], word.text)
    if md is None:
        md = registry_markdown(word.text)
    if md is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=md), range=rng)


# ---------------------------------------------------------------- completion

_KIND_TEXT = {"param": "param", "random": "draw", "latent": "latent", "let": "let", "arg": "model argument"}


def _stmt_names(s: N.Stmt) -> list[tuple[str, str]]:
    if isinstance(s, N.Param):
        return [(s.name, "param")]
    if isinstance(s, N.Sample):
        return [(s.name, "random")]
    if isinstance(s, N.Assign):
        return [(t.id, "latent") for t in s.targets]
    if isinstance(s, N.Let):
        return [(s.name, "let")]
    if isinstance(s, N.BadStmt):
        return [(n, "broken") for n in s.defines]
    return []


def names_in_scope(text: str, line: int, column: int) -> list[tuple[str, str]]:
    """``(name, kind)`` for the guide arguments and the names defined by statements that end before the
    1-based ``(line, column)``, in the guide that contains it."""
    program, _ = _parse(text)
    at = (line, column)
    if program.guides:
        index = guide_at(program, Source.of(text), at)
        if index is None:
            return []
        g = program.guides[index]
        out = [(a.id, "arg") for a in g.args or ()]
        body = g.body
    else:
        out, body = [], program.bare
    for s in body:
        if (s.span.end_line, s.span.end_column) < at:
            out += _stmt_names(s)
    first: dict[str, str] = {}
    for name, kind in out:
        first.setdefault(name, kind)
    return list(first.items())


def _item(label, kind, detail, doc, rank) -> types.CompletionItem:
    return types.CompletionItem(
        label=label,
        kind=kind,
        detail=detail,
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=doc) if doc else None,
        sort_text=f"{rank}{label}",
        insert_text=label,
    )


def completions(text: str, position: types.Position, encoding=UTF16) -> list[types.CompletionItem]:
    """What may be written at ``position``: constraints after ``:``, distributions first after ``~``, else
    the names defined above in the same guide, then functions, distributions and (at a statement's start)
    keywords. Nothing in a comment."""
    source = Source.of(text)
    line, column = from_position(source, position, encoding)
    before = source.line(line - 1)[: column - 1]
    start = len(before)
    for m in _TOKEN.finditer(before):
        if m.lastgroup == "comment":
            return []
        if m.lastgroup == "name" and m.end() == len(before):
            start = m.start()
    lead = before[:start].rstrip()
    if lead.endswith(":"):
        return [
            _item(c.name, types.CompletionItemKind.EnumMember, f"constraint: {c.doc}", constraint_markdown(c), 0)
            for c in R.CONSTRAINTS.values()
        ]
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
    if not lead or lead.endswith((";", "{", "}")):
        for k in R.KEYWORDS:
            items.append(_item(k, types.CompletionItemKind.Keyword, "keyword", KEYWORD_DOCS.get(k), 3))
    return items


# ---------------------------------------------------------------- formatting


def formatting(text: str, encoding=UTF16) -> list[types.TextEdit]:
    """One edit replacing the whole document by ``vgc fmt``'s layout; none when unchanged or unparsable."""
    from .fmt import format_source

    result = format_source(text)
    if result.text is None or result.text == text:
        return []
    source = Source.of(text)
    whole = types.Range(start=types.Position(line=0, character=0), end=end_position(source, encoding))
    return [types.TextEdit(range=whole, new_text=result.text)]


# ---------------------------------------------------------------- the server


def build_server():
    """The pygls ``LanguageServer`` with VG's features registered."""
    from pygls.lsp.server import LanguageServer

    server = LanguageServer("vgc", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)

    def guarded(default=None):
        def wrap(handler):
            @functools.wraps(handler)
            def run(params):
                try:
                    return handler(params)
                except Exception as e:  # never let one request take the server down
                    log.exception("vgc lsp: %s failed", handler.__name__)
                    with contextlib.suppress(Exception):
                        server.window_log_message(
                            types.LogMessageParams(
                                type=types.MessageType.Error,
                                message=f"vgc: {handler.__name__} failed: {type(e).__name__}: {e}",
                            )
                        )
                    return default

            return run

        return wrap

    def encoding():
        return _encoding(server.workspace.position_encoding)

    def path_of(document) -> str:
        return document.path or "<string>"

    def publish(uri: str) -> None:
        document = server.workspace.get_text_document(uri)
        diags = diagnostics(document.source, path_of(document), encoding())
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diags, version=document.version)
        )

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded()
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded()
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded()
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @guarded()
    def on_hover(params: types.HoverParams) -> types.Hover | None:
        document = server.workspace.get_text_document(params.text_document.uri)
        return hover(document.source, params.position, path_of(document), encoding())

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[":", "~"]))
    @guarded()
    def on_completion(params: types.CompletionParams) -> types.CompletionList | None:
        document = server.workspace.get_text_document(params.text_document.uri)
        return types.CompletionList(is_incomplete=False, items=completions(document.source, params.position,
                                                                           encoding()))

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    @guarded(default=[])
    def on_formatting(params: types.DocumentFormattingParams) -> list[types.TextEdit]:
        document = server.workspace.get_text_document(params.text_document.uri)
        return formatting(document.source, encoding())

    return server


def serve() -> None:
    """Run the server over stdin/stdout until the client disconnects."""
    logging.basicConfig(level=logging.WARNING, format="vgc lsp: %(levelname)s: %(message)s")
    build_server().start_io()
