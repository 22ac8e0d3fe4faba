"""The model to check a guide against: which one (a ``# vg:`` comment or the client's settings) and its trace.

``vgc check --model`` in the editor needs a model; the document names one in a comment
``# vg: model=FILE.py:FUNCTION data=DATA guide=NAME`` (:func:`find_pragma`), else the client's settings do
(:func:`client_settings`, :func:`from_settings`). Loading a model runs the user's code and, the first time,
imports jax, which takes seconds: :class:`ModelCache` does it once per model until a file changes, and
nothing here imports :mod:`vgc.modelcheck` until a model is actually loaded, so documents without a model
never pay for jax. Turning the check's findings into diagnostics is :mod:`vgc.lsp.check`'s job.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .. import nodes as N
from .positions import Source

# `# vg: model=FILE.py:FUNCTION data=DATA guide=NAME`: a comment (the first `#` of a line starts one).
_PRAGMA = re.compile(r"#\s*vg:(?P<rest>.*)")
_PRAGMA_ITEM = re.compile(r'\s*(?P<key>[^\W\d]\w*)=(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s"]+))(?=\s|$)')
PRAGMA_KEYS = ("model", "data", "guide")


@dataclass(frozen=True)
class ModelSettings:
    """Where the model to check against comes from: the document's pragma (``span`` its comment) or the
    client's settings (``span`` None). Paths are as written: relative ones are relative to the document's
    folder."""

    model: str | None  # FILE.py:FUNCTION
    data: str | None = None  # a .json or .npz of keyword arguments
    guide: str | None = None  # the guide to check, when the file has several
    span: N.Span | None = None
    problems: tuple[str, ...] = ()  # what the pragma's text gets wrong


def find_pragma(source: Source) -> ModelSettings | None:
    """The first ``# vg:`` comment of the document, read; None when there is none."""
    for i, line in enumerate(source.lines):
        at = line.find("#")
        m = _PRAGMA.match(line, at) if at >= 0 else None
        if m is not None:
            return _read_pragma(m.group("rest"), N.Span(i + 1, at + 1, i + 1, len(line) + 1))
    return None


def _read_pragma(rest: str, span: N.Span) -> ModelSettings:
    values: dict[str, str] = {}
    problems: list[str] = []
    rest, pos = rest.rstrip(), 0
    while pos < len(rest):
        m = _PRAGMA_ITEM.match(rest, pos)
        if m is None:
            problems.append(f"cannot read '{rest[pos:].split()[0]}': write KEY=VALUE, a value with spaces in "
                            "double quotes")
            break
        key, value = m.group("key"), m.group("quoted") if m.group("quoted") is not None else m.group("bare")
        if key not in PRAGMA_KEYS:
            problems.append(f"unknown key '{key}' (the keys are {', '.join(PRAGMA_KEYS)})")
        elif key in values:
            problems.append(f"'{key}' is given twice")
        else:
            values[key] = value
        pos = m.end()
    if not values.get("model"):
        values.pop("model", None)
        problems.append("it names no model: `# vg: model=FILE.py:FUNCTION data=DATA.json`")
    return ModelSettings(values.get("model"), values.get("data") or None, values.get("guide") or None, span,
                         tuple(problems))


def client_settings(options) -> dict[str, str | None] | None:
    """``{"model": ..., "data": ...}`` from ``initializationOptions`` (flat, or under ``"vg"``) or the
    settings of ``workspace/didChangeConfiguration`` (under ``"vg"``); None when they say nothing about VG.
    Values that are not non-empty strings count as unset."""
    if not isinstance(options, dict):
        return None
    section = options.get("vg") if isinstance(options.get("vg"), dict) else options
    if "vg" not in options and not {"model", "data"} & set(section):
        return None
    values = {k: section.get(k) for k in ("model", "data")}
    return {k: v if isinstance(v, str) and v.strip() else None for k, v in values.items()}


def from_settings(settings: dict | None) -> ModelSettings | None:
    """The model the client's settings name, or None."""
    if not settings or not settings.get("model"):
        return None
    return ModelSettings(settings["model"], settings.get("data"))


def _stamp(path: str | None) -> tuple[int, int] | None:
    """``(mtime_ns, size)`` of a file; None when there is none."""
    try:
        st = os.stat(path) if path is not None else None
    except OSError:
        return None
    return None if st is None else (st.st_mtime_ns, st.st_size)


class ModelCache:
    """Models loaded and traced once per (model file, function, data file) and their modification times.

    The model is the user's code: importing and tracing it (and importing jax, the first time) is slow and
    may fail, so each is done once until a file changes; a failure is remembered as its message.
    """

    def __init__(self):
        self._entries: dict[tuple, tuple] = {}
        self.loads = 0  # imports and traces done (for tests)

    def load(self, model_path: str, func: str, data_path: str | None):
        """``(function, data, traced)``; raises :class:`vgc.modelcheck.ModelError`."""
        from .. import modelcheck as MC

        key = (model_path, func, data_path)
        stamp = (_stamp(model_path), _stamp(data_path))
        entry = self._entries.get(key)
        if entry is None or entry[0] != stamp:
            self.loads += 1
            try:
                value = self._load(model_path, func, data_path)
            except MC.ModelError as e:
                value = str(e)
            self._entries[key] = entry = (stamp, value)
        if isinstance(entry[1], str):
            raise MC.ModelError(entry[1])
        return entry[1]

    @staticmethod
    def _load(model_path: str, func: str, data_path: str | None):
        from .. import modelcheck as MC
        from ..data import load_data

        fn = MC.load_model(f"{model_path}:{func}")
        data = load_data(data_path) if data_path else {}
        return fn, data, MC.trace_model(fn, (), data)


MODELS = ModelCache()  # the server's (one per process)


def _resolve(path: str, folder: str) -> str:
    path = os.path.expanduser(path)
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(folder, path))


def _split_model(spec: str) -> tuple[str, str] | None:
    path, sep, func = spec.strip().rpartition(":")
    return (path, func) if sep and path and func.isidentifier() else None
