#!/usr/bin/env python3
"""Generate the synthetic sample corpora shipped in ``data/raw/sample/``.

Usage::

    python3 scripts/make_sample.py            # writes data/raw/sample/*
    python3 scripts/make_sample.py --out DIR  # writes somewhere else
    python3 scripts/make_sample.py --out DIR --seed 7 --units 40 --no-mirrors
        # another draw, another network size, or a null sample (no planted linkage)
    python3 scripts/make_sample.py --out DIR --seed 7 --no-mirrors --shuffled-order
        # texts composed in a random order, not office by office (see SHUFFLED_ORDER)

Everything is produced from a fixed seed (20251123) with the Python standard
library only, and never depends on the current date, hash randomisation or
set iteration order: two runs give byte-identical files.

The data describe a fictional network of 40 French post offices ("bureaux de
poste") over January-December 2025 (``--units`` changes it):

* ``clients.csv``   customer comments with a 1-5 satisfaction note;
* ``postiers.csv``  employee barometer with a 0-10 eNPS-style note and two
                    free-text fields (what goes well / what irritates);
* ``labels.csv``    the themes and polarity planted in every non-empty text;
* ``ground_truth.json`` the latent unit strengths, the generating
                    probabilities, the planted mirror pairs, the realised
                    correlations, the empty-comment refs and the PII refs;
* ``README.md``     a short bilingual description.

Texts are built by a compositional grammar (templates x slot fillers x
connectors x openers/closers x noise: typos, dropped accents, SMS
abbreviations, capitals, emojis, a few English words).  No two texts are
equal after normalisation (lowercase, accents stripped, punctuation and
whitespace collapsed): collisions are regenerated and the property is
asserted on the written files.

All texts, names, e-mails, phone numbers and the IBAN are invented by the
project; the data are synthetic and free to ship.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import unicodedata
from datetime import date
from pathlib import Path

SEED = 20251123
MIRRORS = True  # --no-mirrors: a null sample
# --shuffled-order: compose the respondents' texts in a random order rather than office by office. Texts
# must be unique, so the later a text is composed the more clauses it tends to get; office by office, the
# last offices get longer texts on BOTH sides (segments per respondent vs office order: Spearman +0.33
# customers, +0.53 employees over 10 null samples, benchmarks/bench_sample_order.py), every topic's rate
# rises with the office's place in the loop on both sides, and a null sample is not quite null. Off by
# default: the shipped sample stays byte-identical.
SHUFFLED_ORDER = False
LATENT_EMPLOYEE: dict = {}
YEAR = 2025
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "data" / "raw" / "sample"

N_CUSTOMER_ROWS = 12000
N_EMPLOYEE_ROWS = 6000
N_UNITS = 40  # the shipped network: 16 named offices and 24 more (a power analysis showed 16 too few)
N_EMPTY_CUSTOMER = 15

MONTHS_FR = [
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet",
    "août", "septembre", "octobre", "novembre", "décembre",
]
DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]  # 2025
SEASON_CUSTOMER = [1.0, 0.9, 0.95, 0.95, 1.0, 1.0, 1.05, 0.8, 1.0, 1.05, 1.1, 1.3]
SEASON_EMPLOYEE = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 1.0, 1.1, 1.1, 1.0]

# (name, volume weight): the biggest bureau has 3x the volume of the smallest.
UNITS = [
    ("Lyon Part-Dieu", 3.0),
    ("Marseille Canebière", 2.6),
    ("Toulouse Capitole", 2.3),
    ("Lille Vauban", 2.0),
    ("Nantes Commerce", 1.8),
    ("Bordeaux Mériadeck", 1.7),
    ("Roubaix Centre", 1.5),
    ("Grenoble Chavant", 1.4),
    ("Rennes Colombier", 1.3),
    ("Saint-Étienne Jacquard", 1.2),
    ("Nîmes Arènes", 1.1),
    ("Besançon Chamars", 1.1),
    ("Quimper Gare", 1.0),
    ("Limoges Bénédictins", 1.0),
    ("Périgueux Clautre", 1.0),
    ("Aurillac Centre", 1.0),
]

# ---------------------------------------------------------------------------
# Generating constants (documented in ground_truth.json)
# ---------------------------------------------------------------------------
CONST = {
    # pair 1 (strong): employee A' leads customer A by one month
    "s1_base_range": [0.05, 0.90],
    "s1_crisis_len_range": [2, 3],
    "s1_crisis_amp_range": [0.25, 0.45],
    "s1_month_noise_sd": 0.25,
    "empA_base": 0.06, "empA_k": 0.55,
    "custA_base": 0.05, "custA_k": 0.42,
    # pair 2 (medium): same month
    "s2_base_range": [0.05, 0.85],
    "s2_month_noise_sd": 0.15,
    "empB_base": 0.06, "empB_k": 0.32,
    "custB_base": 0.07, "custB_k": 0.22,
    # pair 3 (topic only): independent per-unit constant rates
    "custC_rate_range": [0.06, 0.16],
    "empC_rate_range": [0.06, 0.18],
    # one-sided themes (constant probabilities)
    "custD_p": 0.10, "custE_p": 0.10, "custG_p": 0.08, "custF_p": 0.33,
    "empH_p": 0.20, "empI_p": 0.11, "empJ_p": 0.10,
    # employee L (incivilités) follows the customer A probability, same month
    "empL_base": 0.02, "empL_k": 0.45,
    # employee row shape
    "p_irrite_empty_if_no_theme": 0.55,
    "p_va_bien_present": 0.72,
    "p_va_bien_mixed": 0.06,
    "p_irrite_mixed": 0.08,
}

# ---------------------------------------------------------------------------
# Grammar: slot fillers
# ---------------------------------------------------------------------------
SLOTS: dict[str, list[str]] = {
    # --- customers: A (attente) ---
    "duree": ["40 min", "45 minutes", "une heure", "1h", "3/4 d'heure", "plus de 30 minutes",
              "20 bonnes minutes", "presque une heure", "1h15", "35 min", "25 min",
              "50 minutes", "plus d'une heure", "30 mn", "1 h 10", "une demi-heure", "55 min"],
    "moment": ["le samedi matin", "entre midi et deux", "à l'heure du déjeuner", "en fin de journée",
               "un lundi matin", "ce matin", "à l'ouverture", "la semaine avant Noël",
               "pendant les vacances scolaires", "un mardi après-midi", "hier", "aujourd'hui",
               "en début de mois", "le jour des retraites", "vendredi soir"],
    "operation": ["retirer un colis", "envoyer un recommandé", "un simple retrait d'argent",
                  "déposer deux colis", "acheter un carnet de timbres", "faire une procuration",
                  "retirer une lettre recommandée", "envoyer un colis à l'étranger",
                  "poser une simple question", "récupérer un colis en instance",
                  "faire un dépôt sur mon livret", "affranchir une lettre"],
    "nguichet": ["un seul guichet ouvert", "un guichet sur quatre ouvert", "2 guichets ouverts sur 5",
                 "une seule personne au guichet", "un seul agent pour tout le monde",
                 "un guichet ouvert et trois fermés"],
    "nfile": ["15 personnes", "une vingtaine de personnes", "30 personnes", "toute une file",
              "la moitié du quartier", "une dizaine de clients"],
    "reactA": ["j'ai fini par partir", "je suis ressortie sans avoir été servie", "pas normal",
               "c'est devenu la norme", "inadmissible", "personne ne s'en excuse",
               "les gens s'énervent", "j'ai perdu ma pause déjeuner",
               "ma mère de 85 ans est restée debout", "j'ai dû repasser le lendemain"],
    "obsA": ["des agents discutent derrière", "il y a cinq guichets",
             "il y a du personnel dans l'arrière-boutique", "deux employés rangent des cartons",
             "l'écran annonce 5 minutes d'attente"],
    "num": ["47", "112", "A23", "B08", "86", "31"],
    # --- customers: B (colis) ---
    "avis": ["un avis de passage", "le petit papier jaune", "un avis sans même monter",
             "un avis dans la boîte"],
    "statut": ["en cours d'acheminement", "pris en charge par La Poste", "en attente de distribution",
               "votre colis est en cours de traitement", "retard d'acheminement", "livraison reportée"],
    "jours": ["10 jours", "deux semaines", "3 semaines", "un mois", "8 jours", "le 12",
              "lundi dernier", "plus de 15 jours"],
    "objet": ["de Vinted", "contenant des médicaments", "envoyé par ma fille", "commandé il y a 3 semaines",
              "avec les cadeaux de Noël", "Colissimo", "venant d'Allemagne",
              "pour l'anniversaire de mon fils", "avec une pièce de rechange"],
    "suiteB": ["personne ne sait où il est", "aucune explication", "on me dit d'attendre encore",
               "l'expéditeur me renvoie vers La Poste",
               "au bureau on me dit que ce n'est pas leur problème", "sans aucune nouvelle",
               "le vendeur refuse de me rembourser"],
    "presence": ["j'étais en télétravail toute la journée", "il y avait quelqu'un à la maison",
                 "j'attendais justement le livreur", "ma femme était là",
                 "l'interphone fonctionne très bien"],
    "ncolis": ["2", "deux", "trois", "3"],
    "periode": ["un mois", "deux mois", "six mois", "cette année", "peu de temps"],
    "lieuB": ["au centre de tri", "à la plateforme", "en agence", "quelque part entre Paris et ici"],
    "jourL": ["mardi", "hier", "samedi", "le 14", "la semaine dernière"],
    # --- customers: C (horaires) ---
    "consC": ["impossible d'y aller quand on travaille", "il faut aller au bureau de la ville d'à côté",
              "on a fait 20 km pour rien", "et le point relais est saturé", "pas pratique du tout",
              "les actifs ne peuvent plus venir", "c'est le service public qui disparaît"],
    "heure": ["16h", "15h30", "11h45", "17h", "midi", "14h"],
    "heure2": ["18h", "17h30", "12h30", "18h30", "19h"],
    "jourC": ["lundi", "tout le mois d'août", "deux jours de suite", "mercredi après-midi",
              "le samedi", "pendant une semaine"],
    # --- customers: D (tarifs) ---
    "adjD": ["qui augmente encore", "scandaleux", "hors de prix", "qui a encore pris 10 centimes",
             "à 1,39 € pour une lettre verte", "inabordable pour les petites retraites"],
    "prix": ["7,50 €", "plus de 7 euros", "9,90€", "15 €", "5,36 €", "presque 8 €", "12 euros"],
    "serviceD": ["réexpédition du courrier", "procuration", "garde du courrier", "tenue de compte",
                 "dossier", "changement d'adresse"],
    "consD": ["je passe par un concurrent maintenant", "les particuliers paient pour tout",
              "on se demande où va l'argent", "j'envoie tout en point relais privé",
              "pour un service de moins en moins bon"],
    # --- customers: E (appli, site, automates) ---
    "pbE": ["plante dès qu'on veut suivre un colis", "ne reconnaît pas le numéro de suivi",
            "bug en permanence", "affiche des infos fausses", "ne marche plus depuis la mise à jour",
            "rame à mort", "me déconnecte toutes les 2 minutes"],
    "pbAut": ["en panne depuis des semaines", "hors service une fois sur deux",
              "n'accepte pas la carte bancaire", "ne rend pas la monnaie", "refuse les billets",
              "affiche une erreur à chaque pesée"],
    "pbAut2": ["en panne", "hors service", "bloquée", "encore HS"],
    "pbSite": ["le paiement échoue à chaque fois", "message d'erreur en boucle", "aucune info à jour",
               "on tourne en rond entre les pages", "le formulaire se vide tout seul"],
    # --- customers: F (positifs) ---
    "adjF": ["aimable", "souriant", "chaleureux", "très agréable", "au top", "impeccable",
             "agréable et professionnel", "très sympathique", "parfait"],
    "adjF2": ["merci", "bravo à l'équipe", "on se sent écouté", "ça fait plaisir", "continuez comme ça"],
    "agentF": ["la conseillère", "le guichetier", "la dame de l'accueil", "le jeune homme au guichet",
               "la conseillère bancaire", "l'agent d'accueil", "la responsable du bureau",
               "la guichetière"],
    "agentF2": ["la conseillère", "l'agent au guichet", "la dame de l'accueil", "toute l'équipe",
                "la guichetière", "la postière"],
    "qualF": ["très compétente", "de très bon conseil", "patient avec ma mère", "efficace et souriant",
              "qui a pris le temps de m'expliquer", "vraiment serviable", "aux petits soins",
              "qui connaît son métier"],
    "ctxF": ["pour ma procuration", "pour mon dossier de prêt", "pour un colis à l'international",
             "pour ouvrir un livret", "pour ma réclamation", "pour choisir le bon emballage",
             "pour le changement d'adresse"],
    "dureeCourte": ["5 minutes", "2 min", "moins de 10 minutes", "un quart d'heure à peine", "3 mn"],
    # --- customers: G (réclamations) ---
    "dureeLong": ["un mois", "6 semaines", "3 mois", "plus de deux mois", "15 jours", "presque 4 mois"],
    "pbG": ["on tombe sur un robot", "personne ne répond", "on raccroche au nez",
            "20 minutes de musique puis coupure", "renvoyé de service en service",
            "le chat en ligne ne comprend rien"],
    "nrec": ["3", "trois", "deux", "4", "plusieurs"],
    "repG": ["que des réponses automatiques", "dossier clôturé sans solution", "aucune réponse",
             "on me demande les mêmes justificatifs à chaque fois",
             "toujours « en cours de traitement »", "silence radio"],
    "pbG3631": ["ne sert à rien", "sonne dans le vide", "vous balade de menu en menu",
                "coupe au bout de 15 minutes"],
    "pbG2": ["plante à la validation", "ne propose pas mon cas", "limite à 500 caractères"],
    # --- employees: A' (sous-effectif) ---
    "nA": ["2 au lieu de 4", "deux au lieu de quatre", "3 au lieu de 5", "trois au lieu de six",
           "4 au lieu de 7", "5 au lieu de 8"],
    "ctxA1": ["", " depuis la rentrée", " tout l'été", " le samedi", " depuis des mois",
              " sur le secteur", " en plein rush de Noël"],
    "consA1": ["on fait le boulot de deux", "c'est toujours les mêmes qui trinquent",
               "le guichet reste fermé", "on n'a plus le temps de bien faire",
               "les heures sup s'accumulent", "impossible de prendre une pause",
               "les collègues craquent", "on court toute la journée"],
    "periodeA1": ["pendant les congés", "en période de fêtes", "l'été", "même en décembre",
                  "quand il y a des arrêts maladie"],
    "ndep": ["3", "deux", "4", "trois", "5"],
    "periodeA2": ["le début de l'année", "deux ans", "l'an dernier", "septembre", "la réorganisation"],
    "freqA1": ["chronique", "tous les jours", "depuis des mois", "en permanence", "surtout le samedi"],
    # --- employees: B' (outils) ---
    "pbB1": ["plante en pleine tournée", "ne charge plus", "a une batterie qui lâche à 11h",
             "redémarre tout seul", "met 5 minutes à s'allumer", "perd la connexion sans arrêt",
             "bugue une fois sur deux", "ne lit plus les codes-barres"],
    "freqB1": ["une semaine sur deux", "depuis des mois", "tous les matins", "sans arrêt",
               "depuis la mise à jour"],
    "freqB1b": ["tous les jours", "en pleine distribution", "à chaque mise à jour", "dès qu'il pleut",
                "au moment de valider"],
    "consB1": ["on doit tout saisir à la main", "les colis partent sans être scannés",
               "on se fait reprocher des colis non flashés", "le client croit qu'on n'est pas passé",
               "on perd un temps fou", "les colis apparaissent comme perdus dans le suivi"],
    "lieuB1": ["dans les zones rurales", "dans les sous-sols des résidences", "au centre de tri",
               "sur la moitié de la tournée", "dans les halls d'immeuble"],
    "etatB1": ["obsolètes", "pas assez nombreux pour toute l'équipe", "en panne plus souvent qu'à leur tour",
               "jamais réparés", "qui datent d'une autre époque"],
    "pbB2": ["tombe en panne tous les jours", "est HS depuis trois semaines",
             "n'a jamais fonctionné correctement", "se bloque en plein rush"],
    # --- employees: C' (plannings) ---
    "ctxC1": ["", " sans prévenir", " par SMS le dimanche soir", " chaque semaine", " pour boucher les trous"],
    "consC1": ["c'est nous qui prenons les remarques des clients", "personne ne nous demande notre avis",
               "on l'apprend en même temps que les usagers", "les clients trouvent porte close",
               "aucune explication de la direction"],
    "freqC1": ["chaque semaine", "tous les mois", "sans arrêt", "à la dernière minute",
               "deux fois ce trimestre"],
    # --- employees: H (management) ---
    "ctxH": ["de la hiérarchie", "du travail fourni", "malgré les efforts", "de la part de la direction",
             "même après les fêtes"],
    "qualH": ["absent", "qui ne connaît pas le terrain", "qui ne regarde que les chiffres",
              "qui change tous les six mois", "jamais disponible", "qui infantilise l'équipe"],
    "qualPrime": ["ridicules", "supprimées sans explication", "en baisse alors qu'on fait plus",
                  "distribuées à la tête du client", "jamais expliquées"],
    "ctxH2": ["", " intenable", " même au guichet", " chaque matin au brief"],
    "consH": ["jamais de l'humain", "on se sent comme des pions", "aucune écoute",
              "ça démotive tout le monde"],
    "qualH2": ["ne descend jamais sur le terrain", "ne défend pas l'équipe", "est injoignable",
               "ne répond jamais aux mails"],
    "qualObj": ["sont irréalistes", "passent avant le service", "augmentent tous les trimestres"],
    # --- employees: I (locaux) ---
    "qualV": ["vétustes", "trop petits", "sans douche", "mixtes faute de place", "qui sentent l'humidité",
              "sans casiers qui ferment"],
    "lieuI": ["dans la salle de tri", "derrière le guichet", "dans le bureau de l'arrière",
              "au quai de chargement", "en cabine"],
    "qualP": ["trop petit", "devenu payant", "sans éclairage le matin", "partagé avec les clients",
              "inexistant"],
    "qualT": ["en panne depuis des semaines", "pas nettoyées", "partagées avec tout l'étage"],
    "consI": ["on se croirait dans les années 80", "personne ne fait les travaux",
              "ça ne donne pas envie de venir", "demande faite depuis deux ans"],
    "lieuI2": ["dans la salle de tri", "au-dessus des casiers", "quand il pleut", "dans le vestiaire"],
    "pbI": ["est bloquée depuis un mois", "ne ferme plus", "laisse passer le froid"],
    # --- employees: J (formation) ---
    "surJ": ["sur les nouveaux produits bancaires", "sur les nouvelles offres", "pour les nouveaux arrivants",
             "sur la réglementation", "sur les services à domicile", "sur le logiciel de caisse"],
    "surJ2": ["la prise de poste", "les nouveaux services", "la partie conseil", "les procédures de sécurité"],
    "consJ": ["on bricole", "et on se fait reprendre après", "personne n'a le temps de nous montrer",
              "c'est la débrouille"],
    # --- employees: K (positifs) ---
    "ctxK": ["", " quand ça chauffe", " malgré tout", " même dans les moments durs", " au quotidien"],
    "ctxK2": ["aider les personnes âgées", "rendre service aux gens", "être utile au quartier", "le lien social"],
    "qualK": ["est à l'écoute", "est présent et juste", "nous soutient", "se bat pour nous"],
    "ctxK3": ["", " qui nous remercient", " fidèles", ", les habitués"],
    "avantK": ["tickets resto", "avantages du comité d'entreprise", "congés corrects", "la mutuelle"],
    "qualK2": ["on bouge", "pas de bureau", "on voit du monde"],
    # --- employees: L (incivilités) ---
    "ctxL": ["quand la file s'allonge", "de plus en plus fréquentes", "en hausse", "le samedi matin",
             "aux heures de pointe"],
    "dureeL": ["10 minutes", "20 min", "un quart d'heure", "5 min"],
    "consL": ["on prend pour tout le monde", "un client a tapé sur la vitre la semaine dernière",
              "personne ne nous soutient", "certains collègues ont peur", "on encaisse"],
    "ctxL2": ["", " pour la moindre attente", " quand la file s'allonge", " depuis des mois"],
}

# ---------------------------------------------------------------------------
# Grammar: fragment templates per theme, and follow-up sentences
# ---------------------------------------------------------------------------
FRAGMENTS: dict[str, list[str]] = {
    "A": [
        "{duree} d'attente au guichet", "trop d'attente", "attente interminable {moment}",
        "{nguichet} pour {nfile} dans la file", "j'ai attendu {duree} pour {operation}",
        "{duree} de queue pour {operation}, {reactA}",
        "la file d'attente déborde jusque sur le trottoir {moment}",
        "{nguichet} {moment}, évidemment ça bouchonne", "toujours autant d'attente, {nguichet}",
        "impossible de passer {moment} sans {duree} de queue", "pourquoi {nguichet} {moment} ???",
        "on fait la queue {duree} alors que {obsA}", "attente beaucoup trop longue, {reactA}",
        "le temps d'attente est devenu insupportable", "file d'attente énorme et {nguichet}",
        "{duree} d'attente pour {operation}, c'est n'importe quoi",
        "ticket numéro {num}, {duree} plus tard toujours pas appelé",
        "attendu {duree} debout, aucune chaise", "queue monstre {moment}",
        "waiting time horrible, {duree} au guichet", "l'attente au guichet est une honte",
        "il faut prévoir {duree} pour {operation}",
    ],
    "B": [
        "colis jamais arrivé", "colis jamais reçu",
        "avis de passage déposé alors que j'étais chez moi, le facteur n'a même pas sonné",
        "le facteur ne sonne jamais, il laisse directement {avis}",
        "le suivi indique « {statut} » depuis {jours}", "mon colis {objet} a été perdu, {suiteB}",
        "colis retourné à l'expéditeur sans que je sois prévenu",
        "colis retourné à l'expéditeur alors que {presence}",
        "on m'a mis {avis} {moment} alors que {presence}", "{ncolis} colis perdus en {periode}",
        "le suivi colis ne bouge plus depuis {jours}", "colis marqué comme livré mais je n'ai rien reçu",
        "colis déclaré distribué alors que personne n'est passé", "paquet arrivé ouvert et à moitié vide",
        "mon colis {objet} est bloqué {lieuB} depuis {jours}", "encore {avis} sans passage du facteur",
        "livraison annoncée pour {jourL}, jamais venue", "parcel lost, {suiteB}",
        "colis perdu, {suiteB}", "suivi bloqué sur « {statut} », {suiteB}",
    ],
    "C": [
        "bureau fermé sans prévenir {moment}", "horaires réduits, {consC}",
        "porte close à {heure} alors que l'affichage indique {heure2}",
        "fermeture exceptionnelle affichée sur la porte le jour même",
        "le bureau ferme maintenant à {heure}, {consC}", "encore fermé pour \"raisons de service\"",
        "fermé {jourC} sans aucune info sur internet",
        "les horaires sur le site ne correspondent pas à la réalité",
        "ouvert seulement le matin désormais, {consC}", "on trouve porte close une fois sur deux",
        "les horaires changent tout le temps, on ne sait jamais quand c'est ouvert",
        "fermé le samedi après-midi maintenant, {consC}", "bureau closed {jourC}, {consC}",
        "fermé {jourC} alors que c'était indiqué ouvert",
    ],
    "D": [
        "prix du timbre {adjD}", "lettre recommandée trop chère ({prix})",
        "{prix} pour envoyer un petit colis, c'est du vol",
        "les tarifs augmentent chaque année et le service baisse", "frais de {serviceD} abusifs",
        "{prix} le recommandé avec accusé de réception, sérieusement ?",
        "le timbre vert à ce prix-là pour que la lettre arrive en 3 jours...", "trop cher",
        "les prix des envois à l'étranger sont devenus délirants",
        "hausse des tarifs encore cette année, {consD}", "tarifs colis pas compétitifs, {consD}",
        "too expensive, {consD}", "{prix} les frais de {serviceD}, {consD}",
    ],
    "E": [
        "l'appli {pbE}", "l'automate {pbAut}", "site de suivi inutile, {pbSite}",
        "impossible d'imprimer l'étiquette sur le site", "la machine à affranchir est {pbAut2}",
        "le site La Poste : {pbSite}", "application de suivi qui {pbE}",
        "l'appli demande de se reconnecter à chaque fois",
        "pas moyen de payer en ligne, {pbSite}",
        "le numéro de suivi n'est jamais reconnu par l'appli", "l'automate de retrait {pbAut}",
        "app useless, elle {pbE}", "la borne d'affranchissement est {pbAut2}",
    ],
    "F": [
        "accueil {adjF}", "{agentF} {qualF}", "rapide et efficace", "servi en {dureeCourte}, rien à dire",
        "merci à {agentF2} pour son aide {ctxF}", "bureau propre et bien organisé", "prix corrects",
        "l'appli est pratique pour suivre mes envois", "{agentF} m'a très bien conseillé {ctxF}",
        "personnel {adjF}", "pas d'attente {moment}, parfait",
        "facteur très sympa, toujours un mot gentil", "très bon service", "super accueil, {adjF2}",
        "nickel", "top service", "conseillère très pro {ctxF}", "rien à redire, {adjF2}",
        "équipe au top, {adjF2}", "very nice staff", "accueil {adjF} et {agentF} {qualF}",
    ],
    "G": [
        "réclamation déposée il y a {dureeLong}, toujours aucune réponse",
        "service client injoignable, {pbG}", "j'ai fait {nrec} réclamations en ligne, {repG}",
        "le 3631 {pbG3631}", "indemnisation refusée sans explication",
        "dossier de réclamation clôturé sans solution",
        "on m'a promis un rappel il y a {dureeLong}, jamais eu de nouvelles",
        "personne ne traite les réclamations, {repG}", "réclamation : {repG}",
        "impossible de joindre quelqu'un, {pbG}", "le formulaire de réclamation {pbG2}",
        "réponse type à ma réclamation, aucune considération", "customer service inexistant, {repG}",
    ],
    "A'": [
        "sous-effectif permanent", "on tourne à {nA}{ctxA1}", "absences non remplacées, {consA1}",
        "les remplacements ne sont pas organisés, {consA1}", "pas de renfort {periodeA1}",
        "{ndep} départs non remplacés depuis {periodeA2}",
        "quand un collègue est malade personne ne le remplace",
        "G|on ouvre un seul guichet faute de personnel", "manque de personnel {freqA1}",
        "effectifs au plus bas, {consA1}", "T|tournées découpées presque tous les jours faute de remplaçant",
        "pas assez de monde pour tenir le bureau", "les congés ne sont jamais compensés, {consA1}",
        "l'équipe fond d'année en année et la charge reste la même",
        "plus d'intérim ni de CDD pour remplacer les absents", "understaffing chronique, {consA1}",
        "sous-effectif {freqA1}, {consA1}",
    ],
    "B'": [
        "T|le Facteo {pbB1}", "scanners en panne {freqB1}", "flashage des colis impossible, {consB1}",
        "T|l'appli de tournée plante {freqB1b}",
        "T|réseau qui coupe {lieuB1}, impossible de valider les remises", "terminaux {etatB1}",
        "G|la douchette du guichet {pbB1}", "T|le smartphone facteur {pbB1}",
        "T|impossible de flasher les avis de passage, {consB1}", "les scans ne remontent pas, {consB1}",
        "outils informatiques qui rament, {consB1}", "l'imprimante d'étiquettes {pbB2}",
        "G|le terminal de paiement du guichet {pbB2}", "le matériel est {etatB1}",
        "tools qui ne marchent jamais, {consB1}", "scanners {etatB1}, {consB1}",
    ],
    "C'": [
        "plannings changés au dernier moment{ctxC1}", "on apprend nos horaires la veille pour le lendemain",
        "fermetures du bureau imposées sans concertation, {consC1}",
        "horaires modifiés {freqC1} sans explication", "réorganisation des horaires tous les six mois",
        "difficile de poser ses congés, le planning bouge tout le temps",
        "coupures dans la journée, amplitude horaire trop large",
        "G|on nous impose de fermer le bureau l'après-midi, {consC1}",
        "planning affiché le vendredi pour le lundi",
        "changement d'horaires d'ouverture décidé d'en haut, {consC1}",
        "T|les horaires de tournée changent {freqC1}",
        "impossible d'organiser sa vie perso avec ces plannings", "schedule qui change tout le temps",
    ],
    "H": [
        "aucune reconnaissance {ctxH}", "manager {qualH}", "primes {qualPrime}",
        "pression sur les objectifs commerciaux{ctxH2}", "le chef ne dit jamais merci",
        "salaire qui ne suit pas l'inflation", "trop de reporting et de réunions inutiles",
        "la direction ne nous écoute pas", "on nous parle que de chiffres, {consH}",
        "l'encadrement {qualH2}", "aucune perspective d'évolution",
        "G|les objectifs de vente de produits bancaires {qualObj}",
        "le travail bien fait n'est jamais valorisé", "zéro feedback de la hiérarchie, {consH}",
    ],
    "I": [
        "vestiaires {qualV}", "pas de chauffage {lieuI}", "parking {qualP}",
        "G|clim en panne l'été, on crève de chaud derrière le guichet", "toilettes {qualT}",
        "salle de pause minuscule", "locaux vétustes, {consI}", "fuites au plafond {lieuI2}",
        "on gèle en hiver {lieuI}", "pas de local vélo", "la porte du quai {pbI}",
        "l'éclairage est défaillant {lieuI}", "bâtiment pas entretenu, {consI}",
    ],
    "J": [
        "formation insuffisante {surJ}", "on nous lâche sur un poste sans formation",
        "formations en e-learning à faire sur notre temps de pause", "pas de formation {surJ}",
        "les nouveaux arrivent sans aucune formation",
        "on nous demande de vendre des produits qu'on ne connaît pas",
        "formation de deux heures pour un métier qui en demande deux semaines",
        "aucun accompagnement pour {surJ2}", "on apprend sur le tas, {consJ}",
        "training en ligne inutile, {consJ}",
    ],
    "K": [
        "bonne ambiance d'équipe", "collègues solidaires{ctxK}", "le sens du service public, {ctxK2}",
        "la sécurité de l'emploi", "mon chef d'équipe {qualK}", "le contact avec les clients{ctxK3}", "G|le contact avec les clients au guichet", "T|le contact avec les gens sur la tournée",
        "T|l'autonomie en tournée", "T|les horaires du matin qui laissent l'après-midi libre",
        "les collègues, vraiment", "l'entraide entre collègues{ctxK}", "une équipe soudée{ctxK}",
        "se sentir utile, {ctxK2}", "le lien avec les habitants du quartier",
        "T|travail en plein air, {qualK2}", "on rigole bien entre nous",
        "stabilité de l'emploi et {avantK}", "les {avantK}", "great team{ctxK}",
    ],
    "L": [
        "incivilités des clients {ctxL}", "on se fait insulter quand l'attente dépasse {dureeL}",
        "clients agressifs, {consL}",
        "les gens s'énervent parce qu'il y a la queue et c'est nous qui prenons",
        "G|menaces au guichet, pas de vigile", "des clients qui crient dès qu'il y a un peu de monde",
        "les clients passent leurs nerfs sur nous{ctxL2}", "G|agressivité quotidienne au guichet{ctxL2}",
        "insultes et menaces{ctxL2}", "les usagers s'en prennent à nous pour la file d'attente",
    ],
}

ELABORATIONS: dict[str, list[str]] = {
    "A": ["Ce n'est pas la première fois.", "Et c'est comme ça tous les samedis.",
          "Il faudrait ouvrir plus de guichets aux heures de pointe.",
          "Les personnes âgées restent debout pendant tout ce temps.",
          "Le pire c'est que personne ne nous informe.", "J'ai vu des gens partir découragés.",
          "Les agents présents font ce qu'ils peuvent mais ils sont débordés."],
    "B": ["J'ai dû faire trois allers-retours au bureau pour le récupérer.",
          "Le vendeur me renvoie vers La Poste et La Poste vers le vendeur.",
          "Heureusement que ce n'était pas urgent.", "Ça commence à faire beaucoup.",
          "Le facteur passe en courant, il n'a pas le temps de monter.",
          "J'ai pris une demi-journée pour rien."],
    "C": ["Un simple mot sur le site aurait suffi.", "Personne ne prévient jamais.",
          "Pour les personnes âgées sans voiture c'est un vrai problème.", "Trois fois ce mois-ci.",
          "On a l'impression qu'on veut nous faire partir."],
    "D": ["Tout augmente sauf la qualité.", "Les petites retraites apprécieront.",
          "Je comprends que les gens envoient de moins en moins de courrier."],
    "E": ["J'ai désinstallé.", "Il a fallu repasser au guichet.",
          "On nous pousse vers le numérique mais rien ne marche."],
    "F": ["Ça change de d'habitude.", "Je recommande ce bureau.", "C'est rare de nos jours.",
          "Bravo à toute l'équipe.", "On sent qu'ils aiment leur travail."],
    "G": ["J'ai l'impression de parler à un mur.", "Je vais saisir le médiateur.",
          "Toujours pas remboursé à ce jour."],
    "A'": ["On ne peut pas faire correctement notre travail dans ces conditions.",
           "Les clients le voient bien.", "On est à bout.", "Ça fait des mois qu'on le signale.",
           "Quand on est deux, on ne peut même pas aller aux toilettes.",
           "La direction répond qu'il n'y a pas de budget."],
    "B'": ["Le ticket au support reste ouvert des semaines.",
           "On finit par utiliser notre téléphone perso.",
           "Après on nous reproche la qualité de service.",
           "Les clients appellent pour dire que leur colis n'est pas arrivé et on ne peut rien prouver.",
           "On signale, rien ne bouge."],
    "C'": ["Vie de famille impossible.", "On n'est jamais consultés.",
           "Et c'est nous qui devons l'expliquer aux usagers."],
    "H": ["On se sent invisibles.", "La motivation s'en va.", "Un merci ne coûte rien."],
    "I": ["On nous promet des travaux chaque année.", "Ce n'est pas digne d'une grande entreprise."],
    "J": ["On se débrouille entre nous.", "Les clients le sentent quand on ne maîtrise pas."],
    "K": ["C'est ce qui me fait tenir.", "Ça compte beaucoup.", "Heureusement qu'il y a ça.",
          "Rien que pour ça je reste."],
    "L": ["On n'est pas formés pour gérer ça.", "Certains jours on rentre vidés.",
          "Les clients ne voient pas qu'on est deux pour tout faire."],
}

POSITIVE_THEMES = ("F", "K")

OPENERS = {
    "customer": ["Bonjour, ", "Franchement, ", "Honnêtement, ", "Comme d'habitude, ", "Encore une fois, ",
                 "Cliente depuis 20 ans, ", "Que dire... ", "Alors voilà : ", "Client fidèle, ",
                 "Pour faire court : ", "Bonjour. ", "Bonsoir, "],
    "employee": ["Franchement, ", "Pour être honnête, ", "Clairement, ", "Bon, ", "Alors, "],
    "employee_negative": ["Comme chaque année, ", "Rien ne change : ", "Toujours pareil, ",
                          "Depuis des mois, ", "Encore et toujours : "],
}
CLOSERS = {
    ("customer", "negative"): ["Lamentable.", "Inadmissible !", "À revoir.", "Je ne reviendrai pas.",
                               "Dommage.", "Service public mon œil.", "Vraiment déçu.", "Nul.",
                               "Honteux.", "Faites quelque chose svp.", "Worst service ever.",
                               "C'est de pire en pire.", "Ras le bol."],
    ("customer", "positive"): ["Merci !", "Bravo.", "Continuez ainsi.", "Je recommande.",
                               "Merci à toute l'équipe.", "Top !", "Parfait."],
    ("customer", "mixed"): ["Peut mieux faire.", "Dommage.", "Bof.", "Mitigé.", "À améliorer.",
                            "Moyen dans l'ensemble."],
    ("employee", "negative"): ["On est épuisés.", "Ça use.", "Ras le bol.", "Merci de nous écouter enfin.",
                               "On aimerait être entendus.", "Ça ne peut plus durer.",
                               "Les collègues sont à bout."],
    ("employee", "positive"): ["C'est ce qui compte.", "Merci à eux.", "Pourvu que ça dure."],
    ("employee", "mixed"): ["Dommage.", "Il y a du bon et du moins bon.", "À suivre."],
}
CONNECT_SAME = [(", ", 5), (". ", 6), (" et ", 2), (". En plus ", 2), (". Et ", 1), (", en plus ", 2),
                ("... ", 2), (" + ", 1), (". Sans parler de : ", 1), (" ; ", 1), (" - ", 1)]
CONNECT_TO_NEG = [(" mais ", 6), (" par contre ", 3), (". Par contre ", 2), (". En revanche ", 1),
                  (", cependant ", 1), (" ; ", 1), (". Sinon ", 1), (" mais bon, ", 1)]
CONNECT_TO_POS = [(" mais ", 5), (" par contre ", 2), (". Par contre ", 1), (". En revanche ", 1),
                  (". Heureusement, ", 2), (" ; ", 1), (". Sinon ", 1), (", pourtant ", 1)]
EMOJI_NEG = ["😡", "😤", "🙄", "👎", "😠"]
EMOJI_POS = ["👍", "😊", "🙏", "👌", "💪"]

ABBREVIATIONS = [
    (r"\bbeaucoup\b", "bcp"), (r"\btoujours\b", "tjs"), (r"\bproblème\b", "pb"),
    (r"\brendez-vous\b", "rdv"), (r"\bs'il vous plaît\b", "svp"), (r"\bquand\b", "qd"),
    (r"\bminutes\b", "min"), (r"\bmin\b", "mn"), (r"\bpourquoi\b", "pk"),
    (r"\baujourd'hui\b", "ajd"), (r"\bquelqu'un\b", "qqn"), (r"\bvraiment\b", "vrmt"),
    (r"\bparce que\b", "pcq"), (r"\bavec\b", "avc"), (r"\bpersonnes\b", "pers."),
    (r"\bsemaines\b", "sem"), (r"\bheures sup\b", "HS"), (r"\bje suis\b", "chuis"),
]
TYPOS = [
    ("attente", "atente"), ("reçu", "recu"), ("vraiment", "vraiement"), ("guichet", "guichtet"),
    ("toujours", "toujour"), ("arrivé", "arriver"), ("personne", "persone"),
    ("réclamation", "reclamtion"), ("application", "aplication"), ("horaires", "horraires"),
    ("il y a", "ya"), ("c'est", "c"), ("plannings", "plannigs"), ("formation", "formtion"),
    ("colis", "coli"), ("facteur", "facteure"), ("collègues", "collegue"), ("trop", "tro"),
    ("depuis", "depui"), ("interminable", "interminabl"), ("agressifs", "agresifs"),
    ("incivilités", "incivilitées"), ("effectif", "efectif"), ("remplacés", "remplacer"),
    ("remplace", "remplasse"), ("même", "meme"), ("très", "tres"), ("déjà", "deja"),
    ("était", "etait"), ("à ", "a "), ("quelqu'un", "quelqun"),
]

SLOT_RE = re.compile(r"\{(\w+)\}")


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
def strip_accents(text: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.category(ch) != "Mn":
            out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def normalise(text: str) -> str:
    """Dedup key: lowercase, accents stripped, punctuation+whitespace collapsed."""
    t = strip_accents(text).lower()
    t = re.sub(r"[\W_]+", " ", t)
    return " ".join(t.split())


def weighted(rng: random.Random, pairs):
    total = sum(w for _, w in pairs)
    r = rng.random() * total
    acc = 0.0
    for value, w in pairs:
        acc += w
        if r < acc:
            return value
    return pairs[-1][0]


def clip01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def pearson(xs, ys):
    n = len(xs)
    mx = sum(xs) / n
    my = sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return float("nan")
    return sxy / (sxx * syy) ** 0.5


def largest_remainder(total: int, weights, minimum: int = 0):
    """Split ``total`` into integers proportional to ``weights`` (each >= minimum)."""
    n = len(weights)
    base = [minimum] * n
    rest = total - minimum * n
    s = sum(weights)
    quotas = [rest * w / s for w in weights]
    floors = [int(q) for q in quotas]
    left = rest - sum(floors)
    order = sorted(range(n), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [b + f for b, f in zip(base, floors)]


def r4(x: float) -> float:
    return round(x, 4)


def fill(rng: random.Random, template: str) -> str:
    def rep(m):
        return fill(rng, rng.choice(SLOTS[m.group(1)]))
    return SLOT_RE.sub(rep, template)


def capitalise_sentences(text: str) -> str:
    chars = list(text)
    start = True
    for i, ch in enumerate(chars):
        if start and ch.isalpha():
            chars[i] = ch.upper()
            start = False
        elif start and (ch.isdigit() or ch in "«\"'"):
            start = False
        elif ch in ".!?\n" and not (ch == "." and i + 1 < len(chars) and chars[i + 1] == "."):
            start = True
    return "".join(chars)


def iban_fr(bban: str) -> str:
    """A syntactically valid (mod-97) French IBAN, grouped by 4, for a fictional BBAN."""
    rearranged = bban + "FR00"
    digits = "".join(str(int(c, 36)) for c in rearranged)
    check = 98 - int(digits) % 97
    iban = f"FR{check:02d}{bban}"
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


# ---------------------------------------------------------------------------
# Text composition
# ---------------------------------------------------------------------------
def polarity_of(themes) -> str:
    pos = any(t in POSITIVE_THEMES for t in themes)
    neg = any(t not in POSITIVE_THEMES for t in themes)
    if pos and neg:
        return "mixed"
    return "positive" if pos else "negative"


def add_noise(rng: random.Random, text: str, polarity: str, formal: bool) -> str:
    if formal:
        return text
    style = rng.random()
    if style < 0.30:  # light: one or two typos / abbreviations
        for _ in range(rng.choice([1, 1, 2])):
            if rng.random() < 0.5:
                pat, rep = rng.choice(ABBREVIATIONS)
                text = re.sub(pat, rep, text, count=1)
            else:
                src, dst = rng.choice(TYPOS)
                if src in text:
                    text = text.replace(src, dst, 1)
    elif style < 0.45:  # heavy SMS style
        text = strip_accents(text) if rng.random() < 0.7 else text
        for pat, rep in ABBREVIATIONS:
            if rng.random() < 0.6:
                text = re.sub(pat, rep, text)
        for src, dst in TYPOS:
            if src in text and rng.random() < 0.25:
                text = text.replace(src, dst)
        text = re.sub(r"\bn'(?=[aeiouyh])", "", text) if rng.random() < 0.5 else text
        text = re.sub(r"\bne (?=\w)", "", text) if rng.random() < 0.5 else text
        if rng.random() < 0.6:
            text = text.lower()
    elif style < 0.53:  # no accents at all, otherwise clean
        text = strip_accents(text)
    # punctuation / intensity
    if polarity != "positive" and rng.random() < 0.18:
        text = text.rstrip(".").rstrip() + rng.choice([" !!", "!!!", " !!!", " !", "!!!!", " ?!"])
    elif polarity == "positive" and rng.random() < 0.12:
        text = text.rstrip(".").rstrip() + rng.choice([" !", "!!", " !!!"])
    if rng.random() < 0.03:
        text = text.upper()
    if rng.random() < 0.022:
        pool = EMOJI_POS if polarity == "positive" else EMOJI_NEG
        if polarity == "mixed":
            pool = EMOJI_POS + EMOJI_NEG
        text = text + " " + rng.choice(pool)
    return text


TOURNEE_METIERS = ("facteur", "agent colis")
GUICHET_METIERS = ("guichetier", "conseiller bancaire")


def templates_for(theme: str, metier: str | None) -> list[str]:
    """Fragment templates of a theme usable by a job ("T|" tournée-only, "G|" counter-only)."""
    out = []
    for f in FRAGMENTS[theme]:
        tag, body = (f[0], f[2:]) if f[1:2] == "|" else ("", f)
        if tag == "T" and metier in GUICHET_METIERS:
            continue
        if tag == "G" and metier in TOURNEE_METIERS:
            continue
        out.append(body)
    return out


def compose(rng: random.Random, themes: list[str], side: str, formal: bool = False,
            allow_newline: bool = False, metier: str | None = None) -> str:
    """Build one comment that expresses every theme in ``themes``."""
    items = list(themes)
    rng.shuffle(items)
    if len(items) == 2 and rng.random() < 0.5 and items[1] in POSITIVE_THEMES:
        items.reverse()  # "accueil sympa mais ..." is the most common mixed order
    pieces: list[str] = []
    prev = None
    for t in items:
        frag = fill(rng, rng.choice(templates_for(t, metier)))
        if rng.random() < 0.06:  # one shouted fragment
            frag = frag.upper()
        if prev is not None:
            same = (prev in POSITIVE_THEMES) == (t in POSITIVE_THEMES)
            if same:
                conn = weighted(rng, CONNECT_SAME)
            else:
                conn = weighted(rng, CONNECT_TO_POS if t in POSITIVE_THEMES else CONNECT_TO_NEG)
            if allow_newline and rng.random() < 0.012:
                conn = ".\n"
            pieces.append(conn)
        pieces.append(frag)
        if rng.random() < 0.22 and ELABORATIONS.get(t):
            pieces.append(". " + rng.choice(ELABORATIONS[t]).rstrip("."))
        prev = t
    text = "".join(pieces)
    pol = polarity_of(themes)
    if formal:
        text = "Madame, Monsieur, " + text
    elif rng.random() < 0.14:
        pool = OPENERS[side]
        if side == "employee" and pol == "negative":
            pool = pool + OPENERS["employee_negative"]
        text = rng.choice(pool) + text
    end = weighted(rng, [(".", 6), ("", 3), ("!", 1), ("...", 1)])
    if text[-1] in ".!?":
        end = ""
    text = text + end
    if rng.random() < (0.35 if formal else 0.17):
        if text[-1] not in ".!?":
            text = text + "."
        text = text + " " + rng.choice(CLOSERS[(side, pol)])
    if formal:
        text = text + " Cordialement."
    if rng.random() < 0.88 or formal:
        text = capitalise_sentences(text)
    text = add_noise(rng, text, pol, formal)
    text = re.sub(r" {2,}", " ", text).replace(" .", ".").replace(" ,", ",")
    return text.strip()


class UniqueTexts:
    def __init__(self):
        self.seen: dict[str, str] = {}
        self.collisions = 0

    def make(self, rng: random.Random, themes, side, **kw) -> str:
        for _ in range(500):
            t = compose(rng, themes, side, **kw)
            key = normalise(t)
            if key and key not in self.seen:
                self.seen[key] = t
                return t
            self.collisions += 1
        raise RuntimeError(f"could not build a unique text for {themes}")

    def replace(self, old: str, new: str) -> None:
        del self.seen[normalise(old)]
        key = normalise(new)
        assert key not in self.seen, new
        self.seen[key] = new


# ---------------------------------------------------------------------------
# Latent structure
# ---------------------------------------------------------------------------
EXTRA_CITIES = ["Angers", "Brest", "Caen", "Dijon", "Metz", "Nancy", "Nice", "Orléans", "Pau", "Poitiers",
                "Reims", "Rouen", "Tours", "Toulon", "Valence", "Vannes", "Amiens", "Annecy", "Avignon",
                "Bayonne", "Béziers", "Chambéry", "Colmar", "Dunkerque", "La Rochelle", "Le Mans", "Lorient",
                "Montpellier", "Mulhouse", "Niort", "Perpignan", "Saint-Brieuc", "Strasbourg", "Troyes"]
EXTRA_PLACES = ["Centre", "Gare", "Mairie", "République", "Marché", "Hôtel de Ville", "Cathédrale", "Port"]


def network(n_units: int) -> list[tuple[str, float]]:
    """The shipped 16 offices, then fictional ones (volume weights between 1.0 and 2.5) up to ``n_units``."""
    units = list(UNITS[:n_units])
    extra = [f"{c} {p}" for p in EXTRA_PLACES for c in EXTRA_CITIES]
    for i in range(len(units), n_units):
        units.append((extra[i - len(UNITS)], round(1.0 + 1.5 * ((i * 7919) % 97) / 96, 2)))
    return units


def latent(rng: random.Random):
    n = len(UNITS)
    lo, hi = CONST["s1_base_range"]
    s1_base = [lo + i * (hi - lo) / (n - 1) for i in range(n)]
    rng.shuffle(s1_base)
    lo, hi = CONST["s2_base_range"]
    s2_grid = [lo + i * (hi - lo) / (n - 1) for i in range(n)]
    # s2 is independent of s1: of 50 random assignments keep the least correlated one
    best = None
    for _ in range(50):
        cand = list(s2_grid)
        rng.shuffle(cand)
        r = abs(pearson(cand, s1_base))
        if best is None or r < best[0]:
            best = (r, cand)
    s2_base = best[1]
    s1 = []  # 13 values: index 0 = December 2024 (initial), 1..12 = Jan..Dec 2025
    crises = []
    for u in range(n):
        length = rng.randint(*CONST["s1_crisis_len_range"])
        start = rng.randint(1, 12 - length + 1)
        amp = rng.uniform(*CONST["s1_crisis_amp_range"])
        crises.append({"start_month": start, "length": length, "amplitude": r4(amp)})
        row = []
        for m in range(13):
            shock = amp if start <= m < start + length else 0.0
            row.append(clip01(s1_base[u] + shock + rng.gauss(0.0, CONST["s1_month_noise_sd"])))
        s1.append(row)
    s2 = []
    for u in range(n):
        s2.append([clip01(s2_base[u] + rng.gauss(0.0, CONST["s2_month_noise_sd"])) for _ in range(12)])
    c_cust = [rng.uniform(*CONST["custC_rate_range"]) for _ in range(n)]
    # employee C' rates: independent draws; among a few candidate draws keep the one
    # whose correlation with the customer C rates is closest to zero (no linkage).
    best = None
    for _ in range(25):
        cand = [rng.uniform(*CONST["empC_rate_range"]) for _ in range(n)]
        r = abs(pearson(cand, c_cust))
        if best is None or r < best[0]:
            best = (r, cand)
    c_emp = best[1]
    if not MIRRORS:  # a null sample: the employee side gets latent strengths of its own (no planted linkage)
        order = list(range(n))
        rng.shuffle(order)
        s1_emp = [s1[order[u]] for u in range(n)]
        rng.shuffle(order)
        s2_emp = [s2[order[u]] for u in range(n)]
        s1[:] = [row for row in s1]
        LATENT_EMPLOYEE["s1"], LATENT_EMPLOYEE["s2"] = s1_emp, s2_emp
    else:
        LATENT_EMPLOYEE["s1"], LATENT_EMPLOYEE["s2"] = s1, s2
    return s1_base, s2_base, s1, s2, crises, c_cust, c_emp


def customer_probs(u, m, s1, s2, c_cust):
    """Theme probabilities for a customer comment in unit u, month m (1..12)."""
    return {
        "A": CONST["custA_base"] + CONST["custA_k"] * s1[u][m - 1],  # employee side leads by 1 month
        "B": CONST["custB_base"] + CONST["custB_k"] * s2[u][m - 1],
        "C": c_cust[u],
        "D": CONST["custD_p"],
        "E": CONST["custE_p"],
        "G": CONST["custG_p"],
        "F": CONST["custF_p"],
    }


def employee_probs(u, m, s1, s2, c_emp):
    s1, s2 = LATENT_EMPLOYEE["s1"], LATENT_EMPLOYEE["s2"]  # the customers' own unless the mirrors are off
    pa_cust = CONST["custA_base"] + CONST["custA_k"] * s1[u][m - 1]
    return {
        "A'": CONST["empA_base"] + CONST["empA_k"] * s1[u][m],
        "B'": CONST["empB_base"] + CONST["empB_k"] * s2[u][m - 1],
        "C'": c_emp[u],
        "H": CONST["empH_p"],
        "I": CONST["empI_p"],
        "J": CONST["empJ_p"],
        "L": CONST["empL_base"] + CONST["empL_k"] * pa_cust,
    }


# ---------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------
CANALS = ["guichet", "téléphone", "site web", "application", "courrier"]
METIERS = ["guichetier", "facteur", "conseiller bancaire", "encadrant", "agent colis"]


def pick_canal(rng, themes):
    w = {"guichet": 42, "téléphone": 12, "site web": 18, "application": 16, "courrier": 12}
    if "E" in themes:
        w["application"] += 40
        w["site web"] += 30
    if "G" in themes:
        w["téléphone"] += 25
        w["site web"] += 15
    if "A" in themes:
        w["guichet"] += 40
    return weighted(rng, [(c, w[c]) for c in CANALS])


def pick_metier(rng, themes):
    w = {"guichetier": 32, "facteur": 34, "conseiller bancaire": 12, "encadrant": 8, "agent colis": 14}
    if "L" in themes:
        w["guichetier"] += 60
        w["conseiller bancaire"] += 15
    if "B'" in themes:
        w["facteur"] += 50
        w["agent colis"] += 25
    if "J" in themes:
        w["conseiller bancaire"] += 20
    if "H" in themes:
        w["encadrant"] -= 5
    return weighted(rng, [(c, w[c]) for c in METIERS])


def customer_note(rng, themes):
    pol = polarity_of(themes)
    nneg = sum(1 for t in themes if t not in POSITIVE_THEMES)
    if pol == "positive":
        return weighted(rng, [(5, 62), (4, 35), (3, 3)])
    if pol == "mixed":
        return weighted(rng, [(2, 25), (3, 45), (4, 30)])
    if nneg >= 2:
        return weighted(rng, [(1, 70), (2, 28), (3, 2)])
    return weighted(rng, [(1, 50), (2, 38), (3, 12)])


def employee_note(rng, irr, bien):
    score = 7.6
    for t in irr:
        if t == "K":
            score += 0.5
        elif t == "A'":
            score -= 1.9
        elif t == "L":
            score -= 1.5
        else:
            score -= 1.3
    for t in bien:
        score += 0.5 if t == "K" else -0.8
    if not irr:
        score += 1.0
    if not bien:
        score -= 0.6
    score += rng.gauss(0.0, 1.3)
    return max(0, min(10, int(round(score))))


def allocate(rng, total, season):
    n = len(UNITS)
    per_unit = largest_remainder(total, [w for _, w in UNITS])
    out = []
    for u in range(n):
        weights = [s * rng.uniform(0.85, 1.15) for s in season]
        out.append(largest_remainder(per_unit[u], weights, minimum=1 if total < 1000 else 2))
    return out


def respondent_order(rng, alloc):
    """(unit, month, rank) of every respondent: office by office, or shuffled (``SHUFFLED_ORDER``)."""
    slots = [(u, m, k) for u in range(len(alloc)) for m in range(1, 13) for k in range(alloc[u][m - 1])]
    if SHUFFLED_ORDER:
        rng.shuffle(slots)
    return slots


def random_day(rng, m):
    return date(YEAR, m, rng.randint(1, DAYS_IN_MONTH[m - 1]))


def generate(rng: random.Random):
    s1_base, s2_base, s1, s2, crises, c_cust, c_emp = latent(rng)
    uniq = UniqueTexts()

    # ---- customers ----
    cust_alloc = allocate(rng, N_CUSTOMER_ROWS, SEASON_CUSTOMER)
    customers = []
    for u, m, k in respondent_order(rng, cust_alloc):
        probs = customer_probs(u, m, s1, s2, c_cust)
        themes = [t for t in ("A", "B", "C", "D", "E", "G", "F") if rng.random() < probs[t]]
        if not themes:  # forced fill from non-mirrored themes only
            themes = [weighted(rng, [("F", 45), ("D", 15), ("E", 15), ("G", 12)])]
        if len(themes) > 3:
            themes = themes[:3]
        canal = pick_canal(rng, themes)
        formal = canal == "courrier" and rng.random() < 0.35
        text = uniq.make(rng, themes, "customer", formal=formal)
        customers.append({
            "unit": u, "month": m, "date": random_day(rng, m), "canal": canal,
            "note": customer_note(rng, themes), "text": text, "themes": themes, "seq": k,
        })
    # drop-in empty comments (kept rows, rejected later by ingest)
    empty_idx = sorted(rng.sample(range(len(customers)), N_EMPTY_CUSTOMER))
    empties = ["", " ", "  ", "   ", " \t "]
    for i in empty_idx:
        row = customers[i]
        del uniq.seen[normalise(row["text"])]
        row["text"] = empties[rng.randrange(len(empties))]
        row["themes"] = []
    customers.sort(key=lambda r: (r["date"], r["unit"], r["seq"], r["month"]))
    for i, row in enumerate(customers, 1):
        row["ref"] = f"C{i:05d}"

    # ---- employees ----
    emp_alloc = allocate(rng, N_EMPLOYEE_ROWS, SEASON_EMPLOYEE)
    employees = []
    for u, m, k in respondent_order(rng, emp_alloc):
        probs = employee_probs(u, m, s1, s2, c_emp)
        irr = [t for t in ("A'", "B'", "C'", "H", "I", "J", "L") if rng.random() < probs[t]]
        if not irr and rng.random() >= CONST["p_irrite_empty_if_no_theme"]:
            irr = [weighted(rng, [("H", 50), ("I", 28), ("J", 22)])]
        if len(irr) > 3:
            irr = irr[:3]
        bien = []
        if not irr or rng.random() < CONST["p_va_bien_present"]:
            bien = ["K"]
            if rng.random() < 0.15:
                bien = ["K", "K"]  # two positive points in one answer
            if irr and rng.random() < CONST["p_va_bien_mixed"]:
                bien = ["K", weighted(rng, [("H", 5), ("I", 3), ("J", 2)])]
        if irr and rng.random() < CONST["p_irrite_mixed"]:
            irr = irr + ["K"]
        metier = pick_metier(rng, irr)
        t_irr = uniq.make(rng, irr, "employee", allow_newline=True, metier=metier) if irr else ""
        t_bien = uniq.make(rng, bien, "employee", allow_newline=True, metier=metier) if bien else ""
        employees.append({
            "unit": u, "month": m, "date": random_day(rng, m), "metier": metier,
            "note": employee_note(rng, irr, bien), "bien": t_bien, "irrite": t_irr,
            "themes_bien": sorted_themes(bien), "themes_irrite": sorted_themes(irr), "seq": k,
        })
    employees.sort(key=lambda r: (r["date"], r["unit"], r["seq"], r["month"]))
    for i, row in enumerate(employees, 1):
        row["ref"] = f"E{i:04d}"

    pii = inject_pii(rng, customers, employees, uniq)
    latent_info = {
        "s1_base": s1_base, "s2_base": s2_base, "s1": s1, "s2": s2, "crises": crises,
        "c_cust": c_cust, "c_emp": c_emp,
    }
    return customers, employees, pii, latent_info, uniq


THEME_ORDER = ["A", "B", "C", "D", "E", "F", "G", "A'", "B'", "C'", "H", "I", "J", "K", "L"]


def sorted_themes(themes):
    seen = []
    for t in THEME_ORDER:
        if t in themes and t not in seen:
            seen.append(t)
    return seen


# ---------------------------------------------------------------------------
# PII (all fictional)
# ---------------------------------------------------------------------------
IBAN = iban_fr("30006000011234567890189")

PII_SPECS = [
    # (side, field, required theme, kind, value, how: prefix/suffix, phrase)
    ("customer", "commentaire", "F", "person_name", "Mme Lefèvre", "prefix", "Mme Lefèvre au guichet est adorable. "),
    ("customer", "commentaire", "B", "person_name", "Kevin", "suffix", " Le facteur Kevin ne sonne jamais."),
    ("customer", "commentaire", "F", "person_name", "Bernard Caillaud", "suffix", " Merci à M. Bernard Caillaud pour sa patience."),
    ("customer", "commentaire", "G", "person_name", "Aurélie Vasseur", "suffix", " Dossier suivi par Mme Aurélie Vasseur, sans suite."),
    ("customer", "commentaire", "G", "email", "jeanne.martin@exemple.fr", "suffix", " Merci de me répondre à jeanne.martin@exemple.fr"),
    ("customer", "commentaire", "B", "email", "p.durand59@exemple.fr", "suffix", " Contact : p.durand59@exemple.fr"),
    ("customer", "commentaire", "A", "email", "sylvie.roche@exemple.fr", "suffix", " mon mail : sylvie.roche@exemple.fr svp"),
    ("customer", "commentaire", "G", "phone", "06 12 34 56 78", "suffix", " Rappelez-moi au 06 12 34 56 78."),
    ("customer", "commentaire", "B", "phone", "+33 6 71 24 90 13", "suffix", " Tel : +33 6 71 24 90 13"),
    ("customer", "commentaire", "C", "phone", "07.81.45.22.10", "suffix", " Joignable au 07.81.45.22.10 en journée."),
    ("customer", "commentaire", "A", "phone", "0645873219", "suffix", " mon numéro 0645873219"),
    ("customer", "commentaire", "G", "iban", IBAN, "suffix", f" Pour le remboursement, mon IBAN : {IBAN}"),
    ("employee", "ce_qui_irrite", "H", "person_name", "M. Garnier", "suffix", " Notre chef, M. Garnier, ne répond jamais."),
    ("employee", "ce_qui_va_bien", "K", "person_name", ("Sandrine", "Karim"), "suffix", " Merci à Sandrine et Karim pour leur aide."),
    ("employee", "ce_qui_irrite", "A'", "person_name", "Mme Poulain", "suffix", " Depuis le départ de Mme Poulain personne ne la remplace."),
    ("employee", "ce_qui_va_bien", "K", "person_name", "Julien Morel", "suffix", " Mon binôme Julien Morel est top."),
    ("employee", "ce_qui_irrite", "A'", "phone", "06 23 45 67 89", "suffix", " Appelez-moi si besoin : 06 23 45 67 89"),
    ("employee", "ce_qui_irrite", "B'", "phone", "+33 7 12 34 56 70", "suffix", " +33 7 12 34 56 70 pour en parler."),
    ("employee", "ce_qui_irrite", "H", "email", "thomas.lemaire@exemple.fr", "suffix", " Je peux témoigner : thomas.lemaire@exemple.fr"),
    ("employee", "ce_qui_va_bien", "K", "email", "n.petit@exemple.fr", "suffix", " (n.petit@exemple.fr)"),
]


def inject_pii(rng, customers, employees, uniq):
    used = set()
    records = []
    for side, field, theme, kind, value, how, phrase in PII_SPECS:
        if side == "customer":
            cands = [r for r in customers if theme in r["themes"] and r["ref"] not in used]
            key_text, key_themes = "text", "themes"
        else:
            key_text = "irrite" if field == "ce_qui_irrite" else "bien"
            key_themes = "themes_irrite" if field == "ce_qui_irrite" else "themes_bien"
            cands = [r for r in employees if theme in r[key_themes] and r["ref"] not in used]
        row = cands[rng.randrange(len(cands))]
        used.add(row["ref"])
        old = row[key_text]
        if how == "prefix":
            new = phrase + old
        else:
            sep = "" if old.endswith((".", "!", "?", "…")) else "."
            new = old + sep + phrase
        uniq.replace(old, new)
        row[key_text] = new
        for v in (value if isinstance(value, tuple) else (value,)):
            assert v in new, (v, new)
            records.append({"ref": row["ref"], "field": field, "kind": kind, "value": v})
    records.sort(key=lambda r: (r["ref"], r["field"], r["value"]))
    return records


# ---------------------------------------------------------------------------
# Statistics on the realised data
# ---------------------------------------------------------------------------
def realised_stats(customers, employees):
    n = len(UNITS)
    cust_n = [[0] * 12 for _ in range(n)]
    emp_n = [[0] * 12 for _ in range(n)]
    cust_k = {t: [[0] * 12 for _ in range(n)] for t in ("A", "B", "C", "D", "E", "F", "G")}
    emp_k = {t: [[0] * 12 for _ in range(n)] for t in ("A'", "B'", "C'", "H", "I", "J", "L", "K")}
    for r in customers:
        if not r["themes"]:
            continue
        cust_n[r["unit"]][r["month"] - 1] += 1
        for t in r["themes"]:
            cust_k[t][r["unit"]][r["month"] - 1] += 1
    for r in employees:
        emp_n[r["unit"]][r["month"] - 1] += 1
        for t in r["themes_irrite"]:
            if t != "K":
                emp_k[t][r["unit"]][r["month"] - 1] += 1
        if "K" in r["themes_bien"] or "K" in r["themes_irrite"]:
            emp_k["K"][r["unit"]][r["month"] - 1] += 1

    def unit_rate(k, nn, u):
        return sum(k[u]) / sum(nn[u])

    rates = {}
    for t, k in cust_k.items():
        rates[t] = [unit_rate(k, cust_n, u) for u in range(n)]
    for t, k in emp_k.items():
        rates[t] = [unit_rate(k, emp_n, u) for u in range(n)]

    def lagged(emp_t, cust_t, lag):
        """Pooled within-unit correlation of employee rate at m and customer rate at m+lag."""
        xs, ys = [], []
        for u in range(n):
            er = [emp_k[emp_t][u][m] / emp_n[u][m] for m in range(12)]
            cr = [cust_k[cust_t][u][m] / cust_n[u][m] for m in range(12)]
            me, mc = sum(er) / 12, sum(cr) / 12
            for m in range(12):
                if 0 <= m + lag < 12:
                    xs.append(er[m] - me)
                    ys.append(cr[m + lag] - mc)
        return pearson(xs, ys)

    corr = {
        "pair1_A'_vs_A": pearson(rates["A'"], rates["A"]),
        "pair2_B'_vs_B": pearson(rates["B'"], rates["B"]),
        "pair3_C'_vs_C": pearson(rates["C'"], rates["C"]),
        "L_vs_A": pearson(rates["L"], rates["A"]),
        "A'_vs_B_control": pearson(rates["A'"], rates["B"]),
        "B'_vs_A_control": pearson(rates["B'"], rates["A"]),
    }
    lags = {
        "pair1": {str(l): lagged("A'", "A", l) for l in (-1, 0, 1)},
        "pair2": {str(l): lagged("B'", "B", l) for l in (-1, 0, 1)},
    }
    return {"cust_n": cust_n, "emp_n": emp_n, "cust_k": cust_k, "emp_k": emp_k,
            "rates": rates, "corr": corr, "lags": lags}


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------
def fr_long_date(d: date) -> str:
    return f"{d.day} {MONTHS_FR[d.month - 1]} {d.year}"


def csv_bytes(header, rows, delimiter) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow(row)
    return buf.getvalue().encode("utf-8")


def build_outputs(customers, employees, pii, lat, stats, uniq):
    files: dict[str, bytes] = {}
    files["clients.csv"] = csv_bytes(
        ["ref_avis", "date_avis", "bureau", "canal", "note", "commentaire"],
        [[r["ref"], r["date"].strftime("%d/%m/%Y"), UNITS[r["unit"]][0], r["canal"], r["note"], r["text"]]
         for r in customers], ";")
    files["postiers.csv"] = csv_bytes(
        ["id", "date", "site", "metier", "note_reco", "ce_qui_va_bien", "ce_qui_irrite"],
        [[r["ref"], fr_long_date(r["date"]), UNITS[r["unit"]][0], r["metier"], r["note"], r["bien"], r["irrite"]]
         for r in employees], ";")
    labels = []
    for r in customers:
        if r["themes"]:
            labels.append([r["ref"], "commentaire", "|".join(sorted_themes(r["themes"])), polarity_of(r["themes"])])
    for r in employees:
        if r["bien"]:
            labels.append([r["ref"], "ce_qui_va_bien", "|".join(r["themes_bien"]), polarity_of(r["themes_bien"])])
        if r["irrite"]:
            labels.append([r["ref"], "ce_qui_irrite", "|".join(r["themes_irrite"]), polarity_of(r["themes_irrite"])])
    files["labels.csv"] = csv_bytes(["ref", "field", "themes", "polarity"], labels, ",")

    gt = ground_truth(customers, employees, pii, lat, stats, uniq, len(labels))
    files["ground_truth.json"] = (json.dumps(gt, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    files["README.md"] = readme(gt).encode("utf-8")
    return files, gt


THEMES_DOC = {
    "A": ("customer", "negative", "attente au guichet, file d'attente, un seul guichet ouvert", "waiting at the counter"),
    "B": ("customer", "negative", "colis perdus, avis de passage sans sonner, suivi bloqué, retour à l'expéditeur", "lost parcels / missed delivery"),
    "C": ("customer", "negative", "horaires réduits, bureau fermé sans prévenir", "reduced opening hours / unannounced closures"),
    "D": ("customer", "negative", "tarifs (timbres, recommandé)", "prices"),
    "E": ("customer", "negative", "application, site de suivi, automates en panne", "app, tracking site, machines out of order"),
    "F": ("customer", "positive", "accueil aimable, conseil compétent, rapidité (toute remarque positive)", "positive remarks"),
    "G": ("customer", "negative", "réclamations non traitées, service client injoignable", "complaints not handled, unreachable customer service"),
    "A'": ("employee", "negative", "sous-effectif, absences non remplacées, remplacements pas organisés", "understaffing"),
    "B'": ("employee", "negative", "scanners / terminaux (Facteo) en panne, flashage impossible, réseau", "broken scanners / terminals"),
    "C'": ("employee", "negative", "plannings changés au dernier moment, fermetures imposées", "last-minute schedule changes"),
    "H": ("employee", "negative", "management, reconnaissance, primes", "management, recognition, bonuses"),
    "I": ("employee", "negative", "locaux, vestiaires, parking, chauffage", "premises"),
    "J": ("employee", "negative", "formation insuffisante", "insufficient training"),
    "K": ("employee", "positive", "ambiance d'équipe, solidarité, service public, sécurité de l'emploi", "positive remarks"),
    "L": ("employee", "negative", "incivilités des clients", "customer incivility"),
}


def ground_truth(customers, employees, pii, lat, stats, uniq, n_labels):
    names = [u for u, _ in UNITS]
    months = [f"{YEAR}-{m:02d}" for m in range(1, 13)]
    s1, s2 = lat["s1"], lat["s2"]
    units = []
    for u, (name, w) in enumerate(UNITS):
        units.append({
            "unit": name,
            "volume_weight": w,
            "n_customer_rows": sum(1 for r in customers if r["unit"] == u),
            "n_customer_nonempty": sum(stats["cust_n"][u]),
            "n_employee_rows": sum(stats["emp_n"][u]),
            "s1_base": r4(lat["s1_base"][u]),
            "s1_mean_2025": r4(sum(s1[u][1:]) / 12),
            "s1_crisis": lat["crises"][u],
            "s2_base": r4(lat["s2_base"][u]),
            "s2_mean_2025": r4(sum(s2[u]) / 12),
            "p_customer_C": r4(lat["c_cust"][u]),
            "p_employee_C'": r4(lat["c_emp"][u]),
            "realised_rates": {t: r4(stats["rates"][t][u]) for t in THEME_ORDER},
        })
    per_unit_month = {}
    for u, name in enumerate(names):
        per_unit_month[name] = {
            "s1": [r4(x) for x in s1[u][1:]],
            "s2": [r4(x) for x in s2[u]],
            "p_employee_A'": [r4(employee_probs(u, m, s1, s2, lat["c_emp"])["A'"]) for m in range(1, 13)],
            "p_customer_A": [r4(customer_probs(u, m, s1, s2, lat["c_cust"])["A"]) for m in range(1, 13)],
            "p_employee_B'": [r4(employee_probs(u, m, s1, s2, lat["c_emp"])["B'"]) for m in range(1, 13)],
            "p_customer_B": [r4(customer_probs(u, m, s1, s2, lat["c_cust"])["B"]) for m in range(1, 13)],
            "p_employee_L": [r4(employee_probs(u, m, s1, s2, lat["c_emp"])["L"]) for m in range(1, 13)],
            "n_customer_nonempty": stats["cust_n"][u],
            "n_employee": stats["emp_n"][u],
            "k_customer_A": stats["cust_k"]["A"][u],
            "k_employee_A'": stats["emp_k"]["A'"][u],
            "k_customer_B": stats["cust_k"]["B"][u],
            "k_employee_B'": stats["emp_k"]["B'"][u],
            "k_customer_C": stats["cust_k"]["C"][u],
            "k_employee_C'": stats["emp_k"]["C'"][u],
            "k_employee_L": stats["emp_k"]["L"][u],
        }
    corr = stats["corr"]
    n_emp_fields = sum((1 if r["bien"] else 0) + (1 if r["irrite"] else 0) for r in employees)
    n_cust_nonempty = sum(1 for r in customers if r["themes"])
    theme_counts = {}
    for t in THEME_ORDER:
        if THEMES_DOC[t][0] == "customer":
            theme_counts[t] = sum(1 for r in customers if t in r["themes"])
        else:
            theme_counts[t] = sum(1 for r in employees if t in r["themes_irrite"] or t in r["themes_bien"])
    gt = {
        "description": "Synthetic sample written by the verbatim project (fictional bureaux, people and texts); free to ship.",
        "generator": "python3 scripts/make_sample.py",
        "seed": SEED,
        "year": YEAR,
        "units": names,
        "months": months,
        "files": {
            "clients.csv": "customer comments; ';' separator; columns ref_avis;date_avis;bureau;canal;note;commentaire",
            "postiers.csv": "employee barometer; ';' separator; columns id;date;site;metier;note_reco;ce_qui_va_bien;ce_qui_irrite",
            "labels.csv": "one row per non-empty text: ref,field,themes,polarity",
        },
        "counts": {
            "customer_rows": len(customers),
            "customer_nonempty": n_cust_nonempty,
            "customer_empty": len(customers) - n_cust_nonempty,
            "employee_rows": len(employees),
            "employee_nonempty_fields": n_emp_fields,
            "employee_va_bien_nonempty": sum(1 for r in employees if r["bien"]),
            "employee_irrite_nonempty": sum(1 for r in employees if r["irrite"]),
            "nonempty_verbatims_total": n_cust_nonempty + n_emp_fields,
            "label_rows": n_labels,
            "duplicate_texts_after_normalisation": 0,
            "regenerated_on_collision": uniq.collisions,
        },
        "themes": {t: {"side": d[0], "polarity": d[1], "fr": d[2], "en": d[3]} for t, d in THEMES_DOC.items()},
        "rate_definitions": {
            "customer_theme_rate": "share of NON-EMPTY customer comments of the unit (or unit-month) whose labels contain the theme",
            "employee_theme_rate": "share of employee rows (respondents) of the unit (or unit-month) whose ce_qui_irrite labels contain the theme (K: either field)",
            "unit_level_correlation": f"Pearson correlation across the {len(UNITS)} units of the yearly rates",
            "lagged_unit_month_correlation": "pooled Pearson correlation of within-unit demeaned monthly rates: employee rate at month m vs customer rate at month m+lag (lag=+1: employee leads)",
        },
        "generating_model": {
            "s1": "s1[u,m] = clip01(s1_base[u] + crisis[u](m) + N(0, s1_month_noise_sd)); m=0 is December 2024 (initial value), crisis = amplitude during [start_month, start_month+length)",
            "s2": "s2[u,m] = clip01(s2_base[u] + N(0, s2_month_noise_sd))",
            "p_employee_A'(u,m)": "empA_base + empA_k * s1[u,m]",
            "p_customer_A(u,m)": "custA_base + custA_k * s1[u,m-1]  (employee side leads by one month; January uses s1[u,0])",
            "p_employee_B'(u,m)": "empB_base + empB_k * s2[u,m]",
            "p_customer_B(u,m)": "custB_base + custB_k * s2[u,m]  (same month)",
            "p_customer_C(u)": "uniform(custC_rate_range), constant over months",
            "p_employee_C'(u)": "uniform(empC_rate_range), drawn independently of customer C (of 25 independent candidate draws, the one least correlated with customer C is kept)",
            "p_employee_L(u,m)": "empL_base + empL_k * p_customer_A(u,m)  (incivilités follow the customer waiting rate, same month)",
            "one_sided": "D, E, G, F (customer) and H, I, J (employee) have constant probabilities; K appears in ce_qui_va_bien",
            "comment_themes": "each theme is drawn independently (Bernoulli); a customer comment with no theme gets one of F/D/E/G; an employee with no irritant leaves ce_qui_irrite empty with probability p_irrite_empty_if_no_theme, otherwise gets one of H/I/J; at most 3 themes per text",
            "notes": "customer note 1-5: negative-only -> mostly 1-2, mixed -> 2-4, positive -> 4-5; employee note_reco 0-10 = 7.6 - 1.9 per A', -1.5 per L, -1.3 per other irritant, +0.5 per K, +1 if no irritant, -0.6 if nothing positive, + N(0,1.3)",
            "constants": CONST,
        },
        "pairs": [
            {"pair": 1, "customer_theme": "A", "employee_theme": "A'", "strength": "strong",
             "expected_verdict": "mirrored", "linkage": "unit-level, positive", "lead": "employee",
             "lag_months": 1, "target_unit_corr": [0.7, 0.8],
             "realised_unit_corr": r4(corr["pair1_A'_vs_A"]),
             "realised_lagged_corr": {k: r4(v) for k, v in stats["lags"]["pair1"].items()}},
            {"pair": 2, "customer_theme": "B", "employee_theme": "B'", "strength": "medium",
             "expected_verdict": "mirrored", "linkage": "unit-level, positive", "lead": "none (same month)",
             "lag_months": 0, "target_unit_corr": [0.5, 0.6],
             "realised_unit_corr": r4(corr["pair2_B'_vs_B"]),
             "realised_lagged_corr": {k: r4(v) for k, v in stats["lags"]["pair2"].items()}},
            {"pair": 3, "customer_theme": "C", "employee_theme": "C'", "strength": "weak / topic only",
             "expected_verdict": "topics similar (hours, closures) but no unit-level linkage",
             "linkage": "none (independent rates)", "lead": None, "lag_months": None,
             "realised_unit_corr": r4(corr["pair3_C'_vs_C"])},
            {"pair": "L~A (optional)", "customer_theme": "A", "employee_theme": "L", "strength": "medium",
             "expected_verdict": "linked: incivilités follow customer waiting, same month",
             "linkage": "unit-level, positive", "lead": "none (same month as customer A)",
             "realised_unit_corr": r4(corr["L_vs_A"])},
        ],
        "one_sided_themes": {"customer_only": ["D", "E", "G"], "employee_only": ["H", "I", "J"],
                             "positive_not_linked": ["F", "K"]},
        "realised_correlations": {k: r4(v) for k, v in corr.items()},
        "theme_counts": theme_counts,
        "per_unit": units,
        "per_unit_month": per_unit_month,
        "empty_comment_refs": [r["ref"] for r in customers if not r["themes"]],
        "pii": pii,
    }
    return gt


def composition_note() -> str:
    """The README's paragraph on the order texts were composed in (``SHUFFLED_ORDER``)."""
    if SHUFFLED_ORDER:
        return """Ce jeu est composé dans un ordre aléatoire (`--shuffled-order`) : la longueur des textes ne dépend pas du
rang du bureau dans la boucle (voir `benchmarks/bench_sample_order.py`).

This sample is composed in a random order (`--shuffled-order`): text length does not depend on the office's
rank in the loop (see `benchmarks/bench_sample_order.py`).

"""
    return """Ce jeu est composé bureau par bureau. Comme chaque texte doit être unique, plus un texte est composé tard,
plus il tend à recevoir de propositions : les derniers bureaux de la boucle ont des textes un peu plus longs
des deux côtés (segments par répondant contre rang du bureau : Spearman +0,33 clients, +0,53 postiers sur
10 échantillons nuls ; −0,03 et +0,02 en ordre aléatoire ; `benchmarks/bench_sample_order.py`), ce qui lie
légèrement tous les thèmes trouvés d'un côté à tous ceux de l'autre. Pour des échantillons nuls ou d'autres
tirages, `--shuffled-order` compose les répondants dans un ordre aléatoire et retire ce lien ; le jeu livré
garde l'ordre par bureau (ses paires plantées sont bien plus fortes).

This sample is composed office by office. Texts must be unique, so the later a text is composed the more
clauses it tends to get: the last offices of the loop have slightly longer texts on both sides (segments per
respondent against the office's rank: Spearman +0.33 customers, +0.53 employees over 10 null samples; −0.03
and +0.02 in random order; `benchmarks/bench_sample_order.py`), which ties every topic found on one side a
little to every topic of the other. For null samples or other draws, `--shuffled-order` composes the
respondents in a random order and removes that tie; the shipped sample keeps the office order (its planted
pairs are far stronger).

"""


