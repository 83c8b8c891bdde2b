#!/usr/bin/env python3
"""real_shapes_ref.py — an independent NumPy float64 forward pass of a GGUF
model (llama / qwen2: GQA, NeoX or adjacent-pair RoPE, llama3 rope_freqs,
biases, tied or separate output), with its own GGUF reader and its own
dequantisers (F32, F16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K) written from the GGML
block layouts. Compares smcgen's logits (`smcgen logits --json
--all-positions`) with it.

usage: real_shapes_ref.py MODEL.gguf EXACT.json FAST.json TOL_EXACT TOL_FAST
  EXACT.json: smcgen with --exact (weights dequantised, f32 activations):
              worst |logit difference| must be <= TOL_EXACT (relative to
              the largest |logit|), argmax equal everywhere.
  FAST.json:  smcgen's default kernels (8-bit activations, as llama.cpp):
              worst difference <= TOL_FAST (relative), argmax equal at all
              but at most one position.
Prints the figures; exits 1 on a mismatch."""
import json
import struct
import sys

import numpy as np

# ---- GGUF reading ----------------------------------------------------------
SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def read_gguf(path):
    buf = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take("<Q")
        s = buf[pos:pos + n].decode("utf-8", "replace")
        pos += n
        return s

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("<I"), take("<Q")
            return [value(et) for _ in range(n)]
        return take(SCALAR[t])

    assert buf[:4] == b"GGUF", "not a GGUF file"
    pos = 4
    version, n_t, n_kv = take("<I"), take("<Q"), take("<Q")
    assert version == 3
    kv = {}
    for _ in range(n_kv):
        k = string()
        kv[k] = value(take("<I"))
    infos = []
    for _ in range(n_t):
        name = string()
        nd = take("<I")
        ne = [take("<Q") for _ in range(nd)]
        infos.append((name, ne, take("<I"), take("<Q")))
    align = kv.get("general.alignment", 32)
    data0 = (pos + align - 1) // align * align
    tensors = {}
    for name, ne, typ, off in infos:
        n = int(np.prod(ne))
        tensors[name] = dequant(typ, buf, data0 + off, n).reshape(list(reversed(ne)))
    return kv, tensors


def f16(raw, off, count, stride):
    """count f16 values at off, off+stride, ..."""
    idx = off + np.arange(count) * stride
    b = np.frombuffer(raw, dtype=np.uint8)
    return (b[idx].astype(np.uint16) | (b[idx + 1].astype(np.uint16) << 8)).view(np.float16).astype(np.float64)


def blocks(raw, off, nblk, size):
    return np.frombuffer(raw, dtype=np.uint8, count=nblk * size, offset=off).reshape(nblk, size)


