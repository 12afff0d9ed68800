/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Crash-safe saves. senti_save writes a temporary file beside the target, syncs it and renames
 * it over the target, so the target is always a complete model file: the old one or the new one.
 *
 *   (a) A child process saves two different models A and B over one path in a tight loop; the
 *       parent SIGKILLs it at random moments: half of them after one, two or three finished
 *       saves (the child reports each on a pipe, so both models reach the target however fast
 *       the child runs), half just after a temporary file appears, i.e. in the middle of a
 *       write. After every kill the target must load and answer exactly as A or as B.
 *   (b) A save that fails: a child limited by RLIMIT_FSIZE below the model's size (SIGXFSZ
 *       ignored) must get SENTI_ERR_IO; the old file must still load and answer the same, and no
 *       temporary file may be left in the folder. The same for a rename that fails (the target
 *       is a non-empty folder).
 *   (c) Several threads of one process saving A and B over one path at once, while another
 *       thread loads it: every save succeeds, every load sees A or B, no temporary file remains.
 *
 * Usage: test_crash_safe <reviews.json> <scratch-dir>. The children are this program run again
 * (--save-loop / --save-limited), so they start with a fresh library rather than a copy of a
 * multithreaded parent.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* This program, run again for child processes (argv[0] resolved: under valgrind
 * /proc/self/exe is valgrind itself). */
static char self_path[4096];

#define N_PROBES 5
static const char *probes[N_PROBES] = {
    "An absolute masterpiece, moving and beautifully acted. I loved it.",
    "Terrible. Boring plot, wooden acting, a waste of time.",
    "It was okay, I guess.",
    "",
    "The first half drags but the ending is wonderful.",
};

static senti_model *load_or_die(const char *path) {
    senti_model *m = NULL;
    senti_error *err = NULL;
    senti_status st = senti_load(path, &m, &err);
    if (st != SENTI_OK) {
        char d[512];
        fprintf(stderr, "load %s: %s\n", path, describe(st, err, d, sizeof d));
        exit(2);
    }
    return m;
}

static void answers(senti_model *m, float *out) {
    if (senti_predict_batch(m, probes, NULL, N_PROBES, out, NULL) != SENTI_OK) {
        fprintf(stderr, "predict_batch failed\n");
        exit(2);
    }
}

/* Loads `path` and says which of the two answer sets it gives: 'A', 'B', '?' (another answer)
 * or the status of a failed load. */
static int identify(const char *path, const float *a, const float *b, char *detail, size_t cap) {
    senti_model *m = NULL;
    senti_error *err = NULL;
    senti_status st = senti_load(path, &m, &err);
    if (st != SENTI_OK) {
        describe(st, err, detail, cap);
        return 0;
    }
    float got[N_PROBES];
    answers(m, got);
    senti_free(m);
    if (memcmp(got, a, sizeof got) == 0) return 'A';
    if (memcmp(got, b, sizeof got) == 0) return 'B';
    snprintf(detail, cap, "answers of neither model (%f ...)", got[0]);
    return '?';
}

/* Names in `dir` that start with `prefix`; removes them when `remove_them`. */
static int count_prefixed(const char *dir, const char *prefix, int remove_them) {
    DIR *d = opendir(dir);
    if (!d) { perror(dir); exit(2); }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
            n++;
            if (remove_them) {
                char p[2048];
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                unlink(p);
            }
        }
    }
    closedir(d);
    return n;
}

/* A sorted, newline-joined listing of `dir`, to compare before and after. */
static char *listing(const char *dir) {
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) { perror(dir); exit(2); }
    size_t cap = 1, len = 0;
    for (int i = 0; i < n; i++) cap += strlen(names[i]->d_name) + 1;
    char *out = malloc(cap);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        len += (size_t)sprintf(out + len, "%s\n", names[i]->d_name);
        free(names[i]);
    }
    free(names);
    return out;
}

/* ---- child modes -------------------------------------------------------------------------- */

/* --save-loop A B target report-fd: save A and B alternately over target until killed, writing
 * "r" to report-fd when ready and "s" after each finished save. */
