/*
 * libFuzzer harness for the bitmesh-helper frame parser: the fuzz input is the byte
 * stream on stdin. The invariant: serve() never crashes, never overruns its buffers
 * (ASan/UBSan) and every answer frame is exactly as long as its length prefix says
 * (sink_header/sink_end abort otherwise). Short chains keep executions fast, and small
 * answer caps let 4 KiB inputs reach the RESPONSE_FULL path.
 */
#define BM_NO_MAIN
#define BM_MAX_CHAIN 4096u
#define BM_MAX_CHECKPOINTS 256u
#define BM_MAX_RESPONSE 16384u
#include "../src/bitmesh-helper.c"

typedef struct {
    bm_source base;
    const uint8_t *p;
    size_t left;
} mem_source;

static size_t mem_read(bm_source *src, uint8_t *p, size_t n) {
    mem_source *m = (mem_source *)src;
    size_t take = n < m->left ? n : m->left;
    memcpy(p, m->p, take);
    m->p += take;
    m->left -= take;
    return take;
}

static int null_write(bm_sink *s, const uint8_t *p, size_t n) {
    (void)s;
    (void)p;
    (void)n;
    return 0;
}

static bm_helper fuzz_helper;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!fuzz_helper.ctx) {
        sha256_select();
        fuzz_helper.ctx = make_context();
    }
    mem_source in = {{mem_read}, data, size};
    bm_sink out = {null_write, 0, 0};
    serve(&fuzz_helper, &in.base, &out, NULL);
    if (out.frame_left != 0) abort();
    return 0;
}
