"""Notebook support: the ``%%vg`` cell magic (``%load_ext vgc``) and the HTML display of a :class:`vgc.Guide`.

Design decisions (user documentation: ``docs/notebooks.md``):

- IPython is imported only once the extension is loaded, and Pygments only inside :func:`guide_html`, so
  ``import vgc`` (and ``vgc check``) never pays for either and works without them.
- The cell body is compiled as its own file named ``<cell>``; line and column numbers count from the first
  line after ``%%vg`` (IPython's own cell magics, ``%%time`` for one, number the body the same way). A cell
  of bare statements therefore holds a guide named ``guide`` (``<cell>`` is not an identifier, see
  :func:`vgc.codegen.function_names`).
- Binding: without NAME every guide of the cell is bound under its own name; with NAME, the guide called
  NAME if the cell defines one, else the cell's only guide (under NAME). Anything else (several guides and
  none called NAME, an argument that is not one Python identifier) is a ``UsageError``, which IPython shows
  as one line, without a traceback, like the errors of its own magics. Every check runs before anything is
  bound, so a failing cell binds nothing and leaves earlier bindings alone.
- A compile error raises :class:`CellError`, a :class:`vgc.CompileError` whose ``_render_traceback_`` (the
  hook IPython asks an exception for before formatting its traceback) is the rendered report. The notebook
  shows the report, carets included, where a traceback would be and nothing else; the cell fails, so "Run
  all" stops at it as at a Python ``SyntaxError`` rather than running on into a ``NameError``; and code
  that calls ``run_cell_magic`` can catch ``vgc.CompileError``.
- Warnings do not stop the cell: their rendered report goes to stderr (which notebooks show shaded, like
  Python's warnings), once per cell, and the guides are bound.
- The magic returns None, so the cell displays nothing: a cell that only defines something stays quiet,
  as a ``def`` does. Evaluate the name to see the guide (:func:`guide_html`).
- NAME is NFKC-normalized, as Python reads identifiers (and vgc guide names): ``%%vg ｑ`` binds ``q``, the
  name that code in later cells spelling ``ｑ`` or ``q`` looks up.
"""

from __future__ import annotations

import html
import keyword
import sys
import unicodedata

from .diagnostics import render
from .runtime import CompileError, Guide, compile_checked
from .runtime import guide as _compile_guide

__all__ = ["CELL_FILE", "CellError", "guide_html", "load_ipython_extension", "vg_cell"]

# The file name in a cell's diagnostics (`<cell>:2:1: error[VG301]: ...`) and generated code.
CELL_FILE = "<cell>"


class CellError(CompileError):
    """A ``%%vg`` cell that does not compile; IPython shows its rendered report instead of a traceback."""

    def _render_traceback_(self) -> list[str]:
        return str(self).split("\n")


def _usage_error(message: str) -> Exception:
    from IPython.core.error import UsageError

    return UsageError(f"%%vg: {message}")


def _is_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _parse_name(line: str) -> str | None:
    """The NAME of ``%%vg [NAME]``, checked before the cell is compiled."""
    args = line.split()
    if len(args) > 1:
        raise _usage_error(f"expected at most one NAME, got {line.strip()!r}")
    if args and not _is_identifier(args[0]):
        raise _usage_error(f"NAME must be a Python identifier, not {args[0]!r}")
    return unicodedata.normalize("NFKC", args[0]) if args else None


def _bindings(name: str | None, guides: tuple[str, ...]) -> dict[str, str]:
    """Python name → guide name, for a cell defining ``guides`` run as ``%%vg [name]``."""
    if name is None:
        bad = [g for g in guides if not _is_identifier(g)]
        if bad:  # the compiler rejects such names (VG103): kept so that a bad binding can never pass silently
            raise _usage_error(f"guide {bad[0]!r} is not a Python identifier: write `%%vg NAME`")
        return {g: g for g in guides}
    if name in guides:
        return {name: name}
    if len(guides) == 1:
        return {name: guides[0]}
    raise _usage_error(f"the cell defines guides {', '.join(guides)}; none is called {name!r}")


def vg_cell(shell, line: str, cell: str) -> None:
    """Run a ``%%vg [NAME]`` cell in ``shell``: compile ``cell`` and bind its guides in the user namespace.

    Raises :class:`CellError` when the cell does not compile and IPython's ``UsageError`` for a bad NAME;
    IPython shows both without a traceback. Warnings are printed to stderr.
    """
    name = _parse_name(line)
    try:
        result = compile_checked(cell, CELL_FILE)
    except CompileError as e:
        raise CellError(e.diagnostics, e.source) from None
    bindings = _bindings(name, result.guides)
    guides = {var: _compile_guide(cell, g, file=CELL_FILE) for var, g in bindings.items()}
    warnings = [d for d in result.diagnostics if not d.is_error]
    if warnings:
        print(render(warnings, cell), end="", file=sys.stderr)
    shell.push(guides)


def load_ipython_extension(ipython) -> None:
    """Register the ``%%vg [NAME]`` cell magic in ``ipython`` (called by ``%load_ext vgc``)."""

    def vg(line: str, cell: str) -> None:
        """%%vg [NAME]: compile the cell as VG and bind its guide.

        Without NAME, every guide of the cell is bound under its own name (a cell of bare statements
        defines one guide, named `guide`). With NAME, the guide called NAME is bound, or the cell's only
        guide is bound under NAME. Errors show as vgc's report and bind nothing; warnings are printed
        and the guide is bound.
        """
        vg_cell(ipython, line, cell)

    ipython.register_magic_function(vg, magic_kind="cell", magic_name="vg")


def _highlighter():
    """``(code, language) -> HTML`` with inline colours, or None when Pygments is not installed."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers.python import PythonLexer

        from .pygments_lexer import VgLexer
    except ImportError:
        return None
    # Inline styles (noclasses): a notebook has no Pygments stylesheet. The colours are chosen for the
    # style's light background, so the <pre> carries background and text colour itself: a dark theme's
    # CSS for <pre> would otherwise give unstyled tokens (plain names) light text on the light background.
    probe = HtmlFormatter(noclasses=True)
    pre = f"background: {probe.style.background_color or '#ffffff'}; color: #000000"
    formatter = HtmlFormatter(noclasses=True, prestyles=pre)
    lexers = {"vg": VgLexer, "python": PythonLexer}
    return lambda code, language: highlight(code, lexers[language](), formatter)


def guide_html(guide: Guide) -> str:
    """The HTML display of ``guide`` (``Guide._repr_html_``): its name, its VG source highlighted with
    :class:`vgc.pygments_lexer.VgLexer`, its warnings, and the generated Python in a collapsed
    ``<details>`` block. Colours are inline styles; without Pygments the sources are plain ``<pre>`` text.
    """
    highlighted = _highlighter()

    def code(text: str, language: str) -> str:
        if highlighted is None:
            return f"<pre>{html.escape(text)}</pre>"
        return highlighted(text, language)

    parts = [
        '<div class="vgc-guide">',
        f"<p><strong>vgc guide</strong> <code>{html.escape(guide.name)}</code></p>",
        code(guide.vg_source, "vg"),
    ]
    if guide.warnings:
        report = render(guide.warnings, guide.vg_source)
        parts.append(f"<pre>{html.escape(report)}</pre>")
    parts += [
        "<details><summary>generated NumPyro code</summary>",
        code(guide.source, "python"),
        "</details>",
        "</div>",
    ]
    return "\n".join(parts)
