"""Input generators and the crash oracle for the never-crash fuzzing (issue 3, item 2).

Shared by ``tests/test_fuzz.py`` (hypothesis, derandomized) and ``bench/fuzz.py`` (plain ``random``,
tens of thousands of cases). The generators are written once against :class:`Chooser`, a few methods
that make random choices; :class:`RandomChooser` answers them from ``random.Random`` (fast, for the
bench) and :class:`HypothesisChooser` from hypothesis' ``data.draw`` (so failures shrink).

Three kinds of input:

* :func:`program` builds statements from the grammar's rules and terminals (``grammar/vg.lark``) and
  the registry's names: params with shapes, initial values and constraints, draws from every
  distribution (and Mix, improper, discrete, factor), transforms with functions, matrices, ``±`` and
  ``·``, lets, guide blocks with model arguments, in every operator spelling; half of them
  (:func:`tame_program`) usually compile, the others are anything the grammar allows and more;
* :func:`mutate` applies token-level mutations to a seed program (``examples/*.vg``,
  ``tests/cases/good/*.vg``): deleted, duplicated, swapped and inserted tokens, random Unicode
  (NUL, controls, surrogates, which only the API can pass), CR/CRLF line ends, a BOM, extreme
  numbers, odd names, deep nesting around a token, truncation;
* :func:`special_cases`: fixed hostile inputs (100k-character lines, 10,000 nested brackets,
  ``10^400``, 10,000 statements, exponential ``let`` chains, empty input, ...).

:func:`problems` is the oracle: what counts as a crash.
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

from vgc import compiler, registry
from vgc import diagnostics as D

ROOT = Path(__file__).resolve().parents[1]

# A case must finish within TIME_BOUND seconds, or MICROSECONDS_PER_CHAR per character of input when
# that is more (inputs over 33,000 characters). Compiling is linear in the input and nothing is blown
# up, but parsing alone costs up to about 30 µs per character on the densest inputs (a statement or
# an error every two characters: 100,000 characters take 3-4 s, ordinary ones 5 µs per character).
# Measured on a 2-core machine: bench/README.md "Fuzzing".
TIME_BOUND = 2.0
MICROSECONDS_PER_CHAR = 60.0


def time_bound(source: str) -> float:
    """The time bound of one case, in seconds."""
    return max(TIME_BOUND, MICROSECONDS_PER_CHAR * 1e-6 * len(source))


# ---------------------------------------------------------------------------------------------------
# the oracle


def source_lines(source: str) -> list[str]:
    """The lines as the lexer counts them (a BOM is not part of line 1)."""
    return re.split(r"\r\n|\r|\n", source.removeprefix("\ufeff"))


def problems(source: str, file: str = "<fuzz>", bound: float | None = None) -> tuple[list[str], object, float]:
    """Run the compiler on ``source``: (what went wrong, the Result or None, seconds taken).

    A crash is an exception escaping ``compiler.run``; a VG900 (internal error); a VG107 from the
    RecursionError fallback; a diagnostic located outside the source (line not in 1..lines+1, column
    < 1, or an end before its start); generated code that does not ``compile()`` (as generated, and
    with ``numeric_jacobians=True`` for inputs below 20,000 characters); a diagnostic that cannot be
    rendered as text or JSON; or a case slower than ``bound`` seconds (:func:`time_bound`; the time of
    the first compilation only).
    """
    bound = time_bound(source) if bound is None else bound
    out: list[str] = []
    t0 = time.perf_counter()
    try:
        result = compiler.run(source, file)
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        return [f"exception escaped compiler.run: {type(e).__name__}: {e}"], None, time.perf_counter() - t0
    elapsed = time.perf_counter() - t0
    n_lines = len(source_lines(source))
    for d in result.diagnostics:
        s = d.span
        where = f"{d.code} at {s.line}:{s.column}-{s.end_line}:{s.end_column}"
        if d.code == D.INTERNAL.code:
            out.append(f"internal compiler error: {where}: {d.message}")
        elif d.code == D.TOO_DEEP.code and "Python stack" in d.message:
            out.append(f"RecursionError fallback: {where}: {d.message}")
        if not (1 <= s.line <= n_lines + 1 and s.column >= 1):
            out.append(f"diagnostic outside the source ({n_lines} lines): {where}: {d.message}")
        elif (s.end_line, s.end_column) < (s.line, s.column):
            out.append(f"diagnostic ends before it starts: {where}: {d.message}")
    try:
        D.render(result.diagnostics, source)
        D.to_json(result.diagnostics)
    except Exception as e:
        out.append(f"rendering the diagnostics failed: {type(e).__name__}: {e}")
    if result.ok:
        # also with every log-Jacobian computed by jax.jacfwd (not for the largest inputs: time)
        for numeric in (False, True) if len(source) < 20_000 else (False,):
            try:
                code = compiler.run(source, file, numeric_jacobians=True).code if numeric else result.code
                compile(code, "<gen>", "exec")
            except Exception as e:
                out.append(f"generated code{' (numeric_jacobians)' * numeric} does not compile: "
                           f"{type(e).__name__}: {e}")
    if elapsed > bound:
        out.append(f"too slow: {elapsed:.2f} s > {bound} s")
    return out, result, elapsed


# ---------------------------------------------------------------------------------------------------
# random choices


class Chooser:
    """The random choices the generators make (subclasses answer them)."""

    def int(self, lo: int, hi: int) -> int:  # inclusive
        raise NotImplementedError

    def chance(self, p: float) -> bool:
        """True with probability about ``p``."""
        return self.int(0, 999) < p * 1000

    def pick(self, seq):
        seq = list(seq)
        return seq[self.int(0, len(seq) - 1)]

    def text(self, max_size: int) -> str:
        """Arbitrary Unicode: any code point, NUL, controls, line breaks, surrogates included."""
        raise NotImplementedError


# Characters the generators like: every line break Unicode knows, controls, BOM, bidi and zero-width
# marks, lookalikes of VG's operators and names.
SPECIAL_CHARS = (
    "\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x1c\x1d\x1e\x7f\x85\xa0\u2028\u2029\ufeff\ufffd\ufffe\uffff"
    "\u200b\u200c\u200d\u2060\u202e\u2066\u0301\u0345\ud800\udc00\udfff"
    "\"'`\\$?!<>&|%{}.,;:~=±·×−∗′″‘’“”ｍθσ𝑥ℌﬁ²¹₀٣߀"
)


def _random_codepoint(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.3:
        return rng.choice(SPECIAL_CHARS)
    if r < 0.6:
        return chr(rng.randint(0x20, 0x7E))
    if r < 0.8:
        return chr(rng.randint(0, 0xFFFF))
    return chr(rng.randint(0, 0x10FFFF))


class RandomChooser(Chooser):
    """Choices from ``random.Random(seed)``."""

    def __init__(self, seed: int | random.Random):
        self.rng = seed if isinstance(seed, random.Random) else random.Random(seed)

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, seq):
        return self.rng.choice(seq if isinstance(seq, (list, tuple, str)) else list(seq))

    def text(self, max_size: int) -> str:
        return "".join(_random_codepoint(self.rng) for _ in range(self.rng.randint(0, max_size)))


class HypothesisChooser(Chooser):
    """Choices drawn from a hypothesis ``data`` object, so a failing case shrinks."""

    def __init__(self, data):
        from hypothesis import strategies as st

        self.data = data
        self.st = st
        self._chars = (
            st.characters(codec=None)  # any code point but surrogates (hypothesis' default)
            | st.characters(categories=["Cs"])  # surrogates: impossible in a file, possible from the API
            | st.sampled_from(SPECIAL_CHARS)
        )

    def int(self, lo: int, hi: int) -> int:
        return self.data.draw(self.st.integers(lo, hi))

    def text(self, max_size: int) -> str:
        return self.data.draw(self.st.text(self._chars, max_size=max_size))


# ---------------------------------------------------------------------------------------------------
# vocabulary

DISTS = sorted(registry.DISTRIBUTIONS)
FUNCS = sorted(registry.FUNCTIONS)
MONOTONE = sorted(f for f, s in registry.FUNCTIONS.items() if s.monotone)
CONSTRAINTS = sorted(registry.CONSTRAINTS)
REFUSED = sorted(registry.IMPROPER_DISTRIBUTIONS | registry.DISCRETE_DISTRIBUTIONS)

# Names that are not plain identifiers for VG or for the generated Python.
ODD_NAMES = (
    "param", "let", "guide", "class", "lambda", "None", "True", "match", "case", "type", "_",
    "__import__", "__class__", "__builtins__", "_rot", "dist", "jnp", "jax", "numpyro", "constraints",
    "l", "I", "O", "print", "exec", "eval", "x_", "ｍ", "θ", "σ1", "𝑥", "ℌ", "ﬁ", "x²", "a\u0301",
    "Normal", "exp", "positive", "Mix", "factor", "deterministic", "Delta", "sum", "inf", "nan",
)

NUMBERS = (
    "0", "1", "2", "3", "0.5", ".5", "2.", "1e-3", "1E3", "-1", "0.0", "1.0", "10", "1e10",
    "1e308", "1.7976931348623157e308", "1.8e308", "1e309", "1e400", "1e-400", "4.9e-324", "1e-320",
    "9" * 400, "1" + "0" * 400, "0" * 50 + "1", "1" * 20, "3.14159", "00", "0e0", "1e+5", "2e-5",
)
EXTREME_EXPRS = (
    "10^400", "10**400", "1e308 * 10", "1e308 + 1e308", "-1e308 * 10", "1/0", "0/0", "0^-1", "0**-1",
    "(-1)^0.5", "(-8)^(1/3)", "log(0)", "log(-1)", "sqrt(-1)", "exp(1000)", "exp(-1000)", "logit(1)",
    "logit(0)", "2^1024", "2^-1075", "0^0", "1e-400 * 1e400", "tan(1.5707963267948966)", "sinh(1000)",
    "expm1(1e308)", "softplus(1e308)", "sigmoid(-1e308)", "1 / 1e-320", "sum([1e308, 1e308])",
    "diag([1e308, 1e308])", "inv([[0, 0], [0, 0]])", "inv([[1e308, 1e308], [1e308, 1e308]])",
    "inv([[1e-320, 0], [0, 1e-320]])", "rot(1e308)", "[[1, 2], [3]]", "[]", "[[]]", "[[], []]",
    "[[[]]]", "transpose([])", "transpose([[]])", "[]'", "sum([])", "diag([])", "inv([])",
    "inv([[]])", "[1, [2]]", "[[1, 2], [3, 4]] · [1, 2, 3]", "[1, 2] · [1, 2]", "1 · 2",
    "9" * 400 + " * 1e-400",
)


# ---------------------------------------------------------------------------------------------------
# programs from the grammar


class _Scope:
    def __init__(self):
        self.params: list[str] = []
        self.randoms: list[str] = []
        self.vectors: list[str] = []  # 2-vector draws
        self.latents: list[str] = []
        self.lets: list[str] = []
        self.args: list[str] = []
        self.counter = 0

    def fresh(self, c: Chooser, prefix: str) -> str:
        self.counter += 1
        if c.chance(0.03):
            return c.pick(ODD_NAMES)
        if c.chance(0.03):  # a name already used: VG202
            taken = self.params + self.randoms + self.latents + self.lets
            if taken:
                return c.pick(taken)
        return f"{prefix}{self.counter}"

    def any_value(self) -> list[str]:
        return self.params + self.randoms + self.vectors + self.latents + self.lets + self.args


def _spell(c: Chooser, op: str) -> str:
    return {"±": c.pick(("±", "+-")), "·": c.pick(("·", "@")), "^": c.pick(("^", "**"))}.get(op, op)


def number(c: Chooser) -> str:
    """A number literal, usually ordinary, sometimes extreme."""
    if c.chance(0.85):
        return c.pick(NUMBERS[:14])
    return c.pick(NUMBERS)


def expr(c: Chooser, scope: _Scope, depth: int, random_ok: bool = True) -> str:
    """An expression of the grammar's ``expr`` rule (all operators, calls, vectors, parentheses)."""
    names = scope.params + scope.lets + scope.args + (scope.randoms + scope.vectors if random_ok else [])
    if depth <= 0 or c.chance(0.3):
        r = c.int(0, 19)
        if r < 8 and names:
            return c.pick(names)
        if r < 9:
            return c.pick(ODD_NAMES) if c.chance(0.5) else f"undefined{c.int(0, 9)}"
        if r < 10:
            return c.pick(EXTREME_EXPRS)
        return number(c)
    k = c.int(0, 15)
    sub = depth - 1
    if k <= 3:
        op = c.pick(("+", "-", "*", "/", "^", "·", "±"))
        return f"{expr(c, scope, sub, random_ok)} {_spell(c, op)} {expr(c, scope, sub, random_ok)}"
    if k == 4:
        return f"{_spell(c, c.pick(('-', '+', '±')))}{expr(c, scope, sub, random_ok)}"
    if k == 5:
        return f"({expr(c, scope, sub, random_ok)})"
    if k == 6:
        return f"{expr(c, scope, sub, random_ok)}'"
    if k <= 9:
        f = c.pick(FUNCS) if c.chance(0.9) else c.pick(DISTS + REFUSED + ["Mix", "factor", "foo", "Exp"])
        n = 1 if c.chance(0.9) else c.int(0, 3)
        args = [expr(c, scope, sub, random_ok) for _ in range(n)]
        if c.chance(0.05):
            args.append(f"x={expr(c, scope, sub, random_ok)}")
        return f"{f}({', '.join(args)})"
    if k <= 11:
        n = c.int(0, 4) if c.chance(0.2) else 2
        return "[" + ", ".join(expr(c, scope, sub, random_ok) for _ in range(n)) + "]"
    if k == 12:
        return matrix(c, scope, sub, random_ok)
    if k == 13 and scope.randoms:  # an affine map of a draw, the common case
        return f"{expr(c, scope, 0, False)} + {expr(c, scope, 0, False)} * {c.pick(scope.randoms)}"
    if k == 14:
        return f"{c.pick(MONOTONE)}({expr(c, scope, sub, random_ok)})"
    return f"rot({expr(c, scope, 0, False)}) {_spell(c, '·')} [{expr(c, scope, sub, random_ok)}, " \
           f"{expr(c, scope, sub, random_ok)}]"


