"""The encoder's input: formulas and form go, meaning stays; the stored text is never changed."""
import pytest

from verbatim.config import EmbedConfig
from verbatim.textprep import encoder_input, is_content_free, prepare


@pytest.mark.parametrize("text, expected", [
    ("Bonjour, trop d'attente !!!", "trop d'attente !"),
    ("ENCORE ET TOUJOURS : 3 DÉPARTS NON REMPLACÉS", "3 départs non remplacés"),
    ("Madame, Monsieur, colis perdu. Cordialement.", "colis perdu"),
    ("Rien ne change : pas de renfort l'été 🙄", "pas de renfort l'été"),
    ("Franchement, top 👍", "top"),
    ("Bonjour madame, colis perdu", "colis perdu"),
    ("Bon, le guichet est fermé", "le guichet est fermé"),
])
def test_formulas_case_and_emphasis_go(text, expected):
    assert prepare(text) == expected


@pytest.mark.parametrize("text", ["Bon accueil au guichet", "Alors que le bureau est ouvert", "Voilà un bon service"])
def test_words_that_carry_meaning_stay_without_punctuation(text):
    assert prepare(text) == text.casefold()


def test_a_segment_that_is_only_a_formula_is_not_emptied():
    assert prepare("Bonjour.") == "bonjour."
    assert prepare("Cordialement") == "cordialement"


def test_the_setting_takes_effect():
    texts = ["Bonjour, COLIS PERDU"]
    assert encoder_input(texts, EmbedConfig()) == ["colis perdu"]
    assert encoder_input(texts, EmbedConfig(prepare=False)) == texts


@pytest.mark.parametrize("text", ["Ras le bol.", "C'est de pire en pire.", "Nul !", "Faites quelque chose svp.",
                                  "Je recommande.", "Très déçue", "Worst ever!", "I highly recommend.", "Merci à eux."])
def test_judgements_with_no_subject_are_content_free(text):
    assert is_content_free(text)


@pytest.mark.parametrize("text", ["trop cher", "Pas de suivi.", "Le tarif est différent.", "Attente interminable",
                                  "je dois revenir 3 fois", "Colis perdu, lamentable", "Staff were rude"])
def test_a_single_subject_word_makes_a_piece_contentful(text):
    assert not is_content_free(text)
