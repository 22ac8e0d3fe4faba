"""What the names VG knows mean, as Markdown: keywords, distributions, functions, constraints, networks.

Everything here is read from :mod:`vgc.registry` (or written once beside it, for keywords and plate options),
so hover and completion describe a name in the same words and a new registry entry is documented in both.
:func:`registry_markdown` is the hover text of a name; completion shows the same texts as documentation.
"""

from __future__ import annotations

from .. import registry as R

_RANK = {0: "a scalar", 1: "a vector", 2: "a matrix"}

KEYWORD_DOCS = {
    "net": "`net NAME = mlp(SIZES..., act=ACT)` — a network (an amortized guide's encoder): the first size is "
    "the input width, the last the output width; apply it as `NAME(x)`, per element inside a plate. Its "
    "output parameterizes draws and is never a site.",
    "param": "`param NAME[SHAPE] = INIT : CONSTRAINT` — a learnable parameter (`numpyro.param`); "
    "every part after the name is optional.",
    "let": "`let NAME = EXPR` — a local value, never a site.",
    "guide": "`guide NAME(ARGS) { ... }` — a guide block; `ARGS` are the model's arguments.",
    "plate": "`plate NAME(SIZE, subsample=K, dim=D) { ... }` — the model's `numpyro.plate(NAME, SIZE, "
    "subsample_size=K, dim=D)`; `SIZE` is a whole number, a guide argument or `len(ARG)`, the options are "
    "optional. Inside, everything is written per element: the plates add batch dimensions on the left; "
    "`ARG[NAME]` reads `ARG` at the plate's indices. A name defined inside is visible only inside.",
}

PLATE_OPTION_DOCS = {
    "subsample": "`subsample=K` (plate option) — `subsample_size=K`: each step visits a random subset of K "
    "elements (a whole number or a guide argument, at most a constant SIZE); `ARG[NAME]` reads those rows, and "
    "a `param` inside is stored in full and trained only on the rows visited.",
    "dim": "`dim=D` (plate option) — the batch dimension of the plate, a negative whole number; without it the "
    "outermost plate takes -1 and each inner plate the next one to the left, as NumPyro allocates them.",
}

LEN_DOC = (
    "```vg\nplate NAME(len(ARG))\n```\n`len(ARG)` — the length of guide argument ARG's first axis "
    "(`jnp.shape(ARG)[0]`); valid only as a plate's size."
)

MIX_DOC = (
    "```vg\nMix(WEIGHTS?, COMPONENT, ...)\n```\n"
    "A mixture (`MixtureSameFamily` for one family, `MixtureGeneral` for several), equal weights unless "
    "weights come first.\n\n"
    "- `Mix(Normal(±b, 1))` — one `±` makes two components;\n"
    "- `Mix(Normal([m1, m2, m3], s))` — one component per entry of the leading batch axis;\n"
    "- `Mix(w, Normal([m1, m2], [s1, s2]))` — weights: a `simplex` param or a literal vector summing to 1;\n"
    "- `Mix(Normal(0, 1), Cauchy(0, 1))` — components of different families.\n\n"
    "Learnable weights get a biased `Trace_ELBO` gradient (VG603)."
)


def dist_markdown(spec: R.DistSpec) -> str:
    """Hover text of a distribution: signature, arguments, the shape of one draw."""
    args = []
    for a in spec.args:
        facts = ["required" if a.required else "optional"]
        if a.rank:
            facts.append(_RANK.get(a.rank, f"rank {a.rank}"))
        if a.positive:
            facts.append("> 0")
        args.append(f"- `{a.name}`: {', '.join(facts)}")
    draw = (
        "one draw is a scalar (event rank 0); vector arguments draw one vector-valued site"
        if spec.event_rank == 0
        else f"one draw is {_RANK.get(spec.event_rank, f'rank {spec.event_rank}')} (event rank {spec.event_rank})"
    )
    doc = f"{spec.doc}. " if spec.doc else ""
    return (
        f"```vg\n{spec.signature()}\n```\n{doc}Distribution `numpyro.distributions.{spec.name}`: {draw}.\n\n"
        + "\n".join(args)
    )


def func_markdown(spec: R.FuncSpec) -> str:
    """Hover text of a function: signature, meaning, whether a transform may apply it to random values."""
    if spec.domain == "real_vector" and not spec.elementwise:
        use = (f"maps an unconstrained vector onto `{spec.image}` (NumPyro's `biject_to`): usable on random "
               "values as a transform's last step (exact log-Jacobian)")
    elif spec.elementwise and spec.monotone:
        use = "elementwise and monotone: usable on random values in a transform (exact log-derivative)"
    elif spec.elementwise:
        use = "elementwise but not monotone: rejected on random values in a transform (VG403)"
    else:
        use = "not elementwise: a matrix or a reduction"
    return f"```vg\n{spec.name}(x)\n```\n{spec.doc} — {use}."


def constraint_markdown(spec: R.ConstraintSpec) -> str:
    """Hover text of a constraint."""
    args = ", ".join("ab"[: spec.arity]) if spec.arity else ""
    sig = f"{spec.name}({args})" if spec.arity else spec.name
    return f"```vg\nparam NAME : {sig}\n```\nConstraint `{sig}`: {spec.doc}."


NETWORK_DOCS = {
    R.MLP: "`mlp(SIZES..., act=ACT)` — a multilayer perceptron, declared with `net NAME = mlp(...)`: the input "
    "width, the hidden widths, the output width; `act` between layers (default `relu`), the last layer linear.",
    R.MODULE: "`module(ARG)` — a Flax (linen or NNX) or Equinox network passed as guide argument ARG, registered "
              "through numpyro.contrib.module and applied per element.",
    R.CONCAT: "`concat(a, b, ...)` — vectors joined end to end (a scalar is `[mu]`).",
    **{a: f"`{a}` — an activation an `mlp` takes (`act={a}`: JAX's `jax.nn.{a}`)." for a in R.ACTIVATIONS
       if a not in R.FUNCTIONS},
}


def registry_markdown(name: str) -> str | None:
    """Hover text of a name VG knows (keyword, distribution, function, constraint, refused name)."""
    if name in KEYWORD_DOCS:
        return f"**{name}** (keyword) — {KEYWORD_DOCS[name]}"
    if name in R.DISTRIBUTIONS:
        return dist_markdown(R.DISTRIBUTIONS[name])
    if name == R.MIX:
        return MIX_DOC
    if name in R.FUNCTIONS and name in R.CONSTRAINTS:  # `simplex`: a mapping function and a constraint
        return func_markdown(R.FUNCTIONS[name]) + "\n\n" + constraint_markdown(R.CONSTRAINTS[name])
    if name in R.FUNCTIONS:
        return func_markdown(R.FUNCTIONS[name])
    if name in R.CONSTRAINTS:
        return constraint_markdown(R.CONSTRAINTS[name])
    if name == R.LEN:
        return LEN_DOC
    if name in NETWORK_DOCS:
        return NETWORK_DOCS[name]
    if name == R.FACTOR:
        return "`factor` is not a sampler: in a guide it only adds a term to the ELBO (VG301)."
    if name in R.IMPROPER_DISTRIBUTIONS:
        return f"`{name}` is improper: it cannot be sampled, so a guide cannot use it (VG303)."
    if name in R.DISCRETE_DISTRIBUTIONS:
        return f"`{name}` is discrete; VG guides draw continuous latents (VG304)."
    return None
