"""A document's diagnostics: those of ``vgc check`` and, with a model, of ``vgc check --model``.

The compiler's diagnostics become LSP diagnostics here (a link to their entry in ``docs/diagnostics.md``
when that file is on disk); a ``# vg:`` comment the server cannot read is a warning; and the model check
(:func:`model_diagnostics`) runs the guide against the model :mod:`vgc.lsp.models` names and caches, turning
any failure of the user's code into one diagnostic, because nothing in the model may stop the server.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import sys
from pathlib import Path

from lsprotocol import types

from .. import compiler
from .. import diagnostics as D
from .models import MODELS, ModelCache, ModelSettings, _resolve, _split_model, find_pragma, from_settings
from .positions import UTF16, Source, to_position, to_range

log = logging.getLogger(__name__)


def _catalog_uri() -> str | None:
    """A file URI of ``diagnostics.md`` (packaged or in the checkout), when it exists on disk."""
    from importlib import resources

    try:
        packaged = resources.files("vgc").joinpath("docs/diagnostics.md")
        checkout = Path(__file__).resolve().parents[3]  # src/vgc/lsp/check.py: the checkout's root
        candidates = [Path(str(packaged)), checkout / "docs" / "diagnostics.md"]
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
            from .. import modelcheck as MC

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
