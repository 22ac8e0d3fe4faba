"""``vgc lsp``: a language server for VG over stdio (pygls 2).

Features: diagnostics on open and change (full document sync; cleared on close), with a model also those of
``vgc check --model`` (the model named by a ``# vg: model=FILE.py:FUNCTION data=DATA`` comment in the document,
else by the client's settings; see :func:`model_diagnostics`), hover (distributions,
functions, constraints and keywords from :mod:`vgc.registry`; the params, draws, lets and model arguments of
the guide; on a site its batch shape (from its plates), event shape and support; for a transformed latent the
log-Jacobian the compiler derived and the draws it consumed; a plate's name, in its header or in
``ARG[NAME]``: the plate's size, subsample and dim; a plate option: what it means), completion (names
defined above the cursor in the same guide and visible there — a name defined in a plate only inside it —,
functions, distributions, keywords; constraints after ``:``; distributions first after ``~``; in a plate
header ``len(`` and the guide's arguments for the size, ``subsample=`` and ``dim=`` after it; the open
plates in ``ARG[``) and whole-document formatting with :func:`vgc.fmt.format_source`.

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
import os
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types

from . import __version__, checker, codegen, compiler, ir, parser, unparse
from . import diagnostics as D
from . import nodes as N
from . import registry as R
from .shapes import size

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


def diagnostics(text: str, path: str = "<string>", encoding=UTF16, settings: dict | None = None,
                models: ModelCache | None = None) -> list[types.Diagnostic]:
    """Every diagnostic ``vgc check`` gives for ``text``, as LSP diagnostics; with a model (the document's
    ``# vg: model=...`` pragma, else ``settings["model"]``) and no compile error, also those of
    ``vgc check --model`` (:func:`model_diagnostics`). Without a model nothing imports jax or
    :mod:`vgc.modelcheck`."""
    source = Source.of(text)
    pragma = find_pragma(source)
    chosen = pragma if pragma is not None and pragma.model is not None else from_settings(settings)
    result = compiler.run(text, path, generate=chosen is not None)
    out = [lsp_diagnostic(d, source, encoding) for d in result.diagnostics]
    if pragma is not None and pragma.problems:
        out.append(types.Diagnostic(
            range=to_range(source, pragma.span, encoding), message="vg pragma: " + "; ".join(pragma.problems),
            severity=types.DiagnosticSeverity.Warning, source="vgc",
        ))
    if chosen is not None and result.ok:
        out += model_diagnostics(result, chosen, path, source, encoding, models if models is not None else MODELS)
    return sorted(out, key=lambda d: (d.range.start.line, d.range.start.character))


# ---------------------------------------------------------------- the model: pragma, settings, cached trace

# `# vg: model=FILE.py:FUNCTION data=DATA guide=NAME`: a comment (the first `#` of a line starts one).
_PRAGMA = re.compile(r"#\s*vg:(?P<rest>.*)")
_PRAGMA_ITEM = re.compile(r'\s*(?P<key>[^\W\d]\w*)=(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s"]+))(?=\s|$)')
PRAGMA_KEYS = ("model", "data", "guide")


@dataclass(frozen=True)
class ModelSettings:
    """Where the model to check against comes from: the document's pragma (``span`` its comment) or the
    client's settings (``span`` None). Paths are as written: relative ones are relative to the document's
    folder."""

    model: str | None  # FILE.py:FUNCTION
    data: str | None = None  # a .json or .npz of keyword arguments
    guide: str | None = None  # the guide to check, when the file has several
    span: N.Span | None = None
    problems: tuple[str, ...] = ()  # what the pragma's text gets wrong


def find_pragma(source: Source) -> ModelSettings | None:
    """The first ``# vg:`` comment of the document, read; None when there is none."""
    for i, line in enumerate(source.lines):
        at = line.find("#")
        m = _PRAGMA.match(line, at) if at >= 0 else None
        if m is not None:
            return _read_pragma(m.group("rest"), N.Span(i + 1, at + 1, i + 1, len(line) + 1))
    return None


def _read_pragma(rest: str, span: N.Span) -> ModelSettings:
    values: dict[str, str] = {}
    problems: list[str] = []
    rest, pos = rest.rstrip(), 0
    while pos < len(rest):
        m = _PRAGMA_ITEM.match(rest, pos)
        if m is None:
            problems.append(f"cannot read '{rest[pos:].split()[0]}': write KEY=VALUE, a value with spaces in "
                            "double quotes")
            break
        key, value = m.group("key"), m.group("quoted") if m.group("quoted") is not None else m.group("bare")
        if key not in PRAGMA_KEYS:
            problems.append(f"unknown key '{key}' (the keys are {', '.join(PRAGMA_KEYS)})")
        elif key in values:
            problems.append(f"'{key}' is given twice")
        else:
            values[key] = value
        pos = m.end()
    if not values.get("model"):
        values.pop("model", None)
        problems.append("it names no model: `# vg: model=FILE.py:FUNCTION data=DATA.json`")
    return ModelSettings(values.get("model"), values.get("data") or None, values.get("guide") or None, span,
                         tuple(problems))


def client_settings(options) -> dict[str, str | None] | None:
    """``{"model": ..., "data": ...}`` from ``initializationOptions`` (flat, or under ``"vg"``) or the
    settings of ``workspace/didChangeConfiguration`` (under ``"vg"``); None when they say nothing about VG.
    Values that are not non-empty strings count as unset."""
    if not isinstance(options, dict):
        return None
    section = options.get("vg") if isinstance(options.get("vg"), dict) else options
    if "vg" not in options and not {"model", "data"} & set(section):
        return None
    values = {k: section.get(k) for k in ("model", "data")}
    return {k: v if isinstance(v, str) and v.strip() else None for k, v in values.items()}


def from_settings(settings: dict | None) -> ModelSettings | None:
    """The model the client's settings name, or None."""
    if not settings or not settings.get("model"):
        return None
    return ModelSettings(settings["model"], settings.get("data"))


def _stamp(path: str | None) -> tuple[int, int] | None:
    """``(mtime_ns, size)`` of a file; None when there is none."""
    try:
        st = os.stat(path) if path is not None else None
    except OSError:
        return None
    return None if st is None else (st.st_mtime_ns, st.st_size)


class ModelCache:
    """Models loaded and traced once per (model file, function, data file) and their modification times.

    The model is the user's code: importing and tracing it (and importing jax, the first time) is slow and
    may fail, so each is done once until a file changes; a failure is remembered as its message.
    """

    def __init__(self):
        self._entries: dict[tuple, tuple] = {}
        self.loads = 0  # imports and traces done (for tests)

    def load(self, model_path: str, func: str, data_path: str | None):
        """``(function, data, traced)``; raises :class:`vgc.modelcheck.ModelError`."""
        from . import modelcheck as MC

        key = (model_path, func, data_path)
        stamp = (_stamp(model_path), _stamp(data_path))
        entry = self._entries.get(key)
        if entry is None or entry[0] != stamp:
            self.loads += 1
            try:
                value = self._load(model_path, func, data_path)
            except MC.ModelError as e:
                value = str(e)
            self._entries[key] = entry = (stamp, value)
        if isinstance(entry[1], str):
            raise MC.ModelError(entry[1])
        return entry[1]

    @staticmethod
    def _load(model_path: str, func: str, data_path: str | None):
        from . import modelcheck as MC
        from .data import load_data

        fn = MC.load_model(f"{model_path}:{func}")
        data = load_data(data_path) if data_path else {}
        return fn, data, MC.trace_model(fn, (), data)


MODELS = ModelCache()  # the server's (one per process)


def _resolve(path: str, folder: str) -> str:
    path = os.path.expanduser(path)
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(folder, path))


