// The sparse first layer's kernels (`Tape.linear` over a mostly-zero data input), at the widest of AVX-512,
// AVX2 and the portable width the CPU has, and the compression of a batch by columns they read.
// No fused multiply-adds (as kernels.c): each product and sum is rounded as written.
#pragma STDC FP_CONTRACT OFF
#include "CKernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define LANES 16
#define SUFFIX(name) name##_w16
#define TARGET __attribute__((target("avx512f")))
#include "sparse_body.h"
#undef TARGET
#undef SUFFIX
#undef LANES
#define LANES 8
#define SUFFIX(name) name##_w8
#define TARGET __attribute__((target("avx2")))
#include "sparse_body.h"
#undef TARGET
#undef SUFFIX
#undef LANES
#define HAVE_WIDE 1
#endif

#define LANES 4
#define SUFFIX(name) name##_w4
#define TARGET
#include "sparse_body.h"
#undef TARGET
#undef SUFFIX
#undef LANES

/// 16, 8 or 4: the vector width this CPU runs (mvvae_kernels_force_portable(1) gives 4, as for kernels.c).
static int sparseLanes(void) {
#ifdef HAVE_WIDE
    static int known = 0;
    if (!known) known = __builtin_cpu_supports("avx512f") ? 16 : __builtin_cpu_supports("avx2") ? 8 : 4;
    return mvvae_kernels_portable() ? 4 : known;
#else
    return 4;
#endif
}

#ifdef HAVE_WIDE
#define SPARSE_DISPATCH(name, args) do { int lanes = sparseLanes(); \
    if (lanes == 16) { name##_w16 args; return; } if (lanes == 8) { name##_w8 args; return; } name##_w4 args; } while (0)
#else
#define SPARSE_DISPATCH(name, args) do { name##_w4 args; } while (0)
#endif

void mvvae_sparse_columns_product(const int *colptr, const int *rowidx, const float *values, long k, long n, const float *w,
                                  float *y) {
    SPARSE_DISPATCH(sparse_columns_product, (colptr, rowidx, values, k, n, w, y));
}

void mvvae_sparse_columns_weight_gradient(const int *colptr, const int *rowidx, const float *values, long k, long n,
                                          const float *dz, float *gw) {
    SPARSE_DISPATCH(sparse_columns_weight_gradient, (colptr, rowidx, values, k, n, dz, gw));
}

long mvvae_compress_columns(const float *x, long m, long k, long capacity, int *colptr, int *rowidx, float *values,
                            int *scratchColumns, float *scratchValues, int *rowEnds) {
    // One pass over the dense batch (most of the cost): each row's non-zeros into the scratch lists, blocks of
    // eight zeros skipped on one test of their bits, and each column's count (colptr[c + 1]); give up past
    // `capacity`. Then the lists are placed by column: colptr[c] serves as column c's cursor, then is shifted back.
    for (long c = 0; c <= k; c++) colptr[c] = 0;
    long total = 0;
    for (long r = 0; r < m; r++) {
        const float *row = x + r * k;
        long c = 0;
        for (; c + 8 <= k; c += 8) {
            unsigned bits[8];
            __builtin_memcpy(bits, row + c, sizeof bits);
            // −0.0 has a bit set but is zero: it is tested as a value below, as every other entry is.
            if ((bits[0] | bits[1] | bits[2] | bits[3] | bits[4] | bits[5] | bits[6] | bits[7]) == 0) continue;
            for (long j = c; j < c + 8; j++) {
                if (row[j] != 0) {
                    if (total == capacity) return -1;
                    scratchColumns[total] = (int)j;
                    scratchValues[total++] = row[j];
                    colptr[j + 1]++;
                }
            }
        }
        for (; c < k; c++) {
            if (row[c] != 0) {
                if (total == capacity) return -1;
                scratchColumns[total] = (int)c;
                scratchValues[total++] = row[c];
                colptr[c + 1]++;
            }
        }
        rowEnds[r] = (int)total;
    }
    for (long c = 0; c < k; c++) colptr[c + 1] += colptr[c];
    for (long r = 0, q = 0; r < m; r++) {
        for (; q < rowEnds[r]; q++) {
            int p = colptr[scratchColumns[q]]++;
            rowidx[p] = (int)r;
            values[p] = scratchValues[q];
        }
    }
    for (long c = k; c > 0; c--) colptr[c] = colptr[c - 1];
    colptr[0] = 0;
    return total;
}
