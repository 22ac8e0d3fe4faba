"""Phase 5 (embedded): run generated code and hand back a NumPyro guide.

Only text produced by :func:`vgc.codegen.generate` from a checked AST is
executed, in a fresh namespace whose only builtin is an import hook limited to
jax and numpyro. An empty ``__builtins__`` alone does not confine code
(``().__class__.__base__.__subclasses__()`` reaches ``os``), so the module is
also checked before it runs: only the statement and expression forms the
generator writes, no ``__dunder__`` names or attributes, no free names.
"""

from __future__ import annotations

import ast
from pathlib import Path

from . import compiler
from .diagnostics import Diagnostic, render

# `sys` and numpyro.contrib.module: `_module` (a `module(ARG)` network) finds the framework that made ARG
_ALLOWED_IMPORTS = {"jax", "jax.numpy", "numpyro", "numpyro.distributions", "numpyro.contrib.module", "sys"}
# `int`: a slice's or a layer's size from guide arguments; the others `_module`'s
_BUILTINS = {"int": int, "isinstance": isinstance, "TypeError": TypeError}


class CompileError(Exception):
    """Raised when VG source has errors; ``diagnostics`` lists them, ``str()`` is the rendered report."""

    def __init__(self, diagnostics: list[Diagnostic], source: str):
        self.diagnostics = diagnostics
        self.source = source
        super().__init__(render(diagnostics, source).rstrip("\n"))


class Guide:
    """A compiled guide: call it like the hand-written function (``SVI(model, guide, ...)``)."""

    def __init__(self, fn, name: str, source: str, vg_source: str, warnings: list[Diagnostic],
                 result: compiler.Result | None = None, file: str = "<vg>"):
        self._fn = fn
        self.name = name
        self.source = source  # the generated Python
        self.vg_source = vg_source
        self.warnings = warnings
        self.__name__ = name
        self.__doc__ = fn.__doc__
        self._result = result
        self._file = file

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def check_model(self, model, *args, **kwargs) -> list[Diagnostic]:
        """The diagnostics of this guide against ``model`` called with ``args`` and ``kwargs`` (as SVI will
        call both): missing and unknown sites, shapes, plates and supports (see :mod:`vgc.modelcheck`).

        Raises :class:`vgc.modelcheck.ModelError` when the model itself fails to run.
        """
        from . import modelcheck

        return modelcheck.check(self._result, model, args, kwargs, name=self.name, file=self._file)

    def _sites(self):
        from .ir import sites

        return sites(self._result.irs[list(self._result.guides).index(self.name)])

    @property
    def param_names(self) -> list[str]:
        """The NumPyro names of the guide's params (``as "SITE"`` where given), in the order the VG source declares
        them."""
        from .ir import SiteKind

        return [s.site for s in self._sites() if s.kind is SiteKind.PARAM]

    @property
    def latent_names(self) -> list[str]:
        """The NumPyro names of the sites this guide gives the model: its draws and transformed latents, not its
        auxiliary draws."""
        from .ir import SiteKind

        return [s.site for s in self._sites() if s.kind is not SiteKind.PARAM and not s.auxiliary]

    def sample(self, params: dict, n: int = 1000, key=None, *args, **kwargs) -> dict:
        """``n`` draws of the sites this guide gives the model (not its auxiliary draws), at ``params``
        (constrained values by param name, e.g. ``vgc.fit(...).params``); each has a leading axis ``n``.

        ``args`` and ``kwargs`` are the model's, as SVI passes them to the guide; ``key`` defaults to
        ``jax.random.PRNGKey(0)``.
        """
        import jax
        from numpyro.infer import Predictive

        key = jax.random.PRNGKey(0) if key is None else key
        draws = Predictive(self._fn, params=dict(params), num_samples=int(n), return_sites=self.latent_names)
        return draws(key, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<vgc.Guide {self.name}>"

    def _repr_html_(self) -> str:
        """Jupyter's display: the VG source highlighted, and the generated code (see :mod:`vgc.notebook`)."""
        from .notebook import guide_html

        return guide_html(self)


def _restricted_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level != 0 or name not in _ALLOWED_IMPORTS:
        raise ImportError(f"generated guides may import only {sorted(_ALLOWED_IMPORTS)}, not {name!r}")
    return __import__(name, globals, locals, fromlist, level)


# Everything codegen writes: defs, assignments, returns, calls, arithmetic, literals, subscripts, plates.
_ALLOWED_NODES = (
    ast.Module, ast.Expr, ast.Import, ast.ImportFrom, ast.alias, ast.FunctionDef, ast.arguments, ast.arg,
    ast.Assign, ast.Return, ast.Name, ast.Load, ast.Store, ast.Attribute, ast.Call, ast.keyword, ast.Constant,
    ast.BinOp, ast.UnaryOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.MatMult, ast.Pow, ast.USub, ast.UAdd,
    ast.Tuple, ast.List, ast.Dict, ast.Subscript, ast.Slice, ast.With, ast.withitem, ast.Pass,
    ast.If, ast.BoolOp, ast.Or, ast.Compare, ast.Is, ast.GtE, ast.Eq,  # `_subsample`
    ast.And, ast.IsNot, ast.Raise,  # `_module`
)  # fmt: skip


def _confined(code: str, filename: str) -> ast.Module:
    """Parse generated code and refuse anything the generator never writes (a generator bug)."""
    tree = ast.parse(code, filename)
    bound = {"args", "kwargs", *_BUILTINS}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.arg)):
            bound.add(node.name if isinstance(node, ast.FunctionDef) else node.arg)
        elif isinstance(node, ast.alias):
            bound.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
    for node in ast.walk(tree):
        bad = not isinstance(node, _ALLOWED_NODES)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            if getattr(node, "level", 0) or any(m not in _ALLOWED_IMPORTS for m in mods):
                raise ImportError(f"generated guides may import only {sorted(_ALLOWED_IMPORTS)}, not {mods}")
        elif isinstance(node, ast.Name):
            if node.id not in bound:
                raise NameError(f"name {node.id!r} is not defined by the generated code")
            bad = node.id.startswith("__")
        elif isinstance(node, ast.Attribute):
            bad = node.attr.startswith("__")
        elif isinstance(node, (ast.FunctionDef, ast.arg, ast.keyword)):
            name = node.name if isinstance(node, ast.FunctionDef) else node.arg
            bad = name is not None and name.startswith("__")
        if bad:
            where = f" (line {node.lineno})" if hasattr(node, "lineno") else ""
            raise RuntimeError(f"vgc internal error: generated code contains {ast.dump(node)[:80]}{where}; not run")
    return tree