def _split_model(spec: str) -> tuple[str, str] | None:
    path, sep, func = spec.strip().rpartition(":")
    return (path, func) if sep and path and func.isidentifier() else None


def model_diagnostics(result: compiler.Result, chosen: ModelSettings, path: str, source: Source, encoding=UTF16,
                      models: ModelCache | None = None) -> list[types.Diagnostic]:
    """``vgc check --model``'s diagnostics of a compiled guide (``result`` with code), as LSP diagnostics.

    A problem with the model itself (no such file or function, bad data, the model raising; or something
    unexpected) is one error without a code at the pragma, or on line 1 when the model comes from the
    settings: "cannot check against the model: ...". Output the model prints goes to stderr, never into the
    protocol's stdout.
    """
    models = models if models is not None else MODELS
    folder = os.path.dirname(os.path.abspath(path)) if path and not path.startswith("<") else os.getcwd()
    span = chosen.span

    def failure(message: str, hint: str | None = None) -> list[types.Diagnostic]:
        if span is None:
            where = types.Range(start=types.Position(line=0, character=0), end=to_position(source, 1, 10**9, encoding))
            hint = hint or "the model comes from the editor's settings (vg.model, vg.data); a `# vg: model=...` " \
                           "line in this file overrides them"
        else:
            where = to_range(source, span, encoding)
        return [types.Diagnostic(
            range=where, message=f"cannot check against the model: {message}" + (f"\nhint: {hint}" if hint else ""),
            severity=types.DiagnosticSeverity.Error, source="vgc",
        )]

    split = _split_model(chosen.model or "")
    if split is None:
        return failure(f"the model must be written FILE.py:FUNCTION, got '{chosen.model}'")
    names = list(result.guides)
    if chosen.guide is None and len(names) > 1:
        return failure(f"this file defines guides {', '.join(names)}",
                       "name the one to check: `guide=NAME` in the `# vg:` line")
    if chosen.guide is not None and chosen.guide not in names:
        return failure(f"this file has no guide '{chosen.guide}' (it defines {', '.join(names)})")
    model_path, func = _resolve(split[0], folder), split[1]
    data_path = _resolve(chosen.data, folder) if chosen.data else None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            from . import modelcheck as MC

            try:
                fn, data, traced = models.load(model_path, func, data_path)
                found = MC.check(result, fn, (), data, name=chosen.guide, file=path, traced=traced)
            except MC.ModelError as e:
                return failure(str(e))
    except BaseException as e:  # never let the user's code (or a bug here) stop the server
        if isinstance(e, KeyboardInterrupt):
            raise
        log.exception("vgc lsp: the model check failed")
        return failure(f"{type(e).__name__}: {e}")
    return [lsp_diagnostic(d, source, encoding) for d in found]


