// The HDF5 C library (Debian libhdf5-dev). Its type and property identifiers are macros that call into
// the library, which Swift cannot import: these inline functions hand them over.
#include <hdf5.h>

static inline hid_t mvvae_h5_default(void) { return H5P_DEFAULT; }
static inline hid_t mvvae_h5_all(void) { return H5S_ALL; }
static inline unsigned mvvae_h5_read_only(void) { return H5F_ACC_RDONLY; }
static inline hid_t mvvae_h5_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t mvvae_h5_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t mvvae_h5_c_string(void) { return H5T_C_S1; }
static inline size_t mvvae_h5_variable(void) { return H5T_VARIABLE; }
/// Errors are returned and reported by the caller with the file and element named; HDF5's own
/// printing of its error stack to stderr is turned off.
static inline void mvvae_h5_silence(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
static inline unsigned mvvae_h5_truncate(void) { return H5F_ACC_TRUNC; }
static inline hid_t mvvae_h5_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t mvvae_h5_int8(void) { return H5T_NATIVE_INT8; }
