"""The model's inputs (vgc.data): ``--data`` as .npz, .json or .csv and ``--arg NAME=VALUE``.

Loader units first (JAX arrays and their dtypes, 0-d values as Python numbers, every CSV and ``--arg``
error with its line), then the command line: NumPyro's AR(2) ``scan`` model through ``vgc init`` and
``vgc fit`` (it failed in ``vgc init`` while the data came as NumPy arrays), NumPyro's toy mixture taking dicts of
arrays (nested JSON, ``.npz`` keys ``obs.A``) through ``vgc init``, ``check`` and ``fit``, a subsampled logistic
regression on 100,000 rows indexing its data with the plate's indices (``--arg batch=512``), a CSV through
``vgc check --model``, and bad input as one line with exit status 2. The models are in
tests/data/input_models.py and tests/data/toy_mixture.py, the hand-written guides next to them; fixed seeds
throughout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from vgc import cli
from vgc.data import load_data, parse_args, with_args
from vgc.modelcheck import ModelError

HERE = Path(__file__).resolve().parent / "data"
MODELS = HERE / "input_models.py"
F32 = jax.dtypes.canonicalize_dtype(np.float64)  # float32 unless x64 is on
I32 = jax.dtypes.canonicalize_dtype(np.int64)


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    status = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))  # bytes: the line endings exactly as written
    return path


# ---------------------------------------------------------------- .npz and .json


def test_npz_arrays_become_jax_arrays_and_0d_values_python_numbers(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.arange(6.0).reshape(2, 3), k=np.arange(4), mask=np.array([True, False]),
             u8=np.array([1, 255], dtype=np.uint8), f32=np.ones(2, dtype=np.float32), n=np.array(8),
             s=np.array(0.5), flag=np.array(True))
    d = load_data(str(tmp_path / "d.npz"))
    for key, shape, dtype in [("x", (2, 3), F32), ("k", (4,), I32), ("mask", (2,), np.bool_), ("u8", (2,), np.uint8),
                              ("f32", (2,), np.float32)]:
        assert isinstance(d[key], jax.Array), key
        assert (d[key].shape, d[key].dtype) == (shape, dtype), key
    assert d["x"].tolist() == [[0, 1, 2], [3, 4, 5]] and d["u8"].tolist() == [1, 255]
    assert (type(d["n"]), d["n"]) == (int, 8)
    assert (type(d["s"]), d["s"]) == (float, 0.5)
    assert d["flag"] is True


def test_json_lists_become_jax_arrays_other_members_stay(tmp_path):
    path = write(tmp_path / "d.json", json.dumps({
        "y": [1.5, 2.0], "counts": [[1, 2], [3, 4]], "mask": [True, False], "J": 8, "lr": 0.1, "on": False,
        "label": "eight schools", "empty": [],
    }))
    d = load_data(str(path))
    assert isinstance(d["y"], jax.Array) and d["y"].dtype == F32 and d["y"].tolist() == [1.5, 2.0]
    assert d["counts"].dtype == I32 and d["counts"].shape == (2, 2)
    assert d["mask"].dtype == np.bool_
    assert (d["J"], d["lr"], d["on"], d["label"]) == (8, 0.1, False, "eight schools")
    assert type(d["J"]) is int and d["empty"].shape == (0,)


@pytest.mark.parametrize("members,message", [
    ({"y": [[1, 2], [3]]}, ": 'y' is not a rectangular array of numbers"),
    ({"y": [1, None]}, ": 'y' is not a rectangular array of numbers"),
    ({"y": ["a", "b"]}, ": 'y' is not an array of numbers (its dtype is <U1)"),
    ({"my-y": [1.0]}, ": 'my-y' is not a valid argument name"),
])
def test_json_that_is_not_numbers_under_names_is_one_line(tmp_path, members, message):
    path = write(tmp_path / "d.json", json.dumps(members))
    with pytest.raises(ModelError) as e:
        load_data(str(path))
    assert str(e.value) == f"{path}{message}"


def test_json_objects_become_dicts_of_arrays_recursively(tmp_path):
    """NumPyro's toy mixture example takes ``prior`` and ``obs`` as dicts of arrays: nested objects are dicts,
    their lists JAX arrays with the same dtype rules as at the top, their numbers Python numbers."""
    path = write(tmp_path / "d.json", json.dumps({
        "obs": {"A": [0, 1, 1], "C": [1.0, 0.0, 1.0]}, "prior": {"B": [[10.0, 1.0], [1.0, 10.0]], "k": 2,
                                                             "deeper": {"mask": [True, False], "none": {}}},
    }))
    d = load_data(str(path))
    assert set(d) == {"obs", "prior"} and set(d["obs"]) == {"A", "C"}
    assert isinstance(d["obs"]["A"], jax.Array) and d["obs"]["A"].dtype == I32 and d["obs"]["A"].tolist() == [0, 1, 1]
    assert d["obs"]["C"].dtype == F32 and d["prior"]["B"].shape == (2, 2)
    assert (type(d["prior"]["k"]), d["prior"]["k"]) == (int, 2)
    assert d["prior"]["deeper"]["mask"].dtype == np.bool_ and d["prior"]["deeper"]["none"] == {}


def test_npz_dotted_keys_become_groups(tmp_path):
    np.savez(tmp_path / "d.npz", **{"obs.A": np.array([0, 1, 1]), "obs.C": np.array([1.0, 0.0, 1.0]),
                                    "prior.B.rows": np.eye(2), "num_obs": np.array(3)})
    d = load_data(str(tmp_path / "d.npz"))
    assert set(d) == {"obs", "prior", "num_obs"} and d["num_obs"] == 3
    assert d["obs"]["A"].dtype == I32 and d["obs"]["C"].tolist() == [1.0, 0.0, 1.0]
    assert isinstance(d["prior"]["B"]["rows"], jax.Array) and d["prior"]["B"]["rows"].shape == (2, 2)


@pytest.mark.parametrize("arrays,message", [
    ({"obs": [1.0], "obs.A": [0, 1]}, ": 'obs' is both an array and a group ('obs.A'): rename one of them"),
    ({"obs.A": [1.0], "obs.A.x": [0, 1]}, ": 'obs.A' is both an array and a group ('obs.A.x'): rename one of them"),
    ({"obs..A": [1.0]}, ": 'obs..A' has an empty name between its dots (write group.member)"),
    ({"obs.": [1.0]}, ": 'obs.' has an empty name between its dots (write group.member)"),
    ({"obs.A": ["a"]}, ": 'obs.A' is not an array of numbers (its dtype is <U1)"),
    ({"1obs.A": [1.0]}, ": '1obs' is not a valid argument name"),
])
def test_bad_npz_groups_are_one_line(tmp_path, arrays, message):
    np.savez(tmp_path / "d.npz", **{k: np.array(v) for k, v in arrays.items()})
    with pytest.raises(ModelError) as e:
        load_data(str(tmp_path / "d.npz"))
    assert str(e.value) == f"{tmp_path / 'd.npz'}{message}"


@pytest.mark.parametrize("members,message", [
    ({"obs": {"A": [[1, 2], [3]]}}, ": 'obs.A' is not a rectangular array of numbers"),
    ({"obs": {"in": {"A": ["a"]}}}, ": 'obs.in.A' is not an array of numbers (its dtype is <U1)"),
    ({"obs": {"": {"A": [1]}}}, ": 'obs' has a member with an empty name"),
    ({"obs": {"in": {"": 1}}}, ": 'obs.in' has a member with an empty name"),
])
def test_bad_nested_json_names_the_whole_key(tmp_path, members, message):
    path = write(tmp_path / "d.json", json.dumps(members))
    with pytest.raises(ModelError) as e:
        load_data(str(path))
    assert str(e.value) == f"{path}{message}"


def test_values_beyond_jax_precision_are_an_error_not_a_wraparound(tmp_path):
    np.savez(tmp_path / "big.npz", k=np.array([1, 2**40]))
    np.savez(tmp_path / "huge.npz", x=np.array([1.0, 1e300, np.inf]))
    if np.float32 == F32:
        with pytest.raises(ModelError, match=r"'k' has values beyond int32, JAX's precision here \(set "
                                             r"JAX_ENABLE_X64=1 to keep int64\)"):
            load_data(str(tmp_path / "big.npz"))
        with pytest.raises(ModelError, match="'x' has values beyond float32"):
            load_data(str(tmp_path / "huge.npz"))
    with jax.enable_x64(True):
        assert load_data(str(tmp_path / "big.npz"))["k"].tolist() == [1, 2**40]
        assert load_data(str(tmp_path / "huge.npz"))["x"].dtype == np.float64
    np.savez(tmp_path / "inf.npz", x=np.array([1.0, np.inf, np.nan]))  # not finite to begin with: kept
    x = load_data(str(tmp_path / "inf.npz"))["x"]
    assert x[0] == 1 and np.isinf(x[1]) and np.isnan(x[2])


def test_other_extensions_and_missing_files(tmp_path):
    write(tmp_path / "d.txt", "x\n1\n")
    with pytest.raises(ModelError, match=r"d.txt: data must be a .npz, .json or .csv file$"):
        load_data(str(tmp_path / "d.txt"))
    with pytest.raises(ModelError, match=r"cannot read .*nothing.csv: no such file$"):
        load_data(str(tmp_path / "nothing.csv"))


# ---------------------------------------------------------------- .csv


def test_csv_columns_are_1d_arrays_of_their_kind(tmp_path):
    path = write(tmp_path / "d.csv", "\ufeffx, n,flag, y\r\n0.5,1,true,2\r\n\r\n-1e-3,2,False,\"3.5\"\r\n"
                                     "  7 ,-3,TRUE,nan\r\n")
    d = load_data(str(path))
    assert list(d) == ["x", "n", "flag", "y"]  # the BOM and the spaces around names are not part of them
    assert all(isinstance(v, jax.Array) and v.shape == (3,) for v in d.values())
    assert d["x"].dtype == F32 and d["x"].tolist() == pytest.approx([0.5, -1e-3, 7.0])
    assert d["n"].dtype == I32 and d["n"].tolist() == [1, 2, -3]
    assert d["flag"].dtype == np.bool_ and d["flag"].tolist() == [True, False, True]
    assert d["y"].dtype == F32 and d["y"].tolist()[:2] == [2.0, 3.5] and np.isnan(d["y"][2])


def test_csv_one_whole_number_column_written_as_floats_is_float(tmp_path):
    d = load_data(str(write(tmp_path / "d.csv", "k\n1\n2.0\n")))
    assert d["k"].dtype == F32 and d["k"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("text,message", [
    ("", ": the file is empty (its first line must name the columns)"),
    ("\n\n", ": the file is empty (its first line must name the columns)"),
    ("x,y\n", ": no rows below the header line (the data follow the names of the columns)"),
    ("x,y\n1,2\n3\n", ":3: 1 field, but the header names 2 columns"),
    ("x,y\n1,2\n3,4,5\n", ":3: 3 fields, but the header names 2 columns"),
    ("x,y\n1,2\n\n\n3,4\n5,six\n", ":6: column 'y': 'six' is not a number"),  # blank lines counted
    ('x,y\n"1\n",2\n3,\n', ":4: column 'y' is empty (a missing value?)"),  # a quoted field spans lines 2-3
    ("x,y\n1, \n", ":2: column 'y' is empty (a missing value?)"),
    ("x,y,x\n1,2,3\n", ":1: two columns are named 'x'"),
    ("x,2y\n1,2\n", ":1: column 2's name '2y' is not a valid argument name (the first line names the columns)"),
    ("x,,y\n1,2,3\n", ":1: column 2 has no name (the first line names the columns)"),
    ("1.5,2.5\n3,4\n", ":1: column 1's name '1.5' is not a valid argument name (the first line names the "
                       "columns)"),
    ("flag\ntrue\n1\n", ":3: column 'flag' mixes true/false with numbers (line 2 has True, this line '1')"),
    ('x,y\n1,"2\n', ":2: unexpected end of data"),
])
def test_bad_csv_is_one_line_with_its_line_number(tmp_path, text, message):
    path = write(tmp_path / "d.csv", text)
    with pytest.raises(ModelError) as e:
        load_data(str(path))
    assert str(e.value) == f"{path}{message}"


def test_csv_that_is_not_utf8_is_one_line(tmp_path):
    (tmp_path / "d.csv").write_bytes(b"x\n\xff\n")
    with pytest.raises(ModelError, match=r"^cannot read .*d.csv: UnicodeDecodeError: 'utf-8' codec can't decode"):
        load_data(str(tmp_path / "d.csv"))


# ---------------------------------------------------------------- --arg


def test_args_are_python_literals_of_their_type():
    got = parse_args(["K=3", "batch=256", "flag=True", "off=False", "lr=1e-3", "x=-2", "y=+2.5", "big=1_000",
                      "s= 4 "])
    assert got == {"K": 3, "batch": 256, "flag": True, "off": False, "lr": 0.001, "x": -2, "y": 2.5, "big": 1000,
                   "s": 4}
    assert [type(got[k]) for k in ("K", "flag", "lr", "x")] == [int, bool, float, int]
    assert parse_args(None) == {} and parse_args([]) == {}


LITERAL = "the value must be an int, float or bool literal (K=3, lr=1e-3, x=-2, flag=True)"


@pytest.mark.parametrize("item,message", [
    ("K=abc", f"--arg K=abc: {LITERAL}"),
    ("K=[1,2]", f"--arg K=[1,2]: {LITERAL}"),
    ("K=__import__('os')", f"--arg K=__import__('os'): {LITERAL}"),
    ("K=open('x', 'w')", f"--arg K=open('x', 'w'): {LITERAL}"),
    ("K='3'", f"--arg K='3': {LITERAL}"),
    ("K=1+2j", f"--arg K=1+2j: {LITERAL}"),
    ("K=2j", f"--arg K=2j: {LITERAL}"),
    ("K=-True", f"--arg K=-True: {LITERAL}"),
    ("K=--2", f"--arg K=--2: {LITERAL}"),
    ("K=None", f"--arg K=None: {LITERAL}"),
    ("K=true", f"--arg K=true: {LITERAL}"),
    ("K=", f"--arg K=: {LITERAL}"),
    ("K=3\x00", f"--arg K=3\x00: {LITERAL}"),
    ("=3", "--arg =3: no name before '=' (K=3, lr=1e-3, x=-2, flag=True)"),
    ("K", "--arg K: write NAME=VALUE (K=3, lr=1e-3, x=-2, flag=True)"),
    ("1K=3", "--arg 1K=3: '1K' is not a valid argument name"),
    ("my-k=3", "--arg my-k=3: 'my-k' is not a valid argument name"),
])
def test_bad_args_are_one_line(tmp_path, monkeypatch, item, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError) as e:
        parse_args([item])
    assert str(e.value) == message
    assert list(tmp_path.iterdir()) == []  # parsed, never run: open('x', 'w') made no file


def test_an_arg_given_twice_or_also_in_the_data_is_an_error():
    with pytest.raises(ModelError, match=r"^--arg K=4: 'K' is given twice$"):
        parse_args(["K=3", "K=4"])
    assert with_args({"y": 1.0}, {"K": 3}, "d.npz") == {"y": 1.0, "K": 3}
    with pytest.raises(ModelError, match=r"^--arg y: d.npz gives 'y' too$"):
        with_args({"y": 1.0}, {"y": 2.0}, "d.npz")


def test_parsing_args_does_not_import_jax():
    probe = ("import sys; from vgc.data import parse_args; assert parse_args(['K=3']) == {'K': 3}; "
             "print('jax' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ---------------------------------------------------------------- through the command line


def grouped_csv(path: Path, n: int = 60, seed: int = 0) -> Path:
    """x, y and a whole-number group column for input_models.grouped_line (three groups)."""
    rng = np.random.default_rng(seed)
    x, group = rng.normal(size=n), rng.integers(0, 3, size=n)
    y = np.array([-1.0, 0.0, 2.0])[group] + 0.7 * x + 0.3 * rng.normal(size=n)
    rows = "".join(f"{float(a)!r},{float(b)!r},{int(g)}\n" for a, b, g in zip(x, y, group, strict=True))
    return write(path, "x,y,group\n" + rows)


def test_cli_check_with_csv_data_and_an_arg(tmp_path, capsys):
    """The whole-number column reaches the model as ints (it indexes the intercepts: a float array cannot),
    G comes from --arg; a misspelt site is still found."""
    data = grouped_csv(tmp_path / "line.csv")
    model = f"{MODELS}:grouped_line"
    guide = HERE / "grouped_line.vg"
    status, out, err = run(capsys, "check", guide, "--model", model, "--data", data, "--arg", "G=3")
    assert (status, out, err) == (0, f"{guide}: 0 errors, 0 warnings\n", "")
    wrong = write(tmp_path / "wrong.vg", guide.read_text(encoding="utf-8").replace("slope ~", "slop ~"))
    status, out, err = run(capsys, "check", wrong, "--model", model, "--data", data, "--arg", "G=3")
    assert status == 1 and err == ""
    assert "error[VG802]: the model has no site 'slop'" in out and "did you mean 'slope'?" in out
    three = write(tmp_path / "three.vg", guide.read_text(encoding="utf-8").replace("groups(G)", "groups(3)"))
    status, out, _ = run(capsys, "check", three, "--model", model, "--data", data, "--arg", "G=3")
    assert status == 0
    status, out, _ = run(capsys, "check", three, "--model", model, "--data", data, "--arg", "G=4")
    assert status == 1 and "error[VG804]" in out  # G reaches the model: its plate is 4 wide, the guide's 3


@pytest.mark.parametrize("command", ["check", "init", "fit"])
@pytest.mark.parametrize("csv_text,args,message", [
    ("x,y,group\n1.0,2.0,0\n1.5,oops,1\n", ["--arg", "G=3"], "{csv}:3: column 'y': 'oops' is not a number"),
    ("x,y,group\n1.0,2.0\n", ["--arg", "G=3"], "{csv}:2: 2 fields, but the header names 3 columns"),
    ("x,y,group\n1.0,2.0,0\n", ["--arg", "G=abc"], f"--arg G=abc: {LITERAL}"),
    ("x,y,group\n1.0,2.0,0\n", ["--arg", "G"], "--arg G: write NAME=VALUE (K=3, lr=1e-3, x=-2, flag=True)"),
    ("x,y,group\n1.0,2.0,0\n", ["--arg", "G=3", "--arg", "G=3"], "--arg G=3: 'G' is given twice"),
    ("x,y,group\n1.0,2.0,0\n", ["--arg", "G=3", "--arg", "x=1.0"], "--arg x: {csv} gives 'x' too"),
])
def test_cli_bad_csv_or_arg_is_exit_2_one_line(tmp_path, capsys, command, csv_text, args, message):
    data = write(tmp_path / "line.csv", csv_text)
    where = [] if command == "init" else [HERE / "grouped_line.vg"]
    status, out, err = run(capsys, command, *where, "--model", f"{MODELS}:grouped_line", "--data", data, *args)
    assert (status, out) == (2, "")
    assert err == "vgc: error: " + message.format(csv=data) + "\n"


@pytest.mark.slow
def test_ar2_scan_model_inits_and_fits_from_npz_and_csv(tmp_path, capsys):
    """NumPyro's AR(2) example (``scan`` inside ``handlers.condition``): ``vgc init`` writes a guide (the same
    from the .npz and the .csv of the same series) and ``vgc fit`` recovers alpha_1, alpha_2 within 0.05 of
    the truth and within 0.02 of least squares (the posterior mean under a flat-enough prior), sigma within
    5%. T = 1,000: the posterior's standard deviations are about 0.03 (measured: 0.009 and 0.007 from least
    squares, single-particle SGD's noise)."""
    truth = {"alpha_1": 0.5, "alpha_2": -0.3, "sigma": 0.5}
    rng = np.random.default_rng(2)
    y = np.zeros(1000)
    for t in range(2, len(y)):
        y[t] = truth["alpha_1"] * y[t - 1] + truth["alpha_2"] * y[t - 2] + truth["sigma"] * rng.normal()
    np.savez(tmp_path / "ar2.npz", y=y)
    write(tmp_path / "ar2.csv", "y\n" + "".join(f"{float(v)!r}\n" for v in y))
    model = f"{MODELS}:ar2"
    guides = {}
    for ext in ("npz", "csv"):
        out = tmp_path / f"from_{ext}.vg"
        status, _, err = run(capsys, "init", "--model", model, "--data", tmp_path / f"ar2.{ext}", "-o", out)
        assert (status, err) == (0, "")
        guides[ext] = out.read_text(encoding="utf-8")
    assert guides["npz"] == guides["csv"]
    assert "guide ar2_guide(y) {" in guides["npz"] and "sigma = exp(sigma_raw)" in guides["npz"]

    params = tmp_path / "params.npz"
    status, out, err = run(capsys, "fit", tmp_path / "from_csv.vg", "--model", model, "--data", tmp_path / "ar2.csv",
                           "--steps", 1500, "--eval-particles", 500, "--out", params, "--format", "json")
    assert status == 0, err
    report = json.loads(out)
    assert report["steps_run"] == 1500 and report["stopped"] is None
    p = np.load(params)
    lags = np.stack([y[1:-1], y[:-2]], axis=1)
    ls = np.linalg.lstsq(lags, y[2:], rcond=None)[0]
    for name, fitted, least in (("alpha_1", p["alpha_1_loc"], ls[0]), ("alpha_2", p["alpha_2_loc"], ls[1])):
        assert float(fitted) == pytest.approx(truth[name], abs=0.05), name
        assert float(fitted) == pytest.approx(least, abs=0.02), name
        assert float(fitted) == pytest.approx(report["params"][f"{name}_loc"], rel=1e-6)
    assert float(np.exp(p["sigma_loc"])) == pytest.approx(truth["sigma"], rel=0.05)