def matrix(c: Chooser, scope: _Scope, depth: int, random_ok: bool = False) -> str:
    """A matrix literal, usually square, sometimes ragged or empty."""
    n = c.pick((1, 2, 2, 2, 3)) if c.chance(0.9) else c.int(0, 6)
    m = n if c.chance(0.85) else c.int(0, 4)
    rows = []
    for _ in range(n):
        width = m if c.chance(0.95) else c.int(0, 4)
        rows.append("[" + ", ".join(expr(c, scope, min(depth, 1), random_ok) for _ in range(width)) + "]")
    # rows on their own lines half of the time: newlines inside brackets
    return "[" + (", " if c.chance(0.5) else ",\n     ").join(rows) + "]"


def distribution(c: Chooser, scope: _Scope, depth: int) -> str:
    """The right of ``~``: a registry distribution with positional or keyword arguments, a Mix, or not."""
    k = c.int(0, 19)
    if k < 12:
        spec = registry.DISTRIBUTIONS[c.pick(DISTS)]
        parts = []
        keyword = False
        for a in spec.args:
            if not a.required and c.chance(0.4):
                keyword = True
                continue
            val = dist_arg(c, scope, depth, a.rank)
            keyword = keyword or c.chance(0.2)
            parts.append(f"{a.name}={val}" if keyword else val)
        if c.chance(0.05):
            parts.append(expr(c, scope, depth, False))
        if c.chance(0.05):
            parts.append(f"{c.pick(('bogus', 'loc', 'scale'))}={expr(c, scope, depth, False)}")
        return f"{spec.name}({', '.join(parts)})"
    if k < 16:
        return mixture(c, scope, depth)
    if k == 16:
        return f"{c.pick(REFUSED)}({expr(c, scope, depth, False)})"
    if k == 17:
        return f"factor({expr(c, scope, depth)})"
    if k == 18:
        return expr(c, scope, depth)
    return f"{c.pick(('Normall', 'normal', 'Foo', 'exp', 'Mix'))}({expr(c, scope, depth, False)})"


