"""``vgc lsp``: a language server for VG over stdio (pygls 2).

Features: diagnostics on open and change (full document sync; cleared on close), with a model also those of
``vgc check --model`` (the model named by a ``# vg: model=FILE.py:FUNCTION data=DATA`` comment in the document,
else by the client's settings), hover (distributions, functions, constraints and keywords from
:mod:`vgc.registry`; the params, draws, lets, networks and model arguments of the guide; on a site its batch
shape, event shape and support; for a transformed latent its log-Jacobian; a plate's size, subsample and dim),
completion, and whole-document formatting with :func:`vgc.fmt.format_source`.

One module per concern, each pure (text in, ``lsprotocol`` values out) except the last:

- :mod:`~vgc.lsp.positions` — the compiler's positions and LSP's, in each position encoding;
- :mod:`~vgc.lsp.models` — which model to check against (``# vg:`` comment or settings) and its cached trace;
- :mod:`~vgc.lsp.check` — a document's diagnostics, the compiler's and the model check's;
- :mod:`~vgc.lsp.registry_docs` — what the names VG knows mean, as Markdown;
- :mod:`~vgc.lsp.cursor` — the word and the guide block at the cursor;
- :mod:`~vgc.lsp.hover_text` and :mod:`~vgc.lsp.sites` — hover text (plates and site shapes in the latter);
- :mod:`~vgc.lsp.completion` — completion;
- :mod:`~vgc.lsp.server` — formatting and the pygls server, the only part that needs pygls.

This package re-exports the names the command line and the tests use as ``vgc.lsp.NAME``. They are bound
here by value: to replace one (a test's monkeypatch), patch the module that reads it, not ``vgc.lsp``.
Importing the package imports ``lsprotocol`` but neither pygls nor jax; ``vgc check`` never imports it.
"""

from __future__ import annotations

from .. import registry as R  # the tests compare completions with the registry as `lsp.R`
from .check import diagnostics, lsp_diagnostic, model_diagnostics
from .completion import bracket_context, completions, names_in_scope
from .cursor import Word, guide_at, word_at
from .hover_text import hover, log_jacobian_text, net_markdown, symbol_markdown, transform_markdown
from .models import (
    MODELS,
    PRAGMA_KEYS,
    ModelCache,
    ModelSettings,
    client_settings,
    find_pragma,
    from_settings,
)
from .positions import (
    UTF8,
    UTF16,
    UTF32,
    Source,
    decode_column,
    encode_column,
    end_position,
    from_position,
    to_position,
    to_range,
)
from .registry_docs import (
    KEYWORD_DOCS,
    LEN_DOC,
    MIX_DOC,
    NETWORK_DOCS,
    PLATE_OPTION_DOCS,
    constraint_markdown,
    dist_markdown,
    func_markdown,
    registry_markdown,
)
from .server import build_server, formatting, serve
from .sites import plate_markdown, site_shape_text, support_text

__all__ = [
    "KEYWORD_DOCS",
    "LEN_DOC",
    "MIX_DOC",
    "MODELS",
    "NETWORK_DOCS",
    "PLATE_OPTION_DOCS",
    "PRAGMA_KEYS",
    "UTF8",
    "UTF16",
    "UTF32",
    "ModelCache",
    "ModelSettings",
    "R",
    "Source",
    "Word",
    "bracket_context",
    "build_server",
    "client_settings",
    "completions",
    "constraint_markdown",
    "decode_column",
    "diagnostics",
    "dist_markdown",
    "encode_column",
    "end_position",
    "find_pragma",
    "formatting",
    "from_position",
    "from_settings",
    "func_markdown",
    "guide_at",
    "hover",
    "log_jacobian_text",
    "lsp_diagnostic",
    "model_diagnostics",
    "names_in_scope",
    "net_markdown",
    "plate_markdown",
    "registry_markdown",
    "serve",
    "site_shape_text",
    "support_text",
    "symbol_markdown",
    "to_position",
    "to_range",
    "transform_markdown",
    "word_at",
]
