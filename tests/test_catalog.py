"""The diagnostics catalog (docs/diagnostics.md) against the registry and the compiler, and `vgc explain`.

Every registered code has one section with a failing example, the exact `vgc check` output for it and a
fix; the examples are compiled here, so the catalog cannot drift from the compiler.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from vgc import checker, cli, compiler, explain
from vgc import diagnostics as D

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "docs" / "diagnostics.md"
FILE = "example.vg"  # the examples are shown as `vgc check example.vg`
# VG100 is about the bytes of a file, which only the command line reads: its example is the text of a
# file saved in Latin-1 (`é` is the byte 0xe9, not UTF-8), and its fix is the same text saved as UTF-8.
ENCODING = {"VG100": "latin-1"}


def _break_the_checker(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise KeyError("u")

    monkeypatch.setattr(checker, "check_program", broken)


# No VG program triggers an internal error: its example is a valid program checked by a vgc with a bug
# injected, and there is no fix block (the section says what to do instead).
INJECTED = {"VG900": _break_the_checker}
HEADING = re.compile(r"^## (VG\d{3}) — (.+)$")


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    text: str
    blocks: tuple[tuple[str, str], ...]  # (info string, body) of each fenced block, in order

    def bodies(self, lang: str) -> list[str]:
        return [body for info, body in self.blocks if info == lang]

    @property
    def bad(self) -> str:
        return self.bodies("vg")[0]

    @property
    def fix(self) -> str:
        return self.bodies("vg")[1]

    @property
    def output(self) -> str:
        return self.bodies("text")[0]

    @property
    def model(self) -> str | None:
        """The model file of a model-check code (``model.py``, function ``model``), else None."""
        found = self.bodies("python")
        return found[0] if found else None


def _level2(text: str) -> list[tuple[str, list[str]]]:
    """(heading line, lines) of every level-2 section, ignoring `## ` inside fenced blocks."""
    out: list[tuple[str, list[str]]] = []
    fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        if not fence and line.startswith("## "):
            out.append((line, [line]))
        elif out:
            out[-1][1].append(line)
    return out


def _blocks(lines: list[str]) -> tuple[tuple[str, str], ...]:
    blocks, info, body = [], None, []
    for line in lines:
        if line.startswith("```"):
            if info is None:
                info, body = line[3:].strip(), []
            else:
                blocks.append((info, "".join(body)))
                info = None
        elif info is not None:
            body.append(line + "\n")
    assert info is None, "unclosed fenced block"
    return tuple(blocks)


def _sections() -> list[Section]:
    out = []
    for heading, lines in _level2(CATALOG.read_text(encoding="utf-8")):
        m = HEADING.match(heading)
        assert m, f"level-2 heading not of the form '## VGnnn — title': {heading!r}"
        out.append(Section(m.group(1), m.group(2), "\n".join(lines).rstrip() + "\n", _blocks(lines)))
    return out


SECTIONS = _sections()
BY_CODE = {s.code: s for s in SECTIONS}
CODES = sorted(D.REGISTRY)
# The codes of the check against a model: their sections start with the model (a ```python block).
MODEL_CODES = {c for c in CODES if c.startswith("VG8")}


def _section(code: str) -> Section:
    assert code in BY_CODE, f"{code} ({D.REGISTRY[code].title}) has no section in docs/diagnostics.md"
    return BY_CODE[code]


def _cli_check(tmp_path: Path, monkeypatch, capsys, source: str, code: str, *options: str) -> tuple[int, str]:
    """`vgc check [options] example.vg` on ``source`` written in the example's encoding: (status, stdout);
    for a model-check code, with ``--model model.py:model``."""
    (tmp_path / FILE).write_bytes(source.encode(ENCODING.get(code, "utf-8")))
    if code in MODEL_CODES:
        (tmp_path / "model.py").write_text(BY_CODE[code].model, encoding="utf-8")
        options = (*options, FILE, "--model", "model.py:model")
    if code in INJECTED:
        INJECTED[code](monkeypatch)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    status = cli.main(["check", *options] if code in MODEL_CODES else ["check", *options, FILE])
    return status, capsys.readouterr().out


def _model_check(tmp_path: Path, code: str, source: str) -> list[D.Diagnostic]:
    """Compile ``source`` and check it against the section's model: every diagnostic."""
    from vgc import modelcheck

    path = tmp_path / f"model_{code}.py"
    path.write_text(BY_CODE[code].model, encoding="utf-8")
    result = compiler.run(source, FILE)
    if not result.ok:
        return result.diagnostics
    return result.diagnostics + modelcheck.check(result, modelcheck.load_model(f"{path}:model"), file=FILE)