static int child_save_loop(char **argv) {
    senti_model *a = load_or_die(argv[2]), *b = load_or_die(argv[3]);
    const char *target = argv[4];
    int fd = atoi(argv[5]);
    if (write(fd, "r", 1) != 1) return 3;
    for (unsigned long i = 0;; i++) {
        senti_status st = senti_save(i % 2 ? b : a, target, NULL);
        if (st != SENTI_OK) {
            fprintf(stderr, "child: save failed: %s\n", senti_status_name(st));
            return 4;
        }
        /* The parent holds the pipe open until the kill; a full pipe never blocks a child that
         * is killed within a few saves. */
        if (write(fd, "s", 1) != 1) return 5;
    }
}

/* --save-limited model target limit: save with RLIMIT_FSIZE = limit; exit with the status. */
static int child_save_limited(char **argv) {
    senti_model *m = load_or_die(argv[2]);
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = (rlim_t)strtoull(argv[4], NULL, 10);
    signal(SIGXFSZ, SIG_IGN); /* a write past the limit then fails with EFBIG */
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) { perror("setrlimit"); return 100; }
    senti_error *err = NULL;
    senti_status st = senti_save(m, argv[3], &err);
    printf("  child: senti_save with RLIMIT_FSIZE %s bytes: %s%s%s\n", argv[4], senti_status_name(st), err ? ": " : "",
           err ? senti_error_message(err) : "");
    fflush(stdout);
    senti_error_free(err);
    senti_free(m);
    return (int)st;
}

/* ---- (a) SIGKILL during saves -------------------------------------------------------------- */

/* Sleeps `us` microseconds (whole seconds included: nanosleep refuses 10^9 nanoseconds or more). */
static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void test_kill_during_saves(const char *dir, const char *fa, const char *fb, const float *a, const float *b) {
    char target[1024], tmp_prefix[256];
    snprintf(target, sizeof target, "%s/target.safetensors", dir);
    snprintf(tmp_prefix, sizeof tmp_prefix, ".target.safetensors.");
    senti_model *ma = load_or_die(fa);
    /* How long one save takes here (write + fsync + rename), to spread the kills over several. */
    double t0 = now_s();
    for (int i = 0; i < 3; i++) save_or_die(ma, target);
    double save_s = (now_s() - t0) / 3;
    senti_free(ma);
    long span_us = (long)(save_s * 1e6 * 4) + 1;
    printf("  one save takes %.1f ms; kills fall after 1-3 finished saves plus up to %.1f ms, or in a write within the first %.1f ms\n",
           save_s * 1e3, span_us / 8 / 1e3, span_us * 3 / 4 / 1e3);
    int rounds = 20, as_a = 0, as_b = 0, bad = 0, mid_write = 0, leftovers = 0;
    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    printf("  kill rounds (seed %u):", seed);
    for (int r = 0; r < rounds; r++) {
        int fds[2];
        if (pipe(fds) != 0) { perror("pipe"); exit(2); }
        char fdarg[16];
        snprintf(fdarg, sizeof fdarg, "%d", fds[1]);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            execl(self_path, "test_crash_safe", "--save-loop", fa, fb, target, fdarg, (char *)NULL);
            _exit(127);
        }
        close(fds[1]);
        char c;
        if (read(fds[0], &c, 1) != 1) { fprintf(stderr, "child did not start\n"); exit(2); }
        seed = seed * 1103515245u + 12345u;
        unsigned rnd = seed >> 8;
        int saw_tmp = 0;
        if (r % 2 == 0) {
            /* After one, two or three finished saves (A, B, A at the target), then anywhere in the
             * first half of the next save: counting saves rather than timing them keeps both models
             * in play when the child runs slower than the parent's measurement. */
            int saves = 1 + (r / 2) % 3;
            for (int k = 0; k < saves; k++) {
                if (read(fds[0], &c, 1) != 1) { fprintf(stderr, "child stopped saving\n"); exit(2); }
            }
            sleep_us(rnd % (span_us / 8 + 1));
        } else {
            /* Inside a write: somewhere in the first three saves, then as soon as a temporary
             * file exists, plus 0-2 ms. */
            sleep_us(rnd % (span_us * 3 / 4));
            double until = now_s() + 5;
            while (!(saw_tmp = count_prefixed(dir, tmp_prefix, 0) > 0) && now_s() < until) sleep_us(100);
            sleep_us((long)((rnd >> 4) % 2000));
        }
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        close(fds[0]);
        int killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        int left = count_prefixed(dir, tmp_prefix, 1); /* a killed save cannot clean up: remove */
        leftovers += left;
        if (left) mid_write++;
        char detail[512] = "";
        int who = identify(target, a, b, detail, sizeof detail);
        if (who == 'A') as_a++;
        else if (who == 'B') as_b++;
        else {
            bad++;
            printf("\n  round %d: the target is broken: %s", r, detail);
        }
        if (!killed) {
            bad++;
            printf("\n  round %d: the child exited on its own (status %d)", r, status);
        }
        printf(" %c%s", who ? who : 'x', left ? "*" : "");
        (void)saw_tmp;
    }
    printf("\n  (* = killed inside a write: a temporary file was left behind and removed)\n");
    printf("  after %d kills the target was A %d times, B %d times, broken %d times; %d kills hit a write\n", rounds, as_a, as_b, bad, mid_write);
    CHECK("crash: after every SIGKILL the target loads and answers as A or B", bad == 0, "%d broken", bad);
    CHECK("crash: some kills landed inside a write", mid_write > 0, "none did: the test proved nothing");
    CHECK("crash: both models were seen at the target", as_a > 0 && as_b > 0, "A %d, B %d", as_a, as_b);
}

