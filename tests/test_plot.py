"""vgc.plot: PNGs from synthetic numpy data, the density estimate, truncation notes, atomic writes, no matplotlib."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib.image
import matplotlib.style

from vgc import plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def default_style():
    # A developer's matplotlibrc (say savefig.bbox: tight) would change the pixel sizes checked below.
    with matplotlib.style.context("default"):
        yield


def read_png(path: Path, inches: tuple[float, float]) -> np.ndarray:
    """The image at ``path``, checked to be a PNG of ``inches`` × DPI pixels with more than one colour."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    width, height = inches
    assert image.shape[:2] == (round(height * plot.DPI), round(width * plot.DPI))
    pixels = image.reshape(-1, image.shape[-1])
    assert (pixels != pixels[0]).any(), "a blank image"
    return image


def no_leftovers(directory: Path, *keep: str) -> None:
    assert sorted(p.name for p in directory.iterdir()) == sorted(keep)


# --- gaussian_smooth and grid_density ---------------------------------------------------------------------------


def test_gaussian_smooth_keeps_shape_and_sum_even_with_mass_at_the_edges():
    rng = np.random.default_rng(0)
    h = rng.random((13, 7))
    h[0, 0] = h[-1, -1] = 50.0  # corners: a zero-padded convolution would lose most of this
    for sigma in (0.5, 1.0, 2.5, 10.0):
        out = plot.gaussian_smooth(h, sigma)
        assert out.shape == h.shape
        assert out.sum() == pytest.approx(h.sum(), rel=1e-12)
        assert (out >= 0).all()
    assert plot.gaussian_smooth(rng.random((1, 5, 3)), 1.5).shape == (1, 5, 3)


def test_gaussian_smooth_spreads_a_spike_symmetrically_and_sigma_zero_is_the_identity():
    h = np.zeros((11, 11))
    h[5, 5] = 1.0
    out = plot.gaussian_smooth(h, 1.0)
    assert np.unravel_index(out.argmax(), out.shape) == (5, 5)
    assert out[5, 5] < 0.5  # it did spread
    np.testing.assert_allclose(out, out.T)
    np.testing.assert_allclose(out, out[::-1, ::-1])
    assert out[5, 6] == pytest.approx(out[5, 5] * np.exp(-0.5), rel=1e-12)
    np.testing.assert_array_equal(plot.gaussian_smooth(h, 0), h)
    with pytest.raises(ValueError):
        plot.gaussian_smooth(h, -1.0)


def test_grid_density_of_a_gaussian_sample_peaks_in_the_cell_of_its_mean():
    rng = np.random.default_rng(1)
    xs = np.arange(-3.0, 3.01, 0.25)
    ys = np.arange(-2.5, 2.51, 0.25)  # a different length, so a transposed result cannot pass
    draws = rng.normal([0.5, -1.0], 0.3, size=(20_000, 2))
    density = plot.grid_density(xs, ys, draws)
    assert density.shape == (len(ys), len(xs))
    iy, ix = np.unravel_index(density.argmax(), density.shape)
    assert (xs[ix], ys[iy]) == (0.5, -1.0)
    # A normalised density: it integrates to the fraction of draws inside the grid (all of them here).
    assert density.sum() * 0.25 * 0.25 == pytest.approx(1.0, abs=1e-3)


def test_grid_density_ignores_draws_outside_the_grid_and_non_finite_ones():
    rng = np.random.default_rng(2)
    xs = ys = np.linspace(-5, 5, 41)
    draws = rng.standard_cauchy((4000, 2))
    draws[:10] = np.nan
    density = plot.grid_density(xs, ys, draws)
    step = xs[1] - xs[0]
    inside = (np.abs(draws[10:]) <= 5 + step / 2).all(axis=1).sum()
    mass = density.sum() * step * step
    assert 0.5 < mass < 0.95
    assert mass == pytest.approx(inside / 3990, rel=1e-9)


# --- loss_curves ----------------------------------------------------------------------------------------------------