# ---------------------------------------------------------------- registry documentation

_RANK = {0: "a scalar", 1: "a vector", 2: "a matrix"}

KEYWORD_DOCS = {
    "net": "`net NAME = mlp(SIZES..., act=ACT)` — a network (an amortized guide's encoder): the first size is "
    "the input width, the last the output width; apply it as `NAME(x)`, per element inside a plate. Its "
    "output parameterizes draws and is never a site.",
    "param": "`param NAME[SHAPE] = INIT : CONSTRAINT` — a learnable parameter (`numpyro.param`); "
    "every part after the name is optional.",
    "let": "`let NAME = EXPR` — a local value, never a site.",
    "guide": "`guide NAME(ARGS) { ... }` — a guide block; `ARGS` are the model's arguments.",
    "plate": "`plate NAME(SIZE, subsample=K, dim=D) { ... }` — the model's `numpyro.plate(NAME, SIZE, "
    "subsample_size=K, dim=D)`; `SIZE` is a whole number, a guide argument or `len(ARG)`, the options are "
    "optional. Inside, everything is written per element: the plates add batch dimensions on the left; "
    "`ARG[NAME]` reads `ARG` at the plate's indices. A name defined inside is visible only inside.",
}

PLATE_OPTION_DOCS = {
    "subsample": "`subsample=K` (plate option) — `subsample_size=K`: each step visits a random subset of K "
    "elements (a whole number or a guide argument, at most a constant SIZE); `ARG[NAME]` reads those rows, and "
    "a `param` inside is stored in full and trained only on the rows visited.",
    "dim": "`dim=D` (plate option) — the batch dimension of the plate, a negative whole number; without it the "
    "outermost plate takes -1 and each inner plate the next one to the left, as NumPyro allocates them.",
}

