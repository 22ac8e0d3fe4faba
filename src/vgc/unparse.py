"""AST → canonical VG text (used for the line comments in generated code).

Only validated names, numbers and operators are printed, never raw source text,
so the comments in generated code cannot carry anything the checker has not seen.
"""

from __future__ import annotations

from . import nodes as N

# Binding strength, as in the grammar: larger binds tighter.
_PREC = {"+": 1, "-": 1, "+-": 1, "*": 2, "/": 2, "@": 2, "^": 4}
_UNARY = 3
_SPELL = {"+-": "±", "@": "·"}


def expr(e: N.Expr, parent: int = 0) -> str:
    """Print an expression with the fewest parentheses that keep its meaning."""
    if isinstance(e, N.Number):
        return e.text
    if isinstance(e, N.Name):
        return e.id
    if isinstance(e, N.Vector):
        return "[" + ", ".join(expr(i) for i in e.items) + "]"
    if isinstance(e, N.Call):
        parts = [expr(a) for a in e.args] + [f"{k.name}={expr(k.value)}" for k in e.kwargs]
        return f"{e.func}({', '.join(parts)})"
    if isinstance(e, N.Index):
        return f"{e.name.id}[{e.plate.id}]"
    if isinstance(e, N.Slice) and e.single:
        return f"{expr(e.value, 5)}[{expr(e.start)}]"
    if isinstance(e, N.Slice):
        bounds = (expr(e.start) if e.start is not None else "") + ":" + (expr(e.stop) if e.stop is not None else "")
        return f"{expr(e.value, 5)}[{bounds}]"
    if isinstance(e, N.Transpose):
        return expr(e.operand, 5) + "'"
    if isinstance(e, N.UnaryOp):
        text = _SPELL.get(e.op.op, e.op.op) + expr(e.operand, _UNARY)
        return f"({text})" if parent > _UNARY else text
    if isinstance(e, N.BinOp):
        p = _PREC[e.op.op]
        if e.op.op == "^":  # right-associative
            left, right = expr(e.left, p + 1), expr(e.right, _UNARY)
            text = f"{left}^{right}"
        else:
            left, right = expr(e.left, p), expr(e.right, p + 1)
            text = f"{left} {_SPELL.get(e.op.op, e.op.op)} {right}"
        return f"({text})" if parent > p else text
    raise TypeError(type(e))


def _site(s) -> str:
    return f' as "{s.site.text}"' if s.site is not None else ""


def stmt(s: N.Stmt) -> str:
    """Print one statement on one line (a plate: its header)."""
    if isinstance(s, N.Param):
        text = f"param {s.name}"
        if s.shape is not None:
            text += "[" + ", ".join(expr(d) for d in s.shape) + "]"
        if s.init is not None:
            text += f" = {expr(s.init)}"
        if s.constraint is not None:
            text += f" : {expr(s.constraint)}"
        return text + _site(s)
    if isinstance(s, N.Sample):
        kept = "" if not s.batch else " : batch" + (f"({s.batch_dims})" if s.batch_dims else "")
        return f"{s.name} ~ {expr(s.dist)}{kept}" + _site(s)
    if isinstance(s, N.Assign):
        lhs = ", ".join(t.id for t in s.targets)
        return f"{'[' + lhs + ']' if s.is_list else lhs} = {expr(s.value)}" + _site(s)
    if isinstance(s, N.Let):
        return f"let {s.name} = {expr(s.value)}"
    if isinstance(s, N.Net):
        return f"net {s.name} = {expr(s.spec)}"
    if isinstance(s, N.ExprStmt):
        return expr(s.expr)
    if isinstance(s, N.Plate):
        parts = [expr(s.size) if s.size is not None else "?"] + [f"{o.name}={expr(o.value)}" for o in s.options]
        return f"plate {s.name}({', '.join(parts)})" + _site(s)
    return "<invalid>"
