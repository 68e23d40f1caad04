// MPI's handles and constants are macros (often casts of addresses of globals) that Swift
// cannot import. Each one used by the project is exposed here as a static inline function.
#ifndef MVVAE_CMPI_SHIM_H
#define MVVAE_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm mvvae_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype mvvae_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype mvvae_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype mvvae_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype mvvae_int64(void) { return MPI_INT64_T; }
static inline MPI_Op mvvae_op_sum(void) { return MPI_SUM; }
static inline MPI_Op mvvae_op_max(void) { return MPI_MAX; }
static inline MPI_Op mvvae_op_min(void) { return MPI_MIN; }
static inline void *mvvae_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Errhandler mvvae_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline MPI_Request mvvae_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *mvvae_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline int mvvae_success(void) { return MPI_SUCCESS; }
static inline int mvvae_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int mvvae_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int mvvae_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline MPI_Info mvvae_info_null(void) { return MPI_INFO_NULL; }
static inline int mvvae_mode_nocheck(void) { return MPI_MODE_NOCHECK; }
#endif
