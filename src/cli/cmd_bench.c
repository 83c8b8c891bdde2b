/* cmd_bench.c — `smcgen bench`: prompt tokens/s, decode tokens/s at several
 * numbers of sequences sharing a prefix, fork time, and at one sequence the
 * weight bandwidth as a fraction of a memcpy bandwidth measured in the same
 * run. Works on a GGUF file or on a synthetic model built in memory. */
#include "cli/cli.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/kv_cache.h"
#include "pipeline/run_options.h"
#include "pipeline/smc_setup.h"
#include "util/paths.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smcgen bench [-m MODEL.gguf | --synthetic NAME --type TYPE [--save FILE]] [-t N] [--json]\n"
            "                    [--prefix N] [--seqs LIST] [--prompt LIST] [--time S] [--steps N]\n\n"
            "Measures prompt processing, batched decoding of sequences sharing a prefix, and forks.\n"
            "At 1 sequence, weight bytes read per second (all weight matrices are read once per step)\n"
            "are compared with memcpy bandwidth (bytes copied per second, 1 thread, 256 MB buffers) and\n"
            "with the read bandwidth of a buffer of the weights' size (-t threads), both best of 4\n"
            "passes, from the mean step and from the fastest step.\n"
            "Figures, not a test.\n\n"
            "options:\n"
            "  -m MODEL.gguf       model file (default: the bundled model or $SMCGEN_MODEL)\n"
            "  --synthetic NAME    random weights of a real shape instead of a file:\n"
            "                      smollm2-135m, qwen2.5-0.5b or llama3.2-1b\n"
            "  --type TYPE         weight type of the synthetic model: q8_0 (default), q4_0,\n"
            "                      q4_k_m (llama.cpp's Q4_K/Q6_K mix), f16, f32\n"
            "  --layers N          synthetic model with N layers instead of the shape's own\n"
            "  --vocab N           synthetic model with a vocabulary of N ids instead\n"
            "  --seed S            seed of the synthetic weights (default 42)\n"
            "  --save FILE.gguf    write the synthetic model to FILE.gguf (no tokenizer) and stop\n"
            "  -t N                threads (default: all cores)\n"
            "  --prefix N          shared prompt length (default 128)\n"
            "  --seqs LIST         numbers of sequences to decode together (default 1,4,16,64)\n"
            "  --prompt LIST       also time prompt processing of these lengths (e.g. 128,1024), each into\n"
            "                      a fresh sequence, best and mean of --reps runs (wall clock) and tokens\n"
            "                      per second of process CPU time (less sensitive to a busy machine)\n"
            "  --reps N            runs per --prompt length (default 3)\n"
            "  --time S            seconds to spend on each decode measurement (default 1.5)\n"
            "  --steps N           at most N decode steps per measurement (default 32)\n"
            "  --json              machine-readable output\n"
            "  -h, --help          this help\n"
            "  --smc ...           SMC-level figures instead: forced tokens and the whole SMC step on\n"
            "                      the shared tasks (see 'smcgen bench --smc --help')\n");
    fprintf(f, "how -m's file is loaded (the model settings of 'smcgen smc'):\n");
    run_opts_print_option(f, smc_opt_find("load"), NULL);
    run_opts_print_option(f, smc_opt_find("mlock"), NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Seconds of CPU time used by the whole process. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Parses "a,b,c" (up to 16 counts in [1, max]) into out; the count, or -1. */
static int parse_counts(const char *s, long max, int *out)
{
    int n = 0;
    for (const char *p = s; *p;) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 1 || x > max || (*end && *end != ',') || n == 16)
            return -1;
        out[n++] = (int)x;
        p = *end ? end + 1 : end;
    }
    return n > 0 ? n : -1;
}

