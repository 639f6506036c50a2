/*
 * bitmesh-helper: SHA-256, PayWord hash chains, BIP340 Schnorr and ECDSA (libsecp256k1)
 * for the BitMesh agent, spoken to over a framed binary protocol on stdin/stdout.
 * The protocol is specified in docs/helper.md; the numbers below must match it and
 * src/crypto/helper-protocol.ts.
 *
 * Rules this file keeps:
 *  - every frame is length-checked before anything reads it; a bad frame gets an
 *    error frame and the stream stays in sync (the length prefix says what to skip);
 *  - memory is fixed: one frame buffer of BM_MAX_FRAME bytes and one output buffer;
 *    responses are streamed, and their length is planned before the first byte;
 *  - secret keys are wiped from the frame buffer and from libsecp256k1 structs after use;
 *  - nothing the peer sends can make it abort: only broken internal invariants do.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#if defined(__linux__)
#include <sys/random.h>
#endif

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#define BM_VERSION "1.0.0"
#define BM_PROTOCOL_VERSION 1u
#define BM_HEADER 5u                      /* u8 opcode/status + u32 id */
#define BM_MAX_FRAME (1u << 20)           /* request body: opcode + id + payload */
/* The fuzz build lowers the next three so its short inputs reach every limit. */
#ifndef BM_MAX_RESPONSE
#define BM_MAX_RESPONSE (16u << 20)       /* response body cap (BATCH answers) */
#endif
#ifndef BM_MAX_CHAIN
#define BM_MAX_CHAIN (1u << 26)           /* longest chain one request may ask for */
#endif
#ifndef BM_MAX_CHECKPOINTS
#define BM_MAX_CHECKPOINTS 32768u         /* 1 MiB of checkpoints */
#endif
#define BM_MAX_DISTANCE 64u               /* chain-verify search bound */

_Static_assert(BM_MAX_RESPONSE >= BM_HEADER + 32u + 32u * BM_MAX_CHECKPOINTS, "one answer must fit the cap");

enum bm_op {
    OP_INFO = 0x00,
    OP_SHA256 = 0x01,
    OP_CHAIN_GEN = 0x02,
    OP_CHAIN_VERIFY = 0x03,
    OP_SCHNORR_PUB = 0x04,
    OP_SCHNORR_SIGN = 0x05,
    OP_SCHNORR_VERIFY = 0x06,
    OP_ECDSA_SIGN = 0x07,
    OP_ECDSA_VERIFY = 0x08,
    OP_BATCH = 0x09,
};

enum bm_status {
    ST_OK = 0x00,
    ST_BAD_FRAME = 0x01,      /* frame shorter than its 5-byte header */
    ST_UNKNOWN_OP = 0x02,
    ST_BAD_LENGTH = 0x03,     /* payload length wrong for the opcode */
    ST_BAD_PARAM = 0x04,      /* chain length, checkpoint or distance out of range */
    ST_BAD_KEY = 0x05,        /* secret key is zero or >= curve order */
    ST_TOO_LARGE = 0x06,      /* frame longer than BM_MAX_FRAME; it was skipped */
    ST_RESPONSE_FULL = 0x07,  /* BATCH item whose answer would pass BM_MAX_RESPONSE */
    ST_NESTED_BATCH = 0x08,
};

/* ---------- SHA-256 (FIPS 180-4) ---------- */

typedef struct {
    uint32_t h[8];
    uint64_t total;
    uint8_t buf[64];
    size_t fill;
} sha256_ctx;

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t H256[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static uint32_t be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void sha256_compress_portable(uint32_t h[8], const uint8_t block[64]) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++) w[i] = be32(block + 4 * i);
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}


/*
 * x86-64 SHA extensions (Intel SHA-NI, AMD Zen), picked at run time: several times faster
 * than the portable code, which matters for hash chains. Same results, checked by the
 * differential tests with BITMESH_HELPER_PORTABLE_SHA=1 forcing the portable path.
 */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define BM_HAVE_SHANI 1

