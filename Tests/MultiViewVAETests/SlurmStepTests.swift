import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class SlurmStepTests: XCTestCase {
    func testOutsideSrunThereIsNoStep() {
        XCTAssertNil(SlurmStep.from(environment: [:]))
        // A batch script's shell has the job's variables but no step task count.
        XCTAssertNil(SlurmStep.from(environment: ["SLURM_JOB_ID": "7", "SLURM_NTASKS": "4"]))
        // mpirun's ranks inherit the variables of the per-node daemon's step; MPI knows their world.
        XCTAssertNil(SlurmStep.from(environment: ["SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "2", "OMPI_COMM_WORLD_SIZE": "64"]))
    }

    func testSrunWithoutAnMPIPluginIsRefused() throws {
        let step = try XCTUnwrap(SlurmStep.from(environment: ["SLURM_PROCID": "1", "SLURM_STEP_NUM_TASKS": "2", "SLURM_MPI_TYPE": "none"]))
        XCTAssertEqual(step, SlurmStep(tasks: 2, mpiType: "none"))
        let error = try XCTUnwrap(step.mismatch(worldSize: 1))
        XCTAssertTrue(error.description.contains("srun started 2 tasks (--mpi=none)"), error.description)
        XCTAssertTrue(error.description.contains("--mpi=pmix"), error.description)
    }

    func testAgreeingOrSingleTaskStepsPass() {
        XCTAssertNil(SlurmStep(tasks: 2, mpiType: "pmix").mismatch(worldSize: 2))
        XCTAssertNil(SlurmStep(tasks: 1, mpiType: nil).mismatch(worldSize: 1))
        XCTAssertNil(SlurmStep.from(environment: ["SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "x"]))
    }
}
