"""Models with every shape a NumPyro latent can have, for tests/test_init.py (``vgc init`` → check → fit).

Written here; two follow the parameter sites of NumPyro's examples (cited at each): ``semi_supervised_hmm``
has hmm.py's batches of simplexes outside any plate, ``hmm_tones`` hmm_enum.py's ``.to_event`` of a batch
of simplexes (an event of rank 2) and its Beta emission matrix. Both sum the hidden states out by hand with
the forward algorithm (a ``factor``), so they fit with Trace_ELBO. The data are drawn by ``data_for`` from a
fixed seed.
"""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist


def _forward(log_init, log_trans, log_emit_t):
    """log p(observations) of a chain: log_init (K,), log_trans (K, K) from row to column, log_emit_t (T, K)
    the log-likelihood of each step's observation under each state."""
    def step(alpha, emit):
        return jax.nn.logsumexp(alpha[:, None] + log_trans, axis=0) + emit, None

    alpha, _ = jax.lax.scan(step, log_init + log_emit_t[0], log_emit_t[1:])
    return jax.nn.logsumexp(alpha)


# ---------------------------------------------------------------- batch dimensions outside plates


def batch_outside(y, counts):
    """Three groups' scales (a positive batch of 3), three groups' category weights (a batch of 3 simplexes of
    4, no plate) and a 2 x 3 real matrix of effects (an event of rank 2)."""
    scales = numpyro.sample("scales", dist.HalfNormal(jnp.ones(3)))
    weights = numpyro.sample("weights", dist.Dirichlet(jnp.ones((3, 4))))
    effects = numpyro.sample("effects", dist.Normal(jnp.zeros((2, 3)), 2.0).to_event(2))
    numpyro.sample("y", dist.Normal(effects.sum(0), scales).expand((20, 3)).to_event(2), obs=y)
    numpyro.sample("counts", dist.Multinomial(30, weights).to_event(1), obs=counts)


# ---------------------------------------------------------------- a .to_event(k) of a batch of simplexes


def simplex_cube(cube):
    """A 2 x 3 array of 4-category simplexes, one event of shape (2, 3, 4) (``.to_event(2)``)."""
    probs = numpyro.sample("probs", dist.Dirichlet(jnp.ones((2, 3, 4))).to_event(2))
    numpyro.sample("cube", dist.Multinomial(25, probs).to_event(2), obs=cube)


# ---------------------------------------------------------------- batches of Cholesky factors and simplexes in a plate


def group_correlations(x):
    """Per group (a plate of 3) a 2 x 2 correlation Cholesky factor L and two positive scales s (a vector per
    element); each group's 40 points x (groups, 40, 2) ~ MVN(0, diag(s) L L' diag(s))."""
    groups = x.shape[0]
    with numpyro.plate("groups", groups):
        L = numpyro.sample("L", dist.LKJCholesky(2, 2.0))
        s = numpyro.sample("s", dist.HalfNormal(jnp.ones(2)).to_event(1))
        tril = s[..., :, None] * L
        with numpyro.plate("points", x.shape[1], dim=-2):
            numpyro.sample("x", dist.MultivariateNormal(jnp.zeros(2), scale_tril=tril), obs=jnp.swapaxes(x, 0, 1))


def new_shapes(y, counts, cube):
    """``batch_outside`` and ``simplex_cube`` as one model (their sites side by side), for one fit of both."""
    batch_outside(y, counts)
    simplex_cube(cube)


# ---------------------------------------------------------------- batch dimensions before event dimensions


def batched_events(x, counts, z):
    """Batch dimensions no plate declares (``: batch`` and ``: batch(K)`` in VG). Outside plates: three groups'
    2 x 2 correlation Cholesky factors (LKJCholesky expanded to batch (3,)), their positive scale vectors (batch
    (3,), event (2,)), and two studies' 3 x 4 arrays of category simplexes (batch (2,), event (3, 4)). Group g's
    30 points x[:, g] ~ MVN(0, diag(s_g) L_g L_g' diag(s_g)); counts[j, r] ~ Multinomial(20, w[j, r]). Inside
    plate ``rows`` (dim -2, 2 rows), three scales per row, r ~ HalfNormal(ones(3)): batch (2, 3), its dim -1
    declared by no plate; 10 replicates z[k, i, j] ~ Normal(0, r[i, j]) (plate ``reps``, dim -3)."""
    L = numpyro.sample("L", dist.LKJCholesky(2, 2.0).expand([3]))
    s = numpyro.sample("s", dist.HalfNormal(jnp.ones((3, 2))).to_event(1))
    w = numpyro.sample("w", dist.Dirichlet(jnp.ones((2, 3, 4))).to_event(1))
    tril = s[..., :, None] * L
    numpyro.sample("x", dist.MultivariateNormal(jnp.zeros(2), scale_tril=tril).expand([30, 3]).to_event(2), obs=x)
    numpyro.sample("counts", dist.Multinomial(20, w).to_event(2), obs=counts)
    with numpyro.plate("rows", 2, dim=-2):
        r = numpyro.sample("r", dist.HalfNormal(jnp.ones(3)))
        with numpyro.plate("reps", 10, dim=-3):
            numpyro.sample("z", dist.Normal(0.0, r), obs=z)


