"""Time-series models of NumPyro's example gallery: exponential smoothing, a vector autoregression, the
Hilbert-space approximate GP of the birthdays case study, the Lotka-Volterra ODE and a spatio-temporal
mortality model, each written here from its example's math (cited in its docstring) and fitted to small
synthetic data drawn from a fixed seed, shaped like the data the example downloads or makes.
"""

from __future__ import annotations

import datetime

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.experimental.ode import odeint
from numpyro.contrib.control_flow import scan
from numpyro.handlers import condition, reparam, scope
from numpyro.infer.reparam import LocScaleReparam

from . import Example

# ---------------------------------------------------------------- holt_winters.py


def holt_winters(y, n_seasons, future=0):
    """Additive Holt-Winters smoothing: level l, trend b and a ring of n_seasons seasonal terms s start from
    N(0, 1) draws and are updated from each observation with smoothing weights alpha, beta* and gamma (1 - alpha)
    (alpha, beta*, gamma ~ Beta(1, 1)); pred_t ~ N(l + h b + s_oldest, noise) with noise ~ HalfNormal(1), the
    sequence run by scan and conditioned on y (h counts the steps past the data when forecasting).
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/holt_winters.py"""
    n = y.shape[0]
    alpha = numpyro.sample("level_smoothing", dist.Beta(1, 1))
    beta = numpyro.sample("trend_smoothing", dist.Beta(1, 1))
    gamma = numpyro.sample("seasonality_smoothing", dist.Beta(1, 1))
    gamma_eff = gamma * (1 - alpha)
    noise = numpyro.sample("noise", dist.HalfNormal(1))
    level0 = numpyro.sample("level_init", dist.Normal(0, 1))
    trend0 = numpyro.sample("trend_init", dist.Normal(0, 1))
    with numpyro.plate("n_seasons", n_seasons):
        season0 = numpyro.sample("seasonality_init", dist.Normal(0, 1))

    def step(state, t):
        level, trend, seasons = state
        seen = t < n
        oldest = seasons[0]
        new_level = jnp.where(seen, alpha * (y[t] - oldest) + (1 - alpha) * (level + trend), level)
        new_trend = jnp.where(seen, beta * (new_level - level) + (1 - beta) * trend, trend)
        new_season = jnp.where(seen, gamma_eff * (y[t] - level - trend) + (1 - gamma_eff) * oldest, oldest)
        ahead = jnp.where(seen, 1, t - n + 1)
        pred = numpyro.sample("pred", dist.Normal(level + ahead * trend + oldest, noise))
        return (new_level, new_trend, jnp.append(seasons[1:], new_season)), pred

    with condition(data={"pred": y}):
        _, preds = scan(step, (level0, trend0, season0), jnp.arange(n + future))
    if future > 0:
        numpyro.deterministic("y_forecast", preds[-future:])