/* Baselines for the weight bandwidth, single-threaded, best of 4 passes:
 *  - memcpy_bandwidth(): bytes COPIED per second by one memcpy between two
 *    256 MB buffers (n / time of a memcpy of n bytes; the memory traffic is
 *    about twice that: n read + n written), the baseline the issue names;
 *  - read_bandwidth(n, t): bytes READ per second by t threads (the decode's
 *    thread count) summing a buffer of n bytes = the weights' size, read
 *    again and again as decoding reads the weights, so it gets the same help
 *    from a last-level cache large enough to hold part of them and from
 *    several cores. The stricter, like-for-like baseline for decoding
 *    (memcpy, single-threaded, understates what 2 threads can read). */
static volatile uint64_t read_sink;

/* Sum of the n/8 words at w (n a multiple of 64): a streaming read. */
static uint64_t sum_words(const uint64_t *w, size_t n)
{
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i + 4 <= n / 8; i += 4) {
        s0 += w[i];
        s1 += w[i + 1];
        s2 += w[i + 2];
        s3 += w[i + 3];
    }
    return s0 + s1 + s2 + s3;
}

#if defined(__x86_64__)
#include <immintrin.h>
/* The same with 256-bit loads (one thread reads about 15% faster than with
 * the 64-bit loop, so the baseline is not understated). */
__attribute__((target("avx2"))) static uint64_t sum_words_avx2(const uint64_t *w, size_t n)
{
    __m256i a = _mm256_setzero_si256(), b = a;
    for (size_t i = 0; i + 8 <= n / 8; i += 8) {
        a = _mm256_add_epi64(a, _mm256_loadu_si256((const __m256i *)(const void *)(w + i)));
        b = _mm256_add_epi64(b, _mm256_loadu_si256((const __m256i *)(const void *)(w + i + 4)));
    }
    a = _mm256_add_epi64(a, b);
    return (uint64_t)_mm256_extract_epi64(a, 0) + (uint64_t)_mm256_extract_epi64(a, 1) +
           (uint64_t)_mm256_extract_epi64(a, 2) + (uint64_t)_mm256_extract_epi64(a, 3);
}
#endif

static uint64_t read_all(const uint64_t *w, size_t n)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2"))
        return sum_words_avx2(w, n);
#endif
    return sum_words(w, n);
}

static double memcpy_bandwidth(void)
{
    size_t n = (size_t)256 << 20;
    char *a = malloc(n), *b = malloc(n);
    if (!a || !b) {
        free(a);
        free(b);
        return 0;
    }
    memset(a, 1, n);
    memset(b, 2, n);
    double best = 1e30;
    for (int r = 0; r < 4; r++) {
        double t0 = now_s();
        memcpy(b, a, n);
        double t = now_s() - t0;
        if (t < best)
            best = t;
        a[r] = b[n - 1 - r];   /* keep the copies observable */
    }
    free(a);
    free(b);
    return (double)n / best;
}

typedef struct {
    const uint64_t *w;
    size_t n;
    uint64_t sum;
} read_part;

static void *read_part_main(void *arg)
{
    read_part *rp = arg;
    rp->sum = read_all(rp->w, rp->n);
    return NULL;
}

/* n_threads threads each read a contiguous share of the buffer (like the
 * matmul splits rows); a pass is timed from before the threads start to
 * after the last one ends. */
