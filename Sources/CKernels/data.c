// Loops over whole data sets, run once per process before training: in C so that they take a fraction of
// a second in debug builds too (the unoptimised Swift loops took most of a tiny test run's start-up).
// No fused multiply-adds: every product and sum is rounded as written, so the bits do not depend on the
// compiler or the optimisation level (what -ffp-contract=off did, without a flag SwiftPM refuses in a dependency).
#pragma STDC FP_CONTRACT OFF
#include "CKernels.h"
#include <math.h>

void mvvae_gather_bytes_lut(const unsigned char *images, long count, long imageSize, const long *indices, long d,
                            const float *lut, float *out) {
    for (long i = 0; i < count; i++) {
        const unsigned char *image = images + i * imageSize;
        float *row = out + i * d;
        for (long j = 0; j < d; j++) row[j] = lut[image[indices[j]]];
    }
}

long mvvae_first_bad_value(const float *x, long count, int unitInterval) {
    for (long i = 0; i < count; i++) {
        float v = x[i];
        if (!isfinite(v) || (unitInterval && !(v >= 0.0f && v <= 1.0f))) return i;
    }
    return -1;
}
