"""The pipeline: parse → check (with transform analysis) → generate. No jax here."""

from __future__ import annotations

import os
from typing import NamedTuple

from . import checker, parser
from . import diagnostics as D
from .nodes import Span


class Result(NamedTuple):
    """What compiling one source gives: the module text (None on error) and every diagnostic."""

    code: str | None
    diagnostics: list[D.Diagnostic]
    guides: tuple[str, ...] = ()
    irs: tuple = ()  # the checked guides (ir.GuideIR), for the model check and the LSP

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return self.code is not None


def default_guide_name(file: str) -> str:
    """A bare-statement file's guide is named after the file when that is a valid name, else ``guide``."""
    stem = os.path.splitext(os.path.basename(file))[0] if file and not file.startswith("<") else ""
    return stem if stem.isidentifier() and not stem.startswith("__") else "guide"


def run(source: str, file: str = "<string>", generate: bool = True, numeric_jacobians: bool = False) -> Result:
    """Compile ``source``; with ``generate=False`` only check it.

    ``numeric_jacobians`` replaces every closed-form log-Jacobian outside plates and `: batch` draws by
    jax.jacfwd + slogdet
    (the tests use it to cross-check the closed forms).
    """
    reporter = D.Reporter(file)
    try:
        return _run(source, file, generate, numeric_jacobians, reporter)
    except RecursionError:  # MAX_DEPTH keeps programs well inside the default limit; a deep caller may not
        reporter.report(D.TOO_DEEP, Span(1, 1, 1, 2), "the program is nested too deeply for the Python stack",
                        "split deep expressions into steps with `let`")
    except Exception as e:  # a compiler bug: still a diagnostic, never a traceback
        reporter.report(
            D.INTERNAL,
            Span(1, 1, 1, 2),
            f"internal compiler error: {type(e).__name__}: {e}",
            "this is a bug in vgc, not in your program; please report it with this file",
        )
    return Result(None, reporter.sorted())


def _run(source: str, file: str, generate: bool, numeric_jacobians: bool, reporter: D.Reporter) -> Result:
    program = parser.parse(source, reporter)
    guides = checker.check_program(program, reporter, default_guide_name(file), numeric_jacobians)
    diags = reporter.sorted()
    if reporter.has_errors:
        return Result(None, diags)
    names = tuple(g.name for g in guides)
    if not generate:
        return Result("", diags, names, tuple(guides))
    from . import codegen  # not needed (nor imported) by `vgc check`

    code = codegen.generate(guides, os.path.basename(file) if not file.startswith("<") else file)
    return Result(code, diags, names, tuple(guides))
