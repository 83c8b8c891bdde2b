/* pipeline_exec_batch.c — per-text latency of an external (python3) critic
 * process asked n texts at a time: one request line and one round trip per
 * text ("single"), all n request lines written before the answers are read
 * ("pipelined", what a critic that does not announce batches gets), and one
 * {"op":"batch"} line ("batch", for a critic that printed {"batch": true}).
 * Best of several repetitions; texts of 100 bytes; the critic's own work is
 * trivial, so the figures are the protocol's cost.
 *
 *     ./build/bench_pipeline_exec_batch [reps]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smc/potential.h"
#include "smcgen.h"

static const char critic_py[] =
    "import sys, json\n"
    "if sys.argv[1] == 'batch':\n"
    "    print(json.dumps({'batch': True}), flush=True)\n"
    "def score(r):\n"
    "    return -len(r['text']) - (0.5 if r['op'] == 'complete' else 0)\n"
    "for line in sys.stdin:\n"
    "    r = json.loads(line)\n"
    "    if r['op'] == 'batch':\n"
    "        print(json.dumps({'logws': [score(q) for q in r['requests']]}), flush=True)\n"
    "    else:\n"
    "        print(json.dumps({'logw': score(r)}), flush=True)\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static smc_potential *start(const char *script, const char *mode)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "exec python3 %s %s", script, mode);
    smc_potential *p = NULL;
    smc_error err = {{0}};
    if (smc_critic_from_exec(cmd, 10000, &p, &err) != 0) {
        fprintf(stderr, "exec critic: %s\n", err.msg);
        return NULL;
    }
    return p;
}

/* Seconds for one round of n texts; -1 on a wrong score. */
static double round_s(smc_potential *p, bool batched, int n, const smc_score_request *reqs,
                      double *out)
{
    smc_error err = {{0}};
    double t0 = now_s();
    if (batched) {
        if (p->vt->score_batch(p->self, n, reqs, out, &err) != 0)
            return -1;
    } else {
        for (int i = 0; i < n; i++)
            out[i] = p->vt->prefix(p->self, NULL, reqs[i].text, reqs[i].len);
    }
    double t = now_s() - t0;
    for (int i = 0; i < n; i++)
        if (out[i] != -(double)reqs[i].len)
            return -1;
    return t;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 30;
    if (reps < 1)
        reps = 1;
    char script[] = "/tmp/smcgen-bench-critic-XXXXXX";
    int fd = mkstemp(script);
    if (fd < 0 || write(fd, critic_py, sizeof critic_py - 1) != (ssize_t)(sizeof critic_py - 1)) {
        fprintf(stderr, "cannot write the critic script\n");
        return 1;
    }
    close(fd);
    smc_potential *line = start(script, "line"), *batch = start(script, "batch");
    if (!line || !batch) {
        unlink(script);
        return 1;
    }
    enum { MAXN = 32, LEN = 100 };
    static char texts[MAXN][LEN + 1];
    smc_score_request reqs[MAXN];
    double out[MAXN];
    for (int i = 0; i < MAXN; i++) {
        for (int k = 0; k < LEN; k++)
            texts[i][k] = (char)('a' + (i * 7 + k) % 26);
        reqs[i] = (smc_score_request){NULL, texts[i], (size_t)(LEN - i), false};
    }
    /* Warm up; the batch critic's hello is read by its first answer. */
    round_s(batch, true, 2, reqs, out);
    round_s(line, true, 2, reqs, out);
    printf("exec critic (python3), %d-byte texts, best of %d: microseconds per text\n", LEN, reps);
    printf("(n = 1 is one request line in every column: batches start at 2)\n");
    printf("%6s %12s %12s %12s %14s\n", "n", "single", "pipelined", "batch op", "single/batch");
    static const int ns[3] = {1, 8, 32};
    int rc = 0;
    for (int k = 0; k < 3; k++) {
        int n = ns[k];
        double best[3] = {1e9, 1e9, 1e9};
        for (int r = 0; r < reps; r++) {
            double t[3] = {round_s(line, false, n, reqs, out), round_s(line, true, n, reqs, out),
                           round_s(batch, true, n, reqs, out)};
            for (int m = 0; m < 3; m++) {
                if (t[m] < 0) {
                    fprintf(stderr, "wrong scores (%s)\n",
                            smc_potential_name(m == 2 ? batch : line));
                    rc = 1;
                }
                if (t[m] >= 0 && t[m] < best[m])
                    best[m] = t[m];
            }
        }
        printf("%6d %12.1f %12.1f %12.1f %13.1fx\n", n, best[0] * 1e6 / n, best[1] * 1e6 / n,
               best[2] * 1e6 / n, best[0] / best[2]);
    }
    smc_potential_free(line);
    smc_potential_free(batch);
    unlink(script);
    return rc;
}
