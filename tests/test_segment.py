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


@pytest.mark.parametrize("text, expected", [
    # a judgement with no subject joins the piece it judges, before or after it
    ("Attente de 40 minutes au guichet. C'est de pire en pire.",
     ["Attente de 40 minutes au guichet. C'est de pire en pire."]),
    ("Ras le bol. Le colis n'est jamais arrivé.", ["Ras le bol. Le colis n'est jamais arrivé."]),
    ("Colis perdu, mais franchement lamentable !", ["Colis perdu, mais franchement lamentable !"]),
    # one subject word is enough to stand alone, however short
    ("Accueil sympa mais trop cher", ["Accueil sympa", "mais trop cher"]),
    ("Dossier envoyé. Pas de suivi.", ["Dossier envoyé.", "Pas de suivi."]),
    # a verbatim that is only a judgement stays whole
    ("Nul. Vraiment déçu.", ["Nul. Vraiment déçu."]),
])
def test_pieces_that_name_no_subject_join_their_neighbour(text, expected):
    assert split_text(text) == expected


def test_merging_content_free_pieces_can_be_switched_off():
    t = "Attente de 40 minutes au guichet. C'est de pire en pire."
    assert split_text(t, SegmentConfig(merge_content_free=False)) == [
        "Attente de 40 minutes au guichet.", "C'est de pire en pire."]
