"""The model's inputs: the keyword arguments that ``--data`` files and ``--arg`` values give the model.

``vgc check --model``, ``vgc init``, ``vgc fit`` and the language server's model check all call the user's
model with keyword arguments read here, so a model sees the same values whichever command runs it:

* ``--data FILE.npz`` (its arrays), ``FILE.json`` (an object's members; lists become arrays) or
  ``FILE.csv`` (a header row naming the columns; each column is one 1-D array);
* **groups**: an argument that is a dict of arrays (NumPyro's toy mixture example takes ``obs`` with
  ``obs["A"]`` and ``obs["C"]``) is a nested JSON object (``{"obs": {"A": [...], "C": [...]}}``, to any
  depth, each member read as a top-level one) or, in a ``.npz``, arrays whose keys join the names with dots
  (``obs.A``, ``obs.C``: ``np.savez(f, **{"obs.A": a, "obs.C": c})``). A key that is both an array and a
  group (``obs`` and ``obs.A``) is an error;
* ``--arg NAME=VALUE``, repeatable: a Python int, float or bool literal (``K=3``, ``lr=1e-3``,
  ``flag=True``), for the scalar arguments besides the data (a batch size, a number of components).

Arrays reach the model as **JAX arrays**, as NumPyro's own examples pass them. A NumPy array refuses to be
indexed by traced values, and SVI traces: ``X[idx]`` under a subsampled plate, or ``y[2:]`` conditioned
into a ``scan``, raised ``TracerArrayConversionError`` inside ``vgc fit`` or even ``vgc init`` while the
data came as NumPy. The dtype is kept as far as JAX's precision setting allows: ints stay ints and bools
stay bools, but without ``JAX_ENABLE_X64`` float64 becomes float32 and int64 int32 (a value that does not
fit is an error here, not a silent wrap-around or infinity). 0-d values stay Python numbers, as a scalar
argument written in the model's signature would be.

Every problem is a :class:`~vgc.modelcheck.ModelError` with a one-line message (a CSV's with its line
number), which the command line reports with exit status 2. jax and numpy are imported only when a file
is read: parsing ``--arg`` needs neither.
"""

from __future__ import annotations

import ast
import csv
import json
import os

from .modelcheck import ModelError

__all__ = ["ModelError", "load_data", "parse_args", "with_args"]

_BOOLS = {"true": True, "false": False}  # CSV cells, compared in lower case
_ARG_EXAMPLES = "K=3, lr=1e-3, x=-2, flag=True"


def load_data(path: str) -> dict:
    """The model's keyword arguments from a ``.npz``, ``.json`` or ``.csv`` file.

    Arrays become JAX arrays (dtype kept as JAX's precision allows), 0-d values Python numbers; a JSON
    object, or ``.npz`` keys ``group.member``, a dict of such values (recursively); JSON members that are
    neither lists nor objects (numbers, strings, ``null``) are passed as they are. Raises
    :class:`ModelError` with a one-line message for a missing, unreadable or malformed file.
    """
    import numpy as np

    ext = os.path.splitext(path)[1].lower()
    if not os.path.isfile(path):
        raise ModelError(f"cannot read {path}: no such file")
    try:
        if ext == ".npz":
            with np.load(path, allow_pickle=False) as f:  # never unpickle: a data file must not run code
                data = _npz_groups(path, {k: f[k] for k in f.files})
        elif ext == ".json":
            with open(path, encoding="utf-8") as f:
                raw = json.load(f)
            if not isinstance(raw, dict):
                raise ModelError(f"{path}: the JSON data must be an object of named arguments")
            data = _json_values(path, "", raw)
        elif ext == ".csv":
            data = _read_csv(path)
        else:
            raise ModelError(f"{path}: data must be a .npz, .json or .csv file")
    except ModelError:
        raise
    except Exception as e:  # a corrupt file (not a zip, not JSON, not UTF-8): its reader's message
        raise ModelError(f"cannot read {path}: {type(e).__name__}: {e}") from None
    for k in data:
        if not k.isidentifier():
            raise ModelError(f"{path}: '{k}' is not a valid argument name")
    return _for_model_all(path, "", data)


