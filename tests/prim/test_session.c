/* The README's main job: `zmem run examples/session.jsonl` answers every
   request as examples/session.expected.jsonl says, timestamps aside (every
   "timestamp":<ms> is compared as "timestamp":0).

     test_session ZMEM_EXE SESSION EXPECTED */
#define _POSIX_C_SOURCE 200809L
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

/* Replaces the digits after every "timestamp": with 0, in place. */
static void normalise(char *s) {
    static const char key[] = "\"timestamp\":";
    char *out = s;
    for (char *p = s; *p;) {
        if (strncmp(p, key, sizeof key - 1) == 0) {
            memmove(out, p, sizeof key - 1);
            out += sizeof key - 1;
            p += sizeof key - 1;
            if (*p >= '0' && *p <= '9') {
                while (*p >= '0' && *p <= '9') p++;
                *out++ = '0';
            }
        } else {
            *out++ = *p++;
        }
    }
    *out = '\0';
}

static char *next_line(char **cursor) {
    char *p = *cursor;
    if (p == NULL || *p == '\0') return NULL;
    char *nl = strchr(p, '\n');
    if (nl) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = p + strlen(p);
    }
    return p;
}

static char *read_all(FILE *f) {
    size_t cap = 1 << 16, len = 0;
    char *s = malloc(cap);
    size_t n;
    while ((n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) s = realloc(s, cap *= 2);
    }
    s[len] = '\0';
    return s;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: test_session ZMEM_EXE SESSION EXPECTED\n");
        return 2;
    }
    int fds[2];
    if (pipe(fds) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(argv[1], argv[1], "run", argv[2], (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char *actual = read_all(f);
    fclose(f);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    FILE *e = fopen(argv[3], "r");
    CHECK(e != NULL);
    if (e == NULL) return zt_finish("prim_session");
    char *expected = read_all(e);
    fclose(e);
    normalise(actual);
    normalise(expected);
    char *a = actual, *x = expected;
    int line = 0;
    for (;;) {
        char *la = next_line(&a), *lx = next_line(&x);
        if (la == NULL && lx == NULL) break;
        line++;
        if (la == NULL || lx == NULL || strcmp(la, lx) != 0) {
            fprintf(stderr, "line %d differs:\n  expected %s\n  actual   %s\n", line,
                    lx ? lx : "(nothing)", la ? la : "(nothing)");
            CHECK(0);
        }
    }
    CHECK(line >= 16);
    free(actual);
    free(expected);
    return zt_finish("prim_session");
}
