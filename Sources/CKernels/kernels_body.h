// The kernels' bodies, included by kernels.c once per vector width. Expects LANES (floats per
// vector), SUFFIX(name) (appends the width to a name) and TARGET (a function attribute, may be empty).
#pragma STDC FP_CONTRACT OFF

typedef float SUFFIX(vf) __attribute__((vector_size(LANES * 4), aligned(4)));
typedef int SUFFIX(vi) __attribute__((vector_size(LANES * 4), aligned(4)));
#define VF SUFFIX(vf)
#ifndef PREFETCH_AHEAD
#define PREFETCH_AHEAD 512  // floats
#endif
#define VI SUFFIX(vi)

static inline TARGET VF SUFFIX(splat)(float x) {
    VF v;
    for (int i = 0; i < LANES; i++) v[i] = x;
    return v;
}
static inline TARGET VF SUFFIX(load)(const float *p) { VF v; __builtin_memcpy(&v, p, sizeof v); return v; }
static inline TARGET void SUFFIX(store)(float *p, VF v) { __builtin_memcpy(p, &v, sizeof v); }
// mask lanes are all ones (true) or zero: select(mask, a, b) = mask ? a : b.
static inline TARGET VF SUFFIX(select)(VI mask, VF a, VF b) { return (VF)(((VI)a & mask) | ((VI)b & ~mask)); }

// e^x: x = n·ln 2 + r with |r| ≤ ln2/2, e^r by its degree-7 Taylor polynomial, 2^n from the exponent
// bits (< 3e-7 relative error). Below −87.3 the result is 0, NaN stays NaN.
static inline TARGET VF SUFFIX(exp)(VF x) {
    VF lo = SUFFIX(splat)(-87.3f), hi = SUFFIX(splat)(88.37f);
    VF c = SUFFIX(select)(x < lo, lo, x);
    c = SUFFIX(select)(c > hi, hi, c);
    VF shifter = SUFFIX(splat)(12582912.0f);  // 1.5·2²³: the sum's low mantissa bits hold round(x·log₂e)
    VF shifted = c * 1.44269504f + shifter;
    VF n = shifted - shifter;
    VF r = c - n * 0.69314575f - n * 1.4286068e-6f;  // ln 2 split in two for an exact reduction
    VF p = SUFFIX(splat)(1.0f / 5040);
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1;
    p = p * r + 1;
    VI nBits = (VI)shifted - 0x4B400000;
    VF scale = (VF)((nBits + 127) << 23);
    VF y = p * scale;
    y = SUFFIX(select)(x < lo, SUFFIX(splat)(0), y);
    return SUFFIX(select)(x != x, x, y);
}

// log(1 + e) for e in [0, 1]: s = e/(e + 2) ≤ 1/3, log(1 + e) = 2·atanh(s), truncated after s¹³
// (< 2e-7 absolute error).
static inline TARGET VF SUFFIX(log1p_unit)(VF e) {
    VF s = e / (e + 2);
    VF s2 = s * s;
    VF p = SUFFIX(splat)(1.0f / 13);
    p = p * s2 + 1.0f / 11;
    p = p * s2 + 1.0f / 9;
    p = p * s2 + 1.0f / 7;
    p = p * s2 + 1.0f / 5;
    p = p * s2 + 1.0f / 3;
    p = p * s2 + 1;
    return 2 * s * p;
}

// One BCE term and σ(l) on LANES elements; returns the loss terms.
static inline TARGET VF SUFFIX(bce_lanes)(VF l, VF t, float *sigmaOut) {
    VF zero = SUFFIX(splat)(0), one = SUFFIX(splat)(1);
    VI positive = l > zero;
    VF e = SUFFIX(exp)(SUFFIX(select)(positive, -l, l));  // e^{−|l|}
    VF loss = SUFFIX(select)(l < zero, zero, l) - l * t + SUFFIX(log1p_unit)(e);
    SUFFIX(store)(sigmaOut, SUFFIX(select)(l < zero, e, one) / (one + e));
    return loss;
}

static TARGET void SUFFIX(bce_rowsum)(const float *logits, const float *targets, float *sigma, float *rowSums,
                                      long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        const float *l = logits + r * cols, *t = targets + r * cols;
        float *sg = sigma + r * cols;
        VF acc = SUFFIX(splat)(0);
        long j = 0;
        for (; j + LANES <= cols; j += LANES) acc += SUFFIX(bce_lanes)(SUFFIX(load)(l + j), SUFFIX(load)(t + j), sg + j);
        if (j < cols) {  // the tail, padded with logit 0 / target 0 lanes that are masked out of the sum
            float lt[LANES] = {0}, tt[LANES] = {0}, st[LANES];
            long rest = cols - j;
            __builtin_memcpy(lt, l + j, rest * 4);
            __builtin_memcpy(tt, t + j, rest * 4);
            VF terms = SUFFIX(bce_lanes)(SUFFIX(load)(lt), SUFFIX(load)(tt), st);
            for (long q = rest; q < LANES; q++) terms[q] = 0;
            acc += terms;
            __builtin_memcpy(sg + j, st, rest * 4);
        }
        float s = 0;
        for (int q = 0; q < LANES; q++) s += acc[q];
        rowSums[r] = s;
    }
}