def _holt_winters_data(periods: int = 6, per_period: int = 10, seed: int = 0) -> dict:
    """A sine wave of period 1 on a rising line (slope 0.3) with N(0, 0.1^2) noise, ``per_period`` points a
    period, over ``periods`` periods; a season is one period."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, periods, periods * per_period)
    y = np.sin(2 * np.pi * t) + 0.3 * t + 0.1 * rng.normal(size=t.shape)
    return {"y": jnp.asarray(y), "n_seasons": per_period}


# ---------------------------------------------------------------- var2.py


def var2(y):
    """A VAR(2) process of K series: y_t ~ MVN(c + Phi1 y_{t-1} + Phi2 y_{t-2}, L L^T) for t >= 2, with c and
    the entries of Phi1, Phi2 (K x K) ~ N(0, 1), L = diag(sigma) L_omega, sigma_k ~ HalfNormal(1) and
    L_omega ~ LKJCholesky(K, 1); the steps run by scan given the first two rows. (The example names the
    observed site after the traced step index; here it is "y".)
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/var2.py"""
    n, k = y.shape
    c = numpyro.sample("c", dist.Normal(0, 1).expand([k]))
    phi1 = numpyro.sample("Phi1", dist.Normal(0, 1).expand([k, k]).to_event(2))
    phi2 = numpyro.sample("Phi2", dist.Normal(0, 1).expand([k, k]).to_event(2))
    sigma = numpyro.sample("sigma", dist.HalfNormal(1.0).expand([k]).to_event(1))
    l_omega = numpyro.sample("L_omega", dist.LKJCholesky(k, concentration=1.0))
    scale_tril = sigma[..., None] * l_omega

    def step(state, t):
        last, before, rest = state
        mean = c + phi1 @ last + phi2 @ before
        now = numpyro.sample("y", dist.MultivariateNormal(mean, scale_tril=scale_tril), obs=rest[t])
        return (now, last, rest), mean

    _, mu = scan(step, (y[1], y[0], y[2:]), jnp.arange(n - 2))
    numpyro.deterministic("mu", mu)


def _var2_data(n: int = 80, seed: int = 0) -> dict:
    """Two series from a stationary VAR(2) with c = (0.5, -0.3) and noise covariance [[0.1, 0.02], [0.02, 0.1]]."""
    rng = np.random.default_rng(seed)
    c = np.array([0.5, -0.3])
    a1 = np.array([[0.7, 0.1], [0.2, 0.5]])
    a2 = np.array([[0.2, -0.1], [-0.1, 0.2]])
    cov = np.array([[0.1, 0.02], [0.02, 0.1]])
    y = np.zeros((n, 2))
    y[:2] = rng.multivariate_normal(np.zeros(2), cov, size=2)
    for t in range(2, n):
        y[t] = c + a1 @ y[t - 1] + a2 @ y[t - 2] + rng.multivariate_normal(np.zeros(2), cov)
    return {"y": jnp.asarray(y)}


# ---------------------------------------------------------------- hsgp.py


def _se_basis(x, L, M):
    """The first M Laplacian eigenfunctions on [-L, L] at x, (len(x), M), and their square-root eigenvalues."""
    freq = jnp.arange(1, M + 1) * jnp.pi / (2 * L)
    return jnp.sin(jnp.outer(x + L, freq)) / jnp.sqrt(L), freq


def _se_weights(alpha, length, freq):
    """The squared-exponential kernel's spectral density at ``freq`` (scaled by alpha, as the example does)."""
    return alpha * jnp.sqrt(2 * jnp.pi) * length * jnp.exp(-0.5 * (length * freq) ** 2)


def _bessel_ive(orders, z, points: int = 512):
    """exp(-z) I_n(z) for integer orders n >= 0 and z > 0, from I_n(z) = (1/pi) int_0^pi e^{z cos u} cos(n u) du
    by the trapezoid rule (spectrally accurate here: the integrand is smooth, even and 2 pi-periodic)."""
    u = jnp.linspace(0.0, jnp.pi, points)
    w = jnp.full(points, 1.0).at[0].set(0.5).at[-1].set(0.5) / (points - 1)
    return (w * jnp.exp(z * (jnp.cos(u) - 1.0))) @ jnp.cos(jnp.outer(u, orders))


def _hs_trend(x, L, M):
    """A smooth GP (squared-exponential kernel) in the basis-function approximation, non-centred."""
    alpha = numpyro.sample("alpha", dist.HalfNormal(1.0))
    length = numpyro.sample("length", dist.InverseGamma(10.0, 2.0))
    phi, freq = _se_basis(x, L, M)
    with numpyro.plate("basis", M):
        beta = numpyro.sample("beta", dist.Normal(0, 1))
    return numpyro.deterministic("f", phi @ (jnp.sqrt(_se_weights(alpha, length, freq)) * beta))


def _hs_year(x, w0, M):
    """A periodic GP (period 2 pi / w0) as a cosine and sine series whose coefficients come from the periodic
    kernel's expansion; the sine series has no order-0 term."""
    alpha = numpyro.sample("alpha", dist.HalfNormal(1.0))
    length = numpyro.sample("length", dist.HalfNormal(0.2))
    orders = jnp.arange(M)
    q2 = jnp.where(orders > 0, 2.0, 1.0) * alpha**2 * _bessel_ive(orders, length ** (-2))
    angle = jnp.outer(w0 * x, orders.astype(x.dtype))
    with numpyro.plate("cos_basis", M):
        b_cos = numpyro.sample("beta_cos", dist.Normal(0, 1))
    with numpyro.plate("sin_basis", M - 1):
        b_sin = numpyro.sample("beta_sin", dist.Normal(0, 1))
    b_sin = jnp.concatenate([jnp.zeros(1), b_sin])
    return numpyro.deterministic("f", jnp.cos(angle) @ (q2 * b_cos) + jnp.sin(angle) @ (q2 * b_sin))


