// Instantiates kernels_body.h for AVX-512 (x86-64, chosen at run time) and for the portable width,
// and dispatches each public kernel to the widest path the CPU has.
// No fused multiply-adds: every product and sum is rounded as written, so the bits do not depend on the
// compiler or the optimisation level (what -ffp-contract=off did, without a flag SwiftPM refuses in a dependency).
#pragma STDC FP_CONTRACT OFF
#include "CKernels.h"

#define LANES 16
#define SUFFIX(name) name##_w16
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define TARGET __attribute__((target("avx512f")))
#include "kernels_body.h"
#define HAVE_W16 1
#endif
#undef TARGET
#undef SUFFIX
#undef LANES

#define LANES 4
#define SUFFIX(name) name##_w4
#define TARGET
#include "kernels_body.h"
#undef TARGET
#undef SUFFIX
#undef LANES

static int portableOnly = 0;

void mvvae_kernels_force_portable(int on) { portableOnly = on; }

int mvvae_kernels_portable(void) { return portableOnly; }

static int wide(void) {
#ifdef HAVE_W16
    static int known = -1;
    if (known < 0) known = __builtin_cpu_supports("avx512f") ? 1 : 0;
    return known && !portableOnly;
#else
    return 0;
#endif
}

#ifdef HAVE_W16
#define DISPATCH(call) do { if (wide()) { call##_w16 ARGS; return; } call##_w4 ARGS; } while (0)
#define DISPATCH_RETURN(call) do { if (wide()) return call##_w16 ARGS; return call##_w4 ARGS; } while (0)
#else
#define DISPATCH(call) do { call##_w4 ARGS; } while (0)
#define DISPATCH_RETURN(call) do { return call##_w4 ARGS; } while (0)
#endif

void mvvae_bce_rowsum(const float *logits, const float *targets, float *sigma, float *rowSums, long rows, long cols) {
#define ARGS (logits, targets, sigma, rowSums, rows, cols)
    DISPATCH(bce_rowsum);
#undef ARGS
}

void mvvae_bce_rowsum_backward(const float *sigma, const float *targets, const float *rowGrad, float *logitGrad,
                               long rows, long cols) {
#define ARGS (sigma, targets, rowGrad, logitGrad, rows, cols)
    DISPATCH(bce_rowsum_backward);
#undef ARGS
}

void mvvae_exp(const float *x, float *y, long count) {
#define ARGS (x, y, count)
    DISPATCH(exp_array);
#undef ARGS
}

void mvvae_log1p_unit(const float *e, float *y, long count) {
#define ARGS (e, y, count)
    DISPATCH(log1p_unit_array);
#undef ARGS
}

void mvvae_bias_activation(float *y, const float *bias, long rows, long cols, int relu) {
#define ARGS (y, bias, rows, cols, relu)
    DISPATCH(bias_activation);
#undef ARGS
}

void mvvae_relu_backward(const float *y, const float *g, float *dz, long rows, long cols, float *biasGrad) {
#define ARGS (y, g, dz, rows, cols, biasGrad)
    DISPATCH(relu_backward);
#undef ARGS
}

void mvvae_column_sums_add(const float *g, long rows, long cols, float *biasGrad) {
#define ARGS (g, rows, cols, biasGrad)
    DISPATCH(column_sums_add);
#undef ARGS
}

void mvvae_sum_sources(float *dst, float *const *sources, int n, long count, int zeroSources) {
#define ARGS (dst, sources, n, count, zeroSources)
    DISPATCH(sum_sources);
#undef ARGS
}

long mvvae_adam_update(float *params, float *const *grads, int sources, float *m, float *v, long count, float scale,
                       float b1, float b2, float stepSize, float invSqrtC2, float eps, float decay, int zeroGradients) {
#pragma STDC FP_CONTRACT OFF
    // (1 − β1) and (1 − β2) rounded once, as the Swift optimizer always computed them.
    float a1 = 1 - b1, a2 = 1 - b2;
#define ARGS (params, grads, sources, m, v, count, scale, b1, a1, b2, a2, stepSize, invSqrtC2, eps, decay, zeroGradients)
    DISPATCH_RETURN(adam);
#undef ARGS
}

int mvvae_kernel_lanes(void) { return wide() ? 16 : 4; }
