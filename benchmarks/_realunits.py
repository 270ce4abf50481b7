"""Synthetic units made of real comments, with a planted unit-level link between two themes.

The texts are real (read from ``../shared/data``, never copied): French retail reviews keep their own
1-5 rating (customers); French Glassdoor and Indeed answers keep their pros and cons (employees). What
is synthetic is only which unit and month a comment belongs to. Themes are defined by rules on the
texts (regular expressions on accent-folded text, written from the meaning of the theme, independent
of the pipeline); a customer theme holds only reviews rated 1-2, an employee theme only answers whose
cons match it (a text may match two). A unit's share of each theme is ``base · exp(σ z − σ²/2)`` with one standard normal
latent per unit and theme; the planted pair's latents correlate at ``rho`` and every other latent is
drawn independently, so ``rho = 0`` is the null.

>>> pools = load_pools()
>>> rep = draw_replicate(pools, Design(n_units=30, rho=0.6), seed=1)
>>> rep.customers, rep.employees      # the two exports a user would ingest
>>> rep.truth                         # per respondent: which theme rules its text matches
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from _realdata import require_shared

#: customer themes (reviews rated 1-2 whose text matches); written from the meaning, before any fit
CUSTOMER_THEMES = {
    "delivery": r"\blivr|\bcolis\b|pas (encore |toujours )?recu|jamais recu|toujours pas recu|transporteur"
                r"|point relais|\brelais\b|\bexpedi|chronopost|colissimo|\bups\b|\bdpd\b|\bgls\b|acheminement",
    "service": r"service client|service apres.?vente|\bsav\b|rembours|conseill(?:er|ere)s?\b|injoignable"
               r"|(?:aucune|pas de|sans) reponse|reclamation|hotline|\bjoindre\b|interlocuteur",
    "product": r"defectueu|\bcasse|en panne|ne fonctionne (?:pas|plus)|qualite (?:mediocre|deplorable)|contrefa"
               r"|\babime|endommag|(?:pas|non) conforme",
}
#: employee themes (answers whose cons match)
EMPLOYEE_THEMES = {
    "workload": r"pression|stress|charges? de travail|surcharg|sous.?effectif|manque (?:de |d')(?:personnel|monde"
                r"|effectifs?|bras)|effectifs? (?:insuffisant|trop bas|reduit)|\brythme|cadences?|heures sup"
                r"|\bepuis|burn.?out|debord|surmenage|objectifs? (?:inatteignable|irrealiste|intenable)"
                r"|charges? (?:lourde|importante|enorme)",
    "pay": r"salaire|remuneration|\bpaye|\bpaie\b|augmentation|\bprimes?\b|sous.?paye|salarial|\bsmic\b"
           r"|\bpay\b|\bsalary",
    "management": r"manag|hierarchi|\bdirection\b|\bchefs?\b|superieur|encadrement|responsables?\b|\bboss",
}

#: the planted pairs the benchmark tries (customer theme, employee theme), and the named hypotheses a
#: researcher would write for them (example phrases written from the theme's meaning, not from the data)
PAIRS = {
    "delivery-workload": ("delivery", "workload"),
    "service-pay": ("service", "pay"),
}
HYPOTHESES = {
    "delivery": ["colis jamais livré", "livraison en retard", "commande toujours pas reçue",
                 "colis perdu par le transporteur", "le livreur n'est jamais passé", "point relais introuvable"],
    "service": ["service client injoignable", "aucune réponse à ma réclamation", "toujours pas remboursé",
                "le SAV ne répond pas", "conseiller incompétent", "impossible de joindre quelqu'un"],
    "workload": ["trop de pression", "charge de travail énorme", "manque de personnel", "stress permanent",
                 "rythme de travail épuisant", "sous-effectif chronique", "heures supplémentaires à répétition"],
    "pay": ["salaire trop bas", "pas d'augmentation", "rémunération insuffisante", "mal payé", "pas de primes",
            "salaires en dessous du marché"],
}


def fold(text: str) -> str:
    """Lowercase, accents removed (the theme rules are written on this form)."""
    return unicodedata.normalize("NFKD", str(text).casefold()).encode("ascii", "ignore").decode()


def theme_hits(texts: pd.Series, themes: dict[str, str]) -> pd.DataFrame:
    """Which theme rules each text matches (one boolean column per theme)."""
    folded = texts.map(fold)
    return pd.DataFrame({t: folded.map(re.compile(p).search).notna() for t, p in themes.items()}, index=texts.index)


@dataclass
class Pools:
    customers: pd.DataFrame   # text, score, one boolean column per customer theme
    employees: pd.DataFrame   # pros, cons, score, one boolean column per employee theme


@lru_cache(maxsize=2)
def load_pools(n_customers: int = 24_000, seed: int = 0) -> Pools:
    """Customer reviews (Cdiscount on Trustpilot, a seeded draw of ``n_customers``) and every French
    employee answer (Glassdoor FR, Indeed), each with its theme ('' when it matches none)."""
    root = require_shared()
    c = pd.read_csv(root / "fr_cdiscount_trustpilot.csv.gz", usecols=["Content", "Note"])
    c = c[c["Content"].notna() & c["Note"].between(1, 5)]
    c = c[c["Content"].str.len().between(15, 600)].drop_duplicates("Content")
    c = c.sample(n=min(n_customers, len(c)), random_state=seed)
    cust = pd.DataFrame({"text": c["Content"].str.strip().to_numpy(), "score": c["Note"].astype(int).to_numpy()})
    hits = theme_hits(cust["text"], CUSTOMER_THEMES) & (cust["score"] <= 2).to_numpy()[:, None]  # an irritant
    cust = pd.concat([cust, hits], axis=1)
    g = pd.read_csv(root / "fr_glassdoor_employees.csv.gz",
                    usecols=["review_advantages", "review_disadvantages", "score"])
    g = g.rename(columns={"review_advantages": "pros", "review_disadvantages": "cons"})
    raw = json.loads((root / "fr_indeed_lidl_employees.json").read_text(encoding="utf-8"))
    ind = pd.DataFrame([{"pros": (r.get("review_pros_cons") or {}).get("review_pros"),
                         "cons": (r.get("review_pros_cons") or {}).get("review_cons"),
                         "score": float(str(r.get("review_rating", "")).replace(",", ".") or "nan")} for r in raw])
    emp = pd.concat([g, ind], ignore_index=True)
    emp = emp[emp["pros"].notna() & emp["cons"].notna()]
    emp = emp[(emp["pros"].str.len() >= 8) & (emp["cons"].str.len().between(8, 800))]
    emp = emp.drop_duplicates(["pros", "cons"]).reset_index(drop=True)
    emp = pd.concat([emp, theme_hits(emp["cons"], EMPLOYEE_THEMES)], axis=1)
    return Pools(cust, emp)


@dataclass(frozen=True)
class Design:
    n_units: int = 30
    customers_per_unit: int = 100
    employees_per_unit: int = 50
    n_months: int = 6
    rho: float = 0.6
    pair: str = "delivery-workload"
    sigma: float = 0.8            # spread of a theme's share across units (log scale)
    customer_base: float = 0.12   # mean share of each customer theme
    employee_base: float = 0.12   # mean share of each employee theme


@dataclass
class Replicate:
    customers: pd.DataFrame
    employees: pd.DataFrame
    truth: pd.DataFrame       # id, source, unit, one boolean column per theme (one row per respondent)
    latent_r: float           # the planted latents' realised correlation


def _shares(z: np.ndarray, base: float, sigma: float) -> np.ndarray:
    s = base * np.exp(sigma * z - sigma ** 2 / 2)
    scale = np.maximum(1.0, s.sum(1, keepdims=True) / 0.8)   # themes never take more than 80% of a unit
    return s / scale


def _draw(pool: pd.DataFrame, themes: list[str], shares: np.ndarray, per_unit: int, rng) -> list[pd.DataFrame]:
    """Respondents of each unit: a theme by the unit's shares (else none), then a text matching that theme
    (it may match another theme too) or, for none, a text matching no theme; never twice in one unit."""
    hits = pool[themes].to_numpy()
    by_theme = {t: np.flatnonzero(hits[:, k]) for k, t in enumerate(themes)} | {"": np.flatnonzero(~hits.any(1))}
    units = []
    for u in range(len(shares)):
        p = np.r_[shares[u], 1 - shares[u].sum()]
        cat = rng.choice(len(p), size=per_unit, p=p)
        rows = []
        for k, t in enumerate(themes + [""]):
            m = int((cat == k).sum())
            if m:
                rows.append(rng.choice(by_theme[t], size=min(m, len(by_theme[t])), replace=False))
        idx = np.concatenate(rows)
        units.append(pool.iloc[idx].assign(unit=f"U{u + 1:02d}"))
    return units


def draw_replicate(pools: Pools, design: Design, seed: int) -> Replicate:
    rng = np.random.default_rng(seed)
    ct, et = list(CUSTOMER_THEMES), list(EMPLOYEE_THEMES)
    ca, eb = PAIRS[design.pair]
    z = rng.standard_normal((design.n_units, len(ct)))
    w = rng.standard_normal((design.n_units, len(et)))
    ic, ie = ct.index(ca), et.index(eb)
    w[:, ie] = design.rho * z[:, ic] + np.sqrt(1 - design.rho ** 2) * w[:, ie]
    cu = pd.concat(_draw(pools.customers, ct, _shares(z, design.customer_base, design.sigma),
                         design.customers_per_unit, rng), ignore_index=True)
    em = pd.concat(_draw(pools.employees, et, _shares(w, design.employee_base, design.sigma),
                         design.employees_per_unit, rng), ignore_index=True)
    start = pd.Timestamp("2024-01-01")
    days = design.n_months * 30
    for df, prefix in ((cu, "c"), (em, "e")):
        df["id"] = [f"{prefix}{i:06d}" for i in range(len(df))]
        df["date"] = (start + pd.to_timedelta(rng.integers(0, days, len(df)), unit="D")).strftime("%Y-%m-%d")
    truth = pd.concat([cu[["id", "unit"] + ct].assign(source="customer"),
                       em[["id", "unit"] + et].assign(source="employee")], ignore_index=True)
    truth[ct + et] = truth[ct + et].fillna(False).astype(bool)
    return Replicate(cu[["id", "unit", "date", "score", "text"]], em[["id", "unit", "date", "score", "pros", "cons"]],
                     truth, float(np.corrcoef(z[:, ic], w[:, ie])[0, 1]))