def newton_logistic(A: np.ndarray, y: np.ndarray, steps: int = 12) -> np.ndarray:
    """The logistic regression's maximum likelihood coefficients (Newton's method, from zero)."""
    beta = np.zeros(A.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(A @ beta)))
        beta += np.linalg.solve(A.T @ (A * (p * (1 - p))[:, None]), A.T @ (y - p))
    return beta


@pytest.mark.slow
def test_subsampled_logistic_regression_indexes_its_data_with_the_plate(tmp_path, capsys):
    """100,000 rows, 512 a step (``--arg batch=512``): the model reads ``X[idx]`` and ``y[idx]`` at the
    plate's traced indices. The weights come back within 0.1 of the truth and 0.05 of the maximum
    likelihood estimate (their posterior standard deviations are about 0.01; the rest is the noise of 1,500
    subsampled steps; measured: 0.024 at most)."""
    w, b = np.array([1.0, -2.0, 0.5, 0.0, 1.5]), -0.5
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100_000, 5))
    y = (rng.random(len(X)) < 1 / (1 + np.exp(-(X @ w + b)))).astype(np.int64)
    np.savez(tmp_path / "logistic.npz", X=X, y=y)
    guide, model = HERE / "logistic.vg", f"{MODELS}:logistic"
    data = ("--data", tmp_path / "logistic.npz", "--arg", "batch=512")
    status, out, err = run(capsys, "check", guide, "--model", model, *data)
    assert (status, err) == (0, "") and out.endswith("0 errors, 0 warnings\n")
    params = tmp_path / "params.npz"
    status, out, err = run(capsys, "fit", guide, "--model", model, *data, "--steps", 1500, "--lr", 0.02,
                           "--eval-particles", 200, "--out", params, "--format", "json")
    assert status == 0, err
    p = np.load(params)
    assert p["w_loc"] == pytest.approx(w, abs=0.1)
    assert float(p["b_loc"]) == pytest.approx(b, abs=0.1)
    mle = newton_logistic(np.column_stack([X, np.ones(len(X))]), y)
    assert p["w_loc"] == pytest.approx(mle[:5], abs=0.05)
    assert float(p["b_loc"]) == pytest.approx(mle[5], abs=0.05)
    assert np.all(p["w_scale"] < 0.1)


