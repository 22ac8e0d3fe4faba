"""A Pygments lexer for VG (``pygmentize -l vg``, ``*.vg``, Sphinx/MkDocs code blocks).

Registered through the ``pygments.lexers`` entry point (``pip install 'vgc[pygments]'``). Importing
this module imports :mod:`vgc.registry` and Pygments, never jax or lark.

The word lists and operator spellings come from :func:`vgc.registry.highlight_words` and
:data:`vgc.registry.OPERATORS`, the same source as the editors' grammars: the lexer names no VG word
itself. ``NAME`` and ``NUMBER`` are the patterns of ``grammar/vg.lark`` (``tests/test_pygments.py``
checks they stay equal and that the lexer splits every example into the same tokens as the compiler).

Token types:

- ``param``, ``let``, ``guide`` (registry class ``keyword``): ``Keyword.Declaration`` — each one
  declares a name. A keyword only when spelled exactly so, as in the compiler (a fullwidth ``ｐａｒａｍ``
  is a name, which the checker rejects).
- the guide's name in ``guide NAME(`` / ``guide NAME {``: ``Name.Function`` (the guide is a Python
  function). Recognised by its shape — a keyword, a name, then ``(`` or ``{`` — as in the grammar's
  ``guide_head``.
- distributions, ``Mix`` included (``distribution``): ``Name.Class`` — they are NumPyro distribution
  classes, and a different token from the functions lets a style tell ``Normal(…)`` from ``exp(…)``.
- functions (``function``): ``Name.Builtin``.
- constraints (``constraint``): ``Name.Constant``.
- ``factor`` and the improper and discrete families (``invalid``): ``Name.Exception``, which styles
  show prominently. They are valid tokens, so they are deliberately not ``Error``: the checker rejects
  them (VG301, VG303, VG304) with an explanation, the lexer only flags them.
- other names, Unicode ones included (``θ``, ``σ1``, ``sig1_q``): ``Name``. Names are classified after
  NFKC normalization, like the compiler reads them, so a fullwidth ``Ｎｏｒｍａｌ`` is a distribution;
  a word is classified whole, so ``Normalize`` and ``my_exp`` are plain names.
- ``~ ± +- · @ ^ ** ' + - * / = :``: ``Operator``, longest spelling first (``+-`` and ``**`` are one
  token, as in the compiler).
- numbers: ``Number.Integer`` (``12``) or ``Number.Float`` (``1.0``, ``.5``, ``2.``, ``1e-3``).
- ``( ) [ ] { } , ;``: ``Punctuation``; ``# ...``: ``Comment.Single``; spaces, tabs, form feeds and
  newlines: ``Whitespace``.
- any other character (``$``, ``"``, a backslash, a zero-width joiner, U+2028 outside a comment):
  ``Error`` — the compiler rejects it too (VG102).

Leading blank lines are kept (``stripnl`` defaults to False), so token positions match the file's.
"""

from __future__ import annotations

import re
import unicodedata
from typing import ClassVar

from pygments.lexer import RegexLexer, bygroups
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, Punctuation, Whitespace

from .registry import OPERATORS, highlight_words

__all__ = ["CLASS_TOKENS", "NAME", "NUMBER", "VgLexer"]

# grammar/vg.lark, verbatim.
NAME = r"[^\W\d]\w*"
NUMBER = r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"

# Token type of each class of highlight_words().
CLASS_TOKENS = {
    "keyword": Keyword.Declaration,
    "distribution": Name.Class,
    "function": Name.Builtin,
    "constraint": Name.Constant,
    "invalid": Name.Exception,
}

_WORDS = highlight_words()
_KEYWORDS = frozenset(_WORDS.get("keyword", ()))
# Every other class, looked up by the NFKC form of a name. A class the lexer does not know yet
# (added to the registry later) is highlighted as a plain Name rather than breaking Pygments.
_NAMED = {word: CLASS_TOKENS.get(cls, Name) for cls, words in _WORDS.items() if cls != "keyword" for word in words}

_KEYWORD_RE = "|".join(re.escape(k) for k in sorted(_KEYWORDS, key=lambda k: (-len(k), k)))
_OPERATOR_RE = "|".join(
    re.escape(op) for op in sorted({op for ops in OPERATORS.values() for op in ops}, key=lambda s: (-len(s), s))
)


def _name_token(word: str):
    if word in _KEYWORDS:
        return CLASS_TOKENS["keyword"]
    return _NAMED.get(unicodedata.normalize("NFKC", word), Name)


def _name(lexer, match):
    word = match.group()
    yield match.start(), _name_token(word), word


def _number(lexer, match):
    text = match.group()
    yield match.start(), Number.Float if any(c in text for c in ".eE") else Number.Integer, text


class VgLexer(RegexLexer):
    """Lexer for VG, the variational-guide language of vgc."""

    name = "VG"
    aliases: ClassVar[list[str]] = ["vg"]
    filenames: ClassVar[list[str]] = ["*.vg"]
    mimetypes: ClassVar[list[str]] = ["text/x-vg"]

    tokens: ClassVar[dict] = {
        "root": [
            (r"[ \t\f]+", Whitespace),
            (r"\n", Whitespace),
            (r"#[^\r\n]*", Comment.Single),
            # guide_head: a keyword, then a name followed by `(` or `{`: the guide's name.
            (
                rf"({_KEYWORD_RE})([ \t\f]+)(?!(?:{_KEYWORD_RE})(?!\w))({NAME})(?=[ \t\f]*[({{])",
                bygroups(CLASS_TOKENS["keyword"], Whitespace, Name.Function),
            ),
            (NAME, _name),
            (NUMBER, _number),
            (_OPERATOR_RE, Operator),
            (r"[()\[\]{},;]", Punctuation),
            (r".", Error),  # also what Pygments does by itself; explicit so every character is covered
        ],
    }

    def __init__(self, **options):
        options.setdefault("stripnl", False)
        super().__init__(**options)