LEN_DOC = (
    "```vg\nplate NAME(len(ARG))\n```\n`len(ARG)` — the length of guide argument ARG's first axis "
    "(`jnp.shape(ARG)[0]`); valid only as a plate's size."
)

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
    if spec.domain == "real_vector" and not spec.elementwise:
        use = (f"maps an unconstrained vector onto `{spec.image}` (NumPyro's `biject_to`): usable on random "
               "values as a transform's last step (exact log-Jacobian)")
    elif spec.elementwise and spec.monotone:
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


NETWORK_DOCS = {
    R.MLP: "`mlp(SIZES..., act=ACT)` — a multilayer perceptron, declared with `net NAME = mlp(...)`: the input "
    "width, the hidden widths, the output width; `act` between layers (default `relu`), the last layer linear.",
    R.MODULE: "`module(ARG)` — a Flax or Equinox network passed as a guide argument (not supported yet: VG212).",
    R.CONCAT: "`concat(a, b, ...)` — vectors joined end to end (a scalar is `[mu]`).",
    **{a: f"`{a}` — an activation an `mlp` takes (`act={a}`: JAX's `jax.nn.{a}`)." for a in R.ACTIVATIONS
       if a not in R.FUNCTIONS},
}


def net_markdown(net) -> str:
    """Hover text of a network the guide declares: its layers, widths and number of params."""
    from . import unparse as U

    params = ", ".join(f"`{n}` {s if s is not None else '?'}" for n, s in net.params())
    return (f"```vg\n{U.stmt(net.stmt)}\n```\n**network** `{net.name}`: {net.describe()}.\n\n"
            f"params: {params}")


def registry_markdown(name: str) -> str | None:
    """Hover text of a name VG knows (keyword, distribution, function, constraint, refused name)."""
    if name in KEYWORD_DOCS:
        return f"**{name}** (keyword) — {KEYWORD_DOCS[name]}"
    if name in R.DISTRIBUTIONS:
        return dist_markdown(R.DISTRIBUTIONS[name])
    if name == R.MIX:
        return MIX_DOC
    if name in R.FUNCTIONS and name in R.CONSTRAINTS:  # `simplex`: a mapping function and a constraint
        return func_markdown(R.FUNCTIONS[name]) + "\n\n" + constraint_markdown(R.CONSTRAINTS[name])
    if name in R.FUNCTIONS:
        return func_markdown(R.FUNCTIONS[name])
    if name in R.CONSTRAINTS:
        return constraint_markdown(R.CONSTRAINTS[name])
    if name == R.LEN:
        return LEN_DOC
    if name in NETWORK_DOCS:
        return NETWORK_DOCS[name]
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


def _closed(source: Source, block: N.GuideDef | N.Plate) -> bool:
    """Whether a block ends with its ``}`` (recovery ends an unclosed one at its last statement)."""
    text = source.line(block.span.end_line - 1)
    return 0 < block.span.end_column - 1 <= len(text) and text[block.span.end_column - 2] == "}"


def _inside(source: Source, plate: N.Plate, at: tuple[int, int]) -> bool:
    """Whether ``at`` is in the plate (before its ``}``; an unclosed plate runs to the end of the text)."""
    span = plate.span
    return (span.line, span.column) < at and (at < (span.end_line, span.end_column) or not _closed(source, plate))


