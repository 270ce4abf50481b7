"""Privacy, the one rule every output calls: PII masking measured on a French test set, anonymity groups,
protected sources declared (not inferred from ``--pair``), the threshold from the TOML arriving."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from verbatim.config import MirrorConfig, PrivacyConfig, from_dict, load_config
from verbatim.errors import ConfigError
from verbatim.privacy import Masker, mask_label, mask_labels, mask_pii, masker, shown_allowed

PII_SET = Path(__file__).parent / "data" / "pii_fr.jsonl"
log = logging.getLogger(__name__)


def score_pii(m: Masker) -> dict:
    """Recall per class (a value counts as masked when every letter and digit of it is covered by a
    found span) and span precision (a found span is right when it overlaps a labelled value)."""
    rows = [json.loads(line) for line in PII_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    hit = {"structured": [0, 0], "names": [0, 0]}
    found = right = 0
    leaks = []
    for r in rows:
        text = r["text"]
        spans = m.spans(text)
        covered = {i for s in spans for i in range(s.start, s.end)}
        gold = []
        for kind, value in r["pii"]:
            a = text.index(value)
            gold.append((a, a + len(value)))
            ok = all(i in covered for i in range(a, a + len(value)) if text[i].isalnum())
            key = "names" if kind == "name" else "structured"
            hit[key][0] += ok
            hit[key][1] += 1
            if not ok:
                leaks.append(value)
        for s in spans:
            found += 1
            right += any(s.start < b and a < s.end for a, b in gold)
    return {"rows": len(rows), "structured": hit["structured"], "names": hit["names"], "found": found,
            "right": right, "leaks": leaks}


def test_pii_recall_on_the_french_test_set():
    res = score_pii(Masker())
    s_rec = res["structured"][0] / res["structured"][1]
    n_rec = res["names"][0] / res["names"][1]
    precision = res["right"] / res["found"]
    print(f"PII test set: {res['rows']} sentences; structured recall {res['structured'][0]}/{res['structured'][1]} "
          f"= {s_rec:.1%}; names recall {res['names'][0]}/{res['names'][1]} = {n_rec:.1%}; span precision "
          f"{res['right']}/{res['found']} = {precision:.1%}; leaked: {res['leaks']}")
    assert res["structured"][1] >= 40 and res["names"][1] >= 30
    assert s_rec >= 0.98
    assert n_rec >= 0.90
    assert precision >= 0.85


@pytest.mark.parametrize("text, leaked", [
    ("Merci à Sandrine et Karim", ("Sandrine", "Karim")),
    ("DUPONT Marie au guichet", ("DUPONT", "Marie")),
    ("iban fr76 3000 6000 0112 3456 7890 189", ("fr76", "0112")),
    ("écrire à jeanne (at) exemple.fr", ("jeanne", "exemple")),
    ("sécu 1 85 05 78 006 084 36", ("006 084",)),
    ("au 12 rue de la Paix, 75002 Paris", ("Paix", "75002")),
])
def test_the_leaks_named_in_the_issue_are_masked(text, leaked):
    out = mask_pii(text)
    for w in leaked:
        assert w not in out


def test_ordinary_words_survive():
    text = "Une réponse claire, petit bureau de Lyon Part-Dieu, 15 € le recommandé, ouvert à 8h30."
    assert mask_pii(text) == text


def test_topic_labels_go_through_the_same_masking():
    assert mask_label("sandrine · rappeler · dupont") == "[nom] · rappeler · [nom]"
    assert mask_label("attente · guichet · heures") == "attente · guichet · heures"
    frame = pd.DataFrame({"label_a": ["karim · colis"], "other": ["karim"]})
    out = mask_labels(frame, ("label_a",))
    assert out["label_a"].iloc[0] == "[nom] · colis" and out["other"].iloc[0] == "karim"


def test_user_given_names_are_masked(tmp_path):
    p = PrivacyConfig(names=("Zébulon Trifouillis",))
    assert mask_pii("Vu avec zébulon trifouillis hier", p) == "Vu avec [nom] hier"
    assert mask_label("trifouillis · colis", p) == "[nom] · colis"
    f = tmp_path / "noms.txt"
    f.write_text("# équipe\nQuasimodo\n", encoding="utf-8")
    assert "Quasimodo" not in mask_pii("Demandez à Quasimodo", PrivacyConfig(names_file=str(f)))
    with pytest.raises(ConfigError, match="names_file .* cannot be read"):
        mask_pii("x", PrivacyConfig(names_file=str(tmp_path / "absent.txt")))


# -- anonymity ------------------------------------------------------------------------------------------------
def _people(n_emp_a=12, n_emp_b=3):
    rows = []
    for unit, n in (("A", n_emp_a), ("B", n_emp_b)):
        for i in range(n):
            rows.append({"id": f"e{unit}{i}:pros", "record_id": f"e{unit}{i}", "source": "employee", "unit": unit})
            rows.append({"id": f"e{unit}{i}:cons", "record_id": f"e{unit}{i}", "source": "employee", "unit": unit})
        rows += [{"id": f"c{unit}{i}", "record_id": f"c{unit}{i}", "source": "customer", "unit": unit} for i in range(2)]
    return pd.DataFrame(rows)


def test_groups_count_distinct_respondents_not_rows():
    df = _people(n_emp_a=6, n_emp_b=3)        # A: 6 respondents, 12 rows
    ok = shown_allowed(df, PrivacyConfig(anonymity_threshold=6))
    assert ok[(df["unit"] == "A")].all()
    assert not ok[(df["unit"] == "B") & (df["source"] == "employee")].any()
    assert ok[df["source"] == "customer"].all()          # customers are not a protected source
    assert not shown_allowed(df, PrivacyConfig(anonymity_threshold=7))[df["source"] == "employee"].any()


def test_groups_are_counted_on_the_population_not_on_the_candidates():
    df = _people(n_emp_a=12)
    cand = df[df["unit"] == "A"].head(2)                 # two rows of a 12-person unit
    assert shown_allowed(cand, PrivacyConfig(), population=df).all()
    assert not shown_allowed(cand.iloc[[0]], PrivacyConfig()).any()


def test_report_examples_are_guarded_whatever_pair_and_by():
    """A 3-person unit's comments reach no report, with --pair employee:customer, --by none or a misspelt --by."""
    from verbatim.mirror.report import examples

    df = _people(n_emp_a=12, n_emp_b=3)
    df["topic"] = 0
    df["text"] = [f"texte {i} de {u}" for i, u in enumerate(df["unit"])]
    df["topic_similarity"] = np.where(df["unit"] == "B", 0.99, 0.5)     # B's comments are the most typical
    for pair, by in ((("employee", "customer"), None), (("customer", "employee"), None),
                     (("employee", "customer"), "units"), (("customer", "employee"), "channel")):
        m = SimpleNamespace(segments_=df, irritant_=np.ones(len(df), bool), by_=by,
                            config_=MirrorConfig(pair=pair, by=by))
        shown = examples(m, "employee", 0, n=50)
        assert shown and not any(t.endswith("de B") for t in shown)
    # the threshold of [privacy] in a TOML takes effect: 12 respondents are not enough for 13
    m = SimpleNamespace(segments_=df, irritant_=np.ones(len(df), bool), by_=None, config_=MirrorConfig())
    assert examples(m, "employee", 0, privacy=PrivacyConfig(anonymity_threshold=13)) == []
    assert examples(m, "customer", 0, privacy=PrivacyConfig(anonymity_threshold=13))   # customers unprotected