def _execute(code: str, filename: str) -> dict:
    namespace: dict = {"__builtins__": {"__import__": _restricted_import, **_BUILTINS}, "__name__": "vgc_generated"}
    exec(compile(_confined(code, filename), filename, "exec"), namespace)
    return namespace


def compile_checked(source: str, file: str = "<string>") -> compiler.Result:
    """Compile or raise :class:`CompileError`."""
    result = compiler.run(source, file)
    if not result.ok:
        raise CompileError(result.diagnostics, source)
    return result


def guide(source: str, name: str | None = None, *, file: str = "<vg>", model=None, model_args: tuple = (),
          model_kwargs: dict | None = None) -> Guide:
    """Compile VG ``source`` and return the guide called ``name`` (the only one when None).

    With ``model``, the guide is also checked against it (called with ``model_args`` and ``model_kwargs``):
    an error there raises :class:`CompileError` too, and warnings join ``Guide.warnings``.
    """
    result = compile_checked(source, file)
    g = bind(result, source, name, file)
    warnings = g.warnings
    if model is not None:
        found = g.check_model(model, *model_args, **(model_kwargs or {}))
        if any(d.is_error for d in found):
            raise CompileError(sorted(result.diagnostics + found, key=lambda d: (d.span.line, d.span.column)), source)
        g.warnings = warnings + found
    return g


def bind(result: compiler.Result, source: str, name: str | None = None, file: str = "<vg>") -> Guide:
    """The guide called ``name`` (the only one when None) of an already compiled, error-free ``result``."""
    if name is None:
        if len(result.guides) != 1:
            raise ValueError(f"the source defines guides {', '.join(result.guides)}: pass name=")
        name = result.guides[0]
    elif name not in result.guides:
        raise ValueError(f"no guide named {name!r}; the source defines {', '.join(result.guides)}")
    namespace = _execute(result.code, "<vgc:" + file.replace("\0", "\\0") + ">")  # compile() refuses NUL
    from .codegen import function_name

    fn = namespace[function_name(result.guides, name)]
    warnings = [d for d in result.diagnostics if not d.is_error]
    return Guide(fn, name, result.code, source, warnings, result, file)


def read_source(path: str | Path) -> str:
    """Read a .vg file as UTF-8 (a BOM is allowed); raises UnicodeDecodeError or OSError."""
    return Path(path).read_bytes().decode("utf-8-sig")


def load(path: str | Path, name: str | None = None) -> Guide:
    """Compile the ``.vg`` file at ``path`` and return its guide (see :func:`guide`)."""
    return guide(read_source(path), name, file=str(path))
