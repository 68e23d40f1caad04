import ArgumentParser
import MultiViewVAE

@main
struct MVVAE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mvvae",
        abstract: "Train, evaluate and impute multi-view variational autoencoders, on one process or over MPI.",
        discussion: """
            Run under mpirun (or srun) to train data-parallel; run directly for a single process.
            The same configuration gives the same trajectory at any world size.
            """,
        subcommands: [TrainCommand.self, EvaluateCommand.self, ImputeCommand.self, CheckMPICommand.self, BenchGEMMCommand.self])
}