def test_loss_curves_of_different_lengths_with_a_trailing_nan(tmp_path: Path):
    rng = np.random.default_rng(3)
    steps = np.arange(1500)
    vg = 500 * np.exp(-steps / 100) + 20 + rng.normal(0, 2, steps.size)
    vg[:2] = 1e12  # the first steps of a fit can be astronomically bad
    auto = (600 * np.exp(-steps / 150) + 25 + rng.normal(0, 3, steps.size))[:900]
    auto[-3:] = np.nan  # stopped on NaN
    path = tmp_path / "loss.png"
    assert plot.loss_curves({"vg": vg, "AutoNormal": auto}, str(path), title="eight schools") == "eight schools"
    read_png(path, plot.LOSS_FIGSIZE)
    assert plot.loss_curves({"vg": vg, "AutoDelta": [np.nan, np.inf]}, str(path)) == ""
    read_png(path, plot.LOSS_FIGSIZE)
    no_leftovers(tmp_path, "loss.png")


def test_loss_ylim_follows_the_late_curve_not_the_early_spikes():
    rng = np.random.default_rng(4)
    y = 20 + rng.normal(0, 1, 2000)
    y[:5] = 1e9
    y[1000:1003] = -1e6  # a few wild steps in the middle must not set the lower limit either
    y = np.append(y, [np.nan, np.inf])
    mean = plot._running_median(y, 10)
    assert np.isfinite(mean[:-2]).all()
    assert np.abs(mean[20:-20] - 20).max() < 2  # the median ignores the spikes altogether
    lo, hi = plot._loss_ylim([mean])
    assert 15 < lo < 20 < hi < 25
    # A constant loss still gets a non-empty range.
    lo, hi = plot._loss_ylim([np.full(100, 3.0)])
    assert lo < 3.0 < hi
    assert plot._loss_ylim([np.array([np.nan])]) is None


def test_running_median_is_centred_robust_and_skips_nans():
    y = np.arange(100.0)
    y[50] = np.nan
    y[70] = 1e30  # one Cauchy-tailed step: a running mean would jump by 2e29 around it
    med = plot._running_median(y, 5)
    assert med.shape == y.shape
    assert med[20] == pytest.approx(20.0)
    assert med[50] == pytest.approx((49 + 51) / 2)  # median of 48, 49, 51, 52
    assert med[70] == pytest.approx(71.0)  # of 68, 69, 1e30, 71, 72 (a mean: 2e29)
    assert med[0] == pytest.approx(1.0)  # the window is cut at the ends: 0, 1, 2
    assert plot._running_median(np.array([np.nan, np.nan]), 1).tolist() == pytest.approx([np.nan, np.nan], nan_ok=True)


# --- density_panels ------------------------------------------------------------------------------------------------


def grid():
    xs = np.linspace(-3, 3, 61)
    ys = np.linspace(-2, 2, 41)
    x, y = np.meshgrid(xs, ys)
    return xs, ys, -0.5 * (x**2 + 4 * y**2)


def darkness_centroid_x(image: np.ndarray) -> float:
    dark = 1 - image[..., :3].mean(axis=-1)
    return float((dark.sum(axis=0) * np.arange(image.shape[1])).sum() / dark.sum())


def test_density_panels_draws_the_guides_where_their_draws_are(tmp_path: Path):
    rng = np.random.default_rng(5)
    xs, ys, log_target = grid()
    left = rng.normal([-1.0, 0.0], 0.4, size=(5000, 2))
    right = rng.normal([1.0, 0.0], 0.4, size=(5000, 2))
    inches = (2 * plot.DENSITY_PANEL[0] + plot.DENSITY_COLORBAR, plot.DENSITY_PANEL[1])
    images = {}
    for name, draws in (("left", left), ("right", right)):
        path = tmp_path / f"{name}.png"
        assert plot.density_panels(xs, ys, log_target, {"vg": draws}, ("mu", "tau"), str(path)) == ""
        images[name] = read_png(path, inches)
    assert not np.array_equal(images["left"], images["right"])
    # Same posterior panel and colour bar in both: only the guide panel's mass moved, left versus right.
    assert darkness_centroid_x(images["left"]) < darkness_centroid_x(images["right"]) - 5

    both = tmp_path / "both.png"
    assert plot.density_panels(xs, ys, log_target, {"a": left, "b": right}, ("mu", "tau"), both, title="t") == "t"
    read_png(both, (3 * plot.DENSITY_PANEL[0] + plot.DENSITY_COLORBAR, plot.DENSITY_PANEL[1]))
    no_leftovers(tmp_path, "left.png", "right.png", "both.png")