def test_privacy_section_from_toml_and_the_moved_mirror_setting(tmp_path):
    toml = tmp_path / "v.toml"
    toml.write_text('[privacy]\nanonymity_threshold = 15\nprotected_sources = ["employee", "manager"]\n'
                    'group_by = ["unit"]\nnames = ["Trifouillis"]\n', encoding="utf-8")
    cfg = load_config(toml)
    assert cfg.privacy == PrivacyConfig(("employee", "manager"), 15, ("unit",), ("Trifouillis",))
    # the old place still arrives (saved artefacts), and two different values are refused
    assert from_dict({"mirror": {"anonymity_threshold": 12}}).privacy.anonymity_threshold == 12
    with pytest.raises(ConfigError, match="now privacy.anonymity_threshold"):
        from_dict({"mirror": {"anonymity_threshold": 12}, "privacy": {"anonymity_threshold": 10}})
    with pytest.raises(ConfigError, match="at least 5"):
        from_dict({"privacy": {"anonymity_threshold": 3}})
    with pytest.raises(ConfigError, match=r"\[privacy\] has an unknown key 'treshold'"):
        from_dict({"privacy": {"treshold": 3}})


def test_topic_labels_are_masked_in_the_mirror_csv_report_and_stdout(tmp_path):
    from test_mirror import FAST, _synthetic

    from verbatim.config import Config
    from verbatim.mirror.run import run_mirror

    seg, emb, topics = _synthetic(linked=True, units=12, months=3)
    topics["label"] = [f"sandrine · dupont · thème {t}" for t in topics["topic"]]
    pipe = SimpleNamespace(segments_=seg, embeddings_=emb, topics_=topics, config=Config())
    res = run_mirror(tmp_path, tmp_path / "report", MirrorConfig(**FAST), pipeline=pipe, store=False)
    for path in (res["csv"], res["html"]):
        text = Path(path).read_text(encoding="utf-8").lower()
        assert "sandrine" not in text and "dupont" not in text and "[nom]" in text
    assert not res["shown"]["label_a"].str.contains("sandrine").any()
    assert res["pairs"]["label_a"].str.contains("sandrine").any()     # the stored table keeps the raw labels