def dist_arg(c: Chooser, scope: _Scope, depth: int, rank: int) -> str:
    if rank == 0:
        return expr(c, scope, min(depth, 2), random_ok=c.chance(0.1))
    if rank == 1:
        n = c.pick((2, 2, 3))
        return "[" + ", ".join(expr(c, scope, 0, False) for _ in range(n)) + "]" if c.chance(0.8) \
            else expr(c, scope, 1, False)
    if c.chance(0.8):
        return matrix(c, scope, 1)
    return c.pick(("[[1, 0], [0, 1]]", "diag([1, 2])", "inv([[2, 1], [1, 2]])"))


def mixture(c: Chooser, scope: _Scope, depth: int) -> str:
    fam = c.pick(("Normal", "Cauchy", "Laplace", "Logistic", "StudentT", "Gamma"))
    pm = _spell(c, "±")
    p = expr(c, scope, 0, False)
    k = c.int(0, 6)
    if k == 0:
        return f"Mix({fam}({pm}{p}, 1))" if fam != "StudentT" else f"Mix(StudentT(3, {pm}{p}, 1))"
    if k == 1:
        return f"Mix(Normal({p} {pm} {expr(c, scope, 0, False)}, {expr(c, scope, 0, False)}))"
    if k == 2:
        return f"Mix(Normal([{p}, {expr(c, scope, 0, False)}, 0.0], {expr(c, scope, 0, False)}))"
    if k == 3:
        w = c.pick(("[0.5, 0.5]", "[0.25, 0.75]", "[0.3, 0.3]", "[1]", "[-1, 2]") + tuple(scope.params or ["w"]))
        return f"Mix({w}, Normal([{p}, 1.0], [1.0, 2.0]))"
    if k == 4:
        return f"Mix({distribution(c, scope, 0)}, {distribution(c, scope, 0)})"
    if k == 5:
        return f"Mix({c.pick(('[0.25, 0.75]', '[0.5, 0.5]'))}, Laplace({p}, 1), Logistic(0, 1))"
    return "Mix(" + ", ".join(expr(c, scope, 1) for _ in range(c.int(0, 3))) + ")"