def dequant(typ, raw, off, n):
    if typ == 0:
        return np.frombuffer(raw, dtype="<f4", count=n, offset=off).astype(np.float64)
    if typ == 1:
        return np.frombuffer(raw, dtype="<f2", count=n, offset=off).astype(np.float64)
    if typ == 8:  # Q8_0: f16 d, int8 q[32]
        b = blocks(raw, off, n // 32, 34)
        d = f16(raw, off, n // 32, 34)
        q = b[:, 2:].view(np.int8).astype(np.float64)
        return (d[:, None] * q).ravel()
    if typ == 2:  # Q4_0: f16 d, 16 bytes: low nibbles are 0..15, high 16..31, minus 8
        b = blocks(raw, off, n // 32, 18)
        d = f16(raw, off, n // 32, 18)
        qs = b[:, 2:]
        q = np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.float64) - 8
        return (d[:, None] * q).ravel()
    if typ == 6:  # Q5_0: f16 d, u32 high bits, 16 bytes of nibbles, minus 16
        b = blocks(raw, off, n // 32, 22)
        d = f16(raw, off, n // 32, 22)
        qh = b[:, 2:6].copy().view("<u4")[:, 0].astype(np.uint64)
        qs = b[:, 6:]
        j = np.arange(16, dtype=np.uint64)
        hi0 = ((qh[:, None] >> j) & 1) << 4
        hi1 = ((qh[:, None] >> (j + 16)) & 1) << 4
        q = np.concatenate([(qs & 15) | hi0, (qs >> 4) | hi1], axis=1).astype(np.float64) - 16
        return (d[:, None] * q).ravel()
    if typ == 12:  # Q4_K: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
        nb = n // 256
        b = blocks(raw, off, nb, 144)
        d = f16(raw, off, nb, 144)
        dmin = f16(raw, off + 2, nb, 144)
        s = b[:, 4:16].astype(np.int64)
        sc = np.zeros((nb, 8))
        mn = np.zeros((nb, 8))
        for j in range(8):
            if j < 4:
                sc[:, j], mn[:, j] = s[:, j] & 63, s[:, j + 4] & 63
            else:
                sc[:, j] = (s[:, j + 4] & 15) | ((s[:, j - 4] >> 6) << 4)
                mn[:, j] = (s[:, j + 4] >> 4) | ((s[:, j] >> 6) << 4)
        qs = b[:, 16:].reshape(nb, 4, 32)
        out = np.zeros((nb, 8, 32))
        for c in range(4):  # 64 values per chunk: 32 low nibbles, then 32 high
            out[:, 2 * c] = (qs[:, c] & 15) * (d * sc[:, 2 * c])[:, None] - (dmin * mn[:, 2 * c])[:, None]
            out[:, 2 * c + 1] = (qs[:, c] >> 4) * (d * sc[:, 2 * c + 1])[:, None] - (dmin * mn[:, 2 * c + 1])[:, None]
        return out.ravel()
    if typ == 14:  # Q6_K: ql[128], qh[64], int8 scales[16], f16 d
        nb = n // 256
        b = blocks(raw, off, nb, 210)
        d = f16(raw, off + 208, nb, 210)
        ql, qh = b[:, :128].astype(np.int64), b[:, 128:192].astype(np.int64)
        sc = b[:, 192:208].view(np.int8).astype(np.float64)
        out = np.zeros((nb, 256))
        for h in range(2):  # two halves of 128 values
            L, H, S = ql[:, 64 * h:64 * h + 64], qh[:, 32 * h:32 * h + 32], sc[:, 8 * h:8 * h + 8]
            q1 = ((L[:, :32] & 15) | ((H & 3) << 4)) - 32
            q2 = ((L[:, 32:] & 15) | (((H >> 2) & 3) << 4)) - 32
            q3 = ((L[:, :32] >> 4) | (((H >> 4) & 3) << 4)) - 32
            q4 = ((L[:, 32:] >> 4) | (((H >> 6) & 3) << 4)) - 32
            for k, q in enumerate((q1, q2, q3, q4)):
                l = np.arange(32)
                scale = S[:, (l // 16) + 2 * k]
                out[:, 128 * h + 32 * k:128 * h + 32 * k + 32] = d[:, None] * scale * q
        return out.ravel()
    raise SystemExit("unsupported tensor type %d" % typ)


# ---- the network -----------------------------------------------------------
def rmsnorm(x, w, eps):
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * w


def forward(kv, T, ids):
    arch = kv["general.architecture"]
    g = lambda k, d=None: kv.get(arch + "." + k, d)
    n_layer, n_head = g("block_count"), g("attention.head_count")
    n_kv = g("attention.head_count_kv", n_head)
    eps = g("attention.layer_norm_rms_epsilon")
    base = g("rope.freq_base", 10000.0)
    E = T["token_embd.weight"]
    hd = g("attention.key_length", E.shape[1] // n_head)
    n_rot = g("rope.dimension_count", hd)
    neox = arch != "llama"
    factors = T.get("rope_freqs.weight", np.ones(n_rot // 2))
    n = len(ids)
    pos = np.arange(n)[:, None]
    theta = pos * base ** (-2.0 * np.arange(n_rot // 2) / n_rot) / factors
    cos, sin = np.cos(theta)[:, None, :], np.sin(theta)[:, None, :]

    def rope(x):  # x [n, heads, hd]
        x = x.copy()
        half = n_rot // 2
        a = x[..., :half] if neox else x[..., 0:n_rot:2]
        b = x[..., half:n_rot] if neox else x[..., 1:n_rot:2]
        ra, rb = a * cos - b * sin, a * sin + b * cos
        if neox:
            x[..., :half], x[..., half:n_rot] = ra, rb
        else:
            x[..., 0:n_rot:2], x[..., 1:n_rot:2] = ra, rb
        return x

    def lin(name, h):
        y = h @ T[name + ".weight"].T
        return y + T[name + ".bias"] if name + ".bias" in T else y

    x = E[ids]
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for l in range(n_layer):
        p = "blk.%d." % l
        h = rmsnorm(x, T[p + "attn_norm.weight"], eps)
        q = rope(lin(p + "attn_q", h).reshape(n, n_head, hd))
        k = rope(lin(p + "attn_k", h).reshape(n, n_kv, hd))
        v = lin(p + "attn_v", h).reshape(n, n_kv, hd)
        rep = n_head // n_kv
        k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
        s = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(hd) + mask
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        s /= s.sum(axis=-1, keepdims=True)
        o = np.einsum("hqk,khd->qhd", s, v).reshape(n, n_head * hd)
        x = x + lin(p + "attn_output", o)
        h = rmsnorm(x, T[p + "ffn_norm.weight"], eps)
        a, u = lin(p + "ffn_gate", h), lin(p + "ffn_up", h)
        x = x + lin(p + "ffn_down", a / (1 + np.exp(-a)) * u)
    h = rmsnorm(x, T["output_norm.weight"], eps)
    return h @ T.get("output.weight", E).T


def compare(ref, path):
    got = json.load(open(path))
    L = np.array([p["logits"] for p in got["positions"]], dtype=np.float64)
    scale = np.abs(ref).max()
    worst = np.abs(L - ref).max() / scale
    flips = int((L.argmax(axis=1) != ref.argmax(axis=1)).sum())
    return worst, flips, scale


def main():
    model, exact, fast, tol_exact, tol_fast = sys.argv[1:6]
    kv, T = read_gguf(model)
    ids = json.load(open(exact))["ids"]
    ref = forward(kv, T, ids)
    we, fe, scale = compare(ref, exact)
    wf, ff, _ = compare(ref, fast)
    print("  %s: |logit| up to %.1f; exact path worst %.2e (tol %s), argmax differs at %d; "
          "fast path worst %.2e (tol %s), argmax differs at %d of %d"
          % (kv["general.architecture"], scale, we, tol_exact, fe, wf, tol_fast, ff, len(ids)))
    ok = we <= float(tol_exact) and fe == 0 and wf <= float(tol_fast) and ff <= 1
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