__attribute__((target("sha,sse4.1"))) static void sha256_compress_shani(uint32_t h[8], const uint8_t block[64]) {
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)&h[0]), 0xB1); /* CDAB */
    __m128i st1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)&h[4]), 0x1B); /* EFGH */
    __m128i st0 = _mm_alignr_epi8(tmp, st1, 8);                                                   /* ABEF */
    st1 = _mm_blend_epi16(st1, tmp, 0xF0);                                                         /* CDGH */
    const __m128i abef = st0, cdgh = st1;
    __m128i w[4];
    for (int g = 0; g < 16; g++) {
        if (g < 4) {
            w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(block + 16 * g)), bswap);
        } else {
            /* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], four words at a time */
            __m128i t = _mm_sha256msg1_epu32(w[g & 3], w[(g - 3) & 3]);
            t = _mm_add_epi32(t, _mm_alignr_epi8(w[(g - 1) & 3], w[(g - 2) & 3], 4));
            w[g & 3] = _mm_sha256msg2_epu32(t, w[(g - 1) & 3]);
        }
        __m128i msg = _mm_add_epi32(w[g & 3], _mm_loadu_si128((const __m128i *)(const void *)&K256[4 * g]));
        st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
        st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(msg, 0x0E));
    }
    st0 = _mm_add_epi32(st0, abef);
    st1 = _mm_add_epi32(st1, cdgh);
    tmp = _mm_shuffle_epi32(st0, 0x1B);      /* FEBA */
    st1 = _mm_shuffle_epi32(st1, 0xB1);      /* DCHG */
    st0 = _mm_blend_epi16(tmp, st1, 0xF0);   /* DCBA */
    st1 = _mm_alignr_epi8(st1, tmp, 8);      /* HGFE */
    _mm_storeu_si128((__m128i *)(void *)&h[0], st0);
    _mm_storeu_si128((__m128i *)(void *)&h[4], st1);
}

static int cpu_has_shani(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 19)) || !(c & (1u << 9))) return 0; /* SSE4.1, SSSE3 */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 29) & 1; /* SHA */
}
#endif

/* Chosen once in sha256_select() before any request is read. */
static void (*sha256_compress)(uint32_t h[8], const uint8_t block[64]) = sha256_compress_portable;
static int sha256_hardware;

static const char *sha256_select(void) {
#ifdef BM_HAVE_SHANI
    const char *force = getenv("BITMESH_HELPER_PORTABLE_SHA");
    if ((force == NULL || *force == '\0') && cpu_has_shani()) {
        sha256_compress = sha256_compress_shani;
        sha256_hardware = 1;
        return "sha-ni";
    }
#endif
    sha256_compress = sha256_compress_portable;
    sha256_hardware = 0;
    return "portable";
}

static void sha256_init(sha256_ctx *c) {
    memcpy(c->h, H256, sizeof H256);
    c->total = 0;
    c->fill = 0;
}

static void sha256_update(sha256_ctx *c, const uint8_t *p, size_t n) {
    c->total += n;
    if (c->fill) {
        size_t take = 64 - c->fill < n ? 64 - c->fill : n;
        memcpy(c->buf + c->fill, p, take);
        c->fill += take;
        p += take;
        n -= take;
        if (c->fill < 64) return;
        sha256_compress(c->h, c->buf);
        c->fill = 0;
    }
    for (; n >= 64; p += 64, n -= 64) sha256_compress(c->h, p);
    memcpy(c->buf, p, n);
    c->fill = n;
}

static void sha256_final(sha256_ctx *c, uint8_t out[32]) {
    uint64_t bits = c->total * 8;
    uint8_t pad = 0x80;
    sha256_update(c, &pad, 1);
    static const uint8_t zeros[64] = {0};
    sha256_update(c, zeros, (c->fill <= 56 ? 56 : 120) - c->fill);
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(c, len, 8);
    for (int i = 0; i < 8; i++) put_be32(out + 4 * i, c->h[i]);
}

static void sha256(const uint8_t *p, size_t n, uint8_t out[32]) {
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, p, n);
    sha256_final(&c, out);
}

/* Hash chains hash 32 bytes at a time: one block with fixed padding, no buffering. */
static void sha256_32(const uint8_t in[32], uint8_t out[32]) {
    uint8_t block[64];
    uint32_t h[8];
    memcpy(block, in, 32);
    block[32] = 0x80;
    memset(block + 33, 0, 29);
    block[62] = 0x01; /* 256 bits */
    block[63] = 0x00;
    memcpy(h, H256, sizeof H256);
    sha256_compress(h, block);
    for (int i = 0; i < 8; i++) put_be32(out + 4 * i, h[i]);
}

