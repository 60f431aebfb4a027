"""Comparison with reference numbers printed to a given number of significant figures
(the tables of docs/physics/*.md)."""

import numpy as np


def ref_tol(ref: str) -> tuple[float, float]:
    """Printed reference value and absolute tolerance of the comparison.

    Three or more significant figures: 1 %. Two (or one): the rounding of the printed number (half a unit in
    its last digit) plus the 1 % agreement expected with the unrounded number, since several printed values
    sit on a rounding boundary (e.g. 1.547e-10 printed as 1.6e-10 in docs/physics/flavour.md §7).
    """
    value = float(ref)
    mantissa, _, exponent = ref.lower().partition("e")
    digits = mantissa.lstrip("-+").replace(".", "").lstrip("0")
    rel = 0.01 * abs(value)
    if len(digits) >= 3:
        return value, rel
    decimals = len(mantissa.partition(".")[2])
    return value, rel + 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def assert_refs(computed: np.ndarray, refs: list[str]) -> None:
    for i, (c, r) in enumerate(zip(np.asarray(computed), refs, strict=True)):
        value, tol = ref_tol(r)
        assert abs(c - value) <= tol, f"BP{i + 1}: computed {c:.4g}, reference {r} (tolerance {tol:.2g})"


# docs/physics/g2-scattering.md §7 "Reference K values" (K_C, K_p, K_n) [GeV^-2 nu/cm^2/POT]
K_REF = np.array([
    [3.6249e-11, 1.0008e-10, 1.0011e-10],
    [1.4841e-11, 5.9703e-11, 5.9719e-11],
    [1.2486e-11, 5.3698e-11, 5.3715e-11],
    [1.0067e-11, 4.4272e-11, 4.4292e-11],
    [7.7077e-12, 4.0698e-11, 4.0709e-11],
    [5.0191e-11, 1.2226e-10, 1.2229e-10],
    [8.0943e-12, 4.1885e-11, 4.1899e-11],
])
