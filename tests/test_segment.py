import pandas as pd
import pytest

from verbatim.config import SegmentConfig
from verbatim.segment import segment, split_text


@pytest.mark.parametrize("text, expected", [
    ("prix corrects mais attente interminable au guichet", ["prix corrects", "mais attente interminable au guichet"]),
    ("Accueil sympa. Par contre 40 min d'attente !! Colis jamais arrivé.",
     ["Accueil sympa.", "Par contre 40 min d'attente !!", "Colis jamais arrivé."]),
    ("Good staff but the pay is low; management is bad", ["Good staff", "but the pay is low", "management is bad"]),
    ("M. Dupont est top. Merci.", ["M. Dupont est top. Merci."]),  # no split after "M." ; "Merci." too short
    ("Bonne équipe, cependant les plannings changent sans cesse",
     ["Bonne équipe", "cependant les plannings changent sans cesse"]),
    ("ok", ["ok"]),
    ("ligne 1\nligne deux ici", ["ligne 1", "ligne deux ici"]),
])
def test_clause_split(text, expected):
    assert split_text(text) == expected


def test_modes():
    t = "Accueil agréable. Colis perdu mais remboursé."
    assert split_text(t, SegmentConfig(mode="off")) == [t]
    assert split_text(t, SegmentConfig(mode="sentence")) == ["Accueil agréable.", "Colis perdu mais remboursé."]
    assert split_text(t, SegmentConfig(mode="clause")) == ["Accueil agréable.", "Colis perdu", "mais remboursé."]


def test_long_piece_is_cut():
    t = "mot " * 600
    parts = split_text(t, SegmentConfig(max_chars=200))
    assert all(len(p) <= 200 for p in parts) and len(parts) > 5


def test_segments_keep_ids_and_columns():
    v = pd.DataFrame({"id": ["a", "b", "c"], "source": ["customer", "employee", "customer"],
                      "unit": ["u1", "u2", "u1"], "score": [1.0, 4.0, None],
                      "text": ["prix corrects mais attente interminable", "RAS", "Super accueil. Rapide et efficace."]})
    s = segment(v)
    assert list(s["id"].unique()) == ["a", "b", "c"]
    assert s.groupby("id").size().to_dict() == {"a": 2, "b": 1, "c": 2}
    assert s["segment_id"].is_unique
    assert (s.loc[s["id"] == "a", "unit"] == "u1").all()
    assert s.loc[s["id"] == "a", "n_segments"].tolist() == [2, 2]
    # nothing lost: the segments of a verbatim hold all its words
    for vid, text in zip(v["id"], v["text"]):
        joined = " ".join(s.loc[s["id"] == vid, "text"]).replace(" ", "")
        assert joined == text.replace(" ", "")