def _hs_weekday(day_of_week):
    """Six free day-of-week effects; Monday's is minus their sum."""
    with numpyro.plate("plate_day_of_week", 6):
        rest = numpyro.sample("_beta", dist.Normal(0, 1))
    beta = numpyro.deterministic("beta", jnp.concatenate([-rest.sum(keepdims=True), rest]))
    return beta[day_of_week]


def _hs_yearday(day_of_year):
    """One effect per day of the (leap) year with a regularized horseshoe prior."""
    slab_df, slab_scale, scale_global = 50, 2, 0.1
    tau = numpyro.sample("tau", dist.HalfNormal(2 * scale_global))
    c_aux = numpyro.sample("c_aux", dist.InverseGamma(0.5 * slab_df, 0.5 * slab_df))
    c = slab_scale * jnp.sqrt(c_aux)
    with numpyro.plate("plate_day_of_year", 366):
        lam = numpyro.sample("lam", dist.HalfCauchy(scale=1))
        lam_tilde = jnp.sqrt(c) * lam / jnp.sqrt(c + (tau * lam) ** 2)
        beta = numpyro.sample("beta", dist.Normal(0, tau * lam_tilde))
    return beta[day_of_year]


def _hs_special(indicator):
    """A single effect on the days ``indicator`` marks."""
    return numpyro.sample("beta", dist.Normal(0, 1)) * indicator


def hsgp_birthdays(x, day_of_week, day_of_year, memorial_days_indicator, labour_days_indicator,
                   thanksgiving_days_indicator, w0, L, M1, M2, M3, y=None):
    """Standardized daily births y ~ N(f, sigma), sigma ~ HalfNormal(0.5), where f = intercept + a smooth trend
    GP + a yearly periodic GP + exp(slow GP) * day-of-week effect + a horseshoe day-of-year effect + effects of
    three floating holidays; the GPs use the Hilbert-space (basis-function) approximation, and each component's
    sites are scoped ("trend/alpha", "year/beta_cos", "day/lam", ...) as in the example.
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/hsgp.py"""
    intercept = numpyro.sample("intercept", dist.Normal(0, 1))
    trend = scope(_hs_trend, "trend")(x, L, M1)
    year = scope(_hs_year, "year")(x, w0, M2)
    week_scale = scope(_hs_trend, "week-trend")(x, L, M3)
    weekday = scope(_hs_weekday, "week")(day_of_week)
    yearday = scope(_hs_yearday, "day")(day_of_year)
    holidays = (scope(_hs_special, "memorial")(memorial_days_indicator)
                + scope(_hs_special, "labour")(labour_days_indicator)
                + scope(_hs_special, "thanksgiving")(thanksgiving_days_indicator))
    f = numpyro.deterministic("f", intercept + trend + year + jnp.exp(week_scale) * weekday + yearday + holidays)
    sigma = numpyro.sample("sigma", dist.HalfNormal(0.5))
    with numpyro.plate("obs", x.shape[0]):
        numpyro.sample("y", dist.Normal(f, sigma), obs=y)


def _holiday(day: datetime.date) -> dict[str, bool]:
    """Which floating holiday ``day`` is (Memorial Day: May's last Monday; Labor Day: September's first Monday;
    Thanksgiving: November's fourth Thursday)."""
    return {
        "memorial_days_indicator": day.month == 5 and day.weekday() == 0 and day.day >= 25,
        "labour_days_indicator": day.month == 9 and day.weekday() == 0 and day.day <= 7,
        "thanksgiving_days_indicator": day.month == 11 and day.weekday() == 3 and 22 <= day.day <= 28,
    }