def _for_model_all(path: str, prefix: str, values: dict) -> dict:
    """Every array of a (nested) dict as the model gets it (:func:`_for_model`); other values kept."""
    import numpy as np

    out = {}
    for k, v in values.items():
        key = prefix + k
        if isinstance(v, dict):
            out[k] = _for_model_all(path, key + ".", v)
        else:
            out[k] = _for_model(path, key, v) if isinstance(v, np.ndarray) else v
    return out


def _json_values(path: str, prefix: str, members: dict) -> dict:
    """A JSON object's members: lists as NumPy arrays, objects as dicts of the same (``prefix`` names the
    enclosing groups in messages: ``obs.A``)."""
    out = {}
    for k, v in members.items():
        if prefix and not k:  # a group's member (the top level's names are checked as argument names)
            raise ModelError(f"{path}: '{prefix[:-1]}' has a member with an empty name")
        if isinstance(v, list):
            out[k] = _json_array(path, prefix + k, v)
        elif isinstance(v, dict):
            out[k] = _json_values(path, prefix + k + ".", v)
        else:
            out[k] = v
    return out


def _npz_groups(path: str, arrays: dict) -> dict:
    """The arrays of a ``.npz``, keys ``a.b.c`` nested as ``{"a": {"b": {"c": ...}}}``. A key that names both
    an array and a group (``obs`` and ``obs.A``), or has an empty part (``obs..A``, ``obs.``), is an error."""
    out: dict = {}
    for key in sorted(arrays):  # sorted: ``obs`` before ``obs.A``, so the message is the same either way
        parts = key.split(".")
        if "" in parts:
            raise ModelError(f"{path}: '{key}' has an empty name between its dots (write group.member)")
        node = out
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ModelError(f"{path}: '{'.'.join(parts[:depth + 1])}' is both an array and a group "
                                 f"('{key}'): rename one of them")
            node = child
        if parts[-1] in node:  # only a group can be there: keys are unique and sorted
            raise ModelError(f"{path}: '{key}' is both an array and a group ('{key}.{next(iter(node[parts[-1]]))}'): "
                             "rename one of them")
        node[parts[-1]] = arrays[key]
    return out


def _json_array(path: str, key: str, value: list):
    """A JSON list as a NumPy array; a ragged list or one holding non-numbers is an error."""
    import numpy as np

    try:
        array = np.asarray(value)
    except ValueError:  # NumPy 2 refuses ragged nesting outright
        raise ModelError(f"{path}: '{key}' is not a rectangular array of numbers") from None
    return array


