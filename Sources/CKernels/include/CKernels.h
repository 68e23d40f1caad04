// Elementwise kernels of the training step's hot path, written in C so that they run sixteen lanes
// wide on CPUs with AVX-512 (chosen at run time; the package is built for baseline x86-64, and Swift's
// SIMD16<Float> code at that baseline spilled every lane to the stack). Every kernel also has a
// portable path (Clang vector extensions: SSE2 on baseline x86-64, NEON on arm64; the toolchain's clang
// builds this target, with -ffp-contract=off). Each operation is a plain IEEE single-precision operation
// (no fused multiply-adds), so a kernel gives the same bits on any CPU except where noted (row sums add
// their lanes in a width-dependent order).
#ifndef MVVAE_CKERNELS_H
#define MVVAE_CKERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Per row of a rows×cols matrix: rowSums[r] = Σ_j BCE(logits[r,j], targets[r,j]) with
/// BCE(l, t) = max(l, 0) − l·t + log(1 + e^{−|l|}), and sigma[r,j] = σ(logits[r,j]) (saved for the VJP).
void mvvae_bce_rowsum(const float *logits, const float *targets, float *sigma, float *rowSums, long rows,
                      long cols);

/// The VJP of mvvae_bce_rowsum with respect to the logits: logitGrad[r,j] += rowGrad[r]·(sigma[r,j] − targets[r,j]).
void mvvae_bce_rowsum_backward(const float *sigma, const float *targets, const float *rowGrad, float *logitGrad,
                               long rows, long cols);

/// y[i] = e^{x[i]} with the kernels' polynomial (< 3e-7 relative; 0 below −87.3; NaN stays NaN).
void mvvae_exp(const float *x, float *y, long count);

/// y[i] = log(1 + e[i]) for e[i] in [0, 1], as the BCE kernel computes it (< 2e-7 absolute).
void mvvae_log1p_unit(const float *e, float *y, long count);

/// y[r,j] ← f(y[r,j] + bias[j]) in place for a rows×cols matrix; relu != 0 gives f = max(·, 0) (NaN
/// stays NaN), else identity.
void mvvae_bias_activation(float *y, const float *bias, long rows, long cols, int relu);

/// dz[r,j] = y[r,j] <= 0 ? 0 : g[r,j] (the ReLU VJP written from the output y; a NaN output passes its
/// gradient on, so a diverging run stays visibly non-finite), and when biasGrad is not
/// NULL, biasGrad[j] += Σ_r dz[r,j] in the same pass (rows added four at a time). dz may be g itself.
void mvvae_relu_backward(const float *y, const float *g, float *dz, long rows, long cols, float *biasGrad);

/// x (m×k, row-major) by columns: colptr (k + 1), rowidx and values (rows ascending within a column) of its
/// non-zeros. Returns their count, or −1 (the arrays then unspecified) when there are more than `capacity`.
/// Scratch: scratchColumns and scratchValues of `capacity`, rowEnds of m.
long mvvae_compress_columns(const float *x, long m, long k, long capacity, int *colptr, int *rowidx, float *values,
                            int *scratchColumns, float *scratchValues, int *rowEnds);

/// y (m×n, zero on entry) += x·w for x held by columns (`mvvae_compress_columns`) and w k×n row-major.
void mvvae_sparse_columns_product(const int *colptr, const int *rowidx, const float *values, long k, long n, const float *w,
                                  float *y);

/// gw (k×n) += xᵀ·dz for x held by columns and dz m×n row-major.
void mvvae_sparse_columns_weight_gradient(const int *colptr, const int *rowidx, const float *values, long k, long n,
                                          const float *dz, float *gw);

/// biasGrad[j] += Σ_r g[r,j].
void mvvae_column_sums_add(const float *g, long rows, long cols, float *biasGrad);

/// dst[i] = sources[0][i] + sources[1][i] + … + sources[n−1][i] (added in that order, as Adam adds its
/// sources); zeroSources != 0 clears every source once read. dst must not be one of the sources.
void mvvae_sum_sources(float *dst, float *const *sources, int n, long count, int zeroSources);

/// Adam's elementwise pass over count coordinates. The gradient of coordinate i is
/// g = scale · (grads[0][i] + grads[1][i] + … + grads[sources−1][i]) (added in that order); then
///   m ← β1·m + (1−β1)·g,  v ← β2·v + ((1−β2)·g)·g,  p ← p·decay − (stepSize·m) / (√v·invSqrtC2 + ε),
/// each a correctly rounded single-precision operation in that order. zeroGradients != 0 clears every
/// source once read (the next step then accumulates from zero without a pass of its own). A coordinate
/// whose g is NaN or ±inf is left unchanged (parameter and moments); returns how many there were.
long mvvae_adam_update(float *params, float *const *grads, int sources, float *m, float *v, long count, float scale,
                       float b1, float b2, float stepSize, float invSqrtC2, float eps, float decay, int zeroGradients);

/// out[i·d + j] = lut[images[i·imageSize + indices[j]]] for count images of imageSize bytes: a data set's pixels
/// picked into a view and converted by a 256-entry table.
void mvvae_gather_bytes_lut(const unsigned char *images, long count, long imageSize, const long *indices, long d,
                            const float *lut, float *out);

/// The index of the first value of x that is not finite (or, with unitInterval != 0, outside [0, 1]); −1 if none.
long mvvae_first_bad_value(const float *x, long count, int unitInterval);

/// Which path the kernels take on this CPU: 16 (AVX-512) or the portable width (4).
int mvvae_kernel_lanes(void);

/// Tests: on != 0 makes every kernel take the portable path (so both paths are checked on one CPU).
void mvvae_kernels_force_portable(int on);

/// Whether mvvae_kernels_force_portable(1) is in effect.
int mvvae_kernels_portable(void);

#ifdef __cplusplus
}
#endif
#endif
