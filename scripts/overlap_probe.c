// Does a gradient exchange overlap with computation on this host? Two ranks swap half of the JPVAE-MLP
// gradient buffer (959 008 floats each way, what the sharded step's reduce-scatter moves at -np 2)
// while both compute sgemm for about as long as a backward pass, in four ways:
//   blocking     compute, then MPI_Sendrecv                    (what the trainer does)
//   no-poll      MPI_Isend/Irecv, compute, MPI_Waitall         (buckets started early, never polled)
//   poll         as no-poll, with MPI_Testall between GEMMs    (buckets polled from inside the backward)
//   compute      compute alone; exchange alone (the two parts)
// Build and run (see BENCHMARKS.md):
//   mpicc -O2 -o .build/overlap_probe scripts/overlap_probe.c -lopenblas
//   OPENBLAS_CORETYPE=SkylakeX launch/mpi -np 2 .build/overlap_probe
#include <mpi.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

enum { FLOATS = 959008, M = 128, N = 512, K = 512, GEMMS = 40, REPS = 30 };

static float *a, *b, *c, *out, *in;

static void gemm(void) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, a, K, b, N, 0, c, N);
}

static int cmp(const void *x, const void *y) {
    double d = *(const double *)x - *(const double *)y;
    return (d > 0) - (d < 0);
}

// Median over REPS of one variant's wall time, in ms (max over ranks of each repetition).
static double run(int mode, int peer) {
    double t[REPS];
    for (int r = 0; r < REPS; r++) {
        MPI_Request q[2];
        int done = 0;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        if (mode == 1 || mode == 2) {
            MPI_Irecv(in, FLOATS, MPI_FLOAT, peer, 1, MPI_COMM_WORLD, &q[0]);
            MPI_Isend(out, FLOATS, MPI_FLOAT, peer, 1, MPI_COMM_WORLD, &q[1]);
        }
        if (mode != 4) {
            for (int g = 0; g < GEMMS; g++) {
                gemm();
                if (mode == 2 && !done) MPI_Testall(2, q, &done, MPI_STATUSES_IGNORE);
            }
        }
        if (mode == 1 || mode == 2) MPI_Waitall(2, q, MPI_STATUSES_IGNORE);
        if (mode == 0 || mode == 4)
            MPI_Sendrecv(out, FLOATS, MPI_FLOAT, peer, 1, in, FLOATS, MPI_FLOAT, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        double mine = MPI_Wtime() - t0;
        MPI_Allreduce(&mine, &t[r], 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    }
    qsort(t, REPS, sizeof t[0], cmp);
    return 1e3 * t[REPS / 2];
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 2) { if (rank == 0) fprintf(stderr, "run with 2 ranks\n"); MPI_Abort(MPI_COMM_WORLD, 2); }
    a = calloc(M * K, 4); b = calloc(K * N, 4); c = calloc(M * N, 4);
    out = calloc(FLOATS, 4); in = calloc(FLOATS, 4);
    for (int i = 0; i < FLOATS; i++) out[i] = (float)i;
    const char *names[] = {"blocking (compute, then exchange)", "no-poll (Isend/Irecv, compute, Waitall)",
                           "poll (Isend/Irecv, MPI_Testall after each GEMM)", "compute alone", "exchange alone"};
    double ms[5];
    for (int pass = 0; pass < 2; pass++)  // the first pass warms up
        for (int mode = 0; mode < 5; mode++) ms[mode] = run(mode, 1 - rank);
    if (rank == 0) {
        printf("| variant | median ms per step |\n|---|---|\n");
        for (int mode = 0; mode < 5; mode++) printf("| %s | %.2f |\n", names[mode], ms[mode]);
        printf("\nperfect overlap would take max(compute, exchange) = %.2f ms; no overlap compute + exchange = %.2f ms\n",
               ms[3] > ms[4] ? ms[3] : ms[4], ms[3] + ms[4]);
    }
    MPI_Finalize();
    return 0;
}