# ---------------------------------------------------------------- arguments that are dicts of arrays


TOY = HERE / "toy_mixture.py"


def toy_files(tmp_path: Path, num_obs: int) -> tuple[Path, Path, dict]:
    """The toy chain's data (tests/data/toy_mixture.py, seed 0) as nested JSON and as a .npz with dotted keys."""
    sys.path.insert(0, str(HERE))
    try:
        import toy_mixture
    finally:
        sys.path.remove(str(HERE))
    data = toy_mixture.draw(num_obs)
    as_json = write(tmp_path / "toy.json", json.dumps(data))
    np.savez(tmp_path / "toy.npz", num_obs=np.array(num_obs),
             **{f"{group}.{k}": np.array(v) for group in ("prior", "obs") for k, v in data[group].items()})
    return as_json, tmp_path / "toy.npz", data


def test_cli_check_a_model_taking_dicts_of_arrays(tmp_path, capsys):
    """The model indexes ``obs["A"]`` with the plate: from nested JSON (or the .npz's ``obs.A``) it gets JAX
    arrays, where the lists it got before failed inside the model ("Using a non-tuple sequence for
    multidimensional indexing is not allowed")."""
    as_json, as_npz, _ = toy_files(tmp_path, 50)
    guide = HERE / "toy_mixture.vg"
    for data in (as_json, as_npz):
        status, out, err = run(capsys, "check", guide, "--model", f"{TOY}:toy_mixture", "--data", data)
        assert (status, out, err) == (0, f"{guide}: 0 errors, 0 warnings\n", "")