/* ---- (b) failing saves --------------------------------------------------------------------- */

static int run_limited(const char *model, const char *target, long long limit) {
    char lim[32];
    snprintf(lim, sizeof lim, "%lld", limit);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execl(self_path, "test_crash_safe", "--save-limited", model, target, lim, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return WEXITSTATUS(status);
}

static void test_failing_saves(const char *dir, const char *fa, const char *fb, const float *a, const float *b) {
    char sub[1024], target[1200];
    snprintf(sub, sizeof sub, "%s/fsize", dir);
    mkdir(sub, 0700);
    snprintf(target, sizeof target, "%s/model.safetensors", sub);
    senti_model *ma = load_or_die(fa);
    save_or_die(ma, target);
    senti_free(ma);
    struct stat st;
    stat(target, &st);
    char *before = listing(sub);
    long long limits[] = {(long long)st.st_size / 2, 4096, 0};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        char name[160], detail[512] = "";
        int rc = run_limited(fb, target, limits[i]);
        snprintf(name, sizeof name, "fsize: save of B over A with RLIMIT_FSIZE %lld returns SENTI_ERR_IO", limits[i]);
        CHECK(name, rc == SENTI_ERR_IO, "child exit %d (%s)", rc, rc >= 0 ? senti_status_name(rc) : "signal");
        int who = identify(target, a, b, detail, sizeof detail);
        snprintf(name, sizeof name, "fsize: after the failed save (limit %lld) the old file answers as A", limits[i]);
        CHECK(name, who == 'A', "%c %s", who ? who : 'x', detail);
        char *after = listing(sub);
        snprintf(name, sizeof name, "fsize: no temporary file left (limit %lld)", limits[i]);
        CHECK(name, strcmp(before, after) == 0, "folder before:\n%safter:\n%s", before, after);
        free(after);
    }
    free(before);

    /* The rename fails: the target is a non-empty folder. */
    char folder[1200], inside[1300];
    snprintf(folder, sizeof folder, "%s/occupied", sub);
    mkdir(folder, 0700);
    snprintf(inside, sizeof inside, "%s/keep", folder);
    FILE *f = fopen(inside, "w");
    if (f) fclose(f);
    before = listing(sub);
    senti_model *mb = load_or_die(fb);
    senti_status s = senti_save(mb, folder, NULL);
    senti_free(mb);
    char *after = listing(sub);
    CHECK("rename fails: saving over a non-empty folder returns SENTI_ERR_IO", s == SENTI_ERR_IO, "%s", senti_status_name(s));
    CHECK("rename fails: no temporary file left", strcmp(before, after) == 0, "folder before:\n%safter:\n%s", before, after);
    CHECK("rename fails: the folder is untouched", access(inside, F_OK) == 0, "gone");
    free(before);
    free(after);
    unlink(inside);
    rmdir(folder);
}

/* ---- (c) concurrent saves to one path in one process ------------------------------------- */

struct saver {
    senti_model *model;
    const char *target;
    int n;
    long failures;
    char last[512];
};

static atomic_int savers_running;

static void *save_many(void *arg) {
    struct saver *s = arg;
    for (int i = 0; i < s->n; i++) {
        senti_error *err = NULL;
        senti_status st = senti_save(s->model, s->target, &err);
        if (st != SENTI_OK) {
            s->failures++;
            describe(st, err, s->last, sizeof s->last);
        } else {
            senti_error_free(err);
        }
    }
    atomic_fetch_sub(&savers_running, 1);
    return NULL;
}

