"""vgc — the VG compiler: variational-guide notation → NumPyro guides.

``check`` and ``compile`` never import jax; ``guide`` and ``load`` do, when the
generated code runs.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .diagnostics import Diagnostic


def __getattr__(name: str):
    # The runtime (and through it codegen) loads on first use, so `vgc check` stays lean.
    if name in ("CompileError", "Guide", "guide", "load"):
        from . import runtime

        return getattr(runtime, name)
    if name in ("fit", "FitResult", "FitError"):
        from . import fitting

        return getattr(fitting, name)
    if name == "ModelError":
        from .modelcheck import ModelError

        return ModelError
    raise AttributeError(f"module 'vgc' has no attribute {name!r}")


def load_ipython_extension(ipython) -> None:
    """``%load_ext vgc``: registers the ``%%vg [NAME]`` cell magic (see :mod:`vgc.notebook`)."""
    from .notebook import load_ipython_extension as load

    load(ipython)


def compile(source: str, file: str = "<string>") -> str:
    """VG source → Python source of the NumPyro guide module; raises :class:`CompileError`."""
    from .runtime import compile_checked

    return compile_checked(source, file).code


def check(source: str, file: str = "<string>") -> list[Diagnostic]:
    """Every diagnostic for ``source`` (errors and warnings) in source order."""
    from .compiler import run

    return run(source, file, generate=False).diagnostics


__all__ = [
    "CompileError", "Diagnostic", "FitError", "FitResult", "Guide", "ModelError", "__version__", "check", "compile",
    "fit", "guide", "load",
]  # fmt: skip
