#!/usr/bin/env python3
"""Regenerate the VS Code TextMate grammars (and the snapshot copies of the examples) from the registry.

    python editors/generate.py           # write the files
    python editors/generate.py --check   # exit 1 if a file on disk differs from what would be written

Outputs, all under ``editors/vscode/``:

- ``syntaxes/vg.tmLanguage.json``: the grammar of ``.vg`` files, scope ``source.vg``. Its word lists come
  from :func:`vgc.registry.highlight_words`, its operators from :data:`vgc.registry.OPERATORS`: the
  grammar names no VG word itself, so a distribution added to the registry is highlighted after a rerun
  (``tests/test_editors_textmate.py`` fails until then).
- ``syntaxes/vg.markdown.tmLanguage.json``: an injection grammar (scope ``markdown.vg.codeblock``) that
  highlights Markdown code fences labelled ``vg`` with ``source.vg``.
- ``tests/snap/*.vg``, ``tests/snap/rejected/*.vg`` and ``tests/snap/cases/*.vg``: copies of
  ``examples/*.vg``, ``examples/rejected/*.vg`` and the plate cases ``tests/cases/good/plate_*.vg``, the
  inputs of the grammar's snapshot tests (``vscode-tmgrammar-snap`` writes each ``.snap`` next to its
  input, so the files are copied rather than referenced).

Scopes (every name ends in ``.vg``):

==============================  =====================================================================
``keyword.control.vg``          ``param``, ``let``, ``guide``, ``plate`` (registry class ``keyword``)
``support.function.distribution.vg``  distributions, ``Mix`` included (``distribution``)
``support.function.vg``         functions, ``len`` included (``function``)
``support.constant.vg``         constraints (``constraint``), highlighted wherever they appear
``invalid.illegal.vg``          ``factor``, improper and discrete families (``invalid``)
``entity.name.function.vg``     the guide's name in ``guide NAME(…) {``
``variable.parameter.vg``       the guide's arguments
``entity.name.label.vg``        the plate's name in ``plate NAME(…)``
``variable.parameter.option.vg``  ``subsample``, ``dim`` before ``=`` in a plate header (``plate_option``)
``variable.other.vg``           every other name, Unicode ones included
``constant.numeric.vg``         ``1``, ``1.0``, ``.5``, ``2.``, ``1e-3``
``keyword.operator.CLASS.vg``   one scope per class of ``OPERATORS`` (``sampling``, ``pm``, ``matmul``,
                                ``power``, ``transpose``, ``arithmetic``, ``assignment``, ``constraint``)
``comment.line.number-sign.vg`` ``# …``, the ``#`` also ``punctuation.definition.comment.vg``
``punctuation.*.vg``            ``( ) [ ] { }``, ``,`` and ``;``
==============================  =====================================================================

Decisions:

- Constraints are ``support.constant.vg`` anywhere, not only after a param's ``:``: the statement
  context is not visible to a line-based grammar once a param spans lines, and the Pygments lexer does
  the same. ``factor`` and the refused families are ``invalid.illegal.vg`` everywhere: a bare file is a
  guide, so there is no place where the checker accepts them.
- Names follow the lexer (``[^\\W\\d]\\w*`` in ``grammar/vg.lark``): a name starts with a letter, ``_``
  or a non-decimal number character and goes on with letters, numbers and ``_``. A word from a list is
  highlighted only as a whole name (``Normalize``, ``my_exp``, ``σexp`` are plain names). TextMate cannot
  NFKC-normalize, so a fullwidth ``Ｎｏｒｍａｌ`` is a plain name here (the compiler and the Pygments lexer
  read it as ``Normal``).
- Operators are matched longest spelling first, as the lexer does: ``+-`` is always ``±`` and ``**``
  always ``^``. Unicode and ASCII spellings get the same scope.
- Only ``guide NAME(ARGS) { … }`` and ``plate NAME(SIZE, …) { … }`` span lines (begin/end rules, so a
  block is one ``meta.guide.vg`` / ``meta.plate.vg`` region, which ends at its body's ``}``; a plate's
  body is its own region, so its ``}`` never ends the guide's); everything else is matched token by
  token, so an unclosed bracket never swallows the rest of the file. A header whose ``{`` is missing
  still has its following statements highlighted; a plate header whose ``)`` is missing ends at the next
  ``{`` or ``}``.
- Plate options (registry class ``plate_option``: ``subsample``, ``dim``) are not reserved words: they
  are ``variable.parameter.option.vg`` only as an option name, directly in a plate header's parentheses
  and followed by ``=``; anywhere else they are plain names. The guide's arguments are
  ``variable.parameter.vg`` and an option a kind of parameter, hence the scope; keyword arguments of
  distributions (``Normal(loc=…)``) stay plain names, as before. ``len`` is a function everywhere, like
  ``exp`` (the checker accepts it only as a plate's size).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from vgc.registry import OPERATORS, highlight_words

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"
GRAMMAR_PATH = VSCODE / "syntaxes" / "vg.tmLanguage.json"
MARKDOWN_PATH = VSCODE / "syntaxes" / "vg.markdown.tmLanguage.json"
SNAP_DIR = VSCODE / "tests" / "snap"
EXAMPLES = ROOT / "examples"
CASES = ROOT / "tests" / "cases" / "good"

SCOPE = "source.vg"
MARKDOWN_SCOPE = "markdown.vg.codeblock"
GENERATED = "Generated by editors/generate.py from vgc.registry: do not edit, rerun the script."

# Oniguruma classes for names, as the lexer's NAME /[^\W\d]\w*/ (Python's \w is letters, numbers and _).
NAME_START = r"[\p{L}\p{Nl}\p{No}_]"
NAME_CHAR = r"[\p{L}\p{N}_]"
NAME = NAME_START + NAME_CHAR + "*"
WORD_BEFORE = f"(?<!{NAME_CHAR})"
WORD_AFTER = f"(?!{NAME_CHAR})"
# grammar/vg.lark's NUMBER, verbatim but for non-capturing groups.
NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
# grammar/vg.lark's STRING (a site name after `as`): no escapes, no line breaks.
SITE_STRING = r'"[^"\\\n]*"'

# Scope of each class of highlight_words() that is highlighted wherever it appears, in the order the rules
# are tried.
WORD_SCOPES = {
    "keyword": "keyword.control.vg",
    "invalid": "invalid.illegal.vg",
    "distribution": "support.function.distribution.vg",
    "function": "support.function.vg",
    "constraint": "support.constant.vg",
}

# Classes of highlight_words() highlighted only in one context: plate options, in a plate header.
OPTION_SCOPES = {"plate_option": "variable.parameter.option.vg"}
PLATE_NAME_SCOPE = "entity.name.label.vg"

PUNCTUATION = {
    "(": "punctuation.section.parens.begin.vg",
    ")": "punctuation.section.parens.end.vg",
    "[": "punctuation.section.brackets.begin.vg",
    "]": "punctuation.section.brackets.end.vg",
    "{": "punctuation.section.block.begin.vg",
    "}": "punctuation.section.block.end.vg",
    ",": "punctuation.separator.comma.vg",
    ";": "punctuation.terminator.statement.vg",
}


class RegistryError(Exception):
    """The registry holds something the grammar cannot express as it stands."""


def operator_scope(cls: str) -> str:
    return f"keyword.operator.{cls}.vg"


def words_regex(words: tuple[str, ...]) -> str:
    """A whole-name match of any of ``words``: ``(?<!NAME_CHAR)(?:w1|w2|…)(?!NAME_CHAR)``."""
    return f"{WORD_BEFORE}(?:{'|'.join(re.escape(w) for w in words)}){WORD_AFTER}"


def operator_order(operators: dict[str, tuple[str, ...]]) -> list[str]:
    """Operator classes in the order their rules are tried: longest spelling first.

    Rules that match at the same position are tried in order, so a class whose spelling extends another
    class's spelling (``+-`` after ``+``, ``**`` after ``*``) must come first; :func:`check_operators`
    proves the result tokenizes every spelling whole.
    """
    return sorted(operators, key=lambda cls: -max(len(s) for s in operators[cls]))


def operators_regex(spellings: tuple[str, ...]) -> str:
    return "|".join(re.escape(s) for s in sorted(spellings, key=lambda s: (-len(s), s)))


def check_registry(words: dict[str, tuple[str, ...]], operators: dict[str, tuple[str, ...]]) -> None:
    unknown = sorted(set(words) - set(WORD_SCOPES) - set(OPTION_SCOPES))
    if unknown:
        raise RegistryError(f"highlight_words() has classes without a scope: {unknown}; add them to WORD_SCOPES")
    for block in ("guide", "plate"):
        if block not in words.get("keyword", ()):
            raise RegistryError(f"the {block} block rule needs `{block}` among the keywords")
    seen: dict[str, str] = {}
    for cls, ws in words.items():
        for w in ws:
            if not re.fullmatch(r"[^\W\d]\w*", w):
                raise RegistryError(f"{cls} word {w!r} is not a VG name")
            if w in seen:
                raise RegistryError(f"{w!r} is in two classes, {seen[w]} and {cls}")
            seen[w] = cls
    for cls, spellings in operators.items():
        if not re.fullmatch(r"[a-z_]+", cls) or not spellings:
            raise RegistryError(f"operator class {cls!r} has no scope-safe name or no spelling")
    check_operators(operators)


def check_operators(operators: dict[str, tuple[str, ...]]) -> None:
    """Every spelling, tokenized alone by the operator rules in their order, is one token of its class."""
    rules = [(cls, re.compile(operators_regex(operators[cls]))) for cls in operator_order(operators)]
    for cls, spellings in operators.items():
        for s in spellings:
            for rule_cls, rx in rules:
                m = rx.match(s)
                if m:
                    if rule_cls != cls or m.end() != len(s):
                        raise RegistryError(f"operator {s!r} ({cls}) would be read as {m.group()!r} ({rule_cls})")
                    break


def grammar() -> dict:
    words = highlight_words()
    check_registry(words, OPERATORS)
    repository: dict[str, dict] = {
        "comment": {
            "match": "(#).*$",
            "name": "comment.line.number-sign.vg",
            "captures": {"1": {"name": "punctuation.definition.comment.vg"}},
        },
        "guide": {
            "comment": "guide NAME(ARGS) { ... }: the header, then the body up to its closing brace.",
            "name": "meta.guide.vg",
            "begin": f"{WORD_BEFORE}(guide){WORD_AFTER}(?:\\s*({NAME}))?",
            "beginCaptures": {"1": {"name": WORD_SCOPES["keyword"]}, "2": {"name": "entity.name.function.vg"}},
            "end": "(?<=\\})",
            # A header that never opens its body still gets its statements highlighted (and a stray `}`
            # ends the block).
            "patterns": [
                {"include": "#guide-parameters"},
                {"include": "#guide-body"},
                {"include": "#plate"},
                {"include": "#statement"},
            ],
        },
        "guide-parameters": {
            "contentName": "meta.guide.parameters.vg",
            # Only right after `guide NAME`: a `(` anywhere else in a header is a call's.
            "begin": "\\G\\s*(\\()",
            "beginCaptures": {"1": {"name": PUNCTUATION["("]}},
            "end": "\\)",
            "endCaptures": {"0": {"name": PUNCTUATION[")"]}},
            "patterns": [
                {"include": "#comment"},
                {"match": NAME, "name": "variable.parameter.vg"},
                {"match": ",", "name": PUNCTUATION[","]},
            ],
        },
        "guide-body": {
            "contentName": "meta.guide.body.vg",
            "begin": "\\{",
            "beginCaptures": {"0": {"name": PUNCTUATION["{"]}},
            "end": "\\}",
            "endCaptures": {"0": {"name": PUNCTUATION["}"]}},
            "patterns": [{"include": "#plate"}, {"include": "#statement"}],
        },
        "plate": {
            "comment": "plate NAME(SIZE, subsample=K, dim=D) { ... }: the header, then the body up to its closing "
            "brace (plates nest).",
            "name": "meta.plate.vg",
            # A keyword after `plate` stays a keyword (`plate param` is a syntax error, not a label).
            "begin": f"{WORD_BEFORE}(plate){WORD_AFTER}(?:\\s*(?!{words_regex(words['keyword'])})({NAME}))?",
            "beginCaptures": {"1": {"name": WORD_SCOPES["keyword"]}, "2": {"name": PLATE_NAME_SCOPE}},
            "end": "(?<=\\})",
            "patterns": [
                {"include": "#plate-parameters"},
                {"include": "#plate-body"},
                {"include": "#plate"},
                {"include": "#statement"},
            ],
        },
        "plate-parameters": {
            "contentName": "meta.plate.parameters.vg",
            # Only right after `plate NAME`; a header never holds a brace, so one ends an unclosed header.
            "begin": "\\G\\s*(\\()",
            "beginCaptures": {"1": {"name": PUNCTUATION["("]}},
            "end": "\\)|(?=[{}])",
            "endCaptures": {"0": {"name": PUNCTUATION[")"]}},
            "patterns": [
                {"include": "#comment"},
                *({"include": "#" + cls.replace("_", "-")} for cls in OPTION_SCOPES if words.get(cls)),
                {"include": "#plate-parens"},
                {"include": "#statement"},
            ],
        },
        "plate-parens": {
            "comment": "Parentheses inside a plate header (`len(y)`): their `)` does not end the header.",
            "begin": "\\(",
            "beginCaptures": {"0": {"name": PUNCTUATION["("]}},
            "end": "\\)|(?=[{}])",
            "endCaptures": {"0": {"name": PUNCTUATION[")"]}},
            "patterns": [{"include": "#plate-parens"}, {"include": "#statement"}],
        },
        "plate-body": {
            "contentName": "meta.plate.body.vg",
            "begin": "\\{",
            "beginCaptures": {"0": {"name": PUNCTUATION["{"]}},
            "end": "\\}",
            "endCaptures": {"0": {"name": PUNCTUATION["}"]}},
            "patterns": [{"include": "#plate"}, {"include": "#statement"}],
        },
    }
    for cls, scope in OPTION_SCOPES.items():
        if words.get(cls):
            # Only as an option name: followed by `=` (`plate p(dim)` reads an argument called dim).
            repository[cls.replace("_", "-")] = {"match": words_regex(words[cls]) + "(?=\\s*=)", "name": scope}
    statement = [{"include": "#comment"}]
    for cls, scope in WORD_SCOPES.items():
        if words.get(cls):
            repository[f"word-{cls}"] = {"match": words_regex(words[cls]), "name": scope}
            statement.append({"include": f"#word-{cls}"})
    repository["number"] = {"match": NUMBER, "name": "constant.numeric.vg"}
    repository["name"] = {"match": NAME, "name": "variable.other.vg"}
    # `as "lambda"`: a string only there (anywhere else a quote is an error, as for the compiler)
    repository["site-name"] = {
        "match": r"\b(as)\s+(" + SITE_STRING + ")",
        "captures": {"1": {"name": WORD_SCOPES["keyword"]}, "2": {"name": "string.quoted.double.vg"}},
    }
    statement = [statement[0], {"include": "#site-name"}, *statement[1:], {"include": "#number"}, {"include": "#name"}]
    for cls in operator_order(OPERATORS):
        repository[f"operator-{cls}"] = {"match": operators_regex(OPERATORS[cls]), "name": operator_scope(cls)}
        statement.append({"include": f"#operator-{cls}"})
    repository["punctuation"] = {
        "patterns": [{"match": re.escape(p), "name": scope} for p, scope in PUNCTUATION.items()]
    }
    statement.append({"include": "#punctuation"})
    repository["statement"] = {"patterns": statement}
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "comment": GENERATED,
        "name": "VG",
        "scopeName": SCOPE,
        "fileTypes": ["vg"],
        "patterns": [{"include": "#guide"}, {"include": "#plate"}, {"include": "#statement"}],
        "repository": repository,
    }


def markdown_grammar() -> dict:
    """Code fences labelled ``vg`` in Markdown, written like VS Code's own ``fenced_code_block_*`` rules."""
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "comment": GENERATED,
        "scopeName": MARKDOWN_SCOPE,
        "injectionSelector": "L:text.html.markdown",
        "patterns": [{"include": "#vg-code-block"}],
        "repository": {
            "vg-code-block": {
                "name": "markup.fenced_code.block.markdown",
                "begin": "(^|\\G)(\\s*)(`{3,}|~{3,})\\s*(?i:(vg)((\\s+|[,:?{])[^`]*)?$)",
                "beginCaptures": {
                    "3": {"name": "punctuation.definition.markdown"},
                    "4": {"name": "fenced_code.block.language.markdown"},
                    "5": {"name": "fenced_code.block.language.attributes.markdown"},
                },
                "end": "(^|\\G)(\\2|\\s{0,3})(\\3)\\s*$",
                "endCaptures": {"3": {"name": "punctuation.definition.markdown"}},
                "patterns": [
                    {
                        "begin": "(^|\\G)(\\s*)(.*)",
                        "while": "(^|\\G)(?!\\s*([`~]{3,})\\s*$)",
                        "contentName": "meta.embedded.block.vg",
                        "patterns": [{"include": SCOPE}],
                    }
                ],
            }
        },
    }


