"""Comparison with reference numbers printed to a given number of significant figures
(the tables of ../shared/physics/*.md)."""

import numpy as np


def ref_tol(ref: str) -> tuple[float, float]:
    """Printed reference value and absolute tolerance of the comparison.

    Three or more significant figures: 1 %. Two (or one): the rounding of the printed number (half a unit in
    its last digit) plus the 1 % agreement expected with the unrounded number, since several printed values
    sit on a rounding boundary (e.g. 1.547e-10 printed as 1.6e-10 in flavour.md §7).
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