/* ---------- wiping ---------- */

/* A volatile function pointer keeps the compiler from dropping the final memset. */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

static void wipe(void *p, size_t n) {
    wipe_memset(p, 0, n);
}

/* ---------- output sink: streamed, with the frame length checked as an invariant ---------- */

typedef struct bm_sink {
    /* write n bytes; returns 0 on success, -1 if the peer is gone */
    int (*write)(struct bm_sink *, const uint8_t *, size_t);
    uint64_t frame_left; /* bytes the current frame still owes */
    int failed;
} bm_sink;

static void sink_put(bm_sink *s, const uint8_t *p, size_t n) {
    if (n > s->frame_left) {
        fprintf(stderr, "bitmesh-helper: internal error: frame overrun\n");
        abort();
    }
    s->frame_left -= n;
    if (!s->failed && s->write(s, p, n) != 0) s->failed = 1;
}

static void sink_header(bm_sink *s, uint32_t body_len, uint8_t status, uint32_t id) {
    uint8_t h[9];
    if (s->frame_left != 0) {
        fprintf(stderr, "bitmesh-helper: internal error: frame underrun\n");
        abort();
    }
    put_be32(h, body_len);
    h[4] = status;
    put_be32(h + 5, id);
    s->frame_left = 4 + (uint64_t)body_len;
    sink_put(s, h, 9);
}

static void sink_end(bm_sink *s) {
    if (s->frame_left != 0) {
        fprintf(stderr, "bitmesh-helper: internal error: frame underrun\n");
        abort();
    }
}

/* ---------- operations: plan (validate, size the answer) then execute ---------- */

typedef struct {
    secp256k1_context *ctx;
} bm_helper;

typedef struct {
    uint8_t status;
    uint32_t out_len; /* payload bytes of the answer; 0 for every error */
} bm_plan;

static bm_plan plan_ok(uint32_t n) {
    bm_plan p = {ST_OK, n};
    return p;
}

static bm_plan plan_err(uint8_t st) {
    bm_plan p = {st, 0};
    return p;
}

static bm_plan plan_op(const bm_helper *h, uint8_t op, const uint8_t *p, size_t n) {
    switch (op) {
    case OP_INFO:
        return n == 0 ? plan_ok(15) : plan_err(ST_BAD_LENGTH);
    case OP_SHA256:
        return plan_ok(32);
    case OP_CHAIN_GEN: {
        if (n != 40) return plan_err(ST_BAD_LENGTH);
        uint32_t len = be32(p + 32), every = be32(p + 36);
        if (len > BM_MAX_CHAIN) return plan_err(ST_BAD_PARAM);
        uint32_t count = every ? len / every : 0;
        if (count > BM_MAX_CHECKPOINTS) return plan_err(ST_BAD_PARAM);
        return plan_ok(32 + 32 * count);
    }
    case OP_CHAIN_VERIFY:
        if (n != 65) return plan_err(ST_BAD_LENGTH);
        if (p[64] < 1 || p[64] > BM_MAX_DISTANCE) return plan_err(ST_BAD_PARAM);
        return plan_ok(1);
    case OP_SCHNORR_PUB:
        if (n != 32) return plan_err(ST_BAD_LENGTH);
        return secp256k1_ec_seckey_verify(h->ctx, p) ? plan_ok(32) : plan_err(ST_BAD_KEY);
    case OP_SCHNORR_SIGN:
        if (n < 64) return plan_err(ST_BAD_LENGTH);
        return secp256k1_ec_seckey_verify(h->ctx, p) ? plan_ok(64) : plan_err(ST_BAD_KEY);
    case OP_SCHNORR_VERIFY:
        return n >= 96 ? plan_ok(1) : plan_err(ST_BAD_LENGTH);
    case OP_ECDSA_SIGN:
        if (n != 64) return plan_err(ST_BAD_LENGTH);
        return secp256k1_ec_seckey_verify(h->ctx, p) ? plan_ok(64) : plan_err(ST_BAD_KEY);
    case OP_ECDSA_VERIFY:
        return n == 129 ? plan_ok(1) : plan_err(ST_BAD_LENGTH);
    case OP_BATCH:
        return plan_err(ST_NESTED_BATCH); /* top-level BATCH is handled by handle_frame */
    default:
        return plan_err(ST_UNKNOWN_OP);
    }
}