def test_density_panels_masks_log_target_outside_the_support(tmp_path: Path):
    rng = np.random.default_rng(6)
    xs, ys, log_target = grid()
    log_target[:, xs < -1] = -np.inf
    log_target[ys > 1.5, :] = np.nan
    cauchy = rng.standard_cauchy((3000, 2))  # mostly off the grid
    path = tmp_path / "support.png"
    plot.density_panels(xs, ys, log_target, {"vg": cauchy, "far": np.full((10, 2), 100.0)}, ("x", "y"), str(path))
    read_png(path, (3 * plot.DENSITY_PANEL[0] + plot.DENSITY_COLORBAR, plot.DENSITY_PANEL[1]))
    # Nothing finite at all: a note instead of contours, still a picture.
    plot.density_panels(xs, ys, np.full_like(log_target, -np.inf), {}, ("x", "y"), str(path))
    read_png(path, (plot.DENSITY_PANEL[0] + plot.DENSITY_COLORBAR, plot.DENSITY_PANEL[1]))


def test_density_panels_rejects_mismatched_shapes(tmp_path: Path):
    xs, ys, log_target = grid()
    with pytest.raises(ValueError, match="log_target"):
        plot.density_panels(xs, ys, log_target.T, {}, ("x", "y"), str(tmp_path / "a.png"))
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plot.density_panels(xs, ys, log_target, {"vg": np.zeros((5, 3))}, ("x", "y"), str(tmp_path / "a.png"))
    no_leftovers(tmp_path)


# --- marginals ------------------------------------------------------------------------------------------------------


def test_marginals_notes_truncation_and_lays_out_at_most_four_columns(tmp_path: Path):
    rng = np.random.default_rng(7)
    samples = {
        "vg": {"mu": rng.normal(size=500), "theta": rng.normal(size=(500, 8))},
        "AutoNormal": {
            "mu": rng.standard_cauchy(500),
            "theta": rng.normal(size=(500, 8)),
            "W": rng.random((500, 3, 3)),
        },
    }
    path = tmp_path / "m.png"
    # 1 + 8 + 9 = 18 entries; 6 panels on 2 rows of 4.
    assert plot.marginals(samples, str(path), max_panels=6) == "first 6 of 18 entries"
    read_png(path, (4 * plot.MARGINAL_PANEL[0], 2 * plot.MARGINAL_PANEL[1]))
    assert plot.marginals(samples, str(path), max_panels=2, title="eight schools") == (
        "eight schools (first 2 of 18 entries)"
    )
    # All entries fit: no note; 5 entries make 2 rows of 4, the last three cells left empty.
    few = {"vg": {"mu": samples["vg"]["mu"]}, "AutoNormal": {"theta": samples["AutoNormal"]["theta"][:, :4]}}
    assert plot.marginals(few, str(path), max_panels=5) == ""
    read_png(path, (4 * plot.MARGINAL_PANEL[0], 2 * plot.MARGINAL_PANEL[1]))
    no_leftovers(tmp_path, "m.png")


def test_marginals_draws_the_histograms_where_the_draws_are(tmp_path: Path):
    rng = np.random.default_rng(8)
    base = rng.normal(size=2000)
    images = {}
    for name, shift in (("low", 0.0), ("high", 3.0)):
        # A reference guide fixes the bin range; the second guide's histogram moves with its draws.
        path = tmp_path / f"{name}.png"
        plot.marginals({"ref": {"mu": np.r_[base - 2, base + 5]}, "vg": {"mu": base + shift}}, str(path))
        images[name] = read_png(path, plot.MARGINAL_PANEL)
    assert not np.array_equal(images["low"], images["high"])
    assert darkness_centroid_x(images["low"]) < darkness_centroid_x(images["high"])