@pytest.mark.parametrize("command", ["check", "init", "fit"])
def test_cli_an_npz_key_both_array_and_group_is_exit_2_one_line(tmp_path, capsys, command):
    np.savez(tmp_path / "bad.npz", num_obs=np.array(2), obs=np.array([0, 1]), **{"obs.A": np.array([0, 1])})
    where = [] if command == "init" else [HERE / "toy_mixture.vg"]
    status, out, err = run(capsys, command, *where, "--model", f"{TOY}:toy_mixture", "--data", tmp_path / "bad.npz")
    assert (status, out) == (2, "")
    assert err == f"vgc: error: {tmp_path / 'bad.npz'}: 'obs' is both an array and a group ('obs.A'): rename one " \
                  "of them\n"


@pytest.mark.slow
def test_toy_mixture_from_nested_data_inits_and_fits(tmp_path, capsys):
    """NumPyro's toy mixture (A) -> [B] -> (C), its data as dicts of arrays: ``vgc init`` writes the same guide
    from the nested JSON and from the dotted .npz, which passes ``vgc check``; ``vgc fit`` (TraceEnum_ELBO,
    B summed out) puts p_A, whose posterior is Beta(1 + k, 1 + n - k) for k of the n A's true, within 0.01
    of its mean (posterior sd 0.014; measured 0.003 off, 500 steps)."""
    as_json, as_npz, data = toy_files(tmp_path, 1000)
    model = f"{TOY}:toy_mixture"
    texts = []
    for source in (as_json, as_npz):
        out = tmp_path / f"init_{source.suffix[1:]}.vg"
        status, _, err = run(capsys, "init", "--model", model, "--data", source, "-o", out)
        assert (status, err) == (0, "")
        texts.append(out.read_text(encoding="utf-8"))
    assert texts[0] == texts[1]
    lines = [ln.strip() for ln in texts[0].splitlines()]
    assert "guide toy_mixture_guide(prior, obs, num_obs) {" in lines
    assert "p_B = sigmoid(p_B_raw)" in lines and lines[4].startswith("# B: Bernoulli, 2 values in data_plate")
    status, out, err = run(capsys, "check", tmp_path / "init_json.vg", "--model", model, "--data", as_json)
    assert status == 0, out
    params = tmp_path / "params.npz"
    status, out, err = run(capsys, "fit", tmp_path / "init_npz.vg", "--model", model, "--data", as_npz,
                           "--steps", 500, "--lr", 0.05, "--eval-particles", 500, "--out", params, "--format", "json")
    assert status == 0, err
    report = json.loads(out)
    assert report["elbo"] == "traceenum" and report["steps_run"] == 500 and report["stopped"] is None
    k, n = sum(data["obs"]["A"]), data["num_obs"]
    p_a = 1 / (1 + np.exp(-float(np.load(params)["p_A_loc"])))
    print(f"\ntoy mixture: p_A {p_a:.4f}, posterior mean {(k + 1) / (n + 2):.4f}; "
          f"-ELBO {report['neg_elbo']['mean']:.2f}")
    assert p_a == pytest.approx((k + 1) / (n + 2), abs=0.01)
