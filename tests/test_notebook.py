"""Notebook support (:mod:`vgc.notebook`): the ``%%vg [NAME]`` cell magic in a real IPython shell (binding,
several guides, bad NAMEs, error and warning reports without tracebacks) and the HTML display of a guide,
with Pygments and without it."""

from __future__ import annotations

import html
import re
import subprocess
import sys

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from numpyro.handlers import seed, trace
from traitlets.config import Config

import vgc
from vgc.notebook import CellError, guide_html

LOCATION_SCALE = "param m = 0.0\nparam s = 1.0 : positive\nu ~ Normal(0, 1)\nx = m + s * u\n"
TWO_GUIDES = "guide a { param m = 0.0; x ~ Normal(m, 1) }\nguide b { param s = 1.0 : positive; y ~ Normal(0, s) }\n"
# examples/rejected/factor.vg
FACTOR = (
    "x ~ Uniform(-10, 10)  # fixed sampler ...\n"
    'factor(-0.5 * (x / s)^2)  # ... "shaped" by a factor: rejected (factor is not a sampler in a guide)\n'
)


@pytest.fixture(scope="module")
def shell():
    config = Config()
    config.HistoryManager.hist_file = ":memory:"  # no history database in the user's profile
    sh = InteractiveShell.instance(config=config)
    sh.run_line_magic("load_ext", "vgc")
    yield sh
    InteractiveShell.clear_instance()


@pytest.fixture
def ip(shell):
    """The shell, with the names a test binds removed afterwards."""
    before = set(shell.user_ns)
    yield shell
    for name in set(shell.user_ns) - before:
        del shell.user_ns[name]


def bound(ip, *names) -> dict:
    return {n: ip.user_ns[n] for n in names if n in ip.user_ns}


def sites(g, *args) -> set[str]:
    return set(trace(seed(g, 0)).get_trace(*args))


def test_load_ext_registers_the_cell_magic(ip):
    assert "vg" in ip.magics_manager.magics["cell"]
    assert "vg" not in ip.magics_manager.magics["line"]


def test_cell_binds_its_guide_under_its_own_name(ip, capsys):
    result = ip.run_cell("%%vg\n" + LOCATION_SCALE)
    assert result.success and result.error_in_exec is None
    assert result.result is None  # the magic displays nothing
    assert capsys.readouterr() == ("", "")  # no warnings, no output
    g = ip.user_ns["guide"]  # a cell of bare statements defines the guide `guide`
    assert isinstance(g, vgc.Guide)
    assert g.name == "guide" and g.vg_source == LOCATION_SCALE
    assert sites(g) == {"m", "s", "u", "x"}


def test_name_binds_the_cells_only_guide_under_name(ip, capsys):
    assert ip.run_cell_magic("vg", "myname", LOCATION_SCALE) is None
    assert "guide" not in ip.user_ns
    g = ip.user_ns["myname"]
    assert isinstance(g, vgc.Guide) and g.name == "guide"
    assert sites(g) == {"m", "s", "u", "x"}
    assert capsys.readouterr() == ("", "")


def test_name_binds_a_guide_block_under_name(ip):
    assert ip.run_cell("%%vg q\nguide g { param m = 0.0; x ~ Normal(m, 1) }").success
    assert "g" not in ip.user_ns
    assert ip.user_ns["q"].name == "g"
    assert sites(ip.user_ns["q"]) == {"m", "x"}


def test_name_is_read_as_python_reads_identifiers(ip):
    assert ip.run_cell("%%vg \uff51\n" + LOCATION_SCALE).success  # fullwidth q
    assert isinstance(ip.user_ns["q"], vgc.Guide)
    assert "\uff51" not in ip.user_ns
    assert ip.run_cell("\uff51.name == 'guide'").result is True


def test_several_guides_are_bound_under_their_names(ip):
    assert ip.run_cell("%%vg\n" + TWO_GUIDES).success
    a, b = ip.user_ns["a"], ip.user_ns["b"]
    assert (a.name, b.name) == ("a", "b")
    assert sites(a) == {"m", "x"}
    assert sites(b) == {"s", "y"}


def test_name_picks_one_of_several_guides(ip):
    assert ip.run_cell("%%vg b\n" + TWO_GUIDES).success
    assert bound(ip, "a", "b").keys() == {"b"}
    assert ip.user_ns["b"].name == "b"
    assert sites(ip.user_ns["b"]) == {"s", "y"}


def test_name_that_is_none_of_several_guides_is_a_usage_error(ip, capsys):
    result = ip.run_cell("%%vg q\n" + TWO_GUIDES)
    assert not result.success and isinstance(result.error_in_exec, UsageError)
    out, err = capsys.readouterr()
    assert err == "UsageError: %%vg: the cell defines guides a, b; none is called 'q'\n"
    assert "Traceback" not in out + err
    assert bound(ip, "a", "b", "q") == {}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1x", "NAME must be a Python identifier, not '1x'"),
        ("class", "NAME must be a Python identifier, not 'class'"),
        ("my-guide", "NAME must be a Python identifier, not 'my-guide'"),
        ("a b", "expected at most one NAME, got 'a b'"),
    ],
)
def test_bad_name_is_a_usage_error(ip, capsys, line, message):
    before = set(ip.user_ns)
    result = ip.run_cell(f"%%vg {line}\n" + LOCATION_SCALE)
    assert isinstance(result.error_in_exec, UsageError)
    out, err = capsys.readouterr()
    assert err == f"UsageError: %%vg: {message}\n"
    assert "Traceback" not in out + err
    assert set(ip.user_ns) == before
    with pytest.raises(UsageError, match=re.escape(message)):
        ip.run_cell_magic("vg", line, LOCATION_SCALE)


