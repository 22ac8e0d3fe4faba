"""The code writer of phase 4: indented lines with a ``block()`` context manager (as CPython's
``Lib/_ast_unparse.py`` writes), and docstring-safe text. Shared by :mod:`vgc.codegen` and :mod:`vgc.prelude`."""

from __future__ import annotations

import contextlib


class Writer:
    """Indented lines with a ``block()`` context manager."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.level = 0

    def line(self, text: str = "") -> None:
        """Append one line at the current indentation."""
        self.lines.append(("    " * self.level + text) if text else "")

    @contextlib.contextmanager
    def block(self, header: str):
        """``header:`` followed by an indented block."""
        self.line(header + ":")
        self.level += 1
        try:
            yield
        finally:
            self.level -= 1

    def text(self) -> str:
        """The source, ending in one newline."""
        return "\n".join(self.lines).rstrip("\n") + "\n"


def doc_text(text: str) -> str:
    """``text`` made inert inside a triple-quoted docstring.

    The source file name comes from the caller, not from the checked AST: a quote, a backslash or a
    line break in it could otherwise end the module docstring and run the rest of the name as code.
    """
    out = []
    for c in text:
        if c == '"':
            out.append('\\"')
        elif c == "\\" or not c.isprintable():
            out.append(c.encode("unicode_escape").decode("ascii"))
        else:
            out.append(c)
    return "".join(out)
