// Is Adam's pass bound by memory bandwidth? Times the project's Adam kernel (CKernels, compiled in)
// over arrays the size of the reference model's, against a pass that loads and stores the same four
// arrays with no arithmetic. Equal times mean the arithmetic is hidden behind the memory traffic.
//   clang -O2 -ISources/CKernels/include -o .build/adam_stream_probe scripts/adam_stream_probe.c -lm   (the kernels use Clang builtins)
//   .build/adam_stream_probe
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <xmmintrin.h>
#include "../Sources/CKernels/kernels.c"

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// The same memory traffic as Adam: read gradient, moments and parameters; write all four.
static void stream(float *p, float *g, float *m, float *v, long n) {
    for (long i = 0; i < n; i++) {
        float gi = g[i], mi = m[i], vi = v[i], pi = p[i];
        g[i] = 0;
        m[i] = mi + gi;
        v[i] = vi + gi;
        p[i] = pi + mi;
    }
}

int main(void) {
    _mm_setcsr(_mm_getcsr() | 0x8040);  // subnormals flushed, as in training
    const long n = 1918016;             // floats in the reference model's arena
    float *p = malloc(n * 4), *g = malloc(n * 4), *m = malloc(n * 4), *v = malloc(n * 4);
    for (long i = 0; i < n; i++) { p[i] = 0.01f * (i % 7); g[i] = 1e-3f * (i % 5); m[i] = 1e-3f; v[i] = 1e-6f; }
    float *sources[1] = {g};
    for (int round = 0; round < 3; round++) {
        double t = seconds();
        for (int r = 0; r < 100; r++) mvvae_adam_update(p, sources, 1, m, v, n, 1, 0.9f, 0.999f, 1e-3f, 1, 1e-8f, 1, 1);
        double adam = (seconds() - t) / 100;
        t = seconds();
        for (int r = 0; r < 100; r++) stream(p, g, m, v, n);
        double copy = (seconds() - t) / 100;
        printf("Adam %.3f ms, loads and stores alone %.3f ms (%.1f GB/s)\n", 1e3 * adam, 1e3 * copy, 32.0 * n / copy / 1e9);
    }
    return 0;
}