static void fatal_internal(const char *what) {
    fprintf(stderr, "bitmesh-helper: internal error: %s\n", what);
    abort();
}

static void exec_chain_gen(bm_sink *s, const uint8_t *p) {
    uint8_t cur[32];
    uint32_t len = be32(p + 32), every = be32(p + 36);
    memcpy(cur, p, 32); /* W_len = seed */
    /* Walk down from W_len to W_0, emitting W_i for i = every*count, ..., every (descending). */
    for (uint32_t i = len; i > 0; i--) {
        if (every && i % every == 0) sink_put(s, cur, 32);
        sha256_32(cur, cur);
    }
    sink_put(s, cur, 32); /* W_0, the anchor */
    wipe(cur, sizeof cur);
}

static void exec_op(const bm_helper *h, bm_sink *s, uint8_t op, const uint8_t *p, size_t n) {
    uint8_t out[64];
    switch (op) {
    case OP_INFO:
        out[0] = (uint8_t)BM_PROTOCOL_VERSION;
        put_be32(out + 1, BM_MAX_FRAME);
        put_be32(out + 5, BM_MAX_RESPONSE);
        put_be32(out + 9, BM_MAX_CHAIN);
        out[13] = (uint8_t)BM_MAX_DISTANCE;
        out[14] = (uint8_t)(sha256_hardware ? 1 : 0); /* flags: bit 0 = hardware SHA-256 */
        sink_put(s, out, 15);
        return;
    case OP_SHA256:
        sha256(p, n, out);
        sink_put(s, out, 32);
        return;
    case OP_CHAIN_GEN:
        exec_chain_gen(s, p);
        return;
    case OP_CHAIN_VERIFY: {
        uint8_t cur[32], dist = 0;
        memcpy(cur, p + 32, 32);
        for (unsigned d = 1; d <= p[64]; d++) {
            sha256_32(cur, cur);
            if (memcmp(cur, p, 32) == 0) {
                dist = (uint8_t)d;
                break;
            }
        }
        sink_put(s, &dist, 1);
        return;
    }
    case OP_SCHNORR_PUB: {
        secp256k1_keypair kp;
        secp256k1_xonly_pubkey xpk;
        if (!secp256k1_keypair_create(h->ctx, &kp, p) || !secp256k1_keypair_xonly_pub(h->ctx, &xpk, NULL, &kp) ||
            !secp256k1_xonly_pubkey_serialize(h->ctx, out, &xpk))
            fatal_internal("keypair");
        wipe(&kp, sizeof kp);
        sink_put(s, out, 32);
        return;
    }
    case OP_SCHNORR_SIGN: {
        secp256k1_keypair kp;
        secp256k1_schnorrsig_extraparams extra = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
        extra.ndata = (void *)(uintptr_t)(p + 32); /* aux_rand32 */
        if (!secp256k1_keypair_create(h->ctx, &kp, p) ||
            !secp256k1_schnorrsig_sign_custom(h->ctx, out, p + 64, n - 64, &kp, &extra))
            fatal_internal("schnorr sign");
        wipe(&kp, sizeof kp);
        sink_put(s, out, 64);
        return;
    }
    case OP_SCHNORR_VERIFY: {
        secp256k1_xonly_pubkey xpk;
        uint8_t ok = secp256k1_xonly_pubkey_parse(h->ctx, &xpk, p) &&
                     secp256k1_schnorrsig_verify(h->ctx, p + 32, p + 96, n - 96, &xpk);
        sink_put(s, &ok, 1);
        return;
    }
    case OP_ECDSA_SIGN: {
        secp256k1_ecdsa_signature sig;
        /* NULL nonce function = RFC6979; libsecp256k1 always returns low-S. */
        if (!secp256k1_ecdsa_sign(h->ctx, &sig, p + 32, p, NULL, NULL) ||
            !secp256k1_ecdsa_signature_serialize_compact(h->ctx, out, &sig))
            fatal_internal("ecdsa sign");
        sink_put(s, out, 64);
        return;
    }
    case OP_ECDSA_VERIFY: {
        secp256k1_pubkey pk;
        secp256k1_ecdsa_signature sig;
        /* ecdsa_verify rejects high-S, matching noble's lowS: true. */
        uint8_t ok = secp256k1_ec_pubkey_parse(h->ctx, &pk, p, 33) &&
                     secp256k1_ecdsa_signature_parse_compact(h->ctx, &sig, p + 33) &&
                     secp256k1_ecdsa_verify(h->ctx, &sig, p + 97, &pk);
        sink_put(s, &ok, 1);
        return;
    }
    default:
        fatal_internal("exec of an unplanned op");
    }
}

