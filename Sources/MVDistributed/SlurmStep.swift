import Foundation

/// The Slurm job step this process runs in, read from the variables `srun` sets for each of its tasks.
/// Used only to catch a launch that MPI does not see (see `makeCommunicator`).
public struct SlurmStep: Sendable, Equatable {
    /// Tasks in this step (SLURM_STEP_NUM_TASKS).
    public let tasks: Int
    /// The MPI plugin srun was asked for (SLURM_MPI_TYPE), when it says.
    public let mpiType: String?

    public init(tasks: Int, mpiType: String?) {
        self.tasks = tasks
        self.mpiType = mpiType
    }

    /// The step of this process: nil outside `srun` (a batch script's own shell, a login node, `mpirun`'s
    /// ranks, whose step is the one per-node daemon mpirun started).
    public static var current: SlurmStep? { from(environment: ProcessInfo.processInfo.environment) }

    public static func from(environment env: [String: String]) -> SlurmStep? {
        guard env["SLURM_PROCID"] != nil, env["OMPI_COMM_WORLD_SIZE"] == nil,
            let text = env["SLURM_STEP_NUM_TASKS"], let tasks = Int(text), tasks >= 1
        else { return nil }
        return SlurmStep(tasks: tasks, mpiType: env["SLURM_MPI_TYPE"])
    }

    /// The error for a step of several tasks that MPI sees as a world of `worldSize`, or nil when they agree.
    public func mismatch(worldSize: Int) -> SlurmLaunchError? {
        worldSize == tasks || worldSize != 1 ? nil : SlurmLaunchError(tasks: tasks, mpiType: mpiType)
    }
}

/// srun started several tasks but each one is alone in its MPI world.
public struct SlurmLaunchError: Error, CustomStringConvertible {
    public let tasks: Int
    public let mpiType: String?
    public var description: String {
        let plugin = mpiType.map { "--mpi=\($0)" } ?? "no --mpi plugin"
        return "srun started \(tasks) tasks (\(plugin)) but MPI sees each as a world of 1: they would train "
            + "\(tasks) separate copies into the same run folder. Launch with `srun --mpi=pmix` (OpenMPI talks PMIx; "
            + "`srun --mpi=list` shows what this cluster offers), or use mpirun / launch/mpi inside the allocation."
    }
}
