// Counts heap allocations for `mvvae bench` when preloaded (scripts/bench.sh builds and preloads it):
//   LD_PRELOAD=.build/malloc_counter.so mvvae bench …
// mvvae looks up mvvae_malloc_count with dlsym; without this library it reports no count.
//
// Finding where steady-state allocations come from: with MVVAE_MALLOC_TRACE=N set, the first N
// allocations after mvvae_malloc_trace_arm() (which `mvvae bench` calls when its timed steps start)
// print a backtrace to stderr. Symbolise the addresses with `addr2line -f -e LIB OFFSET` or gdb.
#define _GNU_SOURCE
#include <execinfo.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static unsigned long allocations;
static long traceBudget;           // backtraces still to print once armed
static __thread int inTrace;       // backtrace() may allocate itself: do not recurse

unsigned long mvvae_malloc_count(void) { return __atomic_load_n(&allocations, __ATOMIC_RELAXED); }

void mvvae_malloc_trace_arm(void) {
    const char *n = getenv("MVVAE_MALLOC_TRACE");
    if (!n) return;
    void *warm[2];
    backtrace(warm, 2);  // loads libgcc's unwinder now, not inside the first traced malloc
    traceBudget = atol(n);
}

static void count(size_t n) {
    __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
    if (traceBudget > 0 && !inTrace) {
        inTrace = 1;
        traceBudget--;
        char line[64];
        int len = 0;
        const char *head = "--- allocation of ";
        while (head[len]) { line[len] = head[len]; len++; }
        char digits[24]; int d = 0;
        do { digits[d++] = (char)('0' + n % 10); n /= 10; } while (n && d < 24);
        while (d) line[len++] = digits[--d];
        const char *tail = " bytes\n";
        for (int i = 0; tail[i]; i++) line[len++] = tail[i];
        write(2, line, (size_t)len);
        void *frames[24];
        int depth = backtrace(frames, 24);
        backtrace_symbols_fd(frames, depth, 2);  // writes without allocating
        inTrace = 0;
    }
}

void *malloc(size_t n) {
    count(n);
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size) {
    count(n * size);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n) {
    count(n);
    return __libc_realloc(p, n);
}

int posix_memalign(void **out, size_t alignment, size_t n) {
    count(n);
    void *p = __libc_memalign(alignment, n);
    if (!p) return 12;  // ENOMEM
    *out = p;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t n) {
    count(n);
    return __libc_memalign(alignment, n);
}