def readme(gt) -> str:
    c = gt["counts"]
    corr = gt["realised_correlations"]
    lag1 = gt["pairs"][0]["realised_lagged_corr"]
    return f"""# Échantillon synthétique / Synthetic sample

**Données synthétiques écrites par le projet `verbatim` (bureaux, personnes et textes fictifs) : libres de diffusion.**
**Synthetic data written by the `verbatim` project (fictional offices, people and texts): free to ship.**

Régénérer / regenerate (byte-identical, seed {gt['seed']}):

    python3 scripts/make_sample.py

## Fichiers / Files

| fichier / file | contenu / content |
|---|---|
| `clients.csv` | {c['customer_rows']} avis clients / customer comments ({c['customer_empty']} vides / empty). `;` — `ref_avis;date_avis;bureau;canal;note;commentaire` (date `dd/mm/yyyy`, note 1–5, canal guichet/téléphone/site web/application/courrier) |
| `postiers.csv` | {c['employee_rows']} réponses au baromètre postiers / employee survey rows. `;` — `id;date;site;metier;note_reco;ce_qui_va_bien;ce_qui_irrite` (date `8 avril 2025`, note_reco 0–10 eNPS) |
| `labels.csv` | vérité terrain par texte / per-text ground truth: `ref,field,themes,polarity` ({c['label_rows']} lignes / rows) |
| `verbatim.toml` | configuration de la démo, écrite à la main (non générée) / demo config, hand-written (not generated) |
| `ground_truth.json` | forces latentes par bureau et par mois, probabilités, paires miroir attendues, corrélations réalisées, refs vides, refs avec PII / latent strengths, probabilities, expected mirror pairs, realised correlations, empty refs, PII refs |

{len(gt['units'])} bureaux fictifs, 12 mois (janvier–décembre {gt['year']}), {c['nonempty_verbatims_total']} verbatims non vides
({c['customer_nonempty']} clients + {c['employee_nonempty_fields']} champs postiers). Aucun doublon après
normalisation (minuscules, sans accents, ponctuation écrasée). Textes avec fautes, abréviations (rdv, tjs,
bcp, pb, svp, qd, mn), majuscules, émojis, quelques mots anglais ; quelques champs contiennent `;`, des
guillemets ou un retour à la ligne (CSV correctement quoté).

## Thèmes / Themes

Clients / customers: A attente, B colis, C horaires/fermetures, D tarifs, E appli/automates, F positif,
G réclamations. Postiers / employees: A' sous-effectif, B' scanners/terminaux, C' plannings, H management,
I locaux, J formation, K positif, L incivilités.

## Miroirs plantés / Planted mirrors

| paire / pair | attendu / expected | corr. unités réalisée / realised unit corr. |
|---|---|---|
| 1 : A' ↔ A | miroir fort, les postiers précèdent d'un mois / strong, employee side leads by 1 month | {corr["pair1_A'_vs_A"]:.2f} |
| 2 : B' ↔ B | miroir moyen, même mois / medium, same month | {corr["pair2_B'_vs_B"]:.2f} |
| 3 : C' ↔ C | thèmes proches, aucun lien par bureau / similar topics, no unit linkage | {corr["pair3_C'_vs_C"]:.2f} |
| L ↔ A | incivilités suivent l'attente client / incivility follows customer waiting | {corr["L_vs_A"]:.2f} |

Non miroirs / not mirrored: D, E, G (clients seulement / customer-only), H, I, J (postiers seulement /
employee-only). Corrélation décalée (paire 1, intra-bureau, mensuelle) / lagged within-unit monthly
correlation for pair 1: lag −1 = {lag1['-1']:.2f}, 0 = {lag1['0']:.2f}, +1 (employé en avance / employee leads) = {lag1['1']:.2f}.

## Pourquoi 40 bureaux et 18 000 réponses / Why 40 offices and 18,000 responses

Les versions précédentes avaient 16 bureaux (1 700 clients, 800 postiers), puis 40 bureaux (4 000 clients,
2 000 postiers). Analyses de puissance de la chaîne complète (thèmes trouvés par le pipeline, pas les thèmes
plantés ; `benchmarks/bench_chain.py`) sur des échantillons régénérés avec d'autres graines : à 16 bureaux, la
paire 1 n'était déclarée dans aucun des 3 échantillons ; à 40 bureaux, les paires 1 et 2 l'étaient, mais
l'avance d'un mois des postiers (paire 1) ne l'était que dans 1 échantillon sur 6 : un thème trouvé par le
pipeline ne tient que 20 à 50 % des commentaires de son thème planté, et un bureau reçoit alors moins d'un
commentaire de ce thème par mois. À 4 000 + 2 000 réponses, même un thème pur qui en tiendrait la moitié n'est
vu en avance que dans 30 % des tirages ; à 8 000 + 4 000, dans 4 échantillons sur 6 ; à 12 000 + 6 000 (30
clients et 15 postiers par bureau et par mois), dans 6 sur 6. Un vrai réseau compte des centaines de bureaux.

Earlier versions had 16 offices (1,700 customers, 800 employees), then 40 offices (4,000 customers, 2,000
employees). Power analyses of the whole chain (topics found by the pipeline, not the planted themes;
`benchmarks/bench_chain.py`) on samples regenerated with other seeds: with 16 offices pair 1 was declared in
none of 3 samples; with 40 offices pairs 1 and 2 were, but the employees' one-month lead (pair 1) only in 1
sample of 6: a topic the pipeline finds holds 20–50% of its planted theme's comments, and an office then gets
less than one comment of that theme a month. At 4,000 + 2,000 responses even a pure topic holding half of the
theme shows the lead in 30% of draws; at 8,000 + 4,000 the chain found it in 4 samples of 6; at 12,000 + 6,000
(30 customers and 15 employees per office and month) in 6 of 6. A real network has hundreds of offices.
`python3 scripts/make_sample.py --customers 4000 --employees 2000` writes the previous size (`--units`,
`--seed`, `--no-mirrors` for other draws and null samples).

{composition_note()}## Utiliser la vérité terrain / Using the ground truth

- Taux d'un thème / theme rate: part des commentaires clients non vides (ou des répondants postiers) d'un
  bureau qui contiennent le thème (`labels.csv`) ; voir `rate_definitions` dans `ground_truth.json`.
- Un test de miroir doit trouver les paires 1 et 2 (avec p faible), l'avance d'un mois côté postiers pour la
  paire 1, aucun lien par bureau pour la paire 3, et laisser D, E, G, H, I, J sans partenaire.
  A mirror test should find pairs 1 and 2, the one-month employee lead of pair 1, no unit linkage for pair 3,
  and leave D, E, G, H, I, J unmatched.
- `empty_comment_refs` : {c['customer_empty']} commentaires vides ou blancs que l'ingestion doit rejeter avec un motif /
  empty or blank comments that ingest must reject with a reason.
- `pii` : {len({(p['ref'], p['field']) for p in gt['pii']})} textes ({len(gt['pii'])} valeurs) contenant des données personnelles fictives (e-mail, téléphone, nom, IBAN) à masquer /
  texts holding fictional PII (email, phone, person name, IBAN) that must be masked.
"""