struct watcher {
    const char *target;
    const float *a, *b;
    long loads, broken;
    char last[512];
};

static void *watch(void *arg) {
    struct watcher *w = arg;
    while (atomic_load(&savers_running) > 0) {
        char detail[512] = "";
        int who = identify(w->target, w->a, w->b, detail, sizeof detail);
        w->loads++;
        if (who != 'A' && who != 'B') {
            w->broken++;
            snprintf(w->last, sizeof w->last, "%s", detail);
        }
    }
    return NULL;
}

static void test_concurrent_saves(const char *dir, const char *fa, const char *fb, const float *a, const float *b) {
    char sub[1024], target[1200];
    snprintf(sub, sizeof sub, "%s/concurrent", dir);
    mkdir(sub, 0700);
    snprintf(target, sizeof target, "%s/model.safetensors", sub);
    senti_model *ma = load_or_die(fa), *mb = load_or_die(fb);
    save_or_die(ma, target);
    enum { SAVERS = 4 };
    struct saver savers[SAVERS];
    pthread_t ts[SAVERS], tw;
    struct watcher w = {target, a, b, 0, 0, ""};
    atomic_store(&savers_running, SAVERS);
    for (int i = 0; i < SAVERS; i++) {
        savers[i] = (struct saver){i % 2 ? mb : ma, target, quick_mode() ? 5 : 25, 0, ""};
        pthread_create(&ts[i], NULL, save_many, &savers[i]);
    }
    pthread_create(&tw, NULL, watch, &w);
    long failures = 0;
    const char *last = "";
    for (int i = 0; i < SAVERS; i++) {
        pthread_join(ts[i], NULL);
        failures += savers[i].failures;
        if (savers[i].failures) last = savers[i].last;
    }
    pthread_join(tw, NULL);
    char detail[512] = "";
    int who = identify(target, a, b, detail, sizeof detail);
    printf("  concurrent saves: %d threads x %d saves, %ld loads while saving\n", SAVERS, savers[0].n, w.loads);
    CHECK("concurrent saves: every save of one path from 4 threads succeeds", failures == 0, "%ld failed, last: %s", failures, last);
    CHECK("concurrent saves: every load during the saves sees A or B", w.broken == 0, "%ld of %ld broken, last: %s", w.broken, w.loads, w.last);
    CHECK("concurrent saves: the final file is A or B", who == 'A' || who == 'B', "%s", detail);
    int left = count_prefixed(sub, ".model.safetensors.", 1);
    CHECK("concurrent saves: no temporary file left", left == 0, "%d left", left);
    senti_free(ma);
    senti_free(mb);
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--save-loop") == 0 && argc == 6) return child_save_loop(argv);
    if (argc >= 2 && strcmp(argv[1], "--save-limited") == 0 && argc == 5) return child_save_limited(argv);
    if (realpath(argv[0], self_path) == NULL) snprintf(self_path, sizeof self_path, "/proc/self/exe");
    if (argc != 3) {
        fprintf(stderr, "usage: %s <reviews.json> <scratch-dir>\n", argv[0]);
        return 2;
    }
    const char *data = argv[1], *dir = argv[2];
    char slice[1024], fa[1024], fb[1024];
    snprintf(slice, sizeof slice, "%s/crash-slice.jsonl", dir);
    snprintf(fa, sizeof fa, "%s/A.safetensors", dir);
    snprintf(fb, sizeof fb, "%s/B.safetensors", dir);
    write_slice(data, slice, 400);
    /* A larger embedding (a ~1.5 MB file) makes each save take long enough to be hit mid-write. */
    senti_model *ma = train_tiny(slice, 1, 20000, 64);
    senti_model *mb = train_tiny(slice, 5, 20000, 64);
    float a[N_PROBES], b[N_PROBES];
    answers(ma, a);
    answers(mb, b);
    save_or_die(ma, fa);
    save_or_die(mb, fb);
    senti_free(ma);
    senti_free(mb);
    CHECK("setup: models A and B answer differently", memcmp(a, b, sizeof a) != 0, "identical answers");

    test_kill_during_saves(dir, fa, fb, a, b);
    test_failing_saves(dir, fa, fb, a, b);
    test_concurrent_saves(dir, fa, fb, a, b);

    printf("c-crash-safe: %d passed, %d failed\n", t_passed, t_failed);
    return t_failed == 0 ? 0 : 1;
}
