/* Running the zmem program as a child process in the tests: its standard
   input from a string, its output and errors read back. Include after
   test.h; set zmem to the program's path first. */
#ifndef ZMEM_TEST_CLI_RUN_H
#define ZMEM_TEST_CLI_RUN_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *zmem;
/* When set, the child's standard output goes there instead (e.g. /dev/full). */
static const char *stdout_path;

typedef struct proc {
    int status; /* exit status, or -1 when killed */
    char *out, *err;
} proc;

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return calloc(1, 1);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

/* Runs zmem with args (NULL-terminated) and input on its standard input. */
static proc run(const char *input, size_t len, ...) {
    char *args[16];
    args[0] = (char *)zmem;
    va_list ap;
    va_start(ap, len);
    int n = 1;
    for (const char *a; n < 15 && (a = va_arg(ap, const char *)) != NULL;) args[n++] = (char *)a;
    va_end(ap);
    args[n] = NULL;
    char in[] = "/tmp/zmem-cli-in-XXXXXX", out[] = "/tmp/zmem-cli-out-XXXXXX",
         err[] = "/tmp/zmem-cli-err-XXXXXX";
    int fi = mkstemp(in), fo = mkstemp(out), fe = mkstemp(err);
    proc p = {-1, NULL, NULL};
    if (fi < 0 || fo < 0 || fe < 0) return p;
    if (len && write(fi, input, len) != (ssize_t)len) return p;
    lseek(fi, 0, SEEK_SET);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fi, 0);
        if (stdout_path != NULL) {
            int fd = open(stdout_path, O_WRONLY);
            if (fd < 0) _exit(126);
            dup2(fd, 1);
        } else {
            dup2(fo, 1);
        }
        dup2(fe, 2);
        execv(args[0], args);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    p.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    close(fi), close(fo), close(fe);
    p.out = slurp(out);
    p.err = slurp(err);
    unlink(in), unlink(out), unlink(err);
    return p;
}

static void proc_free(proc *p) {
    free(p->out);
    free(p->err);
}

#define CHECK_HAS(text, part)                                                                      \
    do {                                                                                           \
        const char *zt_t = (text);                                                                 \
        if (strstr(zt_t, (part)) == NULL) fprintf(stderr, "missing %s in: %s\n", (part), zt_t);    \
        CHECK(strstr(zt_t, (part)) != NULL);                                                       \
    } while (0)

#endif
