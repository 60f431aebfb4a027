"""The scan sampler's proposals: a defensive mixture of the uniform unit cube and Gaussian clusters.

    q(u) = alpha * Uniform(cube) + (1 - alpha) * sum_k frac_k N(u; mu_k, Sigma_k)

The uniform part (Hesterberg 1995) keeps exploring the whole box for islands not yet found and bounds every
importance weight by 1 / alpha.  Densities are evaluated with each component's Cholesky factor, computed
once per proposal (a proposal's density is taken at every stored point whenever the posterior weights are
refreshed).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.special import logsumexp


class Mixture:
    """alpha * uniform(cube) + (1 - alpha) * sum_k frac_k N(mu_k, cov_k); all-zero `frac` is the uniform."""

    def __init__(self, alpha: float, frac: np.ndarray, means: np.ndarray, covs: np.ndarray) -> None:
        keep = frac > 0
        self.alpha = alpha if np.any(keep) else 1.0
        self.frac, self.means, self.covs = frac[keep], means[keep], covs[keep]
        self._chol = [_cholesky(c) for c in self.covs]
        # whitening matrices L^-1 (a matrix product per component is far cheaper than a triangular solve
        # of a (d, n) right-hand side, which BLAS runs slowly on a loaded machine)
        self._white = [np.linalg.inv(c) for c in self._chol]
        d = means.shape[-1]
        self._lognorm = np.array([np.log(f) - 0.5 * d * np.log(2 * np.pi) - np.sum(np.log(np.diag(c)))
                                  for f, c in zip(self.frac, self._chol, strict=True)])

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        d = self.means.shape[-1]
        out = rng.random((n, d))
        if not len(self.frac):
            return out
        comp = rng.choice(len(self.frac), size=n, p=self.frac)
        gauss = rng.random(n) >= self.alpha
        for j in range(len(self.frac)):
            sel = gauss & (comp == j)
            out[sel] = self.means[j] + rng.standard_normal((int(sel.sum()), d)) @ self._chol[j].T
        return out

    def logpdf(self, u: np.ndarray) -> np.ndarray:
        if not len(self.frac):
            return np.zeros(len(u))
        parts = np.empty((len(self.frac), len(u)))
        for j, (m, white) in enumerate(zip(self.means, self._white, strict=True)):
            z = (u - m) @ white.T
            parts[j] = self._lognorm[j] - 0.5 * np.einsum("ij,ij->i", z, z)
        return np.logaddexp(np.log(self.alpha), np.log1p(-self.alpha) + logsumexp(parts, axis=0))


def _cholesky(cov: np.ndarray) -> np.ndarray:
    """Cholesky factor, with a growing diagonal jitter for a cluster that is (numerically) flat."""
    jitter = 0.0
    for _ in range(8):
        try:
            return np.linalg.cholesky(cov + np.eye(len(cov)) * jitter)
        except np.linalg.LinAlgError:
            jitter = max(jitter * 100, 1e-12)
    raise np.linalg.LinAlgError("scan: a proposal covariance is not positive definite")


def fit(u: np.ndarray, w: np.ndarray, opts: dict[str, Any],
        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frac, means, covs) padded to n_components: k-means clusters of a weighted resample of `u`, each
    cluster's covariance inflated by `scale` (so that the proposal is wider than the region it covers)."""
    n, d = u.shape
    kmax = int(opts["n_components"])
    frac, means, covs = np.zeros(kmax), np.zeros((kmax, d)), np.tile(np.eye(d), (kmax, 1, 1))
    pts = u[rng.choice(n, size=min(n, 4000), p=w / w.sum())]
    k = int(max(1, min(kmax, len(pts) // (5 * (d + 1)))))
    with warnings.catch_warnings():  # an empty cluster is harmless here: it is skipped below
        warnings.simplefilter("ignore")
        _, labels = kmeans2(pts, k, minit="++", rng=rng)
    for j in range(k):
        member = pts[labels == j]
        if len(member) > d:
            frac[j] = len(member)
            means[j] = member.mean(axis=0)
            covs[j] = np.cov(member, rowvar=False).reshape(d, d) * float(opts["scale"]) + np.eye(d) * 1e-10
    return frac / max(frac.sum(), 1.0), means, covs