def _body_at(program: N.Program, source: Source, at: tuple[int, int]) -> tuple[int | None, tuple[N.Stmt, ...]]:
    """The guide block containing ``at`` (its index; 0 for a bare file) and its statements."""
    if not program.guides:
        return 0, program.bare
    index = guide_at(program, source, at)
    return index, (() if index is None else program.guides[index].body)


def _with_plates(body, plates=()):
    """Every statement in ``body``, plates' bodies included, with the plates around it (outermost first)."""
    for s in body:
        yield s, plates
        if isinstance(s, N.Plate):
            yield from _with_plates(s.body, (*plates, s))


def _stmt_exprs(s: N.Stmt) -> list:
    """The expressions a statement holds (a plate: its header's)."""
    if isinstance(s, N.Param):
        return [*(s.shape or ()), s.init, s.constraint]
    if isinstance(s, N.Sample):
        return [s.dist]
    if isinstance(s, (N.Assign, N.Let)):
        return [s.value]
    if isinstance(s, N.ExprStmt):
        return [s.expr]
    if isinstance(s, N.Plate):
        return [s.size, *(o.value for o in s.options)]
    return []


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
    if t.kind == "bijector":  # NumPyro's log_abs_det_jacobian, already summed over the element
        return t.coef, f"log|det J_{e.func}({unparse.expr(e.args[0])})|"
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
            coef *= size(t.shape)
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


# ---------------------------------------------------------------- plates and site shapes


def _walk_plates(items, plates=()):
    """Every IR record with the plates (``PlateIR``, outermost first) around it."""
    for it in items:
        yield it, plates
        if isinstance(it, ir.PlateIR):
            yield from _walk_plates(it.items, (*plates, it))


def _size_text(size: ir.PlateSize | None, expr: N.Expr | None) -> str:
    """A plate size as written: ``8``, ``J`` or ``len(y)``."""
    if size is not None and size.const is not None:
        return str(size.const)
    if size is not None and size.arg is not None:
        return f"len({size.arg})" if size.length_of else size.arg
    return "?" if expr is None else unparse.expr(expr)


def _option(plate: N.Plate, name: str) -> N.Expr | None:
    return next((o.value for o in plate.options if o.name == name), None)


def _plate_sizes(p: ir.PlateIR) -> tuple[str, str | None]:
    """``(size, subsample)`` texts of a checked plate (subsample None when the plate visits every element)."""
    size = _size_text(p.size, p.stmt.size)
    sub = _option(p.stmt, "subsample")
    return size, (None if p.subsample is None and sub is None else _size_text(p.subsample, sub))


def _tuple_text(dims) -> str:
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _event_text(site: ir.Site) -> str:
    if site.event_shape is None or site.event_dim is None:
        return "event shape unknown at compile time"
    shape = "scalar" if site.event_shape == () else _tuple_text([str(d) for d in site.event_shape])
    return f"event shape {shape} (event_dim {site.event_dim})"


