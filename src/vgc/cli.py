"""Phase 5 (command line): ``vgc compile``, ``check``, ``init``, ``fit``, ``fmt``, ``explain`` and ``lsp``.

Exit status: 0 clean (warnings allowed), 1 when the program has errors (or
``fmt --check`` finds a file to reformat), 2 for usage and I/O errors. A user
mistake never shows a traceback; ``-o`` and ``fmt --write`` write atomically,
only on success. Nothing here imports jax; ``check --model``, ``init`` and ``fit`` load :mod:`vgc.modelcheck`
(and ``fit`` :mod:`vgc.fitting`), which do (and run the user's model).
"""

from __future__ import annotations

import os
import sys
import tempfile
from types import SimpleNamespace

from . import __version__, compiler
from . import diagnostics as D
from .nodes import Span


class _Usage(Exception):
    """An I/O or usage problem (exit 2)."""


def read(path: str) -> tuple[str | None, list[D.Diagnostic]]:
    """The file's text, or a VG100 diagnostic locating the first byte that is not UTF-8."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise _Usage(f"cannot read {path}: {e.strerror or e}") from None
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[start:].decode("utf-8"), []
    except UnicodeDecodeError as e:
        offset = start + e.start  # in the file, BOM included
        before = data[start:offset].decode("utf-8", "replace")
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        d = D.Diagnostic(
            D.INVALID_ENCODING.code,
            D.ERROR,
            f"invalid UTF-8 byte 0x{data[offset]:02x} at byte offset {offset}",
            Span(line, col, line, col + 1),
            "save the file as UTF-8",
            path,
        )
        return None, [d]


def _shown(path: str) -> str:
    """The file as text for showing the offending line, undecodable bytes replaced."""
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace").removeprefix("\ufeff")


def write_atomic(path: str, text: str | bytes) -> None:
    """Write through a temporary file in the same directory and rename it over ``path``."""
    from pathlib import Path  # not on `vgc check`'s path

    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as e:
        raise _Usage(f"cannot write {path}: {e.strerror or e}") from None
    try:
        binary = isinstance(text, bytes)
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise _Usage(f"cannot write {path}: {e.strerror or e}") from None


def _report(diags: list[D.Diagnostic], source: str | None, stream) -> None:
    if diags:
        stream.write(D.render(diags, source or ""))


def cmd_compile(args) -> int:
    source, diags = read(args.file)
    if source is None:
        _report(diags, _shown(args.file), sys.stderr)
        return 1
    result = compiler.run(source, args.file)
    _report(result.diagnostics, source, sys.stderr)
    if not result.ok:
        return 1
    if args.output:
        write_atomic(args.output, result.code)
    else:
        sys.stdout.write(result.code)
    return 0


def cmd_check(args) -> int:
    source, diags = read(args.file)
    # A bad --model or --data is exit 2 whatever the guide holds: load them before looking at it.
    inputs = _model_inputs(args) if getattr(args, "model", None) is not None else None
    if source is not None:
        result = compiler.run(source, args.file, generate=inputs is not None)
        diags = result.diagnostics
        if inputs is not None and result.ok:
            found = _model_diagnostics(result, args, *inputs)
            diags = sorted(diags + found, key=lambda d: (d.span.line, d.span.column))
    if args.format == "json":
        sys.stdout.write(D.to_json(diags) + "\n")
    else:
        _report(diags, source if source is not None else _shown(args.file), sys.stdout)
        errors = sum(d.is_error for d in diags)
        warnings = len(diags) - errors
        sys.stdout.write(
            f"{args.file}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}\n"
        )
    return 1 if any(d.is_error for d in diags) else 0


def _model_inputs(args):
    """The model function and its keyword arguments from ``--model``, ``--data`` and ``--arg`` (exit 2 on a
    problem). Imported here, not at the top: :mod:`vgc.data` loads jax, which plain ``vgc check`` never does."""
    from .data import load_data, parse_args, with_args
    from .modelcheck import ModelError, load_model

    try:
        extra = parse_args(getattr(args, "arg", None))  # the cheapest mistakes first: before importing the model
        model = load_model(args.model)
        data = with_args(load_data(args.data) if args.data else {}, extra, args.data)
    except ModelError as e:
        raise _Usage(str(e)) from None
    return model, data


def _model_diagnostics(result, args, model, data: dict) -> list[D.Diagnostic]:
    from .modelcheck import ModelError, check

    try:
        return check(result, model, (), data, name=args.guide, file=args.file)
    except ModelError as e:
        raise _Usage(str(e)) from None


def cmd_init(args) -> int:
    from .init import ModelError, write_guide

    model, data = _model_inputs(args)
    try:
        text = write_guide(model, (), data, name=args.name, source=args.model, amortize=args.amortize)
    except ModelError as e:
        raise _Usage(str(e)) from None
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_fit(args) -> int:
    """``vgc fit``: check the guide against the model, fit it (and the autoguides named), report."""
    from . import fitting

    compare = [n.strip() for n in (args.compare or "").split(",") if n.strip()]
    settings = fitting.Settings(args.steps, args.lr, args.decay, args.optimizer, args.particles, args.elbo,
                                args.seed, args.eval_particles)
    try:
        fitting.validate(settings, compare)
    except fitting.FitError as e:
        raise _Usage(str(e)) from None
    nuts = _diagnostic_options(args, fitting)
    if args.plot:
        from .plot import PlotUnavailable, require

        try:
            require()
        except PlotUnavailable as e:
            raise _Usage(f"--plot: {e}") from None
    model, data = _model_inputs(args)
    source, diags = read(args.file)
    if source is None:
        _report(diags, _shown(args.file), sys.stderr)
        return 1
    result = compiler.run(source, args.file)
    if result.ok:
        diags = sorted(result.diagnostics + _model_diagnostics(result, args, model, data),
                       key=lambda d: (d.span.line, d.span.column))
    else:
        diags = result.diagnostics
    json_mode = args.format == "json"
    if any(d.is_error for d in diags):
        if json_mode:
            sys.stdout.write(D.to_json(diags) + "\n")
        else:
            _report(diags, source, sys.stderr)
        sys.stderr.write(f"vgc: not fitting {args.file}: fix the errors above first\n")
        return 1
    if not json_mode:
        _report(diags, source, sys.stderr)  # the warnings
    from .runtime import bind

    guide = bind(result, source, args.guide, args.file)  # the model check refused an ambiguous or unknown name
    try:
        goal = fitting.objective(guide, model, (), data, args.elbo)  # TraceEnum_ELBO for an enumerating model
        fitting.check_compare(goal, compare)
        fitting.reference_settings(nuts, goal)  # NUTS cannot run on a subsampled plate: said before any fit
    except fitting.FitError as e:
        raise _Usage(str(e)) from None
    note = goal.note
    if note and not json_mode:
        sys.stderr.write(f"vgc: {note}\n")
    progress = "none" if json_mode else "bar" if sys.stderr.isatty() else "lines"
    name = guide.name
    try:
        fitted = fitting.fit_guide(guide, model, (), data, settings, progress, goal)
        for name in compare:
            if fitting.interrupted(fitted):  # one Ctrl-C ends the comparison, with what was fitted so far
                break
            fitted.compare.append(fitting.fit_autoguide(name, model, (), data, settings, progress, goal))
        if nuts is not None and not fitting.interrupted(fitted):
            from .reference import run

            name = "NUTS"
            fitted.reference = run(model, (), data, nuts, progress)
    except Exception as e:  # the user's model under SVI: one line, not a traceback
        from .modelcheck import _one_line

        sys.stderr.write(f"vgc: error: {'running' if name == 'NUTS' else 'fitting'} {name} raised {_one_line(e)}\n")
        return 1
    if fitted.reference is not None and not json_mode:
        for w in fitted.reference.warnings:
            sys.stderr.write(f"vgc: warning: {w}\n")
    try:  # built before anything is written: a model Predictive cannot replay leaves no files behind
        built = _build_samples(fitted, args.samples) if args.samples else []
    except _BuildFailed as e:
        sys.stderr.write(f"vgc: error: {e}\n")
        return 1
    if args.out:
        write_atomic(args.out, fitting.npz_bytes(fitted.params, fitted.discrete))
    samples = _write_samples(built)
    try:
        plots = fitted.plot(args.plot) if args.plot else []
    except OSError as e:
        raise _Usage(f"cannot write the plots into {args.plot}: {e.strerror or e}") from None
    if json_mode:
        out = fitting.summary(fitted, args.model, plots, samples)
        out["diagnostics"] = [d.to_json() for d in diags]
        out["elbo_note"] = note
        import json

        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(fitting.report(fitted))
        for path in ([args.out] if args.out else []) + samples + plots:
            sys.stdout.write(f"wrote {path}\n")
    if fitted.stopped is not None:
        if json_mode:
            sys.stderr.write(f"vgc: {fitted.name}: {fitted.stopped.message}\n")
        return 1
    return 0


def _diagnostic_options(args, fitting):
    """The NUTS settings of ``--reference nuts`` (or None), after checking ``--samples`` and ``--reference``
    can run: both need ArviZ (exit 2 saying how to install it), and ``--samples`` a folder to write into."""
    from . import diagnose

    wanted = [o for o, v in (("--samples", args.samples), ("--reference nuts", args.reference)) if v]
    why = diagnose.missing() if wanted else None
    if why:
        raise _Usage(f"{' and '.join(wanted)} {why}")
    if args.samples:
        folder = os.path.dirname(os.path.abspath(args.samples))
        if not os.path.isdir(folder):
            raise _Usage(f"cannot write {args.samples}: no folder {folder}")
    given = [f"--nuts-{f}" for f in ("chains", "warmup", "draws") if getattr(args, f"nuts_{f}") is not None]
    if not args.reference:
        if given:
            raise _Usage(f"{given[0]} needs --reference nuts")
        return None
    from .reference import NUTS, ReferenceUnavailable, validate

    default = NUTS()
    chains, warmup, draws = (default.chains if args.nuts_chains is None else args.nuts_chains,
                             default.warmup if args.nuts_warmup is None else args.nuts_warmup,
                             default.draws if args.nuts_draws is None else args.nuts_draws)
    try:
        return validate(NUTS(chains, warmup, draws, args.seed))
    except ReferenceUnavailable as e:
        raise _Usage(str(e)) from None


class _BuildFailed(Exception):
    """The model raised while its InferenceData was built (exit 1, like a model raising during SVI)."""


def _build_samples(fitted, path: str) -> list:
    """``--samples FILE.nc``: (path, InferenceData) for the VG guide (at FILE), each compared autoguide (at
    ``FILE.NAME.nc``) and the NUTS reference (at ``FILE.nuts.nc``)."""
    from .export import reference_inference_data, sibling

    jobs = [(path, fitted.to_inference_data)]
    jobs += [(sibling(path, r.name), r.to_inference_data) for r in fitted.compare]
    if fitted.reference is not None:
        jobs.append((sibling(path, "nuts"), lambda: reference_inference_data(fitted.reference)))
    built = []
    for target, build in jobs:
        try:
            built.append((target, build()))
        except Exception as e:  # the user's model under Predictive: one line, not a traceback
            from .modelcheck import _one_line

            raise _BuildFailed(f"--samples: building {target} raised {_one_line(e)}") from None
    return built


def _write_samples(built: list) -> list[str]:
    """Write each (path, InferenceData) atomically; the paths written."""
    from .export import write_netcdf

    for target, data in built:
        try:
            write_netcdf(data, target)
        except OSError as e:
            raise _Usage(f"cannot write {target}: {e.strerror or e}") from None
    return [target for target, _ in built]


def cmd_fmt(args) -> int:
    from .fmt import format_source

    status = 0
    for path in args.files:
        source, diags = read(path)
        if source is None:
            _report(diags, _shown(path), sys.stderr)
            status = 1
            continue
        result = format_source(source, args.spelling, path)
        if result.text is None:
            _report(result.diagnostics, source, sys.stderr)
            sys.stderr.write(f"vgc: {path} was not formatted: fix the errors above first\n")
            status = 1
        elif args.check:
            if result.text != source:
                sys.stderr.write(f"would reformat {path}\n")
                status = 1
        elif args.write:
            if result.text != source:
                write_atomic(path, result.text)
                sys.stderr.write(f"reformatted {path}\n")
        else:
            sys.stdout.write(result.text)
    return status


def cmd_explain(args) -> int:
    from .explain import main_text

    text, status = main_text(args.code)
    (sys.stdout if status == 0 else sys.stderr).write(text)
    return status


def cmd_lsp(args) -> int:
    try:
        import pygls.lsp.server  # noqa: F401  (pygls 2; it brings lsprotocol)
    except ImportError:
        sys.stderr.write("vgc: error: the language server needs pygls 2: pip install 'vgc[lsp]'\n")
        return 2
    from .lsp import serve

    serve()
    return 0


def build_parser():
    """The ``vgc`` argument parser (an ``argparse.ArgumentParser``)."""
    import argparse

    p = argparse.ArgumentParser(prog="vgc", description="Compile VG variational guides to NumPyro.")
    p.add_argument("--version", action="version", version=f"vgc {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    c = sub.add_parser("compile", help="compile a .vg file to a Python module")
    c.add_argument("file", metavar="FILE.vg")
    c.add_argument("-o", "--output", metavar="OUT.py", help="write here (atomically) instead of stdout")
    c.set_defaults(run=cmd_compile)
    k = sub.add_parser("check", help="report diagnostics without generating code")
    k.add_argument("file", metavar="FILE.vg")
    k.add_argument("--format", choices=("text", "json"), default="text")
    k.add_argument("--model", metavar="FILE.py:FUNCTION", help="also check the guide against this NumPyro model")
    k.add_argument("--data", metavar="DATA", help="the model's keyword arguments: a .npz, .json or .csv file")
    k.add_argument("--arg", action="append", metavar="NAME=VALUE",
                   help="one more keyword argument for the model: an int, float or bool (repeatable)")
    k.add_argument("--guide", metavar="NAME", help="the guide to check against the model (when the file has several)")
    k.set_defaults(run=cmd_check)
    i = sub.add_parser("init", help="write a starting guide for a NumPyro model (AutoNormal's family, as VG)")
    i.add_argument("--model", required=True, metavar="FILE.py:FUNCTION", help="the NumPyro model")
    i.add_argument("--data", metavar="DATA", help="the model's keyword arguments: a .npz, .json or .csv file")
    i.add_argument("--arg", action="append", metavar="NAME=VALUE",
                   help="one more keyword argument for the model: an int, float or bool (repeatable)")
    i.add_argument("--name", metavar="NAME", help="the guide's name (default: the model's name + _guide)")
    i.add_argument("--amortize", action="store_true",
                   help="give the local latents of each subsampled plate their locations and scales from an mlp "
                   "of the datum the plate observes (an amortized guide)")
    i.add_argument("-o", "--output", metavar="OUT.vg", help="write here (atomically) instead of stdout")
    i.set_defaults(run=cmd_init)
    t = sub.add_parser("fit", help="fit a guide to a NumPyro model with SVI (and compare it with autoguides)")
    t.add_argument("file", metavar="GUIDE.vg")
    t.add_argument("--model", required=True, metavar="FILE.py:FUNCTION", help="the NumPyro model")
    t.add_argument("--data", metavar="DATA", help="the model's keyword arguments: a .npz, .json or .csv file")
    t.add_argument("--arg", action="append", metavar="NAME=VALUE",
                   help="one more keyword argument for the model: an int, float or bool (repeatable)")
    t.add_argument("--guide", metavar="NAME", help="the guide to fit (when the file has several)")
    t.add_argument("--steps", type=int, default=2000, help="SVI steps (default: %(default)s)")
    t.add_argument("--lr", type=float, default=0.01, help="the initial step size (default: %(default)s)")
    t.add_argument("--decay", type=float, default=0.1,
                   help="the step size falls geometrically to lr * DECAY at the last step; 1 keeps it constant "
                   "(default: %(default)s)")
    t.add_argument("--optimizer", choices=("adam", "clipped_adam"), default="adam")
    t.add_argument("--particles", type=int, default=1, help="ELBO particles per step (default: %(default)s)")
    t.add_argument("--elbo", choices=("trace", "tracegraph", "traceenum"),
                   help="the training objective (default: traceenum when the model enumerates discrete sites, "
                   "tracegraph for learnable mixture weights, else trace)")
    t.add_argument("--seed", type=int, default=0, help="the random seed (default: %(default)s)")
    t.add_argument("--eval-particles", type=int, default=10_000,
                   help="particles for the final -ELBO estimate (default: %(default)s)")
    t.add_argument("--out", metavar="PARAMS.npz", help="write the fitted params (constrained) here, atomically")
    t.add_argument("--plot", metavar="DIR", help="write PNG plots here (needs matplotlib: pip install 'vgc[plot]')")
    t.add_argument("--compare", metavar="AUTOGUIDES",
                   help="NumPyro autoguides to fit the same way, comma-separated: AutoNormal,AutoMultivariateNormal")
    t.add_argument("--samples", metavar="FILE.nc",
                   help="write the fitted guide's draws, the observed data and replicated data as ArviZ InferenceData "
                   "(netCDF) here, atomically; compared autoguides to FILE.NAME.nc, NUTS to FILE.nuts.nc (needs "
                   "pip install 'vgc[diag]')")
    t.add_argument("--reference", choices=("nuts",),
                   help="also run NUTS on the model and compare every guide's posterior means and s.d.s with it "
                   "(needs pip install 'vgc[diag]')")
    t.add_argument("--nuts-chains", type=int, help="NUTS chains, run one after the other (default: 4)")
    t.add_argument("--nuts-warmup", type=int, help="NUTS warmup steps per chain (default: 1000)")
    t.add_argument("--nuts-draws", type=int, help="NUTS draws kept per chain (default: 1000)")
    t.add_argument("--format", choices=("text", "json"), default="text")
    t.set_defaults(run=cmd_fit)
    f = sub.add_parser("fmt", help="format .vg files in the canonical layout")
    f.add_argument("files", nargs="+", metavar="FILE.vg")
    mode = f.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
    mode.add_argument("--write", action="store_true", help="rewrite changed files in place (atomically)")
    f.add_argument(
        "--spelling",
        choices=("keep", "unicode", "ascii"),
        default="keep",
        help="operators and names as written (default), or normalized to ± · or to +- @",
    )
    f.set_defaults(run=cmd_fmt)
    e = sub.add_parser("explain", help="explain a diagnostic code (e.g. vgc explain VG201)")
    e.add_argument("code", metavar="CODE")
    e.set_defaults(run=cmd_explain)
    s = sub.add_parser("lsp", help="run the language server over stdio (needs pygls: pip install 'vgc[lsp]')")
    s.set_defaults(run=cmd_lsp)
    return p


def _quick_check(argv: list[str]):
    """The arguments of a plain ``vgc check FILE [--format text|json]``, parsed without argparse, else None.

    ``vgc check`` runs on every save in editors and pre-commit hooks: argparse and the modules it
    imports (gettext, locale) cost as much as the rest of vgc's start-up (issue 8). Anything else,
    including every malformed command line, goes to argparse, which also gives the messages.
    """
    forms = {2: (1, None), 4: (1, 3) if argv[2:3] == ["--format"] else (3, 2) if argv[1:2] == ["--format"] else None}
    form = forms.get(len(argv)) if argv[:1] == ["check"] else None
    if form is None:
        return None
    file, fmt = argv[form[0]], argv[form[1]] if form[1] is not None else "text"
    if file.startswith("-") or fmt not in ("text", "json"):
        return None
    return SimpleNamespace(command="check", file=file, format=fmt, model=None, data=None, guide=None, run=cmd_check)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``vgc`` command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _quick_check(argv) or build_parser().parse_args(argv)
    try:
        return args.run(args)
    except _Usage as e:
        sys.stderr.write(f"vgc: error: {e}\n")
        return 2
    except BrokenPipeError:
        return 0
