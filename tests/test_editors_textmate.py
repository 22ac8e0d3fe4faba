"""The VS Code extension in editors/vscode: its TextMate grammars agree with the registry and the lexer.

Node is not needed except for the last test, which runs the extension's own ``npm test`` (grammar
assertions, snapshots of every example, the Markdown injection, the client) when ``npm ci`` has been run
in editors/vscode.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from vgc.registry import KEYWORDS, LEN, OPERATORS, PLATE_OPTIONS, highlight_words

ROOT = Path(__file__).resolve().parents[1]
VSCODE = ROOT / "editors" / "vscode"
GENERATE = ROOT / "editors" / "generate.py"


def _load_generator():
    spec = importlib.util.spec_from_file_location("vgc_editors_generate", GENERATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def grammar() -> dict:
    return _json(gen.GRAMMAR_PATH)


@pytest.fixture(scope="module")
def markdown() -> dict:
    return _json(gen.MARKDOWN_PATH)


@pytest.fixture(scope="module")
def package() -> dict:
    return _json(VSCODE / "package.json")


def to_python(onig: str) -> re.Pattern[str]:
    """Compile one of the grammar's Oniguruma regexes with Python's ``re``.

    The only Oniguruma-only syntax the VG rules use is the two name classes, which have exact Python
    spellings (Python's ``\\w`` is letters, numbers and ``_``; ``[^\\W\\d]`` drops the decimal digits).
    """
    py = onig.replace(gen.NAME_START, r"[^\W\d]").replace(gen.NAME_CHAR, r"\w")
    assert r"\p" not in py and r"\G" not in py, f"no Python equivalent for {onig!r}"
    return re.compile(py)


def statement_rules(grammar: dict, key: str = "statement") -> list[tuple[re.Pattern[str], str]]:
    """The flat (regex, scope) rules that tokenize a statement (or what the rule ``key`` holds, its
    begin/end rules left out), in the order TextMate tries them."""
    repo = grammar["repository"]

    def expand(patterns):
        for p in patterns:
            if "include" in p:
                yield from expand([repo[p["include"].removeprefix("#")]])
            elif "begin" in p:
                continue
            elif "patterns" in p and "match" not in p:
                yield from expand(p["patterns"])
            else:
                yield p

    rules = []
    for rule in expand(repo[key]["patterns"]):
        scope = rule.get("name") or rule["captures"]["1"]["name"]
        rules.append((to_python(rule["match"]), scope))
    return rules


def tokenize(text: str, rules) -> list[tuple[str, str]]:
    """TextMate's choice on one line: the earliest match wins, ties go to the first rule."""
    tokens, pos = [], 0
    while pos < len(text):
        best = None
        for i, (rx, scope) in enumerate(rules):
            m = rx.search(text, pos)
            if m and m.end() > m.start() and (best is None or (m.start(), i) < (best[0].start(), best[1])):
                best = (m, i, scope)
        if best is None:
            tokens.append((text[pos:], ""))
            break
        m, _, scope = best
        if m.start() > pos:
            tokens.append((text[pos : m.start()], ""))
        tokens.append((m.group(), scope))
        pos = m.end()
    return tokens


def lark_string_terminals() -> dict[str, tuple[str, ...]]:
    """``NAME: "a" | "b"`` lines of grammar/vg.lark (terminals spelled by strings only)."""
    terminals = {}
    for line in (ROOT / "grammar" / "vg.lark").read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r'([A-Z_]+)\s*:\s*("(?:[^"\\]|\\.)*"(?:\s*\|\s*"(?:[^"\\]|\\.)*")*)\s*', line)
        if m:
            terminals[m.group(1)] = tuple(json.loads(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', m.group(2)))
    return terminals


# (a) ------------------------------------------------------------------------------------------------


def test_generated_files_are_up_to_date():
    proc = subprocess.run([sys.executable, str(GENERATE), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, f"{proc.stdout}{proc.stderr}\nrun: python editors/generate.py"


def test_generator_is_deterministic():
    assert gen.outputs() == gen.outputs()
    text = gen.GRAMMAR_PATH.read_text(encoding="utf-8")
    assert text.endswith("}\n") and '\n  "repository": {' in text  # 2-space indent, trailing newline


# (b) ------------------------------------------------------------------------------------------------


def _words_of(regex: str, after: str = "") -> tuple[str, ...] | None:
    m = re.fullmatch(re.escape(gen.WORD_BEFORE) + r"\(\?:(.*)\)" + re.escape(gen.WORD_AFTER + after), regex)
    return None if m is None else tuple(re.sub(r"\\(.)", r"\1", w) for w in m.group(1).split("|"))


def test_word_lists_in_the_grammar_are_the_registry_s(grammar):
    repo = grammar["repository"]
    found = {}
    for key, rule in repo.items():
        if key.startswith("word-"):
            found[key.removeprefix("word-")] = _words_of(rule["match"])
            assert found[key.removeprefix("word-")], f"{key}: unexpected regex {rule['match']!r}"
    # the plate options: a rule of their own, in plate headers only, before `=`
    for cls in gen.OPTION_SCOPES:
        key = cls.replace("_", "-")
        found[cls] = _words_of(repo[key]["match"], r"(?=\s*=)")
        assert found[cls], f"{key}: unexpected regex {repo[key]['match']!r}"
        assert repo[key]["name"] == gen.OPTION_SCOPES[cls]
        assert {"include": f"#{key}"} in repo["plate-parameters"]["patterns"]
        assert f"#{key}" not in json.dumps(repo["statement"])
    assert found == highlight_words()
    included = {p["include"] for p in repo["statement"]["patterns"]}
    for cls in set(found) - set(gen.OPTION_SCOPES):
        assert repo[f"word-{cls}"]["name"] == gen.WORD_SCOPES[cls]
        assert f"#word-{cls}" in included


def test_scope_names():
    assert gen.WORD_SCOPES == {
        "keyword": "keyword.control.vg",
        "invalid": "invalid.illegal.vg",
        "distribution": "support.function.distribution.vg",
        "function": "support.function.vg",
        "constraint": "support.constant.vg",
    }
    assert gen.OPTION_SCOPES == {"plate_option": "variable.parameter.option.vg"}
    assert gen.PLATE_NAME_SCOPE == "entity.name.label.vg"
    for cls in OPERATORS:
        assert gen.operator_scope(cls) == f"keyword.operator.{cls}.vg"


def test_every_scope_ends_in_vg(grammar):
    rules = json.dumps([grammar["patterns"], grammar["repository"]], ensure_ascii=False)
    scopes = re.findall(r'"(?:name|contentName)": "([^"]+)"', rules)
    assert scopes and all(s.endswith(".vg") for s in scopes), scopes


def test_words_are_whole_names_only(grammar):
    rules = statement_rules(grammar)
    header = statement_rules(grammar, "plate-parameters")
    words = highlight_words()
    for cls, ws in words.items():
        for w in ws:
            if cls in gen.OPTION_SCOPES:  # a plain name except as an option in a plate header
                assert tokenize(w, rules) == tokenize(w, header) == [(w, "variable.other.vg")]
                assert tokenize(f"{w}=", header)[0] == tokenize(f"{w} = 1", header)[0] == (w, gen.OPTION_SCOPES[cls])
                assert tokenize(f"{w}=", rules)[0] == (w, "variable.other.vg")
                for longer in (w + "x", "x" + w, w + "_", "_" + w, w + "2", w + "θ", "σ" + w):
                    assert tokenize(f"{longer}=1", header)[0] == (longer, "variable.other.vg"), longer
                continue
            assert tokenize(w, rules) == [(w, gen.WORD_SCOPES[cls])]
            for longer in (w + "x", "x" + w, w + "_", "_" + w, w + "2", w + "θ", "σ" + w):
                assert tokenize(longer, rules) == [(longer, "variable.other.vg")], longer


def test_names_and_numbers_follow_the_lexer(grammar):
    lark = (ROOT / "grammar" / "vg.lark").read_text(encoding="utf-8")
    lark_name = re.compile(re.search(r"^NAME: /(.*)/$", lark, re.M).group(1))
    lark_number = re.compile(re.search(r"^NUMBER: /(.*)/$", lark, re.M).group(1))
    ours_name = to_python(grammar["repository"]["name"]["match"])
    ours_number = to_python(grammar["repository"]["number"]["match"])
    for s in ["θ", "σ1", "b_2", "_x", "sig1_q", "μ_θ", "ℓ", "x²", "Ⅻx", "1x", "²x", "x-y", "ａｂｃ", "é"]:
        assert bool(ours_name.fullmatch(s)) == bool(lark_name.fullmatch(s)), s
    for s in ["1", "1.0", ".5", "2.", "1e-3", "2.5E+10", "7e3", "1e", ".", "1.2.3", "e5", "٣"]:
        assert bool(ours_number.fullmatch(s)) == bool(lark_number.fullmatch(s)), s


# (c) ------------------------------------------------------------------------------------------------


def test_every_lark_terminal_string_is_one_token_of_its_class(grammar):
    rules = statement_rules(grammar)
    terminals = lark_string_terminals()
    assert {"PM", "POW", "MATMUL", "TILDE", "PARAM", "LBRACE"} <= set(terminals)  # the parse found them
    class_of = {s: cls for cls, spellings in OPERATORS.items() for s in spellings}
    lark_strings = {s for strings in terminals.values() for s in strings}
    assert lark_strings == set(class_of) | set(KEYWORDS) | set(gen.PUNCTUATION)
    for name, strings in terminals.items():
        classes = {class_of.get(s) for s in strings}
        assert len(classes) == 1, f"{name}: spellings {strings} are in different OPERATORS classes"
        for s in strings:
            if s in class_of:
                expected = f"keyword.operator.{class_of[s]}.vg"
            elif s in KEYWORDS:
                expected = "keyword.control.vg"
            else:
                expected = gen.PUNCTUATION[s]
            assert tokenize(s, rules) == [(s, expected)], f"{name} {s!r}"


def test_every_operator_spelling_is_one_token_of_its_class(grammar):
    rules = statement_rules(grammar)
    for cls, spellings in OPERATORS.items():
        for s in spellings:
            assert tokenize(s, rules) == [(s, f"keyword.operator.{cls}.vg")], s
    pm, plus = "keyword.operator.pm.vg", "keyword.operator.arithmetic.vg"
    assert [t for t in tokenize("a +-b", rules) if t[1]] == [
        ("a", "variable.other.vg"),
        ("+-", pm),
        ("b", "variable.other.vg"),
    ]
    assert [s for _, s in tokenize("a + -b", rules) if s] == ["variable.other.vg", plus, plus, "variable.other.vg"]
    assert tokenize("s**-2", rules)[1] == ("**", "keyword.operator.power.vg")


def test_examples_have_no_unscoped_characters(grammar):
    """Everything but spaces in every example and good case gets a scope (guide headers: see npm test)."""
    rules = statement_rules(grammar)
    for path in sorted((ROOT / "examples").rglob("*.vg")) + sorted((ROOT / "tests" / "cases" / "good").glob("*.vg")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for text, scope in tokenize(line, rules):
                assert scope or not text.strip(), f"{path.name}:{n}: {text!r} has no scope"


def test_plate_rules(grammar):
    repo = grammar["repository"]
    assert grammar["patterns"] == [{"include": "#guide"}, {"include": "#plate"}, {"include": "#statement"}]
    for body in ("guide-body", "plate-body"):  # a plate nests in a guide and in a plate, before statements
        assert repo[body]["patterns"] == [{"include": "#plate"}, {"include": "#statement"}]
    plate = repo["plate"]
    begin = to_python(plate["begin"])
    m = begin.match("plate θ_data(len(y), subsample=100) {")
    assert m and m.group(1) == "plate" and m.group(2) == "θ_data"
    assert plate["beginCaptures"] == {"1": {"name": "keyword.control.vg"}, "2": {"name": "entity.name.label.vg"}}
    assert begin.match("plate J(J)").group(2) == "J"
    assert begin.match("plate param").group(2) is None  # a keyword is no label
    assert not begin.match("platex = 1") and not begin.match("plate_2 = 1")
    assert plate["end"] == r"(?<=\})" and repo["plate-body"]["end"] == r"\}"
    # the header: `(`, options before `=`, nested parentheses, up to `)` or (unclosed) a brace
    params = repo["plate-parameters"]
    assert params["begin"] == r"\G\s*(\()" and params["end"] == repo["plate-parens"]["end"] == r"\)|(?=[{}])"
    header = statement_rules(grammar, "plate-parameters")
    assert [t for t in tokenize("len(y), subsample=100, dim = -1", header) if t[1]] == [
        ("len", "support.function.vg"), ("(", gen.PUNCTUATION["("]), ("y", "variable.other.vg"),
        (")", gen.PUNCTUATION[")"]), (",", gen.PUNCTUATION[","]),
        ("subsample", "variable.parameter.option.vg"), ("=", "keyword.operator.assignment.vg"),
        ("100", "constant.numeric.vg"), (",", gen.PUNCTUATION[","]),
        ("dim", "variable.parameter.option.vg"), ("=", "keyword.operator.assignment.vg"),
        ("-", "keyword.operator.arithmetic.vg"), ("1", "constant.numeric.vg"),
    ]  # fmt: skip
    assert tokenize("dim, subsample=dim", header)[0] == ("dim", "variable.other.vg")  # the size
    assert tokenize("dim, subsample=dim", header)[-1] == ("dim", "variable.other.vg")  # a value
    assert set(PLATE_OPTIONS) == set(highlight_words()["plate_option"]) and LEN in highlight_words()["function"]


def test_guide_rule(grammar):
    guide = grammar["repository"]["guide"]
    m = to_python(guide["begin"]).match("guide θ_guide(data) {")
    assert m and m.group(1) == "guide" and m.group(2) == "θ_guide"
    assert guide["beginCaptures"]["2"]["name"] == "entity.name.function.vg"
    assert not to_python(guide["begin"]).match("guidex = 1")
    assert grammar["patterns"][0] == {"include": "#guide"}
    body = grammar["repository"]["guide-body"]
    assert (body["begin"], body["end"]) == (r"\{", r"\}")
    params = grammar["repository"]["guide-parameters"]
    assert {"match": gen.NAME, "name": "variable.parameter.vg"} in params["patterns"]


# (d) ------------------------------------------------------------------------------------------------


def test_package_json_contributes_the_language_and_both_grammars(package, grammar, markdown):
    (lang,) = package["contributes"]["languages"]
    assert lang["id"] == "vg" and ".vg" in lang["extensions"]
    config = _json(VSCODE / lang["configuration"])
    assert config["comments"]["lineComment"] == "#"
    assert {tuple(b) for b in config["brackets"]} == {("(", ")"), ("[", "]"), ("{", "}")}
    grammars = package["contributes"]["grammars"]
    (main,) = [g for g in grammars if g.get("language") == "vg"]
    assert main["scopeName"] == "source.vg" == grammar["scopeName"]
    assert (VSCODE / main["path"]).resolve() == gen.GRAMMAR_PATH
    (inj,) = [g for g in grammars if "injectTo" in g]
    assert inj["injectTo"] == ["text.html.markdown"]
    assert inj["scopeName"] == markdown["scopeName"] == gen.MARKDOWN_SCOPE
    assert (VSCODE / inj["path"]).resolve() == gen.MARKDOWN_PATH
    assert inj["embeddedLanguages"] == {"meta.embedded.block.vg": "vg"}
    assert package["activationEvents"] == ["onLanguage:vg"]
    assert (VSCODE / package["main"]).is_file()
    assert package["engines"]["vscode"] == "^1.82.0"
    command = package["contributes"]["configuration"]["properties"]["vg.server.command"]
    assert command["default"] == ["vgc", "lsp"]


def test_markdown_injection_grammar(markdown):
    assert markdown["injectionSelector"] == "L:text.html.markdown"
    block = markdown["repository"]["vg-code-block"]
    (embedded,) = block["patterns"]
    assert embedded["contentName"] == "meta.embedded.block.vg"
    assert embedded["patterns"] == [{"include": "source.vg"}]
    fence = re.compile(block["begin"].replace(r"(^|\G)", "^"))
    for line in ["```vg", "~~~vg", "````VG", "  ```vg", '```vg title="a.vg"', "```vg{.numberLines}"]:
        assert fence.match(line), line
    for line in ["```vgx", "```python", "```", "``vg", "text ```vg"]:
        assert not fence.match(line), line


def test_npm_dependencies_are_pinned_and_locked(package):
    lock = _json(VSCODE / "package-lock.json")
    for section in ("dependencies", "devDependencies"):
        for name, version in package[section].items():
            assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version} is not an exact version"
            assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
    assert "vscode-tmgrammar-test" in package["devDependencies"] and "@vscode/vsce" in package["devDependencies"]
    assert "vscode-languageclient" in package["dependencies"]
    assert {"node_modules/", "*.vsix"} <= set((VSCODE / ".gitignore").read_text(encoding="utf-8").split())


def test_every_example_has_a_committed_snapshot():
    for src in sorted(gen.SNAP_DIR.rglob("*.vg")):
        assert src.with_name(src.name + ".snap").is_file(), f"{src}: run npm run snap:update in editors/vscode"
    for src in sorted((VSCODE / "tests" / "markdown").glob("*.md")):
        assert src.with_name(src.name + ".snap").is_file(), src


# (e) ------------------------------------------------------------------------------------------------


def _npm() -> str:
    """npm, with the extension's pinned packages installed; skipped without them except in CI."""
    npm = shutil.which("npm")
    why = None
    if shutil.which("node") is None or npm is None:
        why = "node/npm not installed: the grammar's vscode-tmgrammar-test suite cannot run"
    elif not (VSCODE / "node_modules" / "vscode-tmgrammar-test").is_dir():
        why = "editors/vscode/node_modules missing: run `npm ci` in editors/vscode (.ci/run does)"
    if why:
        if os.environ.get("CI"):  # .ci/run installs them: a skip there would hide a broken step
            pytest.fail(why)
        pytest.skip(why)
    return npm


def test_npm_test_passes():
    proc = subprocess.run([_npm(), "test"], cwd=VSCODE, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]


def test_the_extension_packages_into_a_vsix(tmp_path):
    out = tmp_path / "vgc-vg.vsix"
    proc = subprocess.run([_npm(), "run", "package", "--", "--out", str(out)], cwd=VSCODE,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("extension/package.json"))
    assert {"extension/extension.js", "extension/syntaxes/vg.tmLanguage.json",
            "extension/syntaxes/vg.markdown.tmLanguage.json", "extension/language-configuration.json",
            "extension/node_modules/vscode-languageclient/node.js"} <= names
    assert manifest["contributes"]["languages"][0]["id"] == "vg"
    assert not any(n.startswith("extension/tests/") for n in names)
