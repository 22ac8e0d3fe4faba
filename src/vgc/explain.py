"""``vgc explain CODE``: one entry of the diagnostics catalog (``docs/diagnostics.md``).

The catalog ships in the wheel as ``vgc/docs/diagnostics.md``; in a checkout it is read from ``docs/``.
Each entry is a level-2 section headed ``## VG201 — undefined name``. Nothing here imports jax.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from . import diagnostics as D

_HEADING = re.compile(r"^## (VG\d{3}) — (.+?)\s*$")
_CODE = re.compile(r"(?:VG)?(\d{3})")


def catalog_text() -> str:
    """The catalog shipped in the wheel (``vgc/docs/diagnostics.md``), or the checkout's ``docs/``.

    Raises :class:`OSError` when neither exists (a broken install).
    """
    packaged = resources.files("vgc").joinpath("docs/diagnostics.md")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "docs" / "diagnostics.md").read_text(encoding="utf-8")


def sections(text: str) -> list[tuple[str, str, str]]:
    """``(code, title, section markdown)`` for every ``## VGnnn — title`` section of ``text``, in order.

    A section runs from its heading to the next level-2 heading (or the end), without trailing blank
    lines; ``` fences are respected, so a ``## `` line inside a code block does not end it.
    """
    out: list[tuple[str, str, str]] = []
    current: tuple[str, str] | None = None
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        if current is not None:
            out.append((current[0], current[1], "\n".join(lines).rstrip() + "\n"))

    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and line.startswith("## "):
            flush()
            m = _HEADING.match(line)
            current = (m.group(1), m.group(2)) if m else None
            lines = []
        lines.append(line)
    flush()
    return out


@lru_cache(maxsize=1)
def _catalog() -> dict[str, str]:
    return {code: body for code, _title, body in sections(catalog_text())}


def normalize(code: str) -> str | None:
    """``"VG201"`` for ``"VG201"``, ``"vg201"``, ``"201"`` or ``" Vg201 "``; None when it is not a code."""
    m = _CODE.fullmatch(code.strip().upper())
    return f"VG{m.group(1)}" if m else None


def entry(code: str) -> str | None:
    """The catalog section (markdown, heading included) for ``code``, or None for an unknown code.

    ``code`` is case-insensitive and may omit the ``VG`` prefix: ``entry("201") == entry("vg201")``.
    """
    key = normalize(code)
    return None if key is None else _catalog().get(key)


def codes() -> list[str]:
    """The codes that have a catalog entry, in catalog order."""
    return list(_catalog())


def _ranges(names: list[str]) -> str:
    """``VG100–VG106, VG201–VG208`` for runs of consecutive codes."""
    nums = sorted(int(n[2:]) for n in names)
    runs: list[list[int]] = []
    for n in nums:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(f"VG{a}" if a == b else f"VG{a}–VG{b}" for a, b in runs)


def main_text(code: str) -> tuple[str, int]:
    """What ``vgc explain CODE`` prints and its exit status.

    ``(section, 0)`` when the code has an entry (print it to stdout); otherwise ``(message, 2)`` with a
    one-line ``vgc: error: ...`` message listing the valid codes (print it to stderr).
    """
    known = sorted(D.REGISTRY)
    try:
        text = entry(code)
    except OSError as e:
        return f"vgc: error: cannot read the diagnostics catalog: {e.strerror or e}\n", 2
    if text is not None:
        return text, 0
    key = normalize(code)
    if key in D.REGISTRY:  # registered but not yet documented: at least say what it is
        c = D.REGISTRY[key]
        return f"## {c.code} — {c.title}\n\n{c.severity.capitalize()}. (No catalog entry yet.)\n", 0
    return f"vgc: error: unknown diagnostic code {code.strip()!r}; known codes: {_ranges(known)}\n", 2
