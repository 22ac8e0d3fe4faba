"""Hover: Markdown about the name under the cursor.

A name the guide defines is described from the checked program (its statement, shape, site, and for a
transformed latent the log-Jacobian the compiler derived and the draws it consumed); a plate's name or
option from :mod:`vgc.lsp.sites` and :mod:`vgc.lsp.registry_docs`; a network from what the checker built;
anything else VG knows by name from :mod:`vgc.lsp.registry_docs`. The document is parsed and checked on each
request, without generating code, so hover works on a guide with errors.
"""

from __future__ import annotations

import logging

from lsprotocol import types

from .. import checker, codegen, compiler, ir, unparse
from .. import nodes as N
from ..shapes import size
from .cursor import Word, _body_at, _parse, word_at
from .positions import UTF16, Source, from_position, to_range
from .registry_docs import KEYWORD_DOCS, PLATE_OPTION_DOCS, registry_markdown
from .sites import _site_line, _walk_plates, plate_markdown

log = logging.getLogger(__name__)


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


# ---------------------------------------------------------------- a name the guide defines


def _shape_text(shape) -> str:
    if shape is None:
        return "shape unknown at compile time"
    if shape == ():
        return "scalar"
    return "shape [" + ", ".join(str(d) for d in shape) + "]"


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


def net_markdown(net) -> str:
    """Hover text of a network the guide declares: its layers, widths and number of params."""
    params = ", ".join(f"`{n}` {s if s is not None else '?'}" for n, s in net.params())
    return (f"```vg\n{unparse.stmt(net.stmt)}\n```\n**network** `{net.name}`: {net.describe()}.\n\n"
            f"params: {params}")


# ---------------------------------------------------------------- transformed latents


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