/*
 * BATCH payload: items of u32 len | u8 opcode | payload (len counts opcode + payload).
 * Answer payload: items of u32 len | u8 status | payload, in the same order.
 * Walked twice: once to size the answer (s == NULL), once to write it.
 * Returns 0 if the item framing is broken (the whole frame is then ST_BAD_LENGTH).
 */
static int walk_batch(const bm_helper *h, const uint8_t *p, size_t n, bm_sink *s, uint32_t *total) {
    uint64_t sum = 0;
    size_t off = 0;
    while (off < n) {
        if (n - off < 5) return 0;
        uint32_t len = be32(p + off);
        if (len < 1 || len > n - off - 4) return 0;
        uint8_t op = p[off + 4];
        const uint8_t *pl = p + off + 5;
        size_t pn = len - 1;
        bm_plan pln = plan_op(h, op, pl, pn);
        /* Keep room for a 5-byte status for every later item: each took >= 5 request bytes. */
        size_t later = n - off - 4 - len;
        if (sum + 5 + pln.out_len + later > BM_MAX_RESPONSE - BM_HEADER) pln = plan_err(ST_RESPONSE_FULL);
        sum += 5 + pln.out_len;
        if (sum > BM_MAX_RESPONSE - BM_HEADER) fatal_internal("batch answer over its cap");
        if (s) {
            uint8_t hd[5];
            put_be32(hd, 1 + pln.out_len);
            hd[4] = pln.status;
            sink_put(s, hd, 5);
            if (pln.status == ST_OK) exec_op(h, s, op, pl, pn);
        }
        off += 4 + (size_t)len;
    }
    *total = (uint32_t)sum;
    return 1;
}

static void send_error(bm_sink *s, uint8_t status, uint32_t id) {
    sink_header(s, BM_HEADER, status, id);
    sink_end(s);
}

/* One request body (opcode | id | payload), already length-checked against BM_MAX_FRAME. */
static void handle_frame(const bm_helper *h, bm_sink *s, const uint8_t *body, size_t len) {
    if (len < BM_HEADER) {
        send_error(s, ST_BAD_FRAME, 0);
        return;
    }
    uint8_t op = body[0];
    uint32_t id = be32(body + 1);
    const uint8_t *p = body + BM_HEADER;
    size_t n = len - BM_HEADER;
    if (op == OP_BATCH) {
        uint32_t total = 0;
        if (!walk_batch(h, p, n, NULL, &total)) {
            send_error(s, ST_BAD_LENGTH, id);
            return;
        }
        sink_header(s, BM_HEADER + total, ST_OK, id);
        walk_batch(h, p, n, s, &total);
        sink_end(s);
        return;
    }
    bm_plan pln = plan_op(h, op, p, n);
    sink_header(s, BM_HEADER + pln.out_len, pln.status, id);
    if (pln.status == ST_OK) exec_op(h, s, op, p, n);
    sink_end(s);
}

/* ---------- the stream loop, generic over its byte source so the fuzzer can drive it ---------- */

typedef struct bm_source {
    /* fill exactly n bytes; returns n, or fewer at end of input */
    size_t (*read)(struct bm_source *, uint8_t *, size_t);
} bm_source;

static uint8_t frame_buf[BM_MAX_FRAME];

enum { SERVE_EOF = 0, SERVE_TRUNCATED = 3, SERVE_PEER_GONE = 4 };