def dump(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def outputs() -> dict[Path, str]:
    """Every file this script writes, with its content."""
    files = {GRAMMAR_PATH: dump(grammar()), MARKDOWN_PATH: dump(markdown_grammar())}
    for src in sorted(EXAMPLES.glob("*.vg")):
        files[SNAP_DIR / src.name] = src.read_text(encoding="utf-8")
    for src in sorted((EXAMPLES / "rejected").glob("*.vg")):
        files[SNAP_DIR / "rejected" / src.name] = src.read_text(encoding="utf-8")
    for src in sorted(CASES.glob("plate_*.vg")):
        files[SNAP_DIR / "cases" / src.name] = src.read_text(encoding="utf-8")
    return files


def stale_copies() -> list[Path]:
    """Snapshot inputs (``tests/snap/**/*.vg``) whose example no longer exists."""
    wanted = set(outputs())
    return sorted(p for p in SNAP_DIR.rglob("*.vg") if p not in wanted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
    args = parser.parse_args(argv)
    try:
        files = outputs()
    except RegistryError as exc:
        print(f"editors/generate.py: {exc}", file=sys.stderr)
        return 2
    changed = [path for path, text in files.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    stale = stale_copies()
    if args.check:
        for path in changed:
            print(f"out of date: {path.relative_to(ROOT)}")
        for path in stale:
            print(f"no longer an example: {path.relative_to(ROOT)} (delete it and its .snap)")
        if changed or stale:
            print("run: python editors/generate.py", file=sys.stderr)
            return 1
        return 0
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path], encoding="utf-8", newline="\n")
        print(f"wrote {path.relative_to(ROOT)}")
    for path in stale:
        path.unlink()
        snap = path.with_name(path.name + ".snap")
        if snap.exists():
            snap.unlink()
        print(f"removed {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
