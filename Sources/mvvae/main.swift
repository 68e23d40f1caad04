import ArgumentParser
import MultiViewVAE

struct MVVAE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mvvae",
        abstract: "Train, evaluate and impute multi-view variational autoencoders, on one process or over MPI.",
        subcommands: [])
}

MVVAE.main()
