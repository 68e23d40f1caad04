// OpenBLAS's CBLAS and the LAPACKE C interface to LAPACK, plus the floating-point mode controls.
#ifndef MVVAE_CLINEARALGEBRA_SHIM_H
#define MVVAE_CLINEARALGEBRA_SHIM_H
#include <cblas.h>
#include <lapacke.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
// Flush denormal results to zero and treat denormal inputs as zero (MXCSR FTZ | DAZ) on the calling
// thread. Adam's first moment decays geometrically where a gradient is always zero (image borders)
// and reaches the denormal range within a few hundred steps; denormal arithmetic is ~100× slower.
static inline unsigned long mvvae_fp_mode(void) { return _mm_getcsr(); }
static inline void mvvae_set_fp_mode(unsigned long mode) { _mm_setcsr((unsigned int)mode); }
static inline void mvvae_flush_denormals(void) { _mm_setcsr(_mm_getcsr() | 0x8040); }
#elif defined(__aarch64__)
static inline unsigned long mvvae_fp_mode(void) { unsigned long f; __asm__ volatile("mrs %0, fpcr" : "=r"(f)); return f; }
static inline void mvvae_set_fp_mode(unsigned long f) { __asm__ volatile("msr fpcr, %0" : : "r"(f)); }
static inline void mvvae_flush_denormals(void) {
    unsigned long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr | (1UL << 24)));
}
#else
static inline unsigned long mvvae_fp_mode(void) { return 0; }
static inline void mvvae_set_fp_mode(unsigned long f) { (void)f; }
static inline void mvvae_flush_denormals(void) {}
#endif
#endif
