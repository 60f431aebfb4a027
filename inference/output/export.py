"""Samples of a finished run in the formats of the field's post-processing tools.

* ``getdist``: GetDist / CosmoMC plain-text chains.  ``ROOT.txt`` (or ``ROOT_1.txt`` ... one file per MCMC
  chain) has one row per sample: weight, -ln L, then the free parameters; ``ROOT.paramnames`` names them with
  their LaTeX labels; ``ROOT.ranges`` gives each parameter's prior support (``N`` for an unbounded side), which
  GetDist uses to correct its density estimates at the prior edges.  Load with
  ``getdist.loadMCSamples("DIR/ROOT")``.  Rows of negligible weight (below MIN_RELATIVE_WEIGHT of the largest)
  are left out.
* ``anesthetic``: for a nested-sampling run, PolyChord's ``ROOT_dead-birth.txt`` (parameters, ln L, ln L of the
  birth contour; -1e30 for points drawn from the whole prior, PolyChord's convention; points of zero likelihood
  inside the prior get ln L = ZERO_LIKELIHOOD_LOGL) and ``ROOT.paramnames``,
  which ``anesthetic.read_chains("DIR/ROOT")`` turns into ``NestedSamples`` (evidence, prior volumes, KL
  divergence ...).  Other runs (MCMC, scan) are written as GetDist chains, which anesthetic reads as
  ``MCMCSamples``.
* ``csv``: ``ROOT.csv`` with a header: weight, logL, the free parameters and, for nested sampling, logL_birth,
  nlive and log_volume.

Nested-sampling and scan runs export their raw weighted samples (the ``weighted_samples`` group of
posterior.nc); MCMC runs their chains (the ``posterior`` group).  Parameters are in the paper's units
(kappa in TeV^-1, masses in MeV); parameters held fixed in the run are left out.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.errors import DarkportalError
from inference.output.results import Results, atomic_write_text
from inference.output.run_priors import run_priors

log = logging.getLogger(__name__)

FORMATS = ("getdist", "anesthetic", "csv")
#: PolyChord's ln L for "minus infinity": anesthetic reads a point at or below it as outside the prior
LOGZERO = -1e30
#: ln L written for points of zero likelihood inside the prior (the model's disallowed region, which dynesty
#: records as -1e300): above LOGZERO, so that anesthetic counts them as prior volume.  Written at LOGZERO
#: they would be dropped and ln Z overstated by ln(nlive / number of initial points with L > 0): 0.76 and 1.22
#: on the default kappa != 0 and kappa = 0 runs.
ZERO_LIKELIHOOD_LOGL = -1e25
#: GetDist rows whose weight is below this fraction of the largest are left out (together they carry less
#: than ~1e-25 of the posterior mass; nested sampling's earliest dead points have weights down to 1e-316)
MIN_RELATIVE_WEIGHT = 1e-30


class ExportError(DarkportalError, ValueError):
    """The run cannot be written in the requested format."""


@dataclass(frozen=True)
class ExportSamples:
    """The samples to export: chains of (n_i, d) parameter values with weights and ln L per row."""

    names: tuple[str, ...]
    latex: dict[str, str]
    ranges: dict[str, tuple[float, float]]
    chains: tuple[np.ndarray, ...]
    weights: tuple[np.ndarray, ...]
    logl: tuple[np.ndarray, ...]
    nested: dict[str, np.ndarray]  # logl_birth, nlive, log_volume of a nested run (one chain), else empty


def export_samples(res: Results) -> ExportSamples:
    """The samples of a run read by inference.output.results.read_results, as they are exported."""
    priors = run_priors(res.config)
    tree = res.posterior
    post = tree["posterior"].ds
    names = tuple(str(n) for n in post.data_vars if str(n) in priors and priors[str(n)].free)
    if not names:
        raise ExportError(f"{res.outdir}: the posterior has no free model parameter to export")
    latex = {n: priors[n].latex for n in names}
    ranges = {n: (priors[n].low, priors[n].high) for n in names}
    ws = tree["weighted_samples"].ds if "weighted_samples" in tree.children else None
    n_chains = int(post.sizes.get("chain", 1))
    if n_chains > 1 or ws is None:  # MCMC: the chains as they ran, equal weights
        logl_draws = np.asarray(tree["sample_stats"].ds["logl"].values, dtype=float)
        chains = tuple(np.column_stack([np.asarray(post[n].values[c], dtype=float) for n in names])
                       for c in range(n_chains))
        return ExportSamples(names, latex, ranges, chains, tuple(np.ones(len(c)) for c in chains),
                             tuple(logl_draws[c] for c in range(n_chains)), {})
    x = np.column_stack([np.asarray(ws[n].values, dtype=float) for n in names])
    w = np.asarray(ws["weights"].values, dtype=float)
    nested = {k: np.asarray(ws[k].values, dtype=float) for k in ("logl_birth", "nlive", "log_volume") if k in ws}
    return ExportSamples(names, latex, ranges, (x,), (w / w.max(),), (np.asarray(ws["logl"].values, float),),
                         nested)


def _table(columns: Sequence[np.ndarray]) -> str:
    buf = io.StringIO()
    np.savetxt(buf, np.column_stack(columns), fmt="%.16g", delimiter=" ")
    return buf.getvalue()


def _finite_logl(logl: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(logl), logl, LOGZERO)


def _paramnames(s: ExportSamples) -> str:
    return "".join(f"{n}\t{s.latex[n]}\n" for n in s.names)


def _ranges(s: ExportSamples) -> str:
    def side(v: float) -> str:
        return "N" if not math.isfinite(v) else repr(float(v))

    return "".join(f"{n}\t{side(lo)}\t{side(hi)}\n" for n, (lo, hi) in s.ranges.items())


def write_getdist(s: ExportSamples, outdir: Path, root: str) -> list[Path]:
    """ROOT.txt (or ROOT_1.txt ...), ROOT.paramnames, ROOT.ranges."""
    paths = []
    single = len(s.chains) == 1
    for i, (x, w, ll) in enumerate(zip(s.chains, s.weights, s.logl, strict=True), start=1):
        keep = w > MIN_RELATIVE_WEIGHT * w.max()
        path = outdir / (f"{root}.txt" if single else f"{root}_{i}.txt")
        atomic_write_text(path, _table([w[keep], -_finite_logl(ll[keep]), x[keep]]))
        paths.append(path)
    for suffix, text in ((".paramnames", _paramnames(s)), (".ranges", _ranges(s))):
        atomic_write_text(outdir / f"{root}{suffix}", text)
        paths.append(outdir / f"{root}{suffix}")
    return paths


def write_anesthetic(s: ExportSamples, outdir: Path, root: str) -> list[Path]:
    """ROOT_dead-birth.txt and ROOT.paramnames for a nested run; GetDist chains otherwise."""
    if "logl_birth" not in s.nested:
        log.info("no birth contours (not a nested-sampling run): writing GetDist chains, read by anesthetic "
                 "as MCMCSamples")
        return write_getdist(s, outdir, root)
    order = np.argsort(s.logl[0], kind="stable")
    logl, birth = s.logl[0][order], s.nested["logl_birth"][order]
    logl = np.where(logl <= LOGZERO, ZERO_LIKELIHOOD_LOGL, logl)
    birth = np.where(np.isfinite(birth), np.where(birth <= LOGZERO, ZERO_LIKELIHOOD_LOGL, birth), LOGZERO)
    columns = [s.chains[0][order], logl, birth]
    paths = [outdir / f"{root}_dead-birth.txt", outdir / f"{root}.paramnames", outdir / f"{root}.ranges"]
    for path, text in zip(paths, (_table(columns), _paramnames(s), _ranges(s)), strict=True):
        atomic_write_text(path, text)
    return paths


def write_csv(s: ExportSamples, outdir: Path, root: str) -> list[Path]:
    """ROOT.csv: weight, logL, parameters (and the nested-sampling columns), one file for all chains."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    extra = list(s.nested)
    writer.writerow(["weight", "logL", *s.names, *extra] + (["chain"] if len(s.chains) > 1 else []))
    for c, (x, w, ll) in enumerate(zip(s.chains, s.weights, s.logl, strict=True)):
        for i in range(len(w)):
            row = [repr(float(w[i])), repr(float(ll[i])), *(repr(float(v)) for v in x[i])]
            row += [repr(float(s.nested[k][i])) for k in extra] + ([str(c)] if len(s.chains) > 1 else [])
            writer.writerow(row)
    path = outdir / f"{root}.csv"
    atomic_write_text(path, buf.getvalue())
    return [path]


WRITERS = {"getdist": write_getdist, "anesthetic": write_anesthetic, "csv": write_csv}


def export_run(res: Results, fmt: str, outdir: Path, root: str | None = None) -> list[Path]:
    """Write the run's samples in format `fmt` into `outdir` (created); returns the files written."""
    if fmt not in WRITERS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    root = root or str(res.config.get("name") or Path(res.outdir).name)
    return WRITERS[fmt](export_samples(res), outdir, root)