static TARGET void SUFFIX(bce_rowsum_backward)(const float *sigma, const float *targets, const float *rowGrad,
                                               float *logitGrad, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        const float *sg = sigma + r * cols, *t = targets + r * cols;
        float *gl = logitGrad + r * cols, gr = rowGrad[r];
        VF vg = SUFFIX(splat)(gr);
        long j = 0;
        for (; j + LANES <= cols; j += LANES)
            SUFFIX(store)(gl + j, SUFFIX(load)(gl + j) + vg * (SUFFIX(load)(sg + j) - SUFFIX(load)(t + j)));
        for (; j < cols; j++) gl[j] += gr * (sg[j] - t[j]);
    }
}

static TARGET void SUFFIX(exp_array)(const float *x, float *y, long count) {
    long i = 0;
    for (; i + LANES <= count; i += LANES) SUFFIX(store)(y + i, SUFFIX(exp)(SUFFIX(load)(x + i)));
    if (i < count) {
        float xt[LANES] = {0}, yt[LANES];
        __builtin_memcpy(xt, x + i, (count - i) * 4);
        SUFFIX(store)(yt, SUFFIX(exp)(SUFFIX(load)(xt)));
        __builtin_memcpy(y + i, yt, (count - i) * 4);
    }
}

static TARGET void SUFFIX(log1p_unit_array)(const float *e, float *y, long count) {
    long i = 0;
    for (; i + LANES <= count; i += LANES) SUFFIX(store)(y + i, SUFFIX(log1p_unit)(SUFFIX(load)(e + i)));
    if (i < count) {
        float et[LANES] = {0}, yt[LANES];
        __builtin_memcpy(et, e + i, (count - i) * 4);
        SUFFIX(store)(yt, SUFFIX(log1p_unit)(SUFFIX(load)(et)));
        __builtin_memcpy(y + i, yt, (count - i) * 4);
    }
}

static TARGET void SUFFIX(bias_activation)(float *y, const float *bias, long rows, long cols, int relu) {
    VF zero = SUFFIX(splat)(0);
    for (long r = 0; r < rows; r++) {
        float *row = y + r * cols;
        long j = 0;
        if (relu) {
            for (; j + LANES <= cols; j += LANES) {
                VF v = SUFFIX(load)(row + j) + SUFFIX(load)(bias + j);
                SUFFIX(store)(row + j, SUFFIX(select)(v <= zero, zero, v));  // NaN stays NaN, as max(NaN, 0) does
            }
            for (; j < cols; j++) { float v = row[j] + bias[j]; row[j] = v <= 0 ? 0 : v; }
        } else {
            for (; j + LANES <= cols; j += LANES) SUFFIX(store)(row + j, SUFFIX(load)(row + j) + SUFFIX(load)(bias + j));
            for (; j < cols; j++) row[j] += bias[j];
        }
    }
}

static TARGET void SUFFIX(relu_backward)(const float *y, const float *g, float *dz, long rows, long cols,
                                         float *biasGrad) {
    VF zero = SUFFIX(splat)(0);
    // Four rows per pass over the bias gradient: its loads and stores fall fourfold.
    long r = 0;
    for (; r + 4 <= rows; r += 4) {
        long j = 0;
        for (; j + LANES <= cols; j += LANES) {
            VF sum = zero;
            for (int q = 0; q < 4; q++) {
                long at = (r + q) * cols + j;
                VF d = SUFFIX(select)(SUFFIX(load)(y + at) <= zero, zero, SUFFIX(load)(g + at));
                SUFFIX(store)(dz + at, d);
                sum += d;
            }
            if (biasGrad) SUFFIX(store)(biasGrad + j, SUFFIX(load)(biasGrad + j) + sum);
        }
        for (; j < cols; j++) {
            float sum = 0;
            for (int q = 0; q < 4; q++) {
                long at = (r + q) * cols + j;
                float d = y[at] <= 0 ? 0 : g[at];
                dz[at] = d;
                sum += d;
            }
            if (biasGrad) biasGrad[j] += sum;
        }
    }
    for (; r < rows; r++) {
        const float *yr = y + r * cols, *gr = g + r * cols;
        float *dr = dz + r * cols;
        long j = 0;
        for (; j + LANES <= cols; j += LANES) {
            VF d = SUFFIX(select)(SUFFIX(load)(yr + j) <= zero, zero, SUFFIX(load)(gr + j));
            SUFFIX(store)(dr + j, d);
            if (biasGrad) SUFFIX(store)(biasGrad + j, SUFFIX(load)(biasGrad + j) + d);
        }
        for (; j < cols; j++) {
            float d = yr[j] <= 0 ? 0 : gr[j];
            dr[j] = d;
            if (biasGrad) biasGrad[j] += d;
        }
    }
}

