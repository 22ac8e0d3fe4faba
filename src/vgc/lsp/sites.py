"""Plates and sites in hover text: a plate's size, subsample and dim; a site's batch and event shapes, support.

The compiler works these out (:mod:`vgc.checker`, :mod:`vgc.shapes`, :mod:`vgc.supports`); this module only
says them in the user's terms: sizes as written (``J``, ``len(y)``), the dims NumPyro allocates, and where a
site's batch shape comes from. A plate whose header was rejected is described from its syntax alone.
"""

from __future__ import annotations

from .. import ir, unparse
from .. import nodes as N


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
    axes = site.batch_axes()
    dims = [texts[a][0] if isinstance(a, str) else str(site.batch_dims[a]) if isinstance(a, int) else "1"
            for a in axes]
    sources = []
    if texts:
        which = "plate" if len(texts) == 1 else "plates"
        sources.append(f"{which} " + ", ".join(t[1] for t in texts.values()))
    if site.batch_dims is None or site.batch_dims:  # a `: batch` draw keeps its distribution's batch dimensions
        sources.append("`: batch` (the draw's own batch dimensions)")
    if site.batch_dims is None:
        batch = "batch shape unknown at compile time, from " + " and ".join(sources)
    elif not sources:
        batch = "batch shape () — outside any plate"
    else:
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
    called = f" (NumPyro name `\"{site.site}\"`)" if site.site != name else ""
    return f"\n\nSite `{name}`{called}: {site_shape_text(site, plates)}." + (f"\n\n{support}" if support else "")


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