# ---------------------------------------------------------------- (a) one section per registered code


def test_every_registered_code_has_exactly_one_section_titled_as_registered():
    found = [s.code for s in SECTIONS]
    assert sorted(set(found)) == found, "sections must be unique and in code order"
    assert set(found) == set(D.REGISTRY), (
        f"missing: {sorted(set(D.REGISTRY) - set(found))}, unknown: {sorted(set(found) - set(D.REGISTRY))}"
    )
    for s in SECTIONS:
        assert s.title == D.REGISTRY[s.code].title, s.code


@pytest.mark.parametrize("code", CODES)
def test_section_has_failing_example_output_and_fix(code):
    s = _section(code)
    if code in INJECTED:
        assert [info for info, _ in s.blocks] == ["vg", "text"], "expected ```vg and ```text blocks"
        assert re.search(r"^What to do\b", s.text, re.M)
        return
    expected = ["python", "vg", "text", "vg"] if code in MODEL_CODES else ["vg", "text", "vg"]
    assert [info for info, _ in s.blocks] == expected, f"expected blocks {expected}"
    assert re.search(r"^Fix\b", s.text.split("```text", 1)[1], re.M), "the second vg block needs a 'Fix:' line"
    assert s.bad.strip() and s.fix.strip()
    assert s.bad != s.fix or code in ENCODING
    if D.REGISTRY[code].severity == D.WARNING:
        assert s.text.split("\n", 2)[2].lstrip().startswith("Warning."), "say that it is only a warning"


# ---------------------------------------------------------------- (b) the examples do what they say


@pytest.mark.parametrize("code", sorted(set(CODES) - set(ENCODING) - set(INJECTED) - MODEL_CODES))
def test_failing_example_triggers_the_code(code):
    result = compiler.run(_section(code).bad, FILE)
    found = {d.code for d in result.diagnostics}
    assert code in found, D.render(result.diagnostics, _section(code).bad)
    if D.REGISTRY[code].severity == D.ERROR:
        assert not result.ok
    else:
        assert result.ok, "a warning's example should have no error"


@pytest.mark.parametrize("code", sorted(MODEL_CODES))
def test_failing_model_example_triggers_the_code_and_its_fix_passes(code, tmp_path):
    s = _section(code)
    bad = _model_check(tmp_path, code, s.bad)
    assert [d.code for d in bad] == [code], D.render(bad, s.bad)
    assert compiler.run(s.bad, FILE).diagnostics == []  # only the model shows the problem
    good = _model_check(tmp_path, code, s.fix)
    assert good == [], D.render(good, s.fix)


@pytest.mark.parametrize("code", sorted(set(CODES) - set(INJECTED)))
def test_fix_compiles_cleanly(code):
    fix = _section(code).fix
    result = compiler.run(fix, FILE)
    assert code not in {d.code for d in result.diagnostics}
    assert result.ok and result.code
    assert result.diagnostics == [], "a fixed program should have no diagnostics at all:\n" + D.render(
        result.diagnostics, fix
    )


@pytest.mark.parametrize("code", sorted(ENCODING))
def test_encoding_example_triggers_the_code_from_the_command_line(code, tmp_path, monkeypatch, capsys):
    s = _section(code)
    status, out = _cli_check(tmp_path, monkeypatch, capsys, s.bad, code, "--format", "json")
    assert status == 1 and [d["code"] for d in json.loads(out)] == [code]
    assert s.fix == s.bad  # the same text, saved as UTF-8
    status, out = _cli_check(tmp_path, monkeypatch, capsys, s.fix, "", "--format", "json")
    assert status == 0 and json.loads(out) == []


@pytest.mark.parametrize("code", sorted(INJECTED))
def test_injected_bug_example_is_a_valid_program_that_the_broken_compiler_reports(code, monkeypatch):
    source = _section(code).bad
    clean = compiler.run(source, FILE)
    assert clean.ok and clean.diagnostics == []
    INJECTED[code](monkeypatch)
    broken = compiler.run(source, FILE)
    assert not broken.ok and [d.code for d in broken.diagnostics] == [code]