static TARGET void SUFFIX(column_sums_add)(const float *g, long rows, long cols, float *biasGrad) {
    for (long r = 0; r < rows; r++) {
        const float *gr = g + r * cols;
        long j = 0;
        for (; j + LANES <= cols; j += LANES) SUFFIX(store)(biasGrad + j, SUFFIX(load)(biasGrad + j) + SUFFIX(load)(gr + j));
        for (; j < cols; j++) biasGrad[j] += gr[j];
    }
}

static TARGET void SUFFIX(sum_sources)(float *dst, float *const *sources, int n, long count, int zeroSources) {
    VF zero = SUFFIX(splat)(0);
    long i = 0;
    for (; i + LANES <= count; i += LANES) {
        VF sum = SUFFIX(load)(sources[0] + i);
        for (int s = 1; s < n; s++) sum = sum + SUFFIX(load)(sources[s] + i);
        if (zeroSources)
            for (int s = 0; s < n; s++) SUFFIX(store)(sources[s] + i, zero);
        SUFFIX(store)(dst + i, sum);
    }
    for (; i < count; i++) {
        float sum = sources[0][i];
        for (int s = 1; s < n; s++) sum = sum + sources[s][i];
        if (zeroSources)
            for (int s = 0; s < n; s++) sources[s][i] = 0;
        dst[i] = sum;
    }
}

// Adam over count coordinates whose gradient is the sum of `sources` buffers, added in buffer order
// (one buffer per rank when ranks share memory, else one). Every step is one IEEE operation in the
// order of the scalar formula in CKernels.h, so every width gives the same bits. A coordinate whose
// scaled gradient is NaN or ±inf keeps its parameter and moments; the return value counts them.
static TARGET long SUFFIX(adam)(float *params, float *const *grads, int sources, float *m, float *v, long count,
                                float scale, float b1, float a1, float b2, float a2, float stepSize, float invSqrtC2,
                                float eps, float decay, int zeroGradients) {
    VF vs = SUFFIX(splat)(scale), zero = SUFFIX(splat)(0);
    VI exponent = (VI)zero | 0x7F800000, badLanes = exponent & 0;
    long i = 0;
    for (; i + LANES <= count; i += LANES) {
        // The arrays stream from memory (31 MB for the reference model): prefetching 2 KB ahead keeps
        // more loads in flight than the hardware prefetcher does (about 15 % faster, measured).
        if (i % 16 == 0 && i + PREFETCH_AHEAD < count) {
            for (int s = 0; s < sources; s++) __builtin_prefetch(grads[s] + i + PREFETCH_AHEAD, 1);
            __builtin_prefetch(m + i + PREFETCH_AHEAD, 1);
            __builtin_prefetch(v + i + PREFETCH_AHEAD, 1);
            __builtin_prefetch(params + i + PREFETCH_AHEAD, 1);
        }
        VF sum = SUFFIX(load)(grads[0] + i);
        for (int s = 1; s < sources; s++) sum = sum + SUFFIX(load)(grads[s] + i);
        if (zeroGradients)
            for (int s = 0; s < sources; s++) SUFFIX(store)(grads[s] + i, zero);
        VF g = vs * sum;
        VI bad = (((VI)g) & exponent) == exponent;
        badLanes -= bad;  // −1 per bad lane
        VF m0 = SUFFIX(load)(m + i), v0 = SUFFIX(load)(v + i), p0 = SUFFIX(load)(params + i);
        VF mi = b1 * m0 + a1 * g;
        VF vi = b2 * v0 + (a2 * g) * g;
        VF p = p0 * decay - (stepSize * mi) / (__builtin_elementwise_sqrt(vi) * invSqrtC2 + eps);
        SUFFIX(store)(m + i, SUFFIX(select)(bad, m0, mi));
        SUFFIX(store)(v + i, SUFFIX(select)(bad, v0, vi));
        SUFFIX(store)(params + i, SUFFIX(select)(bad, p0, p));
    }
    long skipped = 0;
    for (int q = 0; q < LANES; q++) skipped += badLanes[q];
    for (; i < count; i++) {
        float sum = grads[0][i];
        for (int s = 1; s < sources; s++) sum = sum + grads[s][i];
        if (zeroGradients)
            for (int s = 0; s < sources; s++) grads[s][i] = 0;
        float g = scale * sum;
        unsigned bits;
        __builtin_memcpy(&bits, &g, 4);
        if ((bits & 0x7F800000u) == 0x7F800000u) { skipped++; continue; }
        float mi = b1 * m[i] + a1 * g;
        float vi = b2 * v[i] + (a2 * g) * g;
        m[i] = mi;
        v[i] = vi;
        params[i] = params[i] * decay - (stepSize * mi) / (__builtin_sqrtf(vi) * invSqrtC2 + eps);
    }
    return skipped;
}

#undef VF
#undef VI