static double read_bandwidth(uint64_t bytes, int n_threads)
{
    size_t n = ((size_t)bytes + 63) / 64 * 64;
    if (n < 64)
        n = 64;
    if (n_threads < 1)
        n_threads = 1;
    if (n_threads > 64)
        n_threads = 64;
    uint64_t *w = malloc(n);
    if (!w)
        return 0;
    memset(w, 1, n);
    size_t lines = n / 64;
    double best = 1e30;
    uint64_t sink = 0;
    read_part parts[64];
    pthread_t tids[64];
    for (int r = 0; r < 5; r++) {   /* the first pass warms up */
        for (int t = 0; t < n_threads; t++) {
            size_t b = lines * (size_t)t / (size_t)n_threads, e = lines * (size_t)(t + 1) / (size_t)n_threads;
            parts[t] = (read_part){w + b * 8, (e - b) * 64, 0};
        }
        double t0 = now_s();
        atomic_signal_fence(memory_order_seq_cst); /* keep the loads between the clock reads */
        int started = 0;
        for (int t = 1; t < n_threads; t++, started++)
            if (pthread_create(&tids[t], NULL, read_part_main, &parts[t]) != 0)
                break;
        read_part_main(&parts[0]);
        for (int t = 1; t <= started; t++)
            pthread_join(tids[t], NULL);
        for (int t = started + 1; t < n_threads; t++)
            read_part_main(&parts[t]);   /* threads that could not start */
        for (int t = 0; t < n_threads; t++)
            sink += parts[t].sum;
        read_sink = sink;
        atomic_signal_fence(memory_order_seq_cst);
        double t = now_s() - t0;
        if (r > 0 && t < best)
            best = t;
    }
    free(w);
    return (double)n / best;
}

static int parse_type(const char *s)
{
    if (!strcmp(s, "q8_0"))
        return SMC_TYPE_Q8_0;
    if (!strcmp(s, "q4_0"))
        return SMC_TYPE_Q4_0;
    if (!strcmp(s, "f16"))
        return SMC_TYPE_F16;
    if (!strcmp(s, "f32"))
        return SMC_TYPE_F32;
    if (!strcmp(s, "q4_k_m"))
        return SMC_SYNTHETIC_Q4_K_M;
    return -1;
}

/* Mean µs of fork+free of a sequence of len tokens, in a bare KV cache of
 * the model's shape (the same code smc_seq_fork runs, without compute). */
static double kv_fork_us(const smc_model *m, int32_t len)
{
    smc_kv kv;
    smc_error err = {{0}};
    int32_t kvd = smc_model_n_head_kv(m) * smc_model_head_dim(m);
    size_t block = (size_t)smc_model_n_layer(m) * 2 * 16 * (size_t)kvd * sizeof(float);
    if (smc_kv_init(&kv, smc_model_n_layer(m), kvd, 16, block * (size_t)(len / 16 + 4), &err) < 0)
        return -1;
    int32_t s = smc_kv_seq_new(&kv, &err);
    int32_t *seqs = malloc((size_t)len * sizeof *seqs);
    smc_kv_slot *slots = malloc((size_t)len * sizeof *slots);
    double us = -1;
    if (seqs && slots) {
        for (int32_t i = 0; i < len; i++)
            seqs[i] = s;
        if (smc_kv_append(&kv, seqs, len, slots, &err) == 0) {
            int reps = 20000;
            double t0 = now_s();
            for (int r = 0; r < reps; r++)
                smc_kv_seq_free(&kv, smc_kv_seq_fork(&kv, s, &err));
            us = (now_s() - t0) / reps * 1e6;
        }
    }
    free(seqs);
    free(slots);
    smc_kv_destroy(&kv);
    return us;
}

typedef struct decode_result {
    int nseq;
    double tok_s;      /* tokens of all sequences / total time of the steps */
    double best_step;  /* seconds of the fastest step */
    double per_cpu_s;  /* tokens per second of process CPU time over the steps */
    int steps;
} decode_result;

typedef struct prompt_result {
    int tokens;
    double best, mean;   /* tokens/s of the fastest and the mean run (wall clock) */
    double per_cpu_s;    /* tokens per second of process CPU time, best run */
} prompt_result;