def site_shape_text(site: ir.Site, plates: tuple[ir.PlateIR, ...]) -> str:
    """``batch shape (J,) from plate `J` (dim -1); event shape scalar (event_dim 0)``: a site's shapes, the
    batch shape as the plates make it (a subsampled plate: the subsample size)."""
    by_name = {p.stmt.name: p for p in plates}
    texts = {}
    for pd in site.layout.plates:
        p = by_name.get(pd.name)
        size, sub = _plate_sizes(p) if p is not None else (str(pd.size) if pd.size is not None else "?", None)
        detail = f"dim {pd.dim}" + (f"; subsample {sub} of {size}" if sub is not None else "")
        texts[pd.name] = (sub if sub is not None else size, f"`{pd.name}` ({detail})")
    dims = [texts[a][0] if a is not None else "1" for a in site.layout.batch_axes()]
    sources = []
    if texts:
        which = "plate" if len(texts) == 1 else "plates"
        sources.append(f"{which} " + ", ".join(t[1] for t in texts.values()))
    if site.batch_dims is None or site.batch_dims:  # a `: batch` draw keeps its distribution's batch dimensions
        sources.append("`: batch` (batch dimensions outside any plate)")
    if site.batch_dims is None:
        batch = "batch shape unknown at compile time, from " + " and ".join(sources)
    elif not sources:
        batch = "batch shape () — outside any plate"
    else:
        dims += [str(d) for d in site.batch_dims]
        batch = f"batch shape {_tuple_text(dims)} from " + " and ".join(sources)
    text = f"{batch}; {_event_text(site)}"
    if site.kind is ir.SiteKind.PARAM and any(_plate_sizes(p)[1] is not None for p in plates):
        full = [_plate_sizes(by_name[a])[0] if a in by_name else "1" for a in site.layout.batch_axes()]
        full += [str(d) for d in site.event_shape or ()]
        text += f"; stored in full as {_tuple_text(full)}, each step reads the rows it visits"
    return text


def support_text(site: ir.Site) -> str | None:
    """``support: `positive``` — where a site's values lie (``vgc.supports``), with what qualifies it: each
    entry of a vector, a bound known only when the guide runs, an enclosing set ("at most")."""
    support = site.support
    if support is None:
        return None
    notes = []
    if support.kind == "interval" and site.event_shape:
        notes.append("each entry")
    if support.kind == "interval" and any(isinstance(b, str) for b in (support.lo, support.hi)):
        notes.append("a bound known only when the guide runs")
    if not support.exact and "(at most)" in str(support):
        notes.append("an enclosing set: vgc derives no exact image for this map")
    return f"support: `{support}`" + (f" ({'; '.join(notes)})" if notes else "")


def _site_line(g: ir.GuideIR, name: str, plates: tuple[ir.PlateIR, ...]) -> str:
    site = next((s for s in ir.sites(g) if s.name == name), None)
    if site is None:
        return ""
    support = support_text(site)
    return f"\n\nSite `{name}`: {site_shape_text(site, plates)}." + (f"\n\n{support}" if support else "")


def plate_markdown(g: ir.GuideIR | None, plate: N.Plate) -> str:
    """Hover text of a plate: its header, size, subsample, dim and the sites inside it."""
    found = None if g is None else next(
        ((p, around) for p, around in _walk_plates(g.items) if isinstance(p, ir.PlateIR) and p.stmt is plate), None
    )
    head = f"```vg\n{unparse.stmt(plate)}\n```\n**plate** `{plate.name}` (`numpyro.plate`)"
    if found is None:  # the header was rejected: what it says
        sub = _option(plate, "subsample")
        dim = _option(plate, "dim")
        facts = [f"size {_size_text(None, plate.size)}"]
        facts += [f"subsample {unparse.expr(sub)}"] if sub is not None else []
        facts += [f"dim {unparse.expr(dim)}"] if dim is not None else []
        return f"{head}: {', '.join(facts)} (the header has errors: see the diagnostics)."
    p, around = found
    size, sub = _plate_sizes(p)
    facts = [f"size {size}" + (f" (the length of `{p.size.arg}`'s first axis)" if p.size.length_of else "")]
    if sub is not None:
        facts.append(f"subsample {sub} of {size} (a random subset each step)")
    else:
        facts.append("no subsampling")
    if p.explicit_dim:
        facts.append(f"dim {p.dim}")
    else:
        where = f"inside `{around[-1].stmt.name}`" if around else "the outermost plate"
        facts.append(f"dim {p.dim} (allocated: {where})")
    text = f"{head}: {'; '.join(facts)}."
    span = plate.span
    inside = [
        s.name for s in ir.sites(g)
        if (span.line, span.column) <= (s.span.line, s.span.column)
        and (s.span.end_line, s.span.end_column) <= (span.end_line, span.end_column)
    ]
    if inside:
        text += f"\n\nSites inside, batched by it: {', '.join(f'`{n}`' for n in inside)}."
    return text


