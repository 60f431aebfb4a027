"""emcee moves for darkportal: the run file's move mixture, and independent ensembles inside one sampler.

`moves` (emcee setting) maps a move name to its weight, or to ``{weight: w, <option>: value}``:

    moves: {de: 0.8, de_snooker: 0.2}             # the default
    moves: {stretch: {weight: 1, a: 2.0}}         # emcee's default move

- `stretch`: `emcee.moves.StretchMove` (Goodman & Weare 2010); option `a` (> 1, default 2).
- `walk`: `emcee.moves.WalkMove`; option `s` (walkers in the subset, >= 2; default all).
- `de`: `emcee.moves.DEMove` (ter Braak 2006; Nelson et al. 2014); options `sigma` (>= 0, default 1e-5)
  and `gamma0` (> 0; default 2.38 / sqrt(2 d)).
- `de_snooker`: the DE snooker update of ter Braak & Vrugt 2008, Stat. Comput. 18, 435, Sect. 3; option
  `gammas` (> 0, default 1.7).

`de_snooker` is implemented here, not taken from emcee: emcee 3.1.6's `DESnookerMove` divides the
snooker direction by the square root of its length instead of the length and applies half the
Jacobian exponent ((d - 1) / 2 instead of d - 1), which makes the move depend on the units of the
parameters and gives it a stationary distribution other than the target (fixed upstream in dfm/emcee
pull request 531, unreleased when this was written; `tests/inference/test_emcee_moves.py` shows the bias
on a Gaussian). The version here also rejects, instead of dividing by zero, when a walker sits on the
complementary walker it is projected on (emcee's returns NaN there, e.g. for duplicated start points).

The proposals are written here for all ensembles at once (`stretch` and `de` are emcee's StretchMove
and DEMove proposals, vectorised over the ensembles); `GroupedMove` runs one on `ensembles` disjoint
blocks of walkers: each block only ever uses its own
walkers as the complementary ensemble, so the blocks are independent Markov chains (started from their
own draws), while the log-posterior is evaluated for all blocks in one vectorised call. That is what the
convergence gate's R-hat between ensembles needs (`inference.samplers.emcee_gate`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import emcee
import numpy as np
from emcee.state import State

from inference.errors import suggestion

# name -> {option: (default, kind, low, low_inclusive)}; kind "float", "int" or "float|None" / "int|None"
MOVE_OPTIONS: dict[str, dict[str, tuple[Any, str, float, bool]]] = {
    "stretch": {"a": (2.0, "float", 1.0, False)},
    "walk": {"s": (None, "int|None", 2, True)},
    "de": {"sigma": (1.0e-5, "float", 0.0, True), "gamma0": (None, "float|None", 0.0, False)},
    "de_snooker": {"gammas": (1.7, "float", 0.0, False)},
}
#: emcee's class names, so that ``DEMove`` gets "did you mean 'de'?"
EMCEE_CLASS_NAMES = {"StretchMove": "stretch", "WalkMove": "walk", "DEMove": "de", "DESnookerMove": "de_snooker"}
DEFAULT_MOVES: dict[str, Any] = {"de": 0.8, "de_snooker": 0.2}

Fail = Callable[[tuple[str, ...], str, str], NoReturn]


@dataclass(frozen=True)
class MoveSpec:
    """One entry of the move mixture: the move's name, its weight and its options (defaults filled in)."""

    name: str
    weight: float
    options: tuple[tuple[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return {"weight": self.weight, **dict(self.options)}


def parse_moves(raw: Any, fail: Fail) -> tuple[MoveSpec, ...]:
    """The move mixture from the run file's ``moves`` value; ``fail(key path below moves, problem, fix)``
    reports a mistake (the config layer adds the file, key path and line; the adapter raises)."""
    example = "moves: {de: 0.8, de_snooker: 0.2}"
    if not isinstance(raw, Mapping) or not raw:
        fail((), "moves must be a non-empty mapping of move name to weight", f"Write it as, for example, {example}")
    specs = []
    for name, entry in raw.items():
        if name not in MOVE_OPTIONS:
            hint = EMCEE_CLASS_NAMES.get(str(name))
            fix = (f"Did you mean {hint!r}? (emcee's {name} is called {hint!r} here) Use one of "
                   + ", ".join(repr(m) for m in MOVE_OPTIONS)) if hint else suggestion(name, list(MOVE_OPTIONS))
            fail((str(name),), f"unknown emcee move {name!r}", fix)
        options = MOVE_OPTIONS[name]
        given: Mapping[str, Any] = entry if isinstance(entry, Mapping) else {"weight": entry}
        for key in given:
            if key != "weight" and key not in options:
                fail((name, str(key)), f"unknown option {key!r} of move {name!r}",
                     suggestion(key, ["weight", *options]))
        if "weight" not in given:
            fail((name, "weight"), f"move {name!r} has no weight", f"Add weight: 1, as in {{{name}: {{weight: 1}}}}")
        weight = _number(given["weight"], (name, "weight"), 0.0, False, "float", fail)
        values = tuple((key, _number(given.get(key, default), (name, key), low, incl, kind, fail)
                        if key in given else default) for key, (default, kind, low, incl) in options.items())
        specs.append(MoveSpec(name, float(weight), values))
    return tuple(specs)


def _number(value: Any, path: tuple[str, ...], low: float, inclusive: bool, kind: str, fail: Fail) -> Any:
    if value is None and kind.endswith("|None"):
        return None
    want_int = kind.startswith("int")
    if isinstance(value, float) and want_int and value.is_integer():
        value = int(value)
    ok = not isinstance(value, bool) and isinstance(value, int if want_int else (int, float))
    if not ok or not np.isfinite(float(value)):
        fail(path, f"expected {'an integer' if want_int else 'a finite number'}, got {value!r}",
             "Write a plain number such as 0.8 (no quotes)" + (" or null" if kind.endswith("|None") else ""))
    if float(value) < low or (float(value) == low and not inclusive):
        bound = ">=" if inclusive else ">"
        fail(path, f"must be {bound} {low:g}, got {value}", f"Use a value {bound} {low:g}")
    return int(value) if want_int else float(value)


def moves_as_setting(specs: Sequence[MoveSpec]) -> dict[str, dict[str, Any]]:
    """The normalised form written into the resolved run file (every option shown)."""
    return {spec.name: spec.as_dict() for spec in specs}


# ------------------------------------------------------------------------------------------------ moves
# Each proposal works on all ensembles at once: s (E, m, d) are the walkers being moved, c (E, n, d) (or the
# list of the other splits for the snooker) their ensemble's complementary walkers; returns q (E, m, d) and
# the log proposal factors (E, m). One numpy pass for every ensemble instead of one emcee call per ensemble
# (the per-call overhead dominated: ~3.5 ms per step for 4 x 32 walkers with emcee's moves called per
# ensemble, measured with cProfile on the kappa run).
class _Proposal:
    nsplits = 2

    def __call__(self, s: np.ndarray, c: list[np.ndarray], random: Any) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class StretchProposal(_Proposal):
    """Goodman & Weare (2010) stretch move, eq. (10)-(11), as emcee's StretchMove: z ~ g(z) on [1/a, a]."""

    def __init__(self, a: float = 2.0) -> None:
        self.a = a

    def __call__(self, s: np.ndarray, c: list[np.ndarray], random: Any) -> tuple[np.ndarray, np.ndarray]:
        comp = np.concatenate(c, axis=1)
        e, m, d = s.shape
        z = ((self.a - 1.0) * random.rand(e, m) + 1.0) ** 2 / self.a
        other = comp[np.arange(e)[:, None], random.randint(comp.shape[1], size=(e, m))]
        return other + z[:, :, None] * (s - other), (d - 1.0) * np.log(z)


class DEProposal(_Proposal):
    """Differential evolution (ter Braak 2006) as emcee's DEMove: s + gamma (c_b - c_a) for an ordered pair of
    distinct complementary walkers, gamma = gamma0 (1 + sigma N(0, 1)), gamma0 = 2.38 / sqrt(2 d) by default."""

    def __init__(self, sigma: float = 1.0e-5, gamma0: float | None = None) -> None:
        self.sigma, self.gamma0 = sigma, gamma0

    def __call__(self, s: np.ndarray, c: list[np.ndarray], random: Any) -> tuple[np.ndarray, np.ndarray]:
        comp = np.concatenate(c, axis=1)
        e, m, d = s.shape
        n = comp.shape[1]
        first = random.randint(n, size=(e, m))
        second = (first + 1 + random.randint(n - 1, size=(e, m))) % n  # distinct from the first
        rows = np.arange(e)[:, None]
        g0 = self.gamma0 if self.gamma0 is not None else 2.38 / np.sqrt(2 * d)
        gamma = g0 * (1.0 + self.sigma * random.randn(e, m, 1))
        return s + gamma * (comp[rows, second] - comp[rows, first]), np.zeros((e, m))


class SnookerProposal(_Proposal):
    """The DE snooker update (ter Braak & Vrugt 2008, Sect. 3): move walker x along the line through a
    complementary walker z by gamma times the projection of z1 - z2 on that line, with the Jacobian factor
    (|x' - z| / |x - z|)^(d - 1). z, z1, z2 come from the three other quarters of the ensemble (four splits,
    as in emcee); a walker sitting on z is not moved (factor -inf)."""

    nsplits = 4

    def __init__(self, gammas: float = 1.7) -> None:
        self.gammas = gammas

    def __call__(self, s: np.ndarray, c: list[np.ndarray], random: Any) -> tuple[np.ndarray, np.ndarray]:
        e, m, d = s.shape
        rows = np.arange(e)[:, None]
        picks = np.stack([part[rows, random.randint(part.shape[1], size=(e, m))] for part in c[:3]], axis=2)
        roles = np.argsort(random.rand(e, m, 3), axis=2)  # which of the three is z, z1, z2
        picks = np.take_along_axis(picks, roles[..., None], axis=2)  # (e, m, 3, d)
        z, z1, z2 = picks[:, :, 0], picks[:, :, 1], picks[:, :, 2]
        delta = s - z
        norm = np.linalg.norm(delta, axis=2)
        degenerate = norm == 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            unit = delta / np.where(degenerate, 1.0, norm)[..., None]
            q = s + self.gammas * np.sum((z1 - z2) * unit, axis=2)[..., None] * unit
            factor = (d - 1.0) * (np.log(np.linalg.norm(q - z, axis=2)) - np.log(norm))
        factor = np.where(degenerate | ~np.isfinite(factor), -np.inf, factor)
        return np.where(degenerate[..., None], s, q), factor


class WalkProposal(_Proposal):
    """emcee's WalkMove (Goodman & Weare 2010, the walk move) applied ensemble by ensemble."""

    def __init__(self, s: int | None = None) -> None:
        self.move = emcee.moves.WalkMove(s=s)

    def __call__(self, s: np.ndarray, c: list[np.ndarray], random: Any) -> tuple[np.ndarray, np.ndarray]:
        out = [self.move.get_proposal(s[g], [part[g] for part in c], random) for g in range(len(s))]
        return np.stack([q for q, _ in out]), np.stack([np.asarray(f, dtype=float) for _, f in out])


def make_proposal(spec: MoveSpec) -> _Proposal:
    opts = dict(spec.options)
    if spec.name == "stretch":
        return StretchProposal(a=opts["a"])
    if spec.name == "walk":
        return WalkProposal(s=opts["s"])
    if spec.name == "de":
        return DEProposal(sigma=opts["sigma"], gamma0=opts["gamma0"])
    if spec.name == "de_snooker":
        return SnookerProposal(gammas=opts["gammas"])
    raise ValueError(f"unknown emcee move {spec.name!r}")


class GroupedMove(emcee.moves.Move):
    """A proposal applied to `ensembles` disjoint, equal blocks of consecutive walkers, each block its own
    ensemble (its complementary walkers come from the block only), with one log-posterior call per split for
    all blocks. As `emcee.moves.RedBlueMove.propose`: each block is split at random into `nsplits` equal
    parts, updated one after the other with the others as complement; accept with log u < factor + delta
    log p."""

    def __init__(self, proposal: _Proposal, ensembles: int) -> None:
        self.proposal = proposal
        self.ensembles = int(ensembles)

    def propose(self, model: Any, state: State) -> tuple[State, np.ndarray]:
        coords = np.array(state.coords, dtype=float)
        log_prob = np.array(state.log_prob, dtype=float)
        nwalkers, d = coords.shape
        e, k = self.ensembles, self.proposal.nsplits
        per = nwalkers // e
        if per * e != nwalkers or per % k:
            raise ValueError(f"{nwalkers} walkers do not split into {e} ensembles of a multiple of {k} walkers")
        m = per // k
        order = np.argsort(model.random.rand(e, per), axis=1) + per * np.arange(e)[:, None]
        parts = [order[:, j * m:(j + 1) * m] for j in range(k)]  # (e, m) walker indices of each split
        accepted = np.zeros(nwalkers, dtype=bool)
        for split in range(k):
            idx = parts[split]
            others = [coords[parts[j]] for j in range(k) if j != split]
            q, factor = self.proposal(coords[idx], others, model.random)
            flat, q = idx.reshape(-1), q.reshape(-1, d)
            new_log_prob = _log_prob(model, q)
            with np.errstate(invalid="ignore"):
                diff = factor.reshape(-1) + new_log_prob - log_prob[flat]
            take = diff > np.log(model.random.rand(len(flat)))
            coords[flat[take]] = q[take]
            log_prob[flat[take]] = new_log_prob[take]
            accepted[flat[take]] = True
        return State(coords, log_prob=log_prob, random_state=state.random_state), accepted


def _log_prob(model: Any, q: np.ndarray) -> np.ndarray:
    """The vectorised log-probability of the rows of q. emcee's `compute_log_prob` converts the values one by
    one in Python (a third of the time of a step here); the adapter's function returns an array already."""
    if not np.all(np.isfinite(q)):
        raise ValueError("an emcee proposal has a NaN or infinite coordinate")
    values = np.asarray(model.log_prob_fn(q), dtype=float)
    if values.shape != (len(q),):
        raise ValueError(f"the log-probability returned shape {values.shape} for {len(q)} points; the emcee "
                         "adapter needs one value per point and no blobs")
    return values


def build_moves(specs: Sequence[MoveSpec], ensembles: int) -> list[tuple[emcee.moves.Move, float]]:
    """The (move, weight) list emcee's EnsembleSampler takes, each move run per ensemble."""
    return [(GroupedMove(make_proposal(spec), ensembles), spec.weight) for spec in specs]
