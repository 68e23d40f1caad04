// OpenBLAS's CBLAS and the LAPACKE C interface to LAPACK.
#ifndef MVVAE_CLINEARALGEBRA_SHIM_H
#define MVVAE_CLINEARALGEBRA_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#endif