def _hsgp_data(years: int = 2, every: int = 2, seed: int = 0) -> dict:
    """Every ``every``-th day from 1 Jan 1969 over ``years`` years: relative births made of a slow trend, a
    yearly wave, a weekend dip, dips on the floating holidays and the day after each, and noise; standardized
    as the example does (ids to x, births to y), with its w0, L and basis sizes."""
    rng = np.random.default_rng(seed)
    start = datetime.date(1968, 12, 31)
    ids = np.arange(1, 365 * years + 1, every)
    days = [start + datetime.timedelta(days=int(i)) for i in ids]
    flags = {k: np.zeros(len(days), dtype=int) for k in _holiday(start)}
    for n, day in enumerate(days):
        for k, v in _holiday(day - datetime.timedelta(days=1)).items():
            flags[k][n] |= v
        for k, v in _holiday(day).items():
            flags[k][n] |= v
    dow = np.array([d.weekday() for d in days])
    doy = np.array([datetime.date(2000, d.month, d.day).timetuple().tm_yday - 1 for d in days])
    births = (1.0 + 0.02 * ids / ids.max() + 0.04 * np.sin(2 * np.pi * ids / 365.25)
              - 0.12 * (dow >= 5) - 0.1 * sum(flags.values()) + 0.02 * rng.normal(size=len(ids)))
    xsd = (ids - ids.mean()) / ids.std()
    ysd = (births - births.mean()) / births.std()
    return {"x": jnp.asarray(xsd), "day_of_week": jnp.asarray(dow), "day_of_year": jnp.asarray(doy),
            **{k: jnp.asarray(v) for k, v in flags.items()},
            "w0": float(ids.std() * 2 * np.pi / 365.25), "L": float(1.5 * xsd.max()), "M1": 10, "M2": 10, "M3": 5,
            "y": jnp.asarray(ysd)}


# ---------------------------------------------------------------- ode.py


def _lotka_volterra(z, t, theta):
    """d(prey)/dt = (a - b predator) prey, d(predator)/dt = (-g + d prey) predator, theta = (a, b, g, d)."""
    prey, predator = z[0], z[1]
    a, b, g, d = theta[..., 0], theta[..., 1], theta[..., 2], theta[..., 3]
    return jnp.stack([(a - b * predator) * prey, (-g + d * prey) * predator])


def lotka_volterra(N, y=None):
    """Predator-prey populations: z(t) solves the Lotka-Volterra ODE from z_init ~ LogNormal(log 10, 1) (two
    species) with theta ~ N+((1, 0.05, 1, 0.05), (0.5, 0.05, 0.5, 0.05)) truncated at 0, at times 0..N-1
    (odeint); y ~ LogNormal(log z, sigma) with sigma ~ LogNormal(-1, 1) per species.
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/ode.py"""
    z_init = numpyro.sample("z_init", dist.LogNormal(jnp.log(10), 1).expand([2]))
    times = jnp.arange(float(N))
    theta = numpyro.sample("theta", dist.TruncatedNormal(
        loc=jnp.array([1.0, 0.05, 1.0, 0.05]), scale=jnp.array([0.5, 0.05, 0.5, 0.05]), low=0.0))
    z = odeint(_lotka_volterra, z_init, times, theta, rtol=1e-6, atol=1e-5, mxstep=1000)
    sigma = numpyro.sample("sigma", dist.LogNormal(-1, 1).expand([2]))
    numpyro.sample("y", dist.LogNormal(jnp.log(z), sigma), obs=y)


def _lotka_volterra_data(n: int = 20, seed: int = 0) -> dict:
    """Yearly hare and lynx counts (thousands) like the lynx-hare data: the ODE's solution from (30, 4) with
    theta = (0.55, 0.028, 0.8, 0.024), times lognormal noise of scale 0.25."""
    rng = np.random.default_rng(seed)
    z = odeint(_lotka_volterra, jnp.array([30.0, 4.0]), jnp.arange(float(n)), jnp.array([0.55, 0.028, 0.8, 0.024]),
               rtol=1e-8, atol=1e-8)
    return {"N": n, "y": jnp.asarray(np.asarray(z) * np.exp(0.25 * rng.normal(size=(n, 2))))}


# ---------------------------------------------------------------- mortality.py


_NONCENTRED = {site: LocScaleReparam(0)
               for site in ("alpha_s1", "alpha_s2", "alpha_age_drift", "beta_age_drift", "pi_drift")}


