"""The server: pygls wiring of the pure features; and formatting, one call to :mod:`vgc.fmt`, kept here.

Each handler reads the document from pygls's workspace and calls a pure function of another module
(text in, ``lsprotocol`` values out), so every feature is tested without a server; this module adds only
what needs one: the negotiated position encoding, the client's model settings (kept here, re-checking every
open document when they change), and a guard that logs a handler's exception instead of letting bad input
stop the server. pygls is imported only by :func:`build_server`: the pure features need only ``lsprotocol``.
"""

from __future__ import annotations

import contextlib
import functools
import logging

from lsprotocol import types

from .. import __version__
from .check import diagnostics
from .completion import completions
from .hover_text import hover
from .models import client_settings
from .positions import UTF16, Source, _encoding, end_position

log = logging.getLogger(__name__)


def formatting(text: str, encoding=UTF16) -> list[types.TextEdit]:
    """One edit replacing the whole document by ``vgc fmt``'s layout; none when unchanged or unparsable."""
    from ..fmt import format_source

    result = format_source(text)
    if result.text is None or result.text == text:
        return []
    source = Source.of(text)
    whole = types.Range(start=types.Position(line=0, character=0), end=end_position(source, encoding))
    return [types.TextEdit(range=whole, new_text=result.text)]


def build_server():
    """The pygls ``LanguageServer`` with VG's features registered."""
    from pygls.lsp.server import LanguageServer

    server = LanguageServer("vgc", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)

    def guarded(default=None):
        def wrap(handler):
            @functools.wraps(handler)
            def run(params):
                try:
                    return handler(params)
                except Exception as e:  # never let one request take the server down
                    log.exception("vgc lsp: %s failed", handler.__name__)
                    with contextlib.suppress(Exception):
                        server.window_log_message(
                            types.LogMessageParams(
                                type=types.MessageType.Error,
                                message=f"vgc: {handler.__name__} failed: {type(e).__name__}: {e}",
                            )
                        )
                    return default

            return run

        return wrap

    def encoding():
        return _encoding(server.workspace.position_encoding)

    def path_of(document) -> str:
        return document.path or "<string>"

    settings: dict[str, str | None] = {}  # the client's: model, data

    def publish(uri: str) -> None:
        document = server.workspace.get_text_document(uri)
        diags = diagnostics(document.source, path_of(document), encoding(), settings)
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diags, version=document.version)
        )

    @server.feature(types.INITIALIZE)
    @guarded()
    def on_initialize(params: types.InitializeParams) -> None:
        settings.update(client_settings(params.initialization_options) or {})

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded()
    def on_configuration(params: types.DidChangeConfigurationParams) -> None:
        new = client_settings(params.settings)
        if new is None or new == settings:
            return
        settings.clear()
        settings.update(new)
        for uri in list(server.workspace.text_documents):
            publish(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded()
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded()
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded()
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @guarded()
    def on_hover(params: types.HoverParams) -> types.Hover | None:
        document = server.workspace.get_text_document(params.text_document.uri)
        return hover(document.source, params.position, path_of(document), encoding())

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[":", "~"]))
    @guarded()
    def on_completion(params: types.CompletionParams) -> types.CompletionList | None:
        document = server.workspace.get_text_document(params.text_document.uri)
        return types.CompletionList(is_incomplete=False, items=completions(document.source, params.position,
                                                                           encoding()))

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    @guarded(default=[])
    def on_formatting(params: types.DocumentFormattingParams) -> list[types.TextEdit]:
        document = server.workspace.get_text_document(params.text_document.uri)
        return formatting(document.source, encoding())

    return server


def serve() -> None:
    """Run the server over stdin/stdout until the client disconnects."""
    logging.basicConfig(level=logging.WARNING, format="vgc lsp: %(levelname)s: %(message)s")
    build_server().start_io()