def statement(c: Chooser, scope: _Scope, depth: int) -> str:
    """One statement of the grammar's ``_stmt`` rule, mostly meaningful, sometimes not."""
    k = c.int(0, 29)
    if k < 6:  # param NAME[SHAPE] = INIT : CONSTRAINT, every part optional
        name = scope.fresh(c, "p")
        text = f"param {name}"
        dims = None
        if c.chance(0.25):
            dims = [c.pick(("0", "1", "2", "3", "2", "-1", "2.5", "1e9", "1e400", "m", "[2]", "2 + 1", "x"))
                    if c.chance(0.3) else c.pick(("1", "2", "3")) for _ in range(c.int(0, 3))]
            text += "[" + ", ".join(dims) + "]"
        if c.chance(0.6):
            init = (number(c) if c.chance(0.6) else c.pick(EXTREME_EXPRS) if c.chance(0.2)
                    else expr(c, scope, depth, random_ok=c.chance(0.1)))
            text += f" = {init}"
        if c.chance(0.5):
            con = registry.CONSTRAINTS[c.pick(CONSTRAINTS)]
            if con.arity and c.chance(0.95):
                text += f" : {con.name}({', '.join(number(c) for _ in range(con.arity))})"
            elif c.chance(0.9):
                text += f" : {con.name}"
            else:
                text += f" : {c.pick(('bogus', 'positive(1)', 'interval(0)', 'real(x=1)', '1'))}"
        if name.isidentifier():
            scope.params.append(name)
        return text
    if k < 14:  # NAME ~ DIST
        name = scope.fresh(c, "u")
        dist = distribution(c, scope, depth)
        if c.chance(0.15):
            dist = f"Normal([{expr(c, scope, 0, False)}, {expr(c, scope, 0, False)}], 1)"
            (scope.vectors if name.isidentifier() else []).append(name)
        elif name.isidentifier():
            scope.randoms.append(name)
        if c.chance(0.1):  # batch dimensions kept: all, the first K, or a K that does not fit
            dist += c.pick((" : batch", " : batch(1)", " : batch(2)", " : batch(0)", " : batch(x)"))
        return f"{name} ~ {dist}"
    if k < 21:  # NAME = EXPR, [N1, N2] = EXPR
        if c.chance(0.3) and len(scope.randoms) >= 2:
            a, b = c.pick(scope.randoms), c.pick(scope.randoms)
            names = [scope.fresh(c, "x"), scope.fresh(c, "y")]
            rhs = c.pick((
                f"rot({expr(c, scope, 0, False)}) {_spell(c, '·')} [{a}, {b}]",
                f"{matrix(c, scope, 0)} {_spell(c, '·')} [{a}, {b}]",
                f"[{a} + {b}, {a} - {b}]",
                f"[{expr(c, scope, depth)}, {expr(c, scope, depth)}]",
                f"inv({matrix(c, scope, 0)})' {_spell(c, '·')} [{a}, {b}]",
                f"diag([{number(c)}, {number(c)}]) {_spell(c, '·')} [{a}, {b}] + [1, 2]",
            ))
            scope.latents += [n for n in names if n.isidentifier()]
            return f"[{', '.join(names)}] = {rhs}"
        name = scope.fresh(c, "x")
        if scope.vectors and c.chance(0.2):
            v = c.pick(scope.vectors)
            rhs = f"{c.pick((matrix(c, scope, 0), 'rot(1)', 'diag([2, 3])'))} {_spell(c, '·')} {v}"
        elif scope.randoms and c.chance(0.5):
            u = c.pick(scope.randoms)
            f = c.pick(MONOTONE + ["sin", "abs"])
            rhs = c.pick((
                f"{expr(c, scope, 0, False)} + {expr(c, scope, 0, False)} * {u}",
                f"{f}({u})",
                f"{u}{_spell(c, '^')}{c.pick(('3', '2', '0.5', '-1', '1', '0', 'm'))}",
                f"{c.pick(('2', '0', '1', '-2', '0.5'))}{_spell(c, '^')}{u}",
                f"{expr(c, scope, 0, False)} / {u}",
                f"exp({expr(c, scope, 0, False)} + {u})",
            ))
        else:
            rhs = expr(c, scope, depth)
        if name.isidentifier():
            scope.latents.append(name)
        return f"{name} = {rhs}"
    if k < 26:
        name = scope.fresh(c, "a")
        text = f"let {name} = {expr(c, scope, depth)}"
        if name.isidentifier():
            scope.lets.append(name)
        return text
    if k < 27:
        return c.pick((f"factor({expr(c, scope, depth)})", f"deterministic('x', {expr(c, scope, 0)})",
                       expr(c, scope, depth), f"Delta({expr(c, scope, 0)})"))
    if k < 28:  # a bad target
        return c.pick((f"f(x) = {expr(c, scope, 0)}", "1 ~ Normal(0, 1)", f"[a, 1] = {expr(c, scope, 0)}",
                       f"[] = {expr(c, scope, 0)}", "[x, y] ~ Normal(0, 1)", "= 1", "~ Normal(0, 1)"))
    return tokens_soup(c, scope)


# Every terminal of the grammar, in its spellings, plus a few things no token starts.
TERMINALS = (
    "param", "let", "guide", "~", "=", ":", ",", ";", "(", ")", "[", "]", "{", "}", "±", "+-", "+", "-", "^",
    "**", "*", "/", "·", "@", "'", "\n", "\r\n", "\r", "# c\n", "x", "u1", "Normal", "exp", "1", "0.5", "1e400",
    "Mix", "positive", "rot", "\t", "\x0c", "\\", '"', "$", "!", "<", "`", "\x00",
)


def tokens_soup(c: Chooser, scope: _Scope) -> str:
    """A few random terminals: almost always a syntax error."""
    vocab = TERMINALS + tuple(scope.any_value()[-5:])
    return " ".join(c.pick(vocab) for _ in range(c.int(1, 8)))


SEPARATORS = ("\n", "\n", "\n", "; ", ";", "\r\n", "\r", "\n\n", " # comment\n", "\n# comment\n", "  \n", ";;\n")


def body(c: Chooser, scope: _Scope, n: int, depth: int, indent: str = "") -> str:
    out = []
    for _ in range(n):
        out.append(indent + statement(c, scope, depth))
        out.append(c.pick(SEPARATORS))
    return "".join(out)


SCALAR_DISTS = sorted(n for n, d in registry.DISTRIBUTIONS.items() if d.event_rank == 0)


