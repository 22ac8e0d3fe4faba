"""A Pygments lexer for VG (``pygmentize -l vg``, ``*.vg``, Sphinx/MkDocs code blocks).

Registered through the ``pygments.lexers`` entry point (``pip install 'vgc[pygments]'``). Importing
this module imports :mod:`vgc.registry` and Pygments, never jax or lark.

The word lists and operator spellings come from :func:`vgc.registry.highlight_words` and
:data:`vgc.registry.OPERATORS`, the same source as the editors' grammars: the lexer names no VG word
itself. ``NAME`` and ``NUMBER`` are the patterns of ``grammar/vg.lark`` (``tests/test_pygments.py``
checks they stay equal and that the lexer splits every example into the same tokens as the compiler).

Token types:

- ``param``, ``let``, ``guide``, ``plate`` (registry class ``keyword``): ``Keyword.Declaration`` — each
  one declares a name. A keyword only when spelled exactly so, as in the compiler (a fullwidth
  ``ｐａｒａｍ`` is a name, which the checker rejects).
- the guide's name in ``guide NAME(`` / ``guide NAME {``: ``Name.Function`` (the guide is a Python
  function). Recognised by its shape — ``guide``, a name, then ``(`` or ``{`` — as in the grammar's
  ``guide_head``.
- the plate's name in ``plate NAME(``: ``Name.Label`` (a label in its own namespace, like a site name).
- in a plate header's parentheses, an option name followed by ``=`` (registry class ``plate_option``:
  ``subsample``, ``dim``, after NFKC): ``Name.Attribute``. The options are not reserved words, so
  anywhere else (``param dim = 1.0``, ``Normal(dim=0)``, ``plate p(dim)``) they are plain names; keyword
  arguments of distributions (``Normal(loc=0)``) stay plain names as before.
- distributions, ``Mix`` included (``distribution``): ``Name.Class`` — they are NumPyro distribution
  classes, and a different token from the functions lets a style tell ``Normal(…)`` from ``exp(…)``.
- functions, ``len`` included (``function``): ``Name.Builtin``.
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

from pygments.lexer import RegexLexer, bygroups, include
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

from .registry import OPERATORS, highlight_words

__all__ = ["CLASS_TOKENS", "CONTEXT_CLASSES", "NAME", "NUMBER", "VgLexer"]

# grammar/vg.lark, verbatim.
NAME = r"[^\W\d]\w*"
NUMBER = r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
SITE_STRING = r'"[^"\\\n]*"'  # `as "lambda"`: the grammar's STRING (no escapes)

# Token type of each class of highlight_words().
CLASS_TOKENS = {
    "keyword": Keyword.Declaration,
    "distribution": Name.Class,
    "function": Name.Builtin,
    "constraint": Name.Constant,
    "invalid": Name.Exception,
    "plate_option": Name.Attribute,
}
# Classes highlighted only in one context (a plate header), not wherever the word appears.
CONTEXT_CLASSES = frozenset({"plate_option"})

_WORDS = highlight_words()
_KEYWORDS = frozenset(_WORDS.get("keyword", ()))
# Every other class, looked up by the NFKC form of a name. A class the lexer does not know yet
# (added to the registry later) is highlighted as a plain Name rather than breaking Pygments.
_NAMED = {
    word: CLASS_TOKENS.get(cls, Name)
    for cls, words in _WORDS.items()
    if cls != "keyword" and cls not in CONTEXT_CLASSES
    for word in words
}
_PLATE_OPTIONS = frozenset(_WORDS.get("plate_option", ()))

_KEYWORD_RE = "|".join(re.escape(k) for k in sorted(_KEYWORDS, key=lambda k: (-len(k), k)))
# The two block keywords (the grammar's guide_head and plate_head); editors/generate.py checks the registry has them.
_GUIDE, _PLATE = "guide", "plate"
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


def _option(lexer, match):
    """A name before ``=`` directly in a plate header: an option when it is one (after NFKC)."""
    word = match.group()
    known = unicodedata.normalize("NFKC", word) in _PLATE_OPTIONS and word not in _KEYWORDS
    yield match.start(), CLASS_TOKENS["plate_option"] if known else _name_token(word), word


def _nothing(lexer, match):
    """No token: a lookahead that only changes the state."""
    yield from ()


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
        "layout": [
            (r"[ \t\f]+", Whitespace),
            (r"\n", Whitespace),
            (r"#[^\r\n]*", Comment.Single),
        ],
        "token": [
            (rf"(as)([ \t\f]+)({SITE_STRING})", bygroups(CLASS_TOKENS["keyword"], Whitespace, String.Double)),
            (NAME, _name),
            (NUMBER, _number),
            (_OPERATOR_RE, Operator),
            (r"[()\[\]{},;]", Punctuation),
            (r".", Error),  # also what Pygments does by itself; explicit so every character is covered
        ],
        "root": [
            include("layout"),
            # guide_head: `guide`, then a name followed by `(` or `{`: the guide's name.
            (
                rf"({_GUIDE})([ \t\f]+)(?!(?:{_KEYWORD_RE})(?!\w))({NAME})(?=[ \t\f]*[({{])",
                bygroups(CLASS_TOKENS["keyword"], Whitespace, Name.Function),
            ),
            # plate_head: `plate`, a name, then `(`: the plate's name, then its header up to the matching `)`.
            (
                rf"({_PLATE})([ \t\f]+)(?!(?:{_KEYWORD_RE})(?!\w))({NAME})([ \t\f]*)(\()",
                bygroups(CLASS_TOKENS["keyword"], Whitespace, Name.Label, Whitespace, Punctuation),
                "plate-header",
            ),
            include("token"),
        ],
        # Directly in a plate header's parentheses: `NAME =` is an option. A brace cannot be in a header,
        # so one ends a header whose `)` is missing.
        "plate-header": [
            include("layout"),
            (rf"{NAME}(?=[ \t\f]*=)", _option),
            (r"\(", Punctuation, "plate-parens"),
            (r"\)", Punctuation, "#pop"),
            (r"(?=[{}])", _nothing, "#pop"),
            include("token"),
        ],
        # Parentheses inside a plate header (`len(y)`): their `)` does not end the header.
        "plate-parens": [
            include("layout"),
            (r"\(", Punctuation, "#push"),
            (r"\)", Punctuation, "#pop"),
            (r"(?=[{}])", _nothing, "#pop:2"),
            include("token"),
        ],
    }

    def __init__(self, **options):
        options.setdefault("stripnl", False)
        super().__init__(**options)