def test_compile_error_shows_the_report_not_a_traceback(ip, capsys):
    assert ip.run_cell("%%vg\n" + LOCATION_SCALE).success
    earlier = ip.user_ns["guide"]
    capsys.readouterr()
    result = ip.run_cell("%%vg\n" + FACTOR)
    # The cell fails (so "Run all" stops here) with the compiler's report in place of a traceback.
    assert not result.success
    assert isinstance(result.error_in_exec, CellError) and isinstance(result.error_in_exec, vgc.CompileError)
    assert [d.code for d in result.error_in_exec.diagnostics if d.is_error] == ["VG301"]
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "CellError" not in out + err
    assert err == ""
    lines = out.splitlines()
    error = lines.index(next(x for x in lines if "error[" in x))
    assert lines[error].startswith("<cell>:2:1: error[VG301]: `factor` is not a sampler")
    assert lines[error + 1 : error + 4] == [
        "  |",
        '2 | factor(-0.5 * (x / s)^2)  # ... "shaped" by a factor: rejected (factor is not a sampler in a guide)',
        "  | ^^^^^^^^^^^^^^^^^^^^^^^^",
    ]
    assert lines[error + 4].startswith("  = hint: ")
    assert out == str(result.error_in_exec) + "\n"  # exactly the rendered report, nothing else
    assert ip.user_ns["guide"] is earlier  # nothing bound, and the earlier binding is kept


def test_compile_error_from_run_cell_magic_raises_compile_error(ip):
    with pytest.raises(vgc.CompileError) as info:
        ip.run_cell_magic("vg", "g", "u ~ Normal(0, 1)\nx = abs(u)\n")
    assert "<cell>:2:5: error[VG403]:" in str(info.value)
    assert info.value._render_traceback_() == str(info.value).split("\n")
    assert "g" not in ip.user_ns


def test_warnings_are_printed_and_the_guide_is_bound(ip, capsys):
    result = ip.run_cell("%%vg\nparam m = 0.0\nx ~ Normal(0, 1)\n")
    assert result.success and result.error_in_exec is None
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("<cell>:1:7: warning[VG605]: ")
    assert "<cell>:2:1: warning[VG601]: 'x' has no learnable parameter on its path: SVI cannot fit it\n" in err
    assert "  |\n2 | x ~ Normal(0, 1)\n  | ^\n" in err
    assert "Traceback" not in err
    g = ip.user_ns["guide"]
    assert [d.code for d in g.warnings] == ["VG605", "VG601"]
    assert sites(g) == {"m", "x"}


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def pre_texts(page: str) -> list[str]:
    """The text of each ``<pre>`` block of ``page``, tags removed and entities decoded."""
    return [text_of(m) for m in re.findall(r"<pre[^>]*>(.*?)</pre>", page, re.S)]


def test_display_is_highlighted_html(ip):
    ip.run_cell_magic("vg", "g", LOCATION_SCALE)
    g = ip.user_ns["g"]
    bundle, _ = ip.display_formatter.format(g)
    assert bundle["text/plain"] == "<vgc.Guide guide>"
    page = bundle["text/html"]
    assert page == guide_html(g)
    assert "<code>guide</code>" in page
    # Inline styles from the VG lexer: Normal is a distribution (Name.Class), param a keyword.
    assert re.search(r'<span style="[^"]+">Normal</span>', page)
    assert re.search(r'<span style="[^"]+">param</span>', page)
    assert 'class="highlight"' in page and "<link" not in page and "<style" not in page
    vg_part, details = page.split("<details>")
    assert pre_texts(vg_part) == [LOCATION_SCALE]
    assert details.startswith("<summary>generated NumPyro code</summary>")
    assert re.search(r'<span style="[^"]+">def</span>', details)  # Python highlighted too
    assert pre_texts(details) == [g.source]
    assert "numpyro.sample(" in g.source
    # `<cell>` in the generated docstring is escaped: no raw `<` outside of tags.
    assert "&lt;cell&gt;" in details and "<cell>" not in page


def test_display_shows_warnings_escaped(ip):
    ip.run_cell_magic("vg", "g", "x ~ Normal(0, 1)\n")
    page = guide_html(ip.user_ns["g"])
    assert "&lt;cell&gt;:1:1: warning[VG601]: &#x27;x&#x27; has no learnable parameter" in page
    assert "<cell>" not in page
    assert page.index("warning[VG601]") < page.index("<details>")


def test_display_without_pygments(ip, monkeypatch):
    ip.run_cell_magic("vg", "g", "x ~ Normal(0, 1)\n")
    g = ip.user_ns["g"]
    for name in [m for m in sys.modules if m == "pygments" or m.startswith(("pygments.", "vgc.pygments_lexer"))]:
        monkeypatch.setitem(sys.modules, name, None)
    page = guide_html(g)
    assert "style=" not in page and "<span" not in page
    assert f"<pre>{html.escape(g.vg_source)}</pre>" in page
    assert f"<details><summary>generated NumPyro code</summary>\n<pre>{html.escape(g.source)}</pre>\n</details>" in page
    assert "&lt;cell&gt;" in page and "<cell>" not in page
    assert ip.display_formatter.format(g)[0]["text/html"] == page


def test_import_vgc_does_not_import_ipython_or_pygments():
    code = (
        "import sys, vgc, vgc.notebook; vgc.guide; "
        "print(sorted(m for m in ('IPython', 'pygments', 'jax') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"