static int serve(const bm_helper *h, bm_source *in, bm_sink *out, void (*flush)(bm_sink *)) {
    for (;;) {
        uint8_t lenb[4];
        size_t got = in->read(in, lenb, 4);
        if (got == 0) return SERVE_EOF;
        if (got < 4) return SERVE_TRUNCATED;
        uint32_t len = be32(lenb);
        if (len > BM_MAX_FRAME) {
            /* Skip the body in buffer-sized pieces to stay in sync; answer with its id. */
            uint32_t id = 0;
            uint32_t left = len;
            int first = 1;
            while (left > 0) {
                size_t take = left < BM_MAX_FRAME ? left : BM_MAX_FRAME;
                if (in->read(in, frame_buf, take) < take) return SERVE_TRUNCATED;
                if (first) id = be32(frame_buf + 1);
                first = 0;
                left -= (uint32_t)take;
            }
            wipe(frame_buf, BM_MAX_FRAME);
            send_error(out, ST_TOO_LARGE, id);
        } else {
            if (in->read(in, frame_buf, len) < len) {
                wipe(frame_buf, len);
                return SERVE_TRUNCATED;
            }
            handle_frame(h, out, frame_buf, len);
            wipe(frame_buf, len); /* requests carry secret keys */
        }
        if (flush) flush(out);
        if (out->failed) return SERVE_PEER_GONE;
    }
}

static secp256k1_context *make_context(void) {
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    uint8_t seed[32];
    size_t got = 0;
#if defined(__linux__)
    while (got < sizeof seed) {
        ssize_t r = getrandom(seed + got, sizeof seed - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
#endif
    if (got < sizeof seed) {
        int fd = open("/dev/urandom", O_RDONLY);
        if (fd >= 0) {
            got = 0;
            while (got < sizeof seed) {
                ssize_t r = read(fd, seed + got, sizeof seed - got);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) break;
                got += (size_t)r;
            }
            close(fd);
        }
    }
    /* Blinding is side-channel hardening only; without randomness we still run correctly. */
    if (ctx && got == sizeof seed && !secp256k1_context_randomize(ctx, seed))
        fprintf(stderr, "bitmesh-helper: context randomization failed\n");
    wipe(seed, sizeof seed);
    return ctx;
}

#ifndef BM_NO_MAIN

typedef struct {
    bm_source base;
    int fd;
} fd_source;

static size_t fd_read(bm_source *src, uint8_t *p, size_t n) {
    fd_source *f = (fd_source *)src;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(f->fd, p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    return got;
}

typedef struct {
    bm_sink base;
    int fd;
    size_t fill;
    uint8_t buf[65536];
} fd_sink;

static int fd_write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fd_sink_flush_buf(fd_sink *f) {
    int rc = fd_write_all(f->fd, f->buf, f->fill);
    f->fill = 0;
    return rc;
}

static int fd_sink_write(bm_sink *s, const uint8_t *p, size_t n) {
    fd_sink *f = (fd_sink *)s;
    if (f->fill + n > sizeof f->buf && fd_sink_flush_buf(f) != 0) return -1;
    if (n > sizeof f->buf) return fd_write_all(f->fd, p, n);
    memcpy(f->buf + f->fill, p, n);
    f->fill += n;
    return 0;
}

static void fd_sink_flush(bm_sink *s) {
    fd_sink *f = (fd_sink *)s;
    if (!s->failed && fd_sink_flush_buf(f) != 0) s->failed = 1;
}

static fd_sink out_sink;

int main(int argc, char **argv) {
    const char *sha_impl = sha256_select();
    if (argc > 1) {
        if (strcmp(argv[1], "--version") == 0) {
            printf("bitmesh-helper %s protocol %u sha256 %s\n", BM_VERSION, BM_PROTOCOL_VERSION, sha_impl);
            return 0;
        }
        fprintf(stderr, "usage: bitmesh-helper [--version]\n"
                        "Speaks the framed protocol of docs/helper.md on stdin/stdout.\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a vanished parent shows up as a write error: exit quietly */
    bm_helper h;
    h.ctx = make_context();
    if (!h.ctx) {
        fprintf(stderr, "bitmesh-helper: cannot create secp256k1 context\n");
        return 1;
    }
    fd_source in = {{fd_read}, STDIN_FILENO};
    out_sink.base.write = fd_sink_write;
    out_sink.fd = STDOUT_FILENO;
    int rc = serve(&h, &in.base, &out_sink.base, fd_sink_flush);
    secp256k1_context_destroy(h.ctx);
    if (rc == SERVE_TRUNCATED) fprintf(stderr, "bitmesh-helper: input ended inside a frame\n");
    return rc == SERVE_PEER_GONE ? 0 : rc;
}

#endif /* BM_NO_MAIN */