class _Tame:
    """Statements that mostly compile: every draw consumed at most once, arguments of the right kind."""

    def __init__(self, c: Chooser, args: tuple[str, ...] = ()):
        self.c = c
        self.n = 0
        self.scalars: list[str] = []  # unconsumed scalar draws
        self.vectors: list[str] = []  # unconsumed 2-vector draws
        self.reals = ["m", "θ", *args]  # model arguments: values of unknown shape
        self.positives = ["s"]
        self.lets: list[str] = []

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def real(self) -> str:
        c = self.c
        return c.pick((c.pick(self.reals), c.pick(self.reals), c.pick(NUMBERS[:12]), f"{c.pick(self.reals)} + 1",
                       f"-{c.pick(self.reals)}", f"2 * {c.pick(self.reals)}", f"sin({c.pick(self.reals)})",
                       *(self.lets[-2:])))

    def positive(self) -> str:
        c = self.c
        p = c.pick(self.positives)
        return c.pick((p, p, "1.0", "2", "0.5", f"2 * {p}", f"exp({c.pick(self.reals)})", f"softplus({p})",
                       f"{p}^2", f"{p} + 1"))

    def scalar_dist(self) -> str:
        c = self.c
        spec = registry.DISTRIBUTIONS[c.pick(SCALAR_DISTS)]
        parts, kw = [], False
        for a in spec.args:
            if not a.required and c.chance(0.3):
                kw = True
                continue
            kw = kw or c.chance(0.15)
            val = self.positive() if a.positive else self.real()
            parts.append(f"{a.name}={val}" if kw else val)
        return f"{spec.name}({', '.join(parts)})"

    def vector_dist(self) -> str:
        c = self.c
        loc = f"[{self.real()}, {self.real()}]"
        return c.pick((
            f"Normal({loc}, {self.positive()})",
            f"Normal({loc}, [{self.positive()}, {self.positive()}])",
            f"Cauchy({loc}, 1)",
            f"MultivariateNormal({loc}, scale_tril=[[{self.positive()}, 0], [{self.real()}, 1]])",
            f"MultivariateNormal({loc}, covariance_matrix=[[2, 0.5], [0.5, 1]])",
            f"LowRankMultivariateNormal({loc}, [[1], [{self.real()}]], [{self.positive()}, 1])",
            f"Dirichlet([{self.positive()}, 2])",
            f"Mix(Normal([{loc}, [0, 0]], 1))",
        ))

    def mixture(self) -> str:
        c = self.c
        pm = _spell(c, "±")
        return c.pick((
            f"Mix(Normal({pm}{c.pick(self.positives)}, 1))",
            f"Mix(Normal({self.real()} {pm} {self.positive()}, {self.positive()}))",
            f"Mix(Normal([{self.real()}, 0.0, {self.real()}], {self.positive()}))",
            f"Mix(w, Normal([{self.real()}, {self.real()}], [{self.positive()}, 1]))",
            f"Mix([0.25, 0.75], Laplace({self.real()}, 1), Logistic(0, {self.positive()}))",
            f"Mix({self.scalar_dist()}, Cauchy(0, 1))",
            f"Mix(StudentT(3, {pm}{c.pick(self.positives)}, 1))",
        ))

    def statement(self) -> str:
        c = self.c
        k = c.int(0, 13)
        if k <= 3 or not (self.scalars or self.vectors):
            name = self.fresh("u")
            if c.chance(0.2):
                self.vectors.append(name)
                return f"{name} ~ {self.vector_dist()}"
            self.scalars.append(name)
            return f"{name} ~ {self.mixture() if c.chance(0.2) else self.scalar_dist()}"
        if k == 4:
            name = self.fresh("p")
            con = c.pick(("", " : positive", " : real", " : interval(-5, 5)", " : greater_than(-1)",
                          " : less_than(10)"))
            init = c.pick((" = 0.5", " = 1.0", "", " = 2"))
            (self.positives if "positive" in con else self.reals).append(name)
            return f"param {name}{init}{con}"
        if k == 5:
            name = self.fresh("a")
            self.lets.append(name)
            return f"let {name} = {self.real()} * {self.positive()}"
        if k == 6:
            return f"{self.fresh('x')} = {self.real()}"  # a point mass
        if self.vectors and (k >= 11 or not self.scalars):
            v = self.vectors.pop(0)
            mat = c.pick((f"rot({self.real()})", f"[[{self.positive()}, 0], [{self.real()}, 1]]",
                          f"diag([{self.positive()}, 2])", "inv([[2, 1], [1, 2]])'", f"{self.positive()} * rot(θ)",
                          "[[1, 2], [3, 4]] · [[0, 1], [1, 0]]", "A"))
            mm = _spell(c, "·")
            rhs = c.pick((f"{mat} {mm} {v} + [{self.real()}, 0]", f"exp({v})", f"{mat} {mm} exp({v})",
                          f"{self.positive()} * {v} - 1", f"sinh({mat} {mm} {v})"))
            if c.chance(0.3):
                return f"[{self.fresh('x')}, {self.fresh('y')}] = {rhs}"
            return f"{self.fresh('x')} = {rhs}"
        if len(self.scalars) >= 2 and k >= 9:
            a, b = self.scalars.pop(0), self.scalars.pop(0)
            mm = _spell(c, "·")
            rhs = c.pick((f"rot({self.real()}) {mm} [{a}, {b}]", f"[{a} + {b}, {a} - {b} + {a}^3]",
                          f"[[{self.positive()}, 1], [0, 1]] {mm} [{a}, {b}] + [{self.real()}, 1]",
                          f"[exp({a}), {self.real()} + {b}]", f"[{a} + {b}, {a} * {b}]"))
            if c.chance(0.3):
                name = self.fresh("w")
                return f"let {name} = [{a}, {b}]\n{self.fresh('x')} = rot({self.real()}) {mm} {name}"
            return f"[{self.fresh('x')}, {self.fresh('y')}] = {rhs}"
        if not self.scalars:
            return f"{self.fresh('x')} = {self.real()}"
        u = self.scalars.pop(0)
        f = c.pick(MONOTONE)
        rhs = c.pick((f"{self.real()} + {self.positive()} * {u}", f"{f}({u})", f"{f}({self.real()} + {u})",
                      f"{u}{_spell(c, '^')}3", f"2{_spell(c, '^')}{u}", f"{self.positive()} / {u}",
                      f"{u} / {self.positive()} - {self.real()}", f"exp({f}({u}))", f"-{u}",
                      f"{c.pick(MONOTONE)}({f}({u}))"))
        if c.chance(0.15):
            name = self.fresh("a")
            return f"let {name} = {rhs}\n{self.fresh('x')} = {self.positive()} * {name} + 1"
        return f"{self.fresh('x')} = {rhs}"

    def body(self, n: int, indent: str) -> str:
        c = self.c
        out = [indent + "param m = 0.0; param s = 1.0 : positive; param θ = 0.3", c.pick(SEPARATORS[:8])]
        if c.chance(0.3):
            out += [indent + "param w[2] : simplex", "\n"]
        if c.chance(0.3):
            out += [indent + "param A = [[1.0, 0.0], [0.5, 1.0]]", "\n"]
        else:
            out += [indent + "let A = [[1.0, 0.0], [0.5, 1.0]]", "\n"]
        for _ in range(n):
            out += [indent + self.statement(), c.pick(SEPARATORS[:8])]
        return "".join(out)


def tame_program(c: Chooser, max_statements: int = 12) -> str:
    """A program that usually compiles (bare, or one or two guide blocks with arguments)."""
    if c.chance(0.7):
        return _Tame(c).body(c.int(0, max_statements), "")
    out = []
    for g in range(c.int(1, 2)):
        args = c.pick(((), (), ("data",), ("data", "n")))
        head = f"guide g{g}" + (f"({', '.join(args)})" if args or c.chance(0.5) else "")
        out.append(f"{head} {{\n" + _Tame(c, args).body(c.int(0, max_statements), "  ") + "}\n")
    return "".join(out)