# ---------------------------------------------------------------- (c) the pasted output is the real output


@pytest.mark.parametrize("code", CODES)
def test_pasted_output_is_what_vgc_check_prints(code, tmp_path, monkeypatch, capsys):
    s = _section(code)
    status, out = _cli_check(tmp_path, monkeypatch, capsys, s.bad, code)
    assert out == s.output, f"regenerate the output of {code} in docs/diagnostics.md"
    assert status == (1 if D.REGISTRY[code].severity == D.ERROR else 0)
    assert f"[{code}]" in out


# ---------------------------------------------------------------- (d) vgc explain


def test_entry_accepts_the_code_in_any_spelling():
    text = explain.entry("VG201")
    assert text is not None and text.startswith("## VG201 — undefined name\n")
    assert text == BY_CODE["VG201"].text
    for spelling in ("201", "vg201", "Vg201", " VG201 \n"):
        assert explain.entry(spelling) == text
    assert "## VG202" not in text and "```vg" in text


@pytest.mark.parametrize("code", ["VG000", "VG7777", "VG20", "201x", "", "undefined name", "VG 201"])
def test_entry_of_an_unknown_code_is_none(code):
    assert explain.entry(code) is None


def test_every_section_is_an_entry():
    assert explain.codes() == [s.code for s in SECTIONS]
    for s in SECTIONS:
        assert explain.entry(s.code) == s.text


def test_main_text():
    text, status = explain.main_text("vg305")
    assert (status, text) == (0, BY_CODE["VG305"].text)
    message, status = explain.main_text("VG000")
    assert status == 2 and message.startswith("vgc: error: unknown diagnostic code 'VG000'")
    assert CODES[0] in message and CODES[-1] in message and message.endswith("\n")


def test_main_text_without_an_entry_or_without_the_catalog(monkeypatch):
    monkeypatch.setattr(explain, "_catalog", dict)  # a code registered but not yet documented
    text, status = explain.main_text("201")
    assert status == 0 and text.startswith("## VG201 — undefined name\n") and "Error." in text

    def missing():
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(explain, "_catalog", missing)
    message, status = explain.main_text("VG201")
    assert status == 2 and message.startswith("vgc: error: cannot read the diagnostics catalog")


def test_catalog_ships_in_the_wheel_and_explain_does_not_import_jax():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"docs/diagnostics.md" = "vgc/docs/diagnostics.md"' in pyproject
    probe = "import sys, vgc.explain as e; assert e.entry('VG201'); print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ---------------------------------------------------------------- (e) no code outside the registry


PROGRAMS = sorted((ROOT / "tests" / "cases").rglob("*.vg")) + sorted((ROOT / "examples").rglob("*.vg"))


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_programs_only_produce_registered_codes(path):
    source = path.read_text(encoding="utf-8")
    result = compiler.run(source, path.name, generate=False)
    for d in result.diagnostics:
        assert d.code in D.REGISTRY and D.REGISTRY[d.code].severity == d.severity, d


def test_catalog_examples_only_produce_registered_codes():
    for s in SECTIONS:
        for source in s.bodies("vg"):
            for d in compiler.run(source, FILE, generate=False).diagnostics:
                assert d.code in D.REGISTRY and D.REGISTRY[d.code].severity == d.severity, (s.code, d)


def test_source_reports_only_registered_codes():
    """Every `D.NAME` the compiler uses is a registered code (or a severity), and no code is spelled out."""
    registered = {id(c) for c in D.REGISTRY.values()}
    for path in sorted((ROOT / "src" / "vgc").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for name in set(re.findall(r"\bD\.([A-Z][A-Z0-9_]*)\b", text)):
            value = getattr(D, name, None)
            ok = id(value) in registered or value is D.REGISTRY or value in (D.ERROR, D.WARNING)
            assert ok, f"{path.name}: D.{name}"
        if path.name != "diagnostics.py":
            literals = set(re.findall(r"[\"'](VG\d{3})[\"']", text))
            assert literals <= set(D.REGISTRY), f"{path.name}: {sorted(literals - set(D.REGISTRY))}"