int cmd_bench(int argc, char **argv)
{
    const char *model_path = smc_default_model_path(), *synthetic = NULL, *type_s = "q8_0";
    const char *seqs_s = "1,4,16,64", *prompt_s = NULL;
    long threads = 0, prefix = 128, reps_pp = 3, max_steps = 32;
    double budget_s = 1.5;
    bool json = false, have_m = false;
    const char *save = NULL;
    long layers = 0, vocab = 0, seed = 42;
    smc_run_opts model_opts; /* load and mlock, as the option table has them */
    smc_run_opts_init(&model_opts);
    smc_error opt_err = {{0}};
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--smc"))
            return cmd_bench_smc(argc, argv);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-m") && v) {
            model_path = argv[++i];
            have_m = true;
        } else if (!strcmp(a, "--synthetic") && v) {
            synthetic = argv[++i];
        } else if (!strcmp(a, "--type") && v) {
            type_s = argv[++i];
        } else if (!strcmp(a, "--save") && v) {
            save = argv[++i];
        } else if (!strcmp(a, "--layers")) {
            if (cli_parse_long(a, v, 1, 4096, &layers) < 0)
                return 2;
            i++;
        } else if (!strcmp(a, "--vocab")) {
            if (cli_parse_long(a, v, 1, 1 << 24, &vocab) < 0)
                return 2;
            i++;
        } else if (!strcmp(a, "--seed")) {
            if (cli_parse_long(a, v, 0, __LONG_MAX__, &seed) < 0)
                return 2;
            i++;
        } else if (!strcmp(a, "--seqs") && v) {
            seqs_s = argv[++i];
        } else if (!strcmp(a, "--prompt") && v) {
            prompt_s = argv[++i];
        } else if (!strcmp(a, "--reps")) {
            if (cli_parse_long(a, v, 1, 1000, &reps_pp) < 0)
                return 2;
            i++;
        } else if (!strcmp(a, "--load") || !strcmp(a, "--mlock")) {
            /* the option table's model settings: the same names, values and errors as smc */
            bool flag = smc_opt_find(a)->type == SMC_OPT_BOOL;
            if (smc_run_opts_set(&model_opts, a, flag ? NULL : v, &opt_err)) {
                cli_error("bench: %s", opt_err.msg);
                smc_run_opts_free(&model_opts);
                return 2;
            }
            i += !flag;
        } else if (!strcmp(a, "--steps")) {
            if (cli_parse_long(a, v, 1, 100000, &max_steps) < 0)
                return 2;
            i++;
        } else if (!strcmp(a, "-t")) {
            if (cli_parse_long(a, v, 0, 1024, &threads) < 0)
                return 2;
            i++;
        } else if (!strcmp(a, "--prefix")) {
            if (cli_parse_long(a, v, 1, 100000, &prefix) < 0)
                return 2;
            i++;
        } else if (!strcmp(a, "--time")) {
            if (cli_parse_double(a, v, &budget_s) < 0)
                return 2;
            i++;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else {
            cli_error("bench: unknown or incomplete option '%s' (see 'smcgen bench --help')", a);
            return 2;
        }
    }
    if (synthetic && have_m) {
        cli_error("bench: give -m or --synthetic, not both");
        return 2;
    }
    int how = smc_setup_load_how(&model_opts);
    smc_run_opts_free(&model_opts); /* only numbers are kept */
    const char *load_s = smc_setup_load_name(model_opts.load);
    int type = parse_type(type_s);
    if (type < 0) {
        cli_error("bench: --type must be q8_0, q4_0, q4_k_m, f16 or f32 (not '%s')", type_s);
        return 2;
    }
    if (!synthetic && (save || layers || vocab)) {
        cli_error("bench: --save, --layers and --vocab need --synthetic");
        return 2;
    }
    int nseqs[16], n_nseqs = parse_counts(seqs_s, 4096, nseqs), max_seqs = 1;
    if (n_nseqs < 0) {
        cli_error("bench: --seqs '%s' is not a list of counts in [1, 4096]", seqs_s);
        return 2;
    }
    for (int k = 0; k < n_nseqs; k++)
        max_seqs = nseqs[k] > max_seqs ? nseqs[k] : max_seqs;
    int plens[16], n_plens = prompt_s ? parse_counts(prompt_s, 100000, plens) : 0;
    long max_plen = prefix;
    if (n_plens < 0) {
        cli_error("bench: --prompt '%s' is not a list of lengths in [1, 100000]", prompt_s);
        return 2;
    }
    for (int k = 0; k < n_plens; k++)
        max_plen = plens[k] > max_plen ? plens[k] : max_plen;

    smc_error err = {{0}};
    smc_model *m = NULL;
    smc_ctx *c = NULL;
    smc_batch_entry *e = NULL;
    int rc = 1;
    double t_load = now_s();
    if ((synthetic ? smc_model_synthetic_reduced(synthetic, type, (uint64_t)seed, (int32_t)layers, (int32_t)vocab,
                                                 &m, &err)
                   : smc_model_load_ex(model_path, how, &m, &err)) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    if (save) {
        if (smc_model_save(m, save, &err) < 0) {
            cli_error("%s", err.msg);
            goto done;
        }
        fprintf(stderr, "wrote %s (%s, %s, %d layers, vocabulary %d)\n", save, synthetic, type_s,
                smc_model_n_layer(m), smc_model_n_vocab(m));
        rc = 0;
        goto done;
    }
    t_load = now_s() - t_load;
    double bw = memcpy_bandwidth();
    smc_ctx_params p = smc_ctx_default_params();
    p.n_threads = (int32_t)threads;
    p.n_ctx = (int32_t)max_plen + max_steps + 2;
    p.kv_budget_bytes = (size_t)2 << 30;
    if (smc_ctx_new(m, &p, &c, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    double read_bw = read_bandwidth(smc_model_weight_bytes(m), smc_ctx_n_threads(c));
    int32_t nv = smc_model_n_vocab(m);
    size_t ecap = (size_t)(max_plen > max_seqs ? max_plen : max_seqs);
    e = malloc(ecap * sizeof *e);
    if (!e) {
        cli_error("out of memory");
        goto done;
    }
    uint64_t r = 12345;
#define RAND_TOK() (int32_t)((r = r * 6364136223846793005ULL + 1442695040888963407ULL) >> 33) % nv

    /* Prompt processing: the shared prefix in one batch. */
    int32_t base = smc_seq_new(c, &err);
    for (long i = 0; i < prefix; i++)
        e[i] = (smc_batch_entry){base, RAND_TOK(), i + 1 == prefix};
    smc_batch b = {e, (int32_t)prefix};
    double t0 = now_s();
    if (smc_decode(c, &b, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    double pp_tok_s = (double)prefix / (now_s() - t0);

    /* Prompt processing at the --prompt lengths: fresh sequences, best of reps. */
    prompt_result pres[16];
    for (int k = 0; k < n_plens; k++) {
        pres[k] = (prompt_result){plens[k], 0, 0, 0};
        double sum = 0;
        for (long rep = 0; rep < reps_pp; rep++) {
            int32_t sq = smc_seq_new(c, &err);
            for (int i = 0; i < plens[k]; i++)
                e[i] = (smc_batch_entry){sq, RAND_TOK(), i + 1 == plens[k]};
            smc_batch pb = {e, plens[k]};
            double tw = now_s(), tc = cpu_s();
            int ok = sq >= 0 && smc_decode(c, &pb, &err) >= 0;
            tw = now_s() - tw;
            tc = cpu_s() - tc;
            smc_seq_free(c, sq);
            if (!ok) {
                cli_error("%s", err.msg);
                goto done;
            }
            double tps = plens[k] / tw, cps = tc > 0 ? plens[k] / tc : 0;
            sum += tps;
            pres[k].best = tps > pres[k].best ? tps : pres[k].best;
            pres[k].per_cpu_s = cps > pres[k].per_cpu_s ? cps : pres[k].per_cpu_s;
        }
        pres[k].mean = sum / (double)reps_pp;
    }

    /* Decoding: n sequences forked from the prefix, one token each per step. */
    decode_result res[16];
    int32_t *ids = malloc((size_t)max_seqs * sizeof *ids);
    if (!ids) {
        cli_error("out of memory");
        goto done;
    }
    for (int k = 0; k < n_nseqs; k++) {
        int ns = nseqs[k];
        for (int s = 0; s < ns; s++)
            ids[s] = smc_seq_fork(c, base, &err);
        int steps = 0;
        double elapsed = 0, best_step = 1e30, cpu = 0;
        for (long st = 0; st <= max_steps; st++) {
            for (int s = 0; s < ns; s++)
                e[s] = (smc_batch_entry){ids[s], RAND_TOK(), true};
            b.n = ns;
            double ts = now_s(), tc = cpu_s();
            if (smc_decode(c, &b, &err) < 0) {
                cli_error("%s", err.msg);
                free(ids);
                goto done;
            }
            if (st == 0)
                continue;   /* warm-up step (copy-on-write of the shared tail) */
            double dt = now_s() - ts;
            cpu += cpu_s() - tc;
            elapsed += dt;
            if (dt < best_step)
                best_step = dt;
            steps++;
            if (steps >= 2 && elapsed >= budget_s)
                break;
        }
        res[k] = (decode_result){ns, (double)ns * steps / elapsed, best_step, cpu > 0 ? (double)ns * steps / cpu : 0,
                                 steps};
        for (int s = 0; s < ns; s++)
            smc_seq_free(c, ids[s]);
    }
    free(ids);

    /* Forks through the API (prefix length), and of bare KV tables. */
    int reps = 20000;
    t0 = now_s();
    for (int i = 0; i < reps; i++)
        smc_seq_free(c, smc_seq_fork(c, base, &err));
    double fork_prefix_us = (now_s() - t0) / reps * 1e6;
    double fork_short_us = kv_fork_us(m, 16), fork_long_us = kv_fork_us(m, 4096);

    /* Weight bandwidth at 1 sequence: every weight matrix (all layers and the
     * output head; the embedding row and norm vectors are negligible) is read
     * once per decode step, so bytes/s = weight bytes * steps/s; from the
     * mean step (tokens/s) and from the fastest step (robust to preemption
     * on a busy machine, comparable with the best-of-4 baselines). */
    uint64_t wbytes = smc_model_weight_bytes(m);
    double tok1 = 0, best1 = 0;
    for (int k = 0; k < n_nseqs; k++)
        if (res[k].nseq == 1) {
            tok1 = res[k].tok_s;
            best1 = res[k].best_step;
        }
    double wbw = tok1 * (double)wbytes, wbw_best = best1 > 0 ? (double)wbytes / best1 : 0;
    const char *name = synthetic ? synthetic : model_path;
    if (json) {
        printf("{\"model\": ");
        cli_json_string(stdout, name, strlen(name));
        printf(", \"synthetic\": %s, \"type\": \"%s\", \"arch\": \"%s\", \"threads\": %d, \"weight_bytes\": %llu, "
               "\"load\": \"%s\", \"in_memory\": %s, \"load_s\": %.3f, \"memcpy_bytes_per_s\": %.4g, \"read_bytes_per_s\": %.4g, \"prompt_tokens\": %ld, \"prompt_tokens_per_s\": %.4g, "
               "\"decode\": [",
               synthetic ? "true" : "false", synthetic ? type_s : "file", smc_model_arch(m),
               smc_ctx_n_threads(c), (unsigned long long)wbytes, synthetic ? "synthetic" : load_s,
               smc_model_in_memory(m) ? "true" : "false", t_load, bw, read_bw, prefix, pp_tok_s);
        for (int k = 0; k < n_nseqs; k++)
            printf("%s{\"sequences\": %d, \"tokens_per_s\": %.4g, \"tokens_per_cpu_s\": %.4g, \"steps\": %d, "
                   "\"speedup_vs_1\": %.3g}",
                   k ? ", " : "", res[k].nseq, res[k].tok_s, res[k].per_cpu_s, res[k].steps,
                   tok1 > 0 ? res[k].tok_s / tok1 : 0);
        printf("], \"prompt\": [");
        for (int k = 0; k < n_plens; k++)
            printf("%s{\"tokens\": %d, \"tokens_per_s\": %.4g, \"tokens_per_s_mean\": %.4g, "
                   "\"tokens_per_cpu_s\": %.4g, \"reps\": %ld}",
                   k ? ", " : "", pres[k].tokens, pres[k].best, pres[k].mean, pres[k].per_cpu_s, reps_pp);
        printf("], \"weight_bytes_per_s_1seq\": %.4g, \"weight_bw_fraction_of_memcpy\": %.3g, "
               "\"weight_bytes_per_s_1seq_best_step\": %.4g, \"weight_bw_fraction_of_memcpy_best_step\": %.3g, "
               "\"weight_bw_fraction_of_read\": %.3g, \"weight_bw_fraction_of_read_best_step\": %.3g, "
               "\"fork_us\": {\"16\": %.3g, \"%ld\": %.3g, \"4096\": %.3g}}\n",
               wbw, bw > 0 ? wbw / bw : 0, wbw_best, bw > 0 ? wbw_best / bw : 0, read_bw > 0 ? wbw / read_bw : 0,
               read_bw > 0 ? wbw_best / read_bw : 0, fork_short_us, prefix, fork_prefix_us, fork_long_us);
    } else {
        printf("model: %s (%s%s%s), %d layers, n_embd %d, vocab %d; weights read per token: %.1f MB\n", name,
               smc_model_arch(m), synthetic ? ", synthetic " : "", synthetic ? type_s : "", smc_model_n_layer(m),
               smc_model_n_embd(m), nv, wbytes / 1e6);
        printf("threads: %d; model ready in %.2f s (%s%s)\n", smc_ctx_n_threads(c), t_load,
               synthetic ? "random weights generated in memory" : load_s,
               synthetic ? "" : smc_model_in_memory(m) ? ": read into memory" : ": mapped");
        printf("memcpy bandwidth:            %8.2f GB/s (bytes copied per second, 1 thread, 256 MB, best of 4)\n", bw / 1e9);
        printf("read bandwidth:              %8.2f GB/s (bytes read per second, %d thread%s, buffer of the weights' size)\n",
               read_bw / 1e9, smc_ctx_n_threads(c), smc_ctx_n_threads(c) == 1 ? "" : "s");
        printf("prompt processing (%4ld tok): %8.1f tokens/s\n", prefix, pp_tok_s);
        for (int k = 0; k < n_plens; k++)
            printf("prompt %5d tokens:         %8.1f tokens/s best, %.1f mean of %ld; %.1f per CPU-second\n",
                   pres[k].tokens, pres[k].best, pres[k].mean, reps_pp, pres[k].per_cpu_s);
        for (int k = 0; k < n_nseqs; k++) {
            printf("decode, %3d sequence%s:      %8.1f tokens/s total (", res[k].nseq, res[k].nseq == 1 ? " " : "s",
                   res[k].tok_s);
            if (tok1 > 0)
                printf("%.2fx one sequence, ", res[k].tok_s / tok1);
            printf("%d steps; %.1f per CPU-second)\n", res[k].steps, res[k].per_cpu_s);
        }
        if (tok1 > 0) {
            printf("weights read at 1 sequence:  %8.2f GB/s = %.0f%% of memcpy, %.0f%% of read bandwidth (mean step)\n",
                   wbw / 1e9, bw > 0 ? 100 * wbw / bw : 0, read_bw > 0 ? 100 * wbw / read_bw : 0);
            printf("                             %8.2f GB/s = %.0f%% of memcpy, %.0f%% of read bandwidth (fastest step)\n",
                   wbw_best / 1e9, bw > 0 ? 100 * wbw_best / bw : 0, read_bw > 0 ? 100 * wbw_best / read_bw : 0);
        }
        printf("fork (+free):                %8.3f us at 16 tokens, %.3f us at %ld tokens, %.3f us at 4096 tokens\n",
               fork_short_us, fork_prefix_us, prefix, fork_long_us);
    }
    rc = 0;
done:
    free(e);
    smc_ctx_free(c);
    smc_model_free(m);
    return rc;
}
