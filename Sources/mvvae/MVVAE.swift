import ArgumentParser
import Foundation
import MultiViewVAE

@main
struct MVVAE: ParsableCommand {
    static func main() {
        useFastBLASKernel()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "mvvae",
        abstract: "Train, evaluate and impute multi-view variational autoencoders, on one process or over MPI.",
        discussion: """
            Run under mpirun (or srun) to train data-parallel; run directly for a single process.
            The same configuration gives the same trajectory at any world size.
            """,
        subcommands: [
            TrainCommand.self, EvaluateCommand.self, EncodeCommand.self, ImputeCommand.self, PlotCommand.self, BenchCommand.self,
            BenchAllreduceCommand.self, BenchGEMMCommand.self, BenchSparseCommand.self, CheckMPICommand.self,
        ])
}

/// Re-executes this binary with `OPENBLAS_CORETYPE` set when OpenBLAS loaded generic kernels on a CPU
/// that can run much faster ones (see `BLASKernel`). Runs before MPI is initialised.
func useFastBLASKernel() {
    guard let core = BLASKernel.upgradeNeeded() else { return }
    setenv("OPENBLAS_CORETYPE", core, 1)
    setenv("MVVAE_KEEP_BLAS_KERNEL", "1", 1)  // never loop
    // Exec the resolved path (not /proc/self/exe) so the process keeps its name in ps/top.
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { return }
    execv(String(cString: buffer), CommandLine.unsafeArgv)
    // exec failed: carry on with the kernels already loaded.
}
