"""Scopes: which names a statement can see (the guide's, then each open plate's), and did-you-mean.

Every name is defined once per guide (sites are global in NumPyro), so one table holds them all;
what the plates add is visibility: a name defined inside a plate is visible only while that very
plate is open, and a value from outside is broadcast inside.
"""

from __future__ import annotations

from . import nodes as N
from .ir import Kind, Sym

# The "did you mean" hints of undefined names compare the name with every name in scope (difflib,
# quadratic in the names' lengths): 10,000 undefined uses among 10,000 names took a minute, 200 long
# similar names 25 s. Per guide, the hints stop when the estimated work (names in scope × name
# length²) reaches this budget, about 0.2 s; ordinary files never get near it.
SUGGESTION_BUDGET = 3_000_000


def did_you_mean(name: str, options) -> str:
    """``did you mean 'x'?`` for the closest option, or ``""``."""
    import difflib  # only on the error path

    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


class Scope:
    """The symbol table of one guide and the stack of plates open at the statement being checked."""

    def __init__(self, table: dict[str, Sym]):
        self.table = table
        self.open: list[N.Plate] = []  # the plates around the current statement, outermost first
        self.budget = SUGGESTION_BUDGET
        self.failed: list[tuple[str, tuple[N.Plate, ...]]] = []  # names whose redefinition was refused, where

    def shadow(self, name: str) -> None:
        """A definition of ``name`` here was refused (VG202): later uses here are not reported again."""
        self.failed.append((name, self.plates))

    def shadowed(self, name: str) -> bool:
        """Whether a refused definition of ``name`` is visible here."""
        return any(n == name and len(p) <= len(self.open) and all(a is b for a, b in zip(p, self.open))
                   for n, p in self.failed)

    def suggest_plate(self, name: str) -> str:
        """A did-you-mean among the open plates' names."""
        return did_you_mean(name, [p.name for p in self.open])

    # -- plates
    def push(self, plate: N.Plate) -> None:
        """Enter a plate's body."""
        self.open.append(plate)

    def pop(self) -> None:
        """Leave the innermost plate."""
        self.open.pop()

    @property
    def plates(self) -> tuple[N.Plate, ...]:
        """The open plates, outermost first."""
        return tuple(self.open)

    def is_open(self, name: str) -> bool:
        """Whether a plate of this name is open here."""
        return any(p.name == name for p in self.open)

    # -- names
    def visible(self, sym: Sym) -> bool:
        """A name defined inside plates is visible while all of them are still open."""
        k = len(sym.plates)
        return k <= len(self.open) and all(a is b for a, b in zip(sym.plates, self.open))

    def get(self, name: str) -> Sym | None:
        """The symbol of ``name`` if it is defined (visible here or not)."""
        return self.table.get(name)

    def lookup(self, name: str) -> Sym | None:
        """The symbol of ``name`` if it is defined and visible here."""
        sym = self.table.get(name)
        return sym if sym is not None and self.visible(sym) else None

    def free(self, name: str) -> Sym | None:
        """None when ``name`` may be defined here, else the symbol already holding it."""
        old = self.table.get(name)
        return None if old is None or old.kind is Kind.BROKEN else old

    def define(self, sym: Sym) -> None:
        """Bind a new name (the caller checked :meth:`free`)."""
        sym.plates = self.plates
        self.table[sym.name] = sym

    def suggest(self, name: str) -> str:
        """A did-you-mean among the visible names, within the guide's budget for them."""
        cost = len(self.table) * max(len(name), 4) ** 2  # see SUGGESTION_BUDGET
        if cost > self.budget:
            return ""
        self.budget -= cost
        return did_you_mean(name, [n for n, s in self.table.items() if self.visible(s)])