def beyond_plates(y, w, z):
    """Batch dimensions no plate declares left of a plate's dim, or on both sides of one (``: batch`` in VG,
    the draw's own dims at the rightmost dims no plate takes). Inside plate ``cols`` (dim -1, 4 columns): three
    positive scales per column, s ~ HalfNormal(ones((3, 4))) (batch (3, 4), its dim -2 no plate's), and three
    positive 2-vectors per column, v ~ HalfNormal(ones((3, 4, 2))).to_event(1) (batch (3, 4), event (2,)); 20
    replicates y[k, i, j] ~ Normal(0, s[i, j]) and w[k, i, j] ~ Normal(0, v[i, j]) (plate ``reps``, dim -3).
    Inside plate ``groups`` (dim -2, 2 groups): means mu ~ Normal(zeros((5, 2, 3)), 1) (batch (5, 2, 3), its
    dims -3 and -1 no plate's); 10 replicates z[k] ~ Normal(mu, 0.5) (plate ``obs``, dim -4)."""
    with numpyro.plate("cols", 4, dim=-1):
        s = numpyro.sample("s", dist.HalfNormal(jnp.ones((3, 4))))
        v = numpyro.sample("v", dist.HalfNormal(jnp.ones((3, 4, 2))).to_event(1))
        with numpyro.plate("reps", y.shape[0], dim=-3):
            numpyro.sample("y", dist.Normal(0.0, s), obs=y)
            numpyro.sample("w", dist.Normal(0.0, v).to_event(1), obs=w)
    with numpyro.plate("groups", 2, dim=-2):
        mu = numpyro.sample("mu", dist.Normal(jnp.zeros((5, 2, 3)), 1.0))
        with numpyro.plate("obs", z.shape[0], dim=-4):
            numpyro.sample("z", dist.Normal(mu, 0.5), obs=z)


# ---------------------------------------------------------------- follows examples/hmm.py


def semi_supervised_hmm(transition_prior, emission_prior, supervised_categories, supervised_words,
                        unsupervised_words):
    """An HMM over C categories emitting W words, following the parameter sites of
    https://github.com/pyro-ppl/numpyro/blob/master/examples/hmm.py: ``transition_prob`` and ``emission_prob``,
    Dirichlet rows (batches of C simplexes outside any plate). The supervised sequence's categories and words
    are observed; the unsupervised words' categories are summed out by the forward algorithm (a factor)."""
    C, W = transition_prior.shape[0], emission_prior.shape[0]
    transition_prob = numpyro.sample("transition_prob", dist.Dirichlet(jnp.broadcast_to(transition_prior, (C, C))))
    emission_prob = numpyro.sample("emission_prob", dist.Dirichlet(jnp.broadcast_to(emission_prior, (C, W))))
    numpyro.sample("supervised_categories", dist.Categorical(transition_prob[supervised_categories[:-1]]),
                   obs=supervised_categories[1:])
    numpyro.sample("supervised_words", dist.Categorical(emission_prob[supervised_categories]), obs=supervised_words)
    log_emit = jnp.log(emission_prob)
    # the first unsupervised category has a flat prior: its term is the emission alone
    numpyro.factor("forward_log_prob", _forward(jnp.zeros(C), jnp.log(transition_prob),
                                                log_emit[:, unsupervised_words].T))


# ---------------------------------------------------------------- follows examples/hmm_enum.py


def hmm_tones(sequences, hidden_dim=3):
    """Hidden states x_t with transition rows ``probs_x`` ~ Dirichlet(0.9 I + 0.1) as one (H, H) event
    (``.to_event(1)``), tones y_{t,d} ~ Bernoulli(probs_y[x_t, d]) with ``probs_y`` ~ Beta(0.1, 0.9) as one
    (H, D) event: the parameter sites of model 1 of
    https://github.com/pyro-ppl/numpyro/blob/master/examples/hmm_enum.py. Each sequence starts in state 0 (as
    there); the states are summed out by the forward algorithm."""
    _, _, data_dim = sequences.shape
    probs_x = numpyro.sample("probs_x", dist.Dirichlet(0.9 * jnp.eye(hidden_dim) + 0.1).to_event(1))
    probs_y = numpyro.sample("probs_y", dist.Beta(0.1, 0.9).expand([hidden_dim, data_dim]).to_event(2))
    # log p(y_t | x_t = k) for every sequence, step and state: (N, T, H)
    emit = jnp.einsum("ntd,kd->ntk", sequences, jnp.log(probs_y)) + \
        jnp.einsum("ntd,kd->ntk", 1 - sequences, jnp.log1p(-probs_y))
    log_trans = jnp.log(probs_x)
    start = log_trans[0]  # x_0 ~ probs_x[0]: the state before the first step is 0
    numpyro.factor("sequences", jax.vmap(lambda e: _forward(start, log_trans, e))(emit).sum())


