// The sparse first layer's kernels, included by sparse.c once per vector width (as kernels_body.h is by
// kernels.c, plus an AVX2 width: these loops are loads, multiplies and adds that AVX2 doubles, and they
// decide whether the sparse path beats the GEMMs on a CPU without AVX-512). Expects LANES, SUFFIX, TARGET.
#pragma STDC FP_CONTRACT OFF

typedef float SUFFIX(svf) __attribute__((vector_size(LANES * 4), aligned(4)));
#define VF SUFFIX(svf)

static inline TARGET VF SUFFIX(ssplat)(float x) {
    VF v;
    for (int i = 0; i < LANES; i++) v[i] = x;
    return v;
}
static inline TARGET VF SUFFIX(sload)(const float *p) { VF v; __builtin_memcpy(&v, p, sizeof v); return v; }
static inline TARGET void SUFFIX(sstore)(float *p, VF v) { __builtin_memcpy(p, &v, sizeof v); }

// The sparse first layer (`Tape.linear` on mostly-zero data): x (m×k) held by columns (colptr, rowidx,
// values; rows ascending within a column), w k×n row-major. Each stored x[r,c] = v adds v·w[c,:] to y[r,:],
// columns in order, so each row of w is read once per batch and y[r,:] sums its columns in one order
// whatever else the batch holds. (Tiling the outputs, a tile of w's row in registers, measured slower: the
// column lists are then read once per tile.)
static TARGET void SUFFIX(sparse_columns_product)(const int *colptr, const int *rowidx, const float *values, long k, long n,
                                                  const float *w, float *y) {
    for (long c = 0; c < k; c++) {
        const float *wc = w + c * n;
        for (int q = colptr[c]; q < colptr[c + 1]; q++) {
            float *yr = y + (long)rowidx[q] * n, v = values[q];
            VF vv = SUFFIX(ssplat)(v);
            long j = 0;
            for (; j + LANES <= n; j += LANES) SUFFIX(sstore)(yr + j, SUFFIX(sload)(yr + j) + vv * SUFFIX(sload)(wc + j));
            for (; j < n; j++) yr[j] += v * wc[j];
        }
    }
}

// Its weight gradient: gw[c,:] += Σ over the column's stored (r, v) of v·dz[r,:] (rows in order).
static TARGET void SUFFIX(sparse_columns_weight_gradient)(const int *colptr, const int *rowidx, const float *values, long k,
                                                          long n, const float *dz, float *gw) {
    for (long c = 0; c < k; c++) {
        float *gc = gw + c * n;
        for (int q = colptr[c]; q < colptr[c + 1]; q++) {
            const float *dr = dz + (long)rowidx[q] * n;
            float v = values[q];
            VF vv = SUFFIX(ssplat)(v);
            long j = 0;
            for (; j + LANES <= n; j += LANES) SUFFIX(sstore)(gc + j, SUFFIX(sload)(gc + j) + vv * SUFFIX(sload)(dr + j));
            for (; j < n; j++) gc[j] += v * dr[j];
        }
    }
}

#undef VF
