"""What a reviewer of linkage research asks of a unit rate: how reliable is it, how strong is the link, how
much power was there (Bliese 2000; Harter, Schmidt & Hayes 2002; Schneider & Bowen 1985).

- :func:`icc` — ICC(1) (the share of a respondent-level indicator's variance that lies between units) and
  ICC(2) (the reliability of a unit's mean, for the units' average size), from the one-way ANOVA of the
  respondents' 0/1 indicator within units.
- :func:`r_interval` — a Fisher-z interval of a unit correlation; :func:`disattenuated` — the correlation
  corrected for the two rates' unreliability (r / √(ICC2_a · ICC2_b)), the correction the meta-analytic
  ρ ≈ 0.3 of Harter et al. (2002) reports.
- :func:`power` — the power of the one-sided unit test for a true unit-level ρ, attenuated by the rates'
  reliability, and :func:`units_needed` for a given power.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import norm

#: the meta-analytic engagement ↔ customer-satisfaction correlation at unit level (Harter et al. 2002)
META_RHO = 0.3
#: below either, the report warns (a linkage study's usual bars)
MIN_UNITS_ADVISED = 50
MIN_ICC2 = 0.70


def icc(k, n) -> tuple[float, float]:
    """``(ICC(1), ICC(2))`` of a 0/1 respondent indicator from per-unit counts ``k`` of ``n`` respondents
    (units with at least 2 respondents); NaN when there is no variance to share."""
    k, n = np.asarray(k, float), np.asarray(n, float)
    ok = n >= 2
    k, n = k[ok], n[ok]
    g, total = len(n), n.sum()
    if g < 2 or total <= g:
        return np.nan, np.nan
    mean = k / n
    grand = k.sum() / total
    msb = float((n * (mean - grand) ** 2).sum() / (g - 1))
    msw = float((k * (1 - mean)).sum() / (total - g))
    n0 = (total - (n ** 2).sum() / total) / (g - 1)
    if msb <= 0:
        return np.nan, np.nan
    return float((msb - msw) / (msb + (n0 - 1) * msw)), float((msb - msw) / msb)


def r_interval(r: float, n_units: int, level: float = 0.95) -> tuple[float, float]:
    """Fisher-z interval of a correlation over ``n_units`` units."""
    if np.isnan(r) or n_units <= 3:
        return np.nan, np.nan
    z, h = np.arctanh(np.clip(r, -0.999999, 0.999999)), norm.ppf(0.5 + level / 2) / np.sqrt(n_units - 3)
    return float(np.tanh(z - h)), float(np.tanh(z + h))


def disattenuated(r: float, icc2_a: float, icc2_b: float) -> float:
    """``r / √(ICC2_a · ICC2_b)`` clipped to [−1, 1]; NaN when a reliability is not positive."""
    if np.isnan(r) or not icc2_a > 0 or not icc2_b > 0:
        return np.nan
    return float(np.clip(r / np.sqrt(icc2_a * icc2_b), -1.0, 1.0))


def power(rho: float, n_units: int, icc2_a: float, icc2_b: float, alpha: float = 0.05) -> float:
    """Power of the one-sided unit test at ``alpha`` for a true unit-level correlation ``rho``, the observed
    rates' reliabilities ``icc2_a``, ``icc2_b`` attenuating it (Fisher-z approximation)."""
    rel = np.sqrt(max(icc2_a, 0.0) * max(icc2_b, 0.0)) if not (np.isnan(icc2_a) or np.isnan(icc2_b)) else np.nan
    if np.isnan(rel) or n_units <= 3:
        return np.nan
    return float(norm.cdf(np.arctanh(rho * rel) * np.sqrt(n_units - 3) - norm.ppf(1 - alpha)))


def units_needed(rho: float, icc2_a: float, icc2_b: float, alpha: float = 0.05, target: float = 0.8) -> float:
    """Units the one-sided unit test needs for power ``target`` at a true ``rho`` (same reliabilities)."""
    rel = np.sqrt(max(icc2_a, 0.0) * max(icc2_b, 0.0)) if not (np.isnan(icc2_a) or np.isnan(icc2_b)) else np.nan
    if np.isnan(rel) or rho * rel <= 0:
        return np.nan
    return float(np.ceil(((norm.ppf(1 - alpha) + norm.ppf(target)) / np.arctanh(rho * rel)) ** 2 + 3))


def warnings_for(n_units: int, icc2_a: float, icc2_b: float, names: tuple[str, str] = ("first side", "second side")) -> list[str]:
    """The reviewer's warnings for a test over ``n_units`` units of rates with these reliabilities."""
    out = []
    if n_units < MIN_UNITS_ADVISED:
        out.append(f"{n_units} units (a linkage study advises at least {MIN_UNITS_ADVISED})")
    for side, v in ((names[0], icc2_a), (names[1], icc2_b)):
        if np.isnan(v) or v < MIN_ICC2:
            out.append(f"{side} unit rates are unreliable (ICC(2) = {v:.2f} < {MIN_ICC2:.2f}: few "
                       f"respondents per unit for how little the rate varies between units)")
    return out