# ---------------------------------------------------------------------------
# Verification of the written files
# ---------------------------------------------------------------------------
def verify(out: Path, gt) -> None:
    with open(out / "clients.csv", encoding="utf-8", newline="") as f:
        crow = list(csv.DictReader(f, delimiter=";"))
    with open(out / "postiers.csv", encoding="utf-8", newline="") as f:
        erow = list(csv.DictReader(f, delimiter=";"))
    with open(out / "labels.csv", encoding="utf-8", newline="") as f:
        lrow = list(csv.DictReader(f))
    texts = [r["commentaire"] for r in crow if r["commentaire"].strip()]
    for r in erow:
        assert r["ce_qui_va_bien"].strip() or r["ce_qui_irrite"].strip(), r["id"]
        texts += [t for t in (r["ce_qui_va_bien"], r["ce_qui_irrite"]) if t.strip()]
    keys = [normalise(t) for t in texts]
    assert len(keys) == len(set(keys)), "duplicate texts after normalisation"
    assert len(texts) == len(lrow) == gt["counts"]["nonempty_verbatims_total"]
    assert len(texts) >= 1500
    assert sum(1 for r in crow if not r["commentaire"].strip()) == len(gt["empty_comment_refs"])
    assert all(1 <= int(r["note"]) <= 5 for r in crow)
    assert all(0 <= int(r["note_reco"]) <= 10 for r in erow)
    for side, rows, key in (("c", crow, "bureau"), ("e", erow, "site")):
        cells = {(r[key], (r["date_avis"][3:5] if side == "c" else r["date"].split()[1])) for r in rows}
        assert len(cells) == len(UNITS) * 12, (side, len(cells))
    assert sum(";" in r["ce_qui_va_bien"] + r["ce_qui_irrite"] for r in erow) >= 3
    assert sum("\n" in r["ce_qui_va_bien"] + r["ce_qui_irrite"] for r in erow) >= 2
    for name in ("clients.csv", "postiers.csv", "labels.csv", "ground_truth.json", "README.md"):
        assert (out / name).stat().st_size < 1_000_000 * max(1, N_CUSTOMER_ROWS // 1700), name


def configure(seed: int, n_units: int, customers: int, employees: int, mirrors: bool, shuffled: bool = False) -> None:
    """Set the generator's parameters (module constants, so the shipped sample's code path is unchanged)."""
    global SEED, UNITS, N_CUSTOMER_ROWS, N_EMPLOYEE_ROWS, MIRRORS, SHUFFLED_ORDER
    if not 4 <= n_units <= len(UNITS) + len(EXTRA_CITIES) * len(EXTRA_PLACES):
        raise SystemExit(f"--units must be between 4 and {len(UNITS) + len(EXTRA_CITIES) * len(EXTRA_PLACES)}")
    SEED, N_CUSTOMER_ROWS, N_EMPLOYEE_ROWS, MIRRORS, SHUFFLED_ORDER = seed, customers, employees, mirrors, shuffled
    UNITS = network(n_units)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: data/raw/sample)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"random seed (default: {SEED}, the shipped sample)")
    ap.add_argument("--units", type=int, default=N_UNITS, help=f"number of offices (default: {N_UNITS}, the shipped count)")
    ap.add_argument("--customers", type=int, default=N_CUSTOMER_ROWS, help="customer rows")
    ap.add_argument("--employees", type=int, default=N_EMPLOYEE_ROWS, help="employee rows")
    ap.add_argument("--no-mirrors", action="store_true", help="a null sample: no planted customer↔employee linkage "
                    "(with --shuffled-order, not even the office-order tie)")
    ap.add_argument("--shuffled-order", action="store_true", help="compose texts in a random order, not office by "
                    "office (removes an office-order artefact shared by both sides; not the shipped sample)")
    args = ap.parse_args(argv)
    configure(args.seed, args.units, args.customers, args.employees, not args.no_mirrors, args.shuffled_order)
    rng = random.Random(SEED)
    customers, employees, pii, lat, uniq = generate(rng)
    stats = realised_stats(customers, employees)
    files, gt = build_outputs(customers, employees, pii, lat, stats, uniq)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (args.out / name).write_bytes(data)
    verify(args.out, gt)
    c = gt["counts"]
    corr = gt["realised_correlations"]
    print(f"clients.csv   {c['customer_rows']} rows ({c['customer_empty']} empty)")
    print(f"postiers.csv  {c['employee_rows']} rows ({c['employee_nonempty_fields']} non-empty fields)")
    print(f"labels.csv    {c['label_rows']} rows; non-empty verbatims {c['nonempty_verbatims_total']}")
    print("unit-level correlations: " + ", ".join(f"{k}={v:.3f}" for k, v in corr.items()))
    print("pair1 lagged: " + str(gt["pairs"][0]["realised_lagged_corr"]))
    print("pair2 lagged: " + str(gt["pairs"][1]["realised_lagged_corr"]))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
