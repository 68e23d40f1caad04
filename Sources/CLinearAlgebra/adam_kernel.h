// Adam's elementwise update as a C kernel. Swift lowers SIMD16<Float>.squareRoot() to sixteen scalar
// square roots (sqrtss and sqrtf calls), which made the optimizer pass compute-bound; SSE's sqrtps does
// four at once. Every operation below is a correctly rounded IEEE single-precision operation done in
// the same order as the Swift expression it replaces, with no fused multiply-adds, so the results are
// bit-identical to the Swift loop's (and to checkpoints written by it); AdamKernelTests checks that.
// SwiftPM does not track this header's changes: touch Sources/MultiViewVAE/Optim/Adam.swift after editing it.
#ifndef MVVAE_ADAM_KERNEL_H
#define MVVAE_ADAM_KERNEL_H
#include <math.h>

// One element: m ← β1·m + (1−β1)·g, v ← β2·v + ((1−β2)·g)·g,
// p ← p·decay − (stepSize·m) / (√v·invSqrtC2 + ε), with g = gradScale·grad.
static inline void mvvae_adam_element(float *p, float *grad, float *m, float *v, float scale, float b1, float a1,
                                      float b2, float a2, float stepSize, float invSqrtC2, float eps, float decay,
                                      int zeroGradients) {
#pragma STDC FP_CONTRACT OFF
    float g = scale * *grad;
    if (zeroGradients) *grad = 0;
    float mi = b1 * *m + a1 * g;
    float vi = b2 * *v + (a2 * g) * g;
    *m = mi;
    *v = vi;
    *p = *p * decay - (stepSize * mi) / (sqrtf(vi) * invSqrtC2 + eps);
}

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
// The same loop sixteen lanes wide where the CPU has AVX-512 (chosen at run time: the package is built
// for baseline x86-64). Square root and division are the bottleneck, and they retire per instruction,
// so wider vectors take fewer cycles per element.
__attribute__((target("avx512f")))
static inline long mvvae_adam_update_avx512(float *params, float *grads, float *m, float *v, long count, float scale,
                                            float b1, float a1, float b2, float a2, float stepSize, float invSqrtC2,
                                            float eps, float decay, int zeroGradients) {
#pragma STDC FP_CONTRACT OFF
    __m512 vs = _mm512_set1_ps(scale), vb1 = _mm512_set1_ps(b1), va1 = _mm512_set1_ps(a1), vb2 = _mm512_set1_ps(b2),
           va2 = _mm512_set1_ps(a2), vstep = _mm512_set1_ps(stepSize), vinv = _mm512_set1_ps(invSqrtC2),
           veps = _mm512_set1_ps(eps), vdecay = _mm512_set1_ps(decay), zero = _mm512_setzero_ps();
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        __m512 g = _mm512_mul_ps(vs, _mm512_loadu_ps(grads + i));
        if (zeroGradients) _mm512_storeu_ps(grads + i, zero);
        __m512 mi = _mm512_add_ps(_mm512_mul_ps(vb1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(va1, g));
        __m512 vi = _mm512_add_ps(_mm512_mul_ps(vb2, _mm512_loadu_ps(v + i)), _mm512_mul_ps(_mm512_mul_ps(va2, g), g));
        _mm512_storeu_ps(m + i, mi);
        _mm512_storeu_ps(v + i, vi);
        __m512 denominator = _mm512_add_ps(_mm512_mul_ps(_mm512_sqrt_ps(vi), vinv), veps);
        __m512 p = _mm512_mul_ps(_mm512_loadu_ps(params + i), vdecay);
        _mm512_storeu_ps(params + i, _mm512_sub_ps(p, _mm512_div_ps(_mm512_mul_ps(vstep, mi), denominator)));
    }
    return i;
}

static inline int mvvae_cpu_has_avx512f(void) {
    static int known = -1;
    if (known < 0) known = __builtin_cpu_supports("avx512f") ? 1 : 0;
    return known;
}
#endif

static inline void mvvae_adam_update(float *params, float *grads, float *m, float *v, long count, float scale,
                                     float b1, float b2, float stepSize, float invSqrtC2, float eps, float decay,
                                     int zeroGradients) {
#pragma STDC FP_CONTRACT OFF
    // (1 − β1) and (1 − β2) rounded once, as the Swift code computed them.
    float a1 = 1 - b1, a2 = 1 - b2;
    long i = 0;
#if defined(__x86_64__)
    if (mvvae_cpu_has_avx512f())
        i = mvvae_adam_update_avx512(params, grads, m, v, count, scale, b1, a1, b2, a2, stepSize, invSqrtC2, eps, decay,
                                     zeroGradients);
#endif
#if defined(__SSE2__)
    __m128 vs = _mm_set1_ps(scale), vb1 = _mm_set1_ps(b1), va1 = _mm_set1_ps(a1), vb2 = _mm_set1_ps(b2),
           va2 = _mm_set1_ps(a2), vstep = _mm_set1_ps(stepSize), vinv = _mm_set1_ps(invSqrtC2),
           veps = _mm_set1_ps(eps), vdecay = _mm_set1_ps(decay), zero = _mm_setzero_ps();
    for (; i + 4 <= count; i += 4) {
        __m128 g = _mm_mul_ps(vs, _mm_loadu_ps(grads + i));
        if (zeroGradients) _mm_storeu_ps(grads + i, zero);
        __m128 mi = _mm_add_ps(_mm_mul_ps(vb1, _mm_loadu_ps(m + i)), _mm_mul_ps(va1, g));
        __m128 vi = _mm_add_ps(_mm_mul_ps(vb2, _mm_loadu_ps(v + i)), _mm_mul_ps(_mm_mul_ps(va2, g), g));
        _mm_storeu_ps(m + i, mi);
        _mm_storeu_ps(v + i, vi);
        __m128 denominator = _mm_add_ps(_mm_mul_ps(_mm_sqrt_ps(vi), vinv), veps);
        __m128 p = _mm_mul_ps(_mm_loadu_ps(params + i), vdecay);
        _mm_storeu_ps(params + i, _mm_sub_ps(p, _mm_div_ps(_mm_mul_ps(vstep, mi), denominator)));
    }
#endif
    for (; i < count; i++)
        mvvae_adam_element(params + i, grads + i, m + i, v + i, scale, b1, a1, b2, a2, stepSize, invSqrtC2, eps, decay,
                           zeroGradients);
}
#endif