def symbol_markdown(g: ir.GuideIR, name: str) -> str | None:
    """Hover text of a name the guide defines."""
    sym = g.symbols.get(name)
    if sym is None:
        return None
    for item, plates in _walk_plates(g.items):
        stmt = item.stmt
        if isinstance(item, ir.TransformIR) and any(t.id == name for t in stmt.targets):
            return transform_markdown(g, item, name) + _site_line(g, name, plates)
        if isinstance(item, ir.ParamIR) and stmt.name == name:
            text = f"```vg\n{unparse.stmt(stmt)}\n```\n**param** `{name}`: {_shape_text(item.shape)}, "
            cargs = ", ".join(unparse.expr(a) for a in item.constraint_args)
            text += f"constraint `{item.constraint}{f'({cargs})' if cargs else ''}`"
            text += "" if stmt.init is not None else " (default initial value)"
            return text + "." + _site_line(g, name, plates)
        if isinstance(item, ir.SampleIR) and stmt.name == name:
            text = f"```vg\n{unparse.stmt(stmt)}\n```\n**draw** `{name}`: {_shape_text(sym.shape)}"
            if sym.consumed_at is not None:
                text += f"; an auxiliary site, consumed by the transform on line {sym.consumed_at}"
            else:
                text += "; a latent site"
            return text + "." + _site_line(g, name, plates)
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
    else:
        md = _program_markdown(text, source, path, word, (line, column))
    if md is None:
        md = registry_markdown(word.text)
    if md is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=md), range=rng)


def _starts_at(span: N.Span, word: Word) -> bool:
    return (span.line, span.column) == (word.line, word.start)


def _program_markdown(text: str, source: Source, path: str, word: Word, at: tuple[int, int]) -> str | None:
    """Hover text from the program: a plate's name or option, a name the guide defines."""
    program, reporter = _parse(text)
    index, body = _body_at(program, source, at)
    if index is None:
        return None
    guides = checker.check_program(program, reporter, compiler.default_guide_name(path))
    g = guides[index] if index < len(guides) else None
    for s, plates in _with_plates(body):
        if isinstance(s, N.Plate):
            if _starts_at(s.name_span, word):
                return plate_markdown(g, s)
            for o in s.options:
                if _starts_at(o.span, word):
                    return PLATE_OPTION_DOCS.get(o.name)
        for e in _stmt_exprs(s):
            for x in N.walk(e) if e is not None else ():
                if isinstance(x, N.Index) and _starts_at(x.plate.span, word):  # ARG[NAME]: the open plate NAME
                    plate = next((p for p in reversed(plates) if p.name == x.plate.id), None)
                    return None if plate is None else plate_markdown(g, plate)
    if g is not None and word.text in g.nets:  # its declaration or an application `enc(x)`
        return net_markdown(g.nets[word.text])
    if word.call or g is None:
        return None
    return symbol_markdown(g, word.text)


# ---------------------------------------------------------------- completion

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

    settings: dict[str, str | None] = {}  # the client's: model, data

    def publish(uri: str) -> None:
        document = server.workspace.get_text_document(uri)
        diags = diagnostics(document.source, path_of(document), encoding(), settings)
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diags, version=document.version)
        )

    @server.feature(types.INITIALIZE)
    @guarded()
    def on_initialize(params: types.InitializeParams) -> None:
        settings.update(client_settings(params.initialization_options) or {})

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded()
    def on_configuration(params: types.DidChangeConfigurationParams) -> None:
        new = client_settings(params.settings)
        if new is None or new == settings:
            return
        settings.clear()
        settings.update(new)
        for uri in list(server.workspace.text_documents):
            publish(uri)

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
