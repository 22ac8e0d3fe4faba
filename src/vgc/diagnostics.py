"""Diagnostics: the one registry of stable codes and messages, and their rendering.

Every diagnostic the compiler can give is declared here, once, with its code,
severity and a short title (as mypy keeps ``errorcodes.py``). Phases collect
diagnostics in a :class:`Reporter` instead of raising, so one run reports every
problem it can find.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .nodes import Span

ERROR = "error"
WARNING = "warning"


class Code(NamedTuple):
    """A diagnostic code: ``VG`` and three digits, never reused for another meaning."""

    code: str
    severity: str
    title: str


REGISTRY: dict[str, Code] = {}


def _code(code: str, severity: str, title: str) -> Code:
    assert code not in REGISTRY, code
    REGISTRY[code] = entry = Code(code, severity, title)
    return entry


# Input and syntax.
INVALID_ENCODING = _code("VG100", ERROR, "the file is not valid UTF-8")
SYNTAX = _code("VG101", ERROR, "syntax error")
BAD_CHARACTER = _code("VG102", ERROR, "unexpected character")
BAD_NAME = _code("VG103", ERROR, "name not allowed")
BAD_NUMBER = _code("VG104", ERROR, "number out of range")
BAD_TARGET = _code("VG105", ERROR, "invalid target")
MIXED_PROGRAM = _code("VG106", ERROR, "guide blocks mixed with bare statements")
TOO_DEEP = _code("VG107", ERROR, "nesting too deep")
BAD_OPTION = _code("VG109", ERROR, "unknown plate or draw option")
# Names and calls.
UNDEFINED = _code("VG201", ERROR, "undefined name")
REDEFINED = _code("VG202", ERROR, "name already defined")
UNKNOWN_FUNCTION = _code("VG203", ERROR, "unknown function")
UNKNOWN_DIST = _code("VG204", ERROR, "unknown distribution")
BAD_ARGS = _code("VG205", ERROR, "wrong arguments")
UNKNOWN_CONSTRAINT = _code("VG206", ERROR, "unknown constraint")
DUPLICATE_GUIDE = _code("VG207", ERROR, "guide defined twice")
NOT_A_VALUE = _code("VG208", ERROR, "not a value")
OUTSIDE_PLATE = _code("VG209", ERROR, "plate-local value used outside its plate")
INDEX_OUTSIDE_PLATE = _code("VG210", ERROR, "data indexed by a plate that is not open")
BAD_INDEX = _code("VG211", ERROR, "only a guide argument can be indexed by a plate")
BAD_NET = _code("VG212", ERROR, "invalid network declaration")
UNKNOWN_ACTIVATION = _code("VG213", ERROR, "unknown activation")
NET_IN_PLATE = _code("VG214", ERROR, "network declared inside a plate")
NET_BEFORE_DECLARATION = _code("VG215", ERROR, "network applied before its declaration")
NET_INPUT = _code("VG216", ERROR, "network input of the wrong width")
BAD_SLICE = _code("VG217", ERROR, "invalid slice")
# Sampling.
FACTOR = _code("VG301", ERROR, "factor in a guide")
NOT_A_SAMPLER = _code("VG302", ERROR, "not a normalized sampler")
IMPROPER = _code("VG303", ERROR, "improper distribution")
DISCRETE = _code("VG304", ERROR, "discrete distribution")
NO_EFFECT = _code("VG305", ERROR, "statement has no effect")
PM_OUTSIDE_MIX = _code("VG306", ERROR, "± outside a mixture component")
BAD_MIXTURE = _code("VG307", ERROR, "invalid mixture")
MIXED_SUPPORTS = _code("VG308", ERROR, "mixture components with different supports")
# Transforms.
NOT_BIJECTION = _code("VG401", ERROR, "transform is not a bijection")
CONSUMED_TWICE = _code("VG402", ERROR, "random variable consumed twice")
NON_MONOTONE = _code("VG403", ERROR, "non-monotone function of a random value")
SINGULAR = _code("VG404", ERROR, "singular constant matrix")
CHAINED = _code("VG405", ERROR, "transform of a transformed latent")
SHAPE = _code("VG406", ERROR, "shape mismatch")
UNKNOWN_SHAPE = _code("VG407", ERROR, "shape unknown at compile time")
RANDOM_NOT_ALLOWED = _code("VG408", ERROR, "random value where a fixed value is required")
CROSS_PLATE = _code("VG409", ERROR, "transform consumes a draw from outside its plate")
NUMERIC_IN_PLATE = _code("VG410", ERROR, "no closed-form log-Jacobian inside a plate")
NET_TRANSFORM = _code("VG411", ERROR, "a draw passed through a network in a transform")
# Params.
BAD_INIT = _code("VG501", ERROR, "initial value violates the constraint")
BAD_SHAPE = _code("VG502", ERROR, "invalid param shape")
# Plates.
BAD_PLATE_SIZE = _code("VG701", ERROR, "invalid plate size")
SUBSAMPLE_TOO_LARGE = _code("VG702", ERROR, "subsample larger than the plate")
BAD_PLATE_DIM = _code("VG703", ERROR, "invalid plate dim")
NESTED_SAME_PLATE = _code("VG704", ERROR, "plate nested in a plate of the same name")
PLATE_NAMED_LIKE_SITE = _code("VG705", ERROR, "plate named like a site")
PLATE_REDECLARED = _code("VG706", ERROR, "plate entered again with another size, subsample or dim")
# The guide against its model (vgc check --model; vgc.modelcheck).
MISSING_LATENT = _code("VG801", ERROR, "model latent missing from the guide")
UNKNOWN_SITE = _code("VG802", ERROR, "guide site the model does not have")
SITE_SHAPE = _code("VG803", ERROR, "shape or event dimension differs from the model's")
PLATE_MISMATCH = _code("VG804", ERROR, "plate differs from the model's")
OUTSIDE_SUPPORT = _code("VG805", ERROR, "support not inside the model's")
OBSERVED_SITE = _code("VG806", ERROR, "guide samples an observed site")
SUPPORT_UNPROVEN = _code("VG807", WARNING, "support not proven inside the model's")
GUIDE_FAILED = _code("VG808", ERROR, "guide fails with the model's arguments")
# Warnings.
FIXED_SAMPLER = _code("VG601", WARNING, "latent with no learnable parameter")
SCALE_NOT_POSITIVE = _code("VG602", WARNING, "scale param without a positive constraint")
LEARNABLE_WEIGHTS = _code("VG603", WARNING, "learnable mixture weights")
NUMERIC_JACOBIAN = _code("VG604", WARNING, "log-Jacobian computed numerically")
UNUSED_PARAM = _code("VG605", WARNING, "param never used")
EMPTY_GUIDE = _code("VG606", WARNING, "guide samples nothing")
# The compiler itself.
INTERNAL = _code("VG900", ERROR, "internal compiler error")


class Diagnostic(NamedTuple):
    """One finding: a stable code, its severity, where, what and how to fix it."""

    code: str
    severity: str
    message: str
    span: Span
    hint: str = ""
    file: str = "<string>"

    @property
    def is_error(self) -> bool:
        """True for errors (warnings do not stop compilation)."""
        return self.severity == ERROR

    def to_json(self) -> dict:
        """The JSON form used by ``vgc check --format json`` (1-based lines and columns)."""
        s = self.span
        return {"code": self.code, "severity": self.severity, "message": self.message, "hint": self.hint,
                "file": self.file, "line": s.line, "column": s.column, "end_line": s.end_line,
                "end_column": s.end_column}


class Reporter:
    """Collects diagnostics for one source text."""

    __slots__ = ("file", "items")

    def __init__(self, file: str = "<string>", items: list[Diagnostic] | None = None):
        self.file = file
        self.items: list[Diagnostic] = [] if items is None else items

    def report(self, code: Code, span: Span, message: str, hint: str = "") -> None:
        """Record a diagnostic of registered ``code`` at ``span``."""
        self.items.append(Diagnostic(code.code, code.severity, message, span, hint, self.file))

    @property
    def has_errors(self) -> bool:
        """True when at least one error was reported."""
        return any(d.is_error for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        """The diagnostics in source order (stable for equal positions)."""
        return sorted(self.items, key=lambda d: (d.span.line, d.span.column))


# A source line longer than this is shown as a window of this many characters around the caret, '…'
# marking the cuts: a 100k-character line with an error every few characters (`a a a ...`) rendered
# gigabytes, every diagnostic copying and tab-expanding the whole line.
MAX_SHOWN = 500


def _window(text: str, column: int, end: int) -> tuple[str, int, int]:
    """The part of a line to show, and the 1-based column and end column of the caret in it."""
    if len(text) <= MAX_SHOWN:
        return text, column, end
    lo = max(0, min(column - 1 - MAX_SHOWN // 4, len(text) - MAX_SHOWN))  # some context before the caret
    hi = lo + MAX_SHOWN
    head, tail = "…" if lo else "", "…" if hi < len(text) else ""
    return head + text[lo:hi] + tail, column - lo + len(head), min(end, hi + 1) - lo + len(head)


def render(diagnostics: list[Diagnostic], source: str) -> str:
    """Render diagnostics as text: location, code, message, the source line, a caret, the hint."""
    # Only the newlines the lexer counts: str.splitlines would also split at \v, \f, \x85, \u2028...
    lines = re.split(r"\r\n|\r|\n", source) if source else []
    out: list[str] = []
    for d in diagnostics:
        s = d.span
        out.append(f"{d.file}:{s.line}:{s.column}: {d.severity}[{d.code}]: {d.message}")
        if 1 <= s.line <= len(lines):
            line = lines[s.line - 1]
            text, column, end = _window(line, s.column, s.end_column if s.end_line == s.line else len(line) + 1)
            text = text.expandtabs(1)
            gutter = " " * len(str(s.line))
            width = max(1, end - column)
            out.append(f"{gutter} |")
            out.append(f"{s.line} | {text}")
            out.append(f"{gutter} | {' ' * (column - 1)}{'^' * width}")
        if d.hint:
            out.append(f"  = hint: {d.hint}")
    return "\n".join(out) + ("\n" if out else "")


def to_json(diagnostics: list[Diagnostic]) -> str:
    """The diagnostics as a JSON array (see docs/language.md for the schema)."""
    import json

    return json.dumps([d.to_json() for d in diagnostics], ensure_ascii=False, indent=2)