def test_marginals_entry_order_and_labels():
    entries = plot._first_entries({"mu": (), "theta": (3,), "W": (2, 2)}, 6)
    assert [plot._entry_label(site, index) for site, index in entries] == [
        "mu",
        "theta[0]",
        "theta[1]",
        "theta[2]",
        "W[0,0]",
        "W[0,1]",
    ]
    # A huge site is not enumerated beyond the limit.
    assert len(plot._first_entries({"z": (10**6, 10**6)}, 3)) == 3


def test_marginals_with_one_scalar_a_point_mass_and_non_finite_draws(tmp_path: Path):
    path = tmp_path / "one.png"
    draws = np.r_[np.full(99, 2.0), np.nan]  # a Delta guide: every draw the same
    assert plot.marginals({"AutoDelta": {"mu": draws}, "vg": {"sigma": np.full(5, np.inf)}}, str(path)) == ""
    read_png(path, (2 * plot.MARGINAL_PANEL[0], plot.MARGINAL_PANEL[1]))


def test_marginals_rejects_inconsistent_or_empty_input(tmp_path: Path):
    path = str(tmp_path / "m.png")
    with pytest.raises(ValueError, match="shape"):
        plot.marginals({"a": {"theta": np.zeros((5, 2))}, "b": {"theta": np.zeros((5, 3))}}, path)
    with pytest.raises(ValueError, match="at least one"):
        plot.marginals({"a": {}}, path)
    with pytest.raises(ValueError, match="max_panels"):
        plot.marginals({"a": {"mu": np.zeros(5)}}, path, max_panels=0)
    no_leftovers(tmp_path)


# --- matplotlib missing, atomic writes, no global state -------------------------------------------------------------


def test_require_without_matplotlib_gives_the_install_hint(monkeypatch, tmp_path: Path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(plot.PlotUnavailable, match=r"pip install 'vgc\[plot\]'"):
        plot.require()
    with pytest.raises(plot.PlotUnavailable):
        plot.loss_curves({"vg": np.arange(10.0)}, str(tmp_path / "loss.png"))
    no_leftovers(tmp_path)


def test_require_returns_matplotlib_and_leaves_the_backend_alone():
    import matplotlib

    before = matplotlib.get_backend()
    assert plot.require() is matplotlib
    assert matplotlib.get_backend() == before


def test_a_failing_savefig_leaves_no_file_and_keeps_the_old_one(monkeypatch, tmp_path: Path):
    from matplotlib.figure import Figure

    path = tmp_path / "loss.png"
    curves = {"vg": np.linspace(10, 1, 50)}
    plot.loss_curves(curves, str(path))
    old = path.read_bytes()
    os.chmod(path, 0o640)

    def broken(self, fname, **kwargs):
        fname.write(b"\x89PNG partial")  # fail after writing something, like a real mid-render error
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="exploded"):
        plot.loss_curves(curves, str(path))
    assert path.read_bytes() == old
    with pytest.raises(RuntimeError):
        plot.marginals({"vg": {"mu": np.zeros(10)}}, str(tmp_path / "new.png"))
    no_leftovers(tmp_path, "loss.png")

    monkeypatch.undo()
    plot.density_panels(*grid(), {}, ("x", "y"), str(path))
    assert path.read_bytes() != old
    assert path.stat().st_mode & 0o777 == 0o640  # replacing a plot keeps its permissions
    no_leftovers(tmp_path, "loss.png")


def test_does_not_touch_pyplot(tmp_path: Path):
    # pyplot would register figures globally (and may pick an interactive backend); the module never imports it.
    import subprocess

    code = (
        "import sys, numpy as np; from vgc import plot; "
        f"plot.loss_curves({{'vg': np.arange(5.0)}}, {str(tmp_path / 'l.png')!r}); "
        "print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