@reparam(config=_NONCENTRED)
def mortality(age, space, time, lookup, population, deaths=None):
    """Binomial deaths with logit m_ast = alpha1_s + alpha2_a + beta2_a t + pi_t: area effects alpha1 nested in
    regions (N(region effect, sigma_s2), regions N(0, sigma_s1)), age intercepts and slopes as random walks over
    age groups started at N(0, 10) draws, and a random walk pi over years from pi_0 = 0; sigma's ~ HalfNormal(1).
    Age, space and year are plates at dims -3, -2, -1, and every centred effect is non-centred by LocScaleReparam.
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/mortality.py"""
    n_regions = len(np.unique(lookup))
    n_areas = len(np.unique(space))
    n_ages = len(np.unique(age))
    n_years = len(np.unique(time))

    sigma_alpha_s1 = numpyro.sample("sigma_alpha_s1", dist.HalfNormal(1.0))
    sigma_alpha_s2 = numpyro.sample("sigma_alpha_s2", dist.HalfNormal(1.0))
    sigma_alpha_age = numpyro.sample("sigma_alpha_age", dist.HalfNormal(1.0))
    sigma_beta_age = numpyro.sample("sigma_beta_age", dist.HalfNormal(1.0))
    sigma_pi = numpyro.sample("sigma_pi", dist.HalfNormal(1.0))

    with numpyro.plate("s1", n_regions, dim=-2):
        alpha_s1 = numpyro.sample("alpha_s1", dist.Normal(0, sigma_alpha_s1))
    with numpyro.plate("space", n_areas, dim=-2):
        alpha_s2 = numpyro.sample("alpha_s2", dist.Normal(alpha_s1[lookup], sigma_alpha_s2))

    def drift_scale(sigma):
        # the first age group's drift is the global intercept (slope), N(0, 10); the rest step by sigma
        return jnp.concatenate([jnp.full(1, 10.0), jnp.broadcast_to(sigma, (n_ages - 1,))])[:, None, None]

    with numpyro.plate("age_groups", n_ages, dim=-3):
        alpha_age = jnp.cumsum(numpyro.sample("alpha_age_drift", dist.Normal(0, drift_scale(sigma_alpha_age))), -3)
        beta_age = jnp.cumsum(numpyro.sample("beta_age_drift", dist.Normal(0, drift_scale(sigma_beta_age))), -3)
        slope_by_year = (beta_age.reshape(-1)[:, None] * jnp.arange(n_years))[:, None, :]

    with numpyro.plate("year", n_years - 1, dim=-1):
        steps = numpyro.sample("pi_drift", dist.Normal(0, sigma_pi))
        pi = jnp.concatenate([jnp.zeros(1), jnp.cumsum(steps, -1)])

    rate = alpha_age + slope_by_year + alpha_s2 + pi
    with numpyro.plate("N", len(population)):
        numpyro.sample("deaths", dist.Binomial(population, logits=rate[age, space, time]), obs=deaths)


def _mortality_data(n_ages: int = 5, n_regions: int = 3, n_areas: int = 9, n_years: int = 6, pop: tuple = (50, 500),
                    seed: int = 0) -> dict:
    """Deaths in every (age group, area, year) cell of a smaller version of the example's simulated data: areas
    nested in regions (``lookup`` maps an area to its region), populations drawn from ``pop`` (tens to hundreds),
    death rates rising with age and falling slowly over the years."""
    rng = np.random.default_rng(seed)
    lookup = np.arange(n_areas) % n_regions
    age, space, time = (g.reshape(-1) for g in np.meshgrid(np.arange(n_ages), np.arange(n_areas),
                                                           np.arange(n_years), indexing="ij"))
    region = rng.normal(0.0, 0.3, n_regions)
    area = region[lookup] + rng.normal(0.0, 0.15, n_areas)
    by_age = -7.0 + 1.0 * np.arange(n_ages)
    slope = -0.03 + 0.005 * np.arange(n_ages)
    walk = np.concatenate([[0.0], np.cumsum(rng.normal(0.0, 0.05, n_years - 1))])
    logit = by_age[age] + slope[age] * time + area[space] + walk[time]
    population = rng.integers(*pop, size=age.shape)
    deaths = rng.binomial(population, 1.0 / (1.0 + np.exp(-logit)))
    return {"age": jnp.asarray(age), "space": jnp.asarray(space), "time": jnp.asarray(time),
            "lookup": jnp.asarray(lookup), "population": jnp.asarray(population), "deaths": jnp.asarray(deaths)}


EXAMPLES = [
    Example("holt_winters.py", "holt_winters", holt_winters, _holt_winters_data),
    Example("var2.py", "var2", var2, _var2_data),
    Example("hsgp.py", "hsgp_birthdays", hsgp_birthdays, _hsgp_data, same_start=True, steps=5000, lr=0.05,
            note="hundreds of basis weights from a ±2 start: 1,000 steps end by the luck of the start"),
    Example("ode.py", "lotka_volterra", lotka_volterra, _lotka_volterra_data),
    Example("mortality.py", "mortality", mortality, _mortality_data, steps=5000, lr=0.05,
            note="N(0, 10) drifts times the year: from a ±2 start the first losses are 1e5-1e6; slow to converge"),
]