def _for_model(path: str, key: str, array):
    """One array as the model gets it: a Python number when 0-d, else a JAX array of the nearest dtype."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    if array.dtype == object:
        raise ModelError(f"{path}: '{key}' is not a rectangular array of numbers")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ModelError(f"{path}: '{key}' is not an array of numbers (its dtype is {array.dtype})")
    if array.ndim == 0:
        return array.item()
    target = jax.dtypes.canonicalize_dtype(array.dtype)  # float64 -> float32 unless x64 is on, and so on
    if target != array.dtype and array.size:
        # jnp.asarray would wrap large integers round and turn large floats into inf, with only a warning.
        if np.issubdtype(target, np.integer):
            info = np.iinfo(target)
            fits = info.min <= array.min() and array.max() <= info.max
        else:
            finite = np.abs(array[np.isfinite(array)])
            fits = finite.size == 0 or finite.max() <= np.finfo(target).max
        if not fits:
            raise ModelError(f"{path}: '{key}' has values beyond {target.name}, JAX's precision here "
                             f"(set JAX_ENABLE_X64=1 to keep {array.dtype.name})")
    return jnp.asarray(array)


def _read_csv(path: str) -> dict:
    """The columns of a CSV file with a header row, as 1-D NumPy arrays (int, float or bool).

    Python's ``csv`` module reads it (quoting, ``\\r\\n``, a BOM). Blank lines are skipped. A column is an
    int array when every cell is a whole number, a bool array when every cell is ``true`` or ``false`` (any
    case), else a float array. Errors name the line (1-based, the header is line 1) and the column.
    """
    import numpy as np

    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, strict=True)
        rows = _rows(path, reader)
        header = next(rows, None)
        if header is None:
            raise ModelError(f"{path}: the file is empty (its first line must name the columns)")
        line, names = header
        names = [n.strip() for n in names]
        for i, name in enumerate(names, 1):
            if not name.isidentifier():
                what = f"column {i} has no name" if not name else f"column {i}'s name '{name}' is not a valid " \
                                                                   "argument name"
                raise ModelError(f"{path}:{line}: {what} (the first line names the columns)")
            if names.index(name) != i - 1:
                raise ModelError(f"{path}:{line}: two columns are named '{name}'")
        cells: list[list] = [[] for _ in names]
        first = 0  # the first data row's line: a column's kind is set there
        for line, row in rows:
            first = first or line
            if len(row) != len(names):
                raise ModelError(f"{path}:{line}: {len(row)} field{'s' * (len(row) != 1)}, but the header names "
                                 f"{len(names)} column{'s' * (len(names) != 1)}")
            for j, (name, text) in enumerate(zip(names, row, strict=True)):
                value = _cell(path, line, name, text)
                if cells[j] and isinstance(value, bool) != isinstance(cells[j][0], bool):
                    raise ModelError(f"{path}:{line}: column '{name}' mixes true/false with numbers "
                                     f"(line {first} has {cells[j][0]!r}, this line {text.strip()!r})")
                cells[j].append(value)
    if not cells[0]:
        raise ModelError(f"{path}: no rows below the header line (the data follow the names of the columns)")
    columns = {}
    for name, values in zip(names, cells, strict=True):
        kind = bool if isinstance(values[0], bool) else int if all(type(v) is int for v in values) else float
        try:
            columns[name] = np.array(values, dtype={bool: np.bool_, int: np.int64, float: np.float64}[kind])
        except OverflowError:
            raise ModelError(f"{path}: column '{name}' holds whole numbers beyond 64 bits") from None
    return columns


def _rows(path: str, reader):
    """``(line, fields)`` of each non-blank row; ``line`` is where the row starts (a quoted field may span
    lines), counting from 1."""
    end = 0
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:  # a stray quote, a NUL byte: one line, where the reader stopped
            raise ModelError(f"{path}:{reader.line_num}: {e}") from None
        end = reader.line_num
        if len(row) > 1 or (row and row[0].strip()):  # ",," is a row of empty cells, not a blank line
            yield start, row


def _cell(path: str, line: int, column: str, text: str):
    """One CSV cell as a bool (``true``/``false``), an int or a float; anything else is an error."""
    text = text.strip()
    if not text:
        raise ModelError(f"{path}:{line}: column '{column}' is empty (a missing value?)")
    if text.lower() in _BOOLS:
        return _BOOLS[text.lower()]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    raise ModelError(f"{path}:{line}: column '{column}': '{text}' is not a number")


def parse_args(items: list[str] | None) -> dict:
    """The ``--arg NAME=VALUE`` values as keyword arguments: each VALUE a Python int, float or bool literal.

    The value is parsed, never evaluated: only a number (with an optional sign) or ``True``/``False`` is
    accepted, so ``--arg K=__import__('os')`` is refused like ``--arg K=abc``. A missing ``=``, an empty or
    non-identifier name and a name given twice are errors too; every message starts with ``--arg``.
    """
    out: dict = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        if not sep:
            raise ModelError(f"--arg {item}: write NAME=VALUE ({_ARG_EXAMPLES})")
        if not name:
            raise ModelError(f"--arg {item}: no name before '=' ({_ARG_EXAMPLES})")
        if not name.isidentifier():
            raise ModelError(f"--arg {item}: '{name}' is not a valid argument name")
        if name in out:
            raise ModelError(f"--arg {item}: '{name}' is given twice")
        out[name] = _literal(item, text)
    return out


def _literal(item: str, text: str) -> int | float | bool:
    """An int, float or bool literal, read from the parse tree (a sign, then a number; or True/False)."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError):  # ValueError: a NUL byte
        node = None
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            node = None  # -True is an int in Python, never what was meant
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
        return node.value if isinstance(node.value, bool) else sign * node.value
    raise ModelError(f"--arg {item}: the value must be an int, float or bool literal ({_ARG_EXAMPLES})")


def with_args(data: dict, args: dict, data_path: str | None = None) -> dict:
    """The ``--data`` keyword arguments and the ``--arg`` values together; a name in both is an error."""
    for name in args:
        if name in data:
            raise ModelError(f"--arg {name}: {data_path or 'the data'} gives '{name}' too")
    return {**data, **args}