# ---------------------------------------------------------------- data


def data_for(name: str, seed: int = 0) -> dict:
    """The keyword arguments of model ``name``, drawn from a fixed truth with numpy's generator ``seed``."""
    rng = np.random.default_rng(seed)
    if name == "batch_outside":
        w = np.array([[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]])
        mean = np.array([1.0, -0.5, 2.0])
        return {"y": jnp.asarray(mean + np.array([0.5, 1.0, 2.0]) * rng.normal(size=(20, 3))),
                "counts": jnp.asarray(np.stack([rng.multinomial(30, p) for p in w]))}
    if name == "simplex_cube":
        p = rng.dirichlet(np.ones(4), size=(2, 3))
        return {"cube": jnp.asarray(np.stack([[rng.multinomial(25, q) for q in row] for row in p]))}
    if name == "group_correlations":
        out = []
        for rho, s in ((0.7, (1.0, 2.0)), (-0.4, (0.5, 0.5)), (0.0, (1.5, 1.0))):
            cov = np.array([[s[0] ** 2, rho * s[0] * s[1]], [rho * s[0] * s[1], s[1] ** 2]])
            out.append(rng.multivariate_normal(np.zeros(2), cov, size=40))
        return {"x": jnp.asarray(np.stack(out))}
    if name == "batched_events":
        rows = []
        for rho, sd in ((0.7, (1.0, 2.0)), (-0.4, (0.5, 0.5)), (0.0, (1.5, 1.0))):
            cov = np.array([[sd[0] ** 2, rho * sd[0] * sd[1]], [rho * sd[0] * sd[1], sd[1] ** 2]])
            rows.append(rng.multivariate_normal(np.zeros(2), cov, size=30))
        p = rng.dirichlet(np.ones(4), size=(2, 3))
        scales = np.array([[0.5, 1.0, 2.0], [1.5, 0.3, 1.0]])
        return {"x": jnp.asarray(np.stack(rows, axis=1)),
                "counts": jnp.asarray(np.stack([[rng.multinomial(20, q) for q in row] for row in p])),
                "z": jnp.asarray(scales * rng.normal(size=(10, 2, 3)))}
    if name == "beyond_plates":
        s = np.array([0.5, 1.0, 2.0])[:, None] * np.array([1.0, 0.5, 1.5, 1.0])  # (3, 4)
        v = np.stack([s, 2.0 * s[::-1]], axis=-1)  # (3, 4, 2)
        mu = rng.normal(size=(5, 2, 3))
        return {"y": jnp.asarray(s * rng.normal(size=(20, 3, 4))), "w": jnp.asarray(v * rng.normal(size=(20, 3, 4, 2))),
                "z": jnp.asarray(mu + 0.5 * rng.normal(size=(10, 5, 2, 3)))}
    if name == "new_shapes":
        return {**data_for("batch_outside", seed), **data_for("simplex_cube", seed + 1)}
    if name == "semi_supervised_hmm":
        C, W = 3, 5
        trans = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
        emit = rng.dirichlet(0.5 * np.ones(W), size=C)
        cats = [0]
        for _ in range(199):
            cats.append(rng.choice(C, p=trans[cats[-1]]))
        cats = np.array(cats)
        words = np.array([rng.choice(W, p=emit[c]) for c in cats])
        return {"transition_prior": jnp.ones(C), "emission_prior": jnp.full(W, 0.1),
                "supervised_categories": jnp.asarray(cats[:100]), "supervised_words": jnp.asarray(words[:100]),
                "unsupervised_words": jnp.asarray(words[100:])}
    if name == "hmm_tones":  # two states: one sounds tones 0 and 1, the other tones 2 and 3
        H, D, N, T = 2, 4, 8, 25
        trans = np.array([[0.85, 0.15], [0.2, 0.8]])
        tone = np.array([[0.9, 0.8, 0.1, 0.1], [0.1, 0.1, 0.9, 0.8]])
        seqs = np.zeros((N, T, D), dtype=np.float32)
        for n in range(N):
            x = 0
            for t in range(T):
                x = rng.choice(H, p=trans[x])
                seqs[n, t] = rng.random(D) < tone[x]
        return {"sequences": jnp.asarray(seqs), "hidden_dim": H}
    raise KeyError(name)