def program(c: Chooser, max_statements: int = 12, max_depth: int = 3) -> str:
    """A random program: half of the time one that usually compiles (:func:`tame_program`), else
    anything the grammar allows and more: bare statements or guide blocks (sometimes both: VG106)."""
    if c.chance(0.5):
        return tame_program(c, max_statements)
    start = ""
    if c.chance(0.05):
        start = "\ufeff"
    if c.chance(0.05):
        start += "# header comment\n"
    if c.chance(0.75):
        scope = _Scope()
        if c.chance(0.6):  # the common core first, so later statements have something to refer to
            scope.params += ["m", "s"]
            scope.randoms += ["u"]
            start += "param m = 0.0; param s = 1.0 : positive\nu ~ Normal(m, s)\n"
        return start + body(c, scope, c.int(0, max_statements), max_depth)
    out = [start]
    for g in range(c.int(1, 3)):
        scope = _Scope()
        name = c.pick(("g", "loc_scale", "guide2", "model", "class", "__x", "dist")) if c.chance(0.3) else f"g{g}"
        head = f"guide {name}"
        if c.chance(0.6):
            scope.args = [c.pick(("data", "n", "y", "x", "m", "data")) for _ in range(c.int(0, 2))]
            head += "(" + ", ".join(scope.args) + (", " if c.chance(0.1) else "") + ")"
        if c.chance(0.05):
            head = c.pick(("guide", "guide (", "guide g(", "guide 1", "guide g) "))
        out.append(head + c.pick((" {\n", "{\n", " { ", "\n{\n")))
        out.append(body(c, scope, c.int(0, max_statements // 2), max_depth, "  "))
        out.append(c.pick(("}\n", "}\n", "}", "} ", "\n")))
        if c.chance(0.05):
            out.append(body(c, _Scope(), 1, 1))  # a bare statement next to guides: VG106
    return "".join(out)


# ---------------------------------------------------------------------------------------------------
# token-level mutations of seed programs

TOKEN = re.compile(
    r"\r\n|[ \t\f]+|\r|\n|#[^\r\n]*|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[^\W\d]\w*|\+-|\*\*|.",
    re.S,
)


def split_tokens(source: str) -> list[str]:
    """Lossless split into VG-like tokens (``"".join`` gives the source back)."""
    return TOKEN.findall(source)


def seeds() -> list[tuple[str, str]]:
    """(name, source) of every example and good test program."""
    paths = sorted((ROOT / "examples").glob("*.vg")) + sorted((ROOT / "tests" / "cases" / "good").glob("*.vg"))
    return [(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8")) for p in paths]


def _nest(c: Chooser, tok: str) -> str:
    n = c.pick((c.int(1, 10), c.int(90, 110), c.int(90, 110), c.int(200, 400)))
    kind = c.int(0, 5)
    if kind == 0:
        return "(" * n + tok + ")" * n
    if kind == 1:
        return "[" * n + tok + "]" * n
    if kind == 2:
        return "-" * n + tok
    if kind == 3:
        return "exp(" * n + tok + ")" * n
    if kind == 4:
        return tok + "'" * n
    return "(" * n + tok  # never closed


def mutate_once(c: Chooser, toks: list[str]) -> list[str]:
    if not toks:
        return [c.pick(TERMINALS)]
    i = c.int(0, len(toks) - 1)
    k = c.int(0, 18)
    if k <= 2:
        del toks[i]
    elif k == 3:
        toks.insert(i, toks[i])
    elif k == 4 and i + 1 < len(toks):
        toks[i], toks[i + 1] = toks[i + 1], toks[i]
    elif k <= 6:
        toks.insert(i, c.pick(TERMINALS))
    elif k == 7:
        toks.insert(i, c.text(4))
    elif k == 8:  # an extreme number where a number was, or anywhere
        nums = [j for j, t in enumerate(toks) if t[:1].isdigit() or t[:1] == "."]
        toks[c.pick(nums) if nums else i] = c.pick(NUMBERS + EXTREME_EXPRS)
    elif k == 9:  # an odd name where a name was
        names = [j for j, t in enumerate(toks) if t[:1].isalpha() or t[:1] == "_"]
        toks[c.pick(names) if names else i] = c.pick(ODD_NAMES)
    elif k == 10:
        toks[i] = _nest(c, toks[i])
    elif k == 11:  # line ends
        nl = c.pick(("\r\n", "\r", "\n\n", "\u2028", "\x85", "\x0c\n"))
        toks[:] = [nl if t in ("\n", "\r\n", "\r") and c.chance(0.7) else t for t in toks]
    elif k == 12:  # a block of tokens duplicated or removed
        j = c.int(i, min(len(toks), i + 20))
        if c.chance(0.5):
            toks[i:i] = toks[i:j]
        else:
            del toks[i:j]
    elif k == 13:
        toks.insert(0, "\ufeff") if c.chance(0.5) else toks.insert(i, c.pick(("{", "}", "guide g {", "guide")))
    elif k == 16:  # a name replaced by another name of the program: aliasing, reuse, chains
        names = [j for j, t in enumerate(toks) if t[:1].isalpha() or t[:1] == "_"]
        if names:
            toks[c.pick(names)] = toks[c.pick(names)]
    elif k == 17:  # one function, distribution or constraint for another
        vocab = {**dict.fromkeys(FUNCS, FUNCS), **dict.fromkeys(DISTS + REFUSED, DISTS + REFUSED),
                 **dict.fromkeys(CONSTRAINTS, CONSTRAINTS)}
        hits = [j for j, t in enumerate(toks) if t in vocab]
        if hits:
            j = c.pick(hits)
            toks[j] = c.pick(vocab[toks[j]])
    elif k == 18:  # a number for a name or a name for a number
        j = c.pick(range(len(toks)))
        toks[j] = c.pick(("data", "m", "s", "u", "x")) if toks[j][:1].isdigit() else c.pick(NUMBERS[:12])
    elif k == 14:  # truncation: unterminated statement or bracket at EOF
        del toks[i:]
    else:
        toks[i] = c.pick(("±", "+-", "·", "@", "^", "**", "'", "~", "=", ":", ";", ",")) if c.chance(0.7) \
            else c.text(2)
    return toks


def mutate(c: Chooser, source: str, max_mutations: int = 4) -> str:
    """``source`` with 1..max_mutations token-level mutations."""
    toks = split_tokens(source)
    for _ in range(c.int(1, max_mutations)):
        toks = mutate_once(c, toks)
    return "".join(toks)


# ---------------------------------------------------------------------------------------------------
# fixed hostile inputs


# The fixed inputs that take a second or more (100,000 diagnostics on one line, 10,000 undefined
# names, ...): bench/fuzz.py runs them, tests/test_fuzz.py leaves them out to stay fast.
HEAVY = {
    "long sum", "long sum with error", "long line of names", "long line of transposed names",
    "long line of braces", "long line of tiny statements", "long line of one deep sum", "long line of dollars",
    "long line of statements", "10,000 undefined names", "10,000 lines of broken brackets",
}


def special_cases(heavy: bool = True) -> list[tuple[str, str]]:
    """(name, source) of fixed inputs: sizes, nesting, numbers and shapes at and beyond the limits
    (without the HEAVY ones when ``heavy`` is false)."""
    cases = _special_cases()
    return cases if heavy else [(name, src) for name, src in cases if name not in HEAVY]


def _special_cases() -> list[tuple[str, str]]:
    head = "param m = 0.0; param s = 1.0 : positive\nu ~ Normal(m, s)\nv ~ Normal([m, m], s)\n"
    cases = [
        ("empty", ""),
        ("only comments", "# one\n# two\n#\n"),
        ("only whitespace", "  \t\n\n \x0c \r\n\r   "),
        ("only a BOM", "\ufeff"),
        ("only separators", ";;;\n;\n"),
        ("NUL", "\x00"),
        ("NULs in a program", "param m = 0\x00.0\nu ~ Normal(m\x00, 1)\x00\n"),
        ("lone surrogates", "param m\ud800 = 0\nu ~ Normal(m, 1) # \udfff\n\udc00"),
        ("BOM CRLF program", "\ufeffparam m = 0.0\r\nu ~ Normal(m, 1)\r\nx = exp(u)\r\n"),
        ("CR program", "param m = 0.0\ru ~ Normal(m, 1)\rx = exp(u)\r"),
        ("BOM inside", "param m = 0.0\n\ufeffu ~ Normal(m, 1)\n"),
        # very long lines (100k characters)
        ("long name", "x ~ Normal(" + "a" * 100_000 + ", 1)"),
        ("long comment", "# " + "c" * 100_000 + "\nparam m = 0.0\nu ~ Normal(m, 1)\n"),
        ("long sum", head + "x = u" + " + m" * 25_000),
        ("long sum with error", head + "x = u" + " + m" * 25_000 + " +"),
        ("long vector", "param w = [" + ", ".join(["1"] * 33_000) + "]\nu ~ Normal(w, 1)\n"),
        ("long number", "param m = " + "1" * 100_000 + "\n"),
        ("long number fraction", "param m = 0." + "1" * 100_000 + "\n"),
        ("long whitespace", " " * 100_000 + "x ~ Normal(0, 1)"),
        ("long junk", "$" * 100_000),
        ("long unicode junk", "\u2028" * 50_000 + "θ" * 50_000),
        ("long semicolons", ";" * 100_000),
        ("long call", "x ~ Normal(" + "1, " * 33_000 + "1)"),
        ("long line of names", "a " * 50_000),  # 100,000 diagnostics on one line
        ("long line of transposed names", "a'" * 50_000),
        ("long line of braces", "}a" * 50_000),
        ("long line of tiny statements", "a;" * 50_000),
        ("long line of one deep sum", "+a " * 33_333),
        ("long line of dollars", "a$" * 50_000),
        ("long line of statements", "x ~ Normal(0, 1) " * 6_000),
        ("long line of broken brackets", "x ~ Normal(0 0, " * 6_000),
        ("long similar names undefined", "".join(f"param {'a' * 100}{i} = 0\n" for i in range(200))
         + "".join(f"u{i} ~ Normal({'a' * 100}x{i}, 1)\n" for i in range(200))),
        ("10,000 lines of broken brackets", "x ~ Normal(0 0,\n" * 10_000),
        # 10,000 levels of nesting
        ("10k parentheses", head + "x = " + "(" * 10_000 + "u" + ")" * 10_000),
        ("10k brackets", head + "x = " + "[" * 10_000 + "u" + "]" * 10_000),
        ("10k unary minus", head + "x = " + "-" * 10_000 + "u"),
        ("10k unary plus-minus", head + "x = " + "±" * 10_000 + "u"),
        ("10k calls", head + "x = " + "exp(" * 10_000 + "u" + ")" * 10_000),
        ("10k transposes", head + "x = u" + "'" * 10_000),
        ("10k powers", head + "x = u" + "^2" * 10_000),
        ("10k open parentheses", head + "x = " + "(" * 10_000 + "u"),
        ("10k close parentheses", head + "x = u" + ")" * 10_000),
        ("10k open brackets", "[" * 10_000),
        ("10k braces", "{" * 10_000 + "}" * 10_000),
        ("10k guide headers", "guide g {\n" * 10_000),
        ("10k nested in a distribution", "x ~ Normal(" + "(" * 10_000 + "0" + ")" * 10_000 + ", 1)"),
        ("10k nested in a param shape", "param a[" + "(" * 10_000 + "2" + ")" * 10_000 + "]"),
        # right at the nesting limit (100 levels), at statement and block level
        ("99 parentheses", head + "x = " + "(" * 99 + "u" + ")" * 99),
        ("100 unary minus", head + "x = " + "-" * 100 + "u"),
        ("101 unary minus", head + "x = " + "-" * 101 + "u"),
        ("98 brackets in a guide", "guide g {\n" + head + "x = " + "[" * 98 + "u" + "]" * 98 + "\n}"),
        ("99 brackets in a Mix", "x ~ Mix(Normal(±" + "(" * 99 + "1" + ")" * 99 + ", 1))"),
        # numbers
        ("10^400", head + "param a = 10^400\nx = a * u"),
        ("10**400 shape", "param a[10**400]\n"),
        ("1e308*10", head + "param a = 1e308 * 10 : positive\nx = a * u"),
        ("1e400", head + "param a = 1e400\nx = u * 1e400"),
        ("1e-400", head + "param a = 1e-400 : positive\nx = u / 1e-400"),
        ("0^-1", head + "param a = 0^-1\nx = 0^-1 * u"),
        ("1/0", head + "let a = 1/0\nx = a * u"),
        ("(-1)^0.5", head + "param a = (-1)^0.5\nx = u^0.5"),
        ("log(0)", head + "param a = log(0)\nx = log(0) + u"),
        ("400 digits", head + "param a = " + "9" * 400 + "\nx = " + "9" * 400 + " * u"),
        ("400 digits power", head + "x = u^" + "9" * 400),
        ("huge power base", head + "x = " + "9" * 400 + "^u"),
        ("exp of a huge constant", head + "x = exp(1e308) * u + exp(exp(1000))"),
        ("tiny determinant", head + "x = [[1e-200, 0], [0, 1e-200]] · v"),
        ("huge determinant", head + "x = [[1e200, 0], [0, 1e200]] · v"),
        ("overflowing determinant", head + "x = [[1e300, 1e300], [-1e300, 1e300]] · v"),
        ("inv of a huge matrix", head + "x = inv([[1e308, 1e308], [1e308, -1e308]]) · v"),
        # shapes
        ("ragged matrix", head + "x = [[1, 2], [3]] · v"),
        ("empty vectors", head + "param a = []\nparam b = [[]]\nx = [] · v\ny = [[]] · v"),
        ("empty param shape", "param a[]\nparam b[] = 1\nu ~ Normal(a, 1)"),
        ("param a[0]", "param a[0]\nparam b[0] : simplex\nparam c[0, 0] : lower_cholesky\nu ~ Normal(a, 1)"),
        ("param a[1e9]", head + "param a[1e9]\nx = a * u"),
        ("param a[1e300]", head + "param a[1e300]\nparam b[1e300, 1e300]\nx = a + u"),
        ("param a[-1]", "param a[-1]\nparam b[2.5]\nparam c[1e400]\nparam d[0/0]\nu ~ Normal(a, 1)"),
        ("param shape expression", "param a[2 + 1, 3 * 1, 2^1]\nparam b[m]\nparam c[[2]]\n"),
        ("diag of many", head + "let d = diag([" + ", ".join(["1"] * 1000) + "])\nx = d · v"),
        ("big constant matrix", head + "x = [" + ", ".join(["[" + ", ".join(["1"] * 120) + "]"] * 120) + "] · v"),
        ("big singular matrix", head + "x = inv([" + ", ".join(["[" + ", ".join(["0"] * 60) + "]"] * 60) + "]) · v"),
        ("MVN odd shapes", "u ~ MultivariateNormal([], covariance_matrix=[[]])\n"
                           "w ~ MultivariateNormal([0, 0], scale_tril=[[1, 0], [0]])\n"
                           "z ~ LowRankMultivariateNormal([0], [[]], [1])"),
        ("Mix odd shapes", "a ~ Mix([], Normal([], 1))\nb ~ Mix([1], Normal([0], 1))\nc ~ Mix(Normal(±[], 1))"),
        # names
        ("keyword and dunder names", "param class = 1\nparam __x = 2\n__import__ ~ Normal(0, 1)\n"
                                     "let lambda = 3\n[__a, def] = [1, 2]\nguide __g(__y) { }"),
        ("module names", "param dist = 0\nparam jnp = 1 : positive\nnumpyro ~ Normal(dist, jnp)\n"
                         "_rot ~ Normal(0, 1)\nl ~ Normal(0, 1)\nI = exp(l)\nO = 2 * _rot"),
        ("registry names as values", "param Normal = 1\nexp ~ Normal(0, 1)\nlet positive = 2\nx = Mix + factor"),
    ]
    # statement counts and repeated structure
    cases.append(("10,000 statements", "param m = 0.0; param s = 1.0 : positive\n" + "".join(
        f"u{i} ~ Normal(m, s)\nx{i} = m + s * u{i}\n" for i in range(5_000))))
    cases.append(("10,000 errors", "".join(f"x{i} ~ Normal(0,\n" for i in range(10_000))))
    cases.append(("10,000 undefined names", "".join(f"x{i} ~ Normal(q{i}, 1)\n" for i in range(10_000))))
    cases.append(("1,000 guides", "".join(f"guide g{i}(d) {{\n  param m = 0\n  u ~ Normal(m, 1)\n  x = exp(u)\n}}\n"
                                          for i in range(1_000))))
    cases.append(("1,000 guides one name", "".join("guide g { u ~ Normal(0, 1) }\n" for _ in range(1_000))))
    cases.append(("1,000 redefinitions", "".join("param m = 0\n" for _ in range(1_000))))
    cases.append(("chain of 2,000 transforms", "param m = 0.0\nu0 ~ Normal(m, 1)\n" + "".join(
        f"u{i + 1} ~ Normal(m, 1)\nx{i} = exp(u{i})\n" for i in range(2_000))))
    cases.append(("2,000 chained latents", "param m = 0.0\nu ~ Normal(m, 1)\nx0 = exp(u)\n" + "".join(
        f"x{i + 1} = exp(x{i})\n" for i in range(2_000))))
    # let chains: linear (deep after substitution) and doubling (exponential after substitution)
    for op in ("a{i} + 1", "2 * a{i}", "exp(a{i})", "-a{i}", "[a{i}, 1] · [1, 0]", "a{i}'"):
        cases.append((f"2,000 lets: {op}", "param m = 0.0\nu ~ Normal(m, 1)\nlet a0 = u\n" + "".join(
            f"let a{i + 1} = {op.format(i=i)}\n" for i in range(2_000)) + "x = a2000"))
    for n in (20, 40):
        cases.append((f"{n} doubling lets of a draw", "param m = 0.0\nu ~ Normal(m, 1)\nlet a0 = u\n" + "".join(
            f"let a{i + 1} = a{i} + a{i}\n" for i in range(n)) + f"x = a{n}"))
        cases.append((f"{n} doubling lets in a vector", "param m = 0.0\nu ~ Normal([m, m], 1)\nlet a0 = u\n" +
                      "".join(f"let a{i + 1} = exp(a{i}) * a{i}\n" for i in range(n)) + f"x = a{n}"))
        cases.append((f"{n} doubling constant lets", "let a0 = [1.0, 2.0]\n" + "".join(
            f"let a{i + 1} = [a{i}, a{i}]\n" for i in range(n)) + f"let b = a{n} + 1\nparam p = a{n} : simplex\n"))
        cases.append((f"{n} doubling scalar lets", "let a0 = 1.0\n" + "".join(
            f"let a{i + 1} = a{i} + a{i}\n" for i in range(n)) + f"param p[a{n}]\nparam q = a{n} : positive\n"))
        cases.append((f"{n} doubling matrix lets", head + "let M0 = [[1, 2], [3, 4]]\n" + "".join(
            f"let M{i + 1} = M{i} · M{i}\n" for i in range(n)) + f"x = M{n} · v"))
        cases.append((f"{n} doubling matrix lets of a param", head + "param A = [[1, 2], [3, 4]]\nlet M0 = A\n" +
                      "".join(f"let M{i + 1} = M{i} · M{i}'\n" for i in range(n)) + f"x = M{n} · v"))
    cases.append(("2,000 matrix lets", head + "let M0 = [[1, 2], [3, 4]]\n" + "".join(
        f"let M{i + 1} = M{i}'\n" for i in range(2_000)) + "x = M2000 · v"))
    cases.append(("2,000 constant lets", "let a0 = 1.0\n" + "".join(
        f"let a{i + 1} = a{i} + 1\n" for i in range(2_000)) + "param p = a2000 : positive\nu ~ Normal(p, 1)"))
    return cases


__all__ = [
    "HEAVY", "MICROSECONDS_PER_CHAR", "TIME_BOUND", "Chooser", "HypothesisChooser", "RandomChooser", "mutate",
    "problems", "program", "seeds", "special_cases", "split_tokens", "tame_program", "time_bound",
]
