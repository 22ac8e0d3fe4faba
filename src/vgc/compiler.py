"""The pipeline: parse → check (with transform analysis) → generate. No jax here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import checker, parser
from . import diagnostics as D


@dataclass(frozen=True)
class Result:
    """What compiling one source gives: the module text (None on error) and every diagnostic."""

    code: str | None
    diagnostics: list[D.Diagnostic]
    guides: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return self.code is not None


def default_guide_name(file: str) -> str:
    """A bare-statement file's guide is named after the file when that is a valid name, else ``guide``."""
    stem = Path(file).stem if file and not file.startswith("<") else ""
    return stem if stem.isidentifier() and not stem.startswith("__") else "guide"


def run(source: str, file: str = "<string>", generate: bool = True, numeric_jacobians: bool = False) -> Result:
    """Compile ``source``; with ``generate=False`` only check it.

    ``numeric_jacobians`` replaces every closed-form log-Jacobian by jax.jacfwd + slogdet
    (the tests use it to cross-check the closed forms).
    """
    reporter = D.Reporter(file)
    program = parser.parse(source, reporter)
    guides = []
    if program is not None:
        guides = checker.check_program(program, reporter, default_guide_name(file), numeric_jacobians)
    diags = reporter.sorted()
    if reporter.has_errors or program is None:
        return Result(None, diags)
    names = tuple(g.name for g in guides)
    if not generate:
        return Result("", diags, names)
    from . import codegen  # not needed (nor imported) by `vgc check`

    return Result(codegen.generate(guides, Path(file).name if not file.startswith("<") else file), diags, names)
