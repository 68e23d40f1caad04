import Foundation
import FuzzSupport
import MultiViewVAE

// A checkpoint's state.json past its CRC (a CRC would stop nearly every mutation before the parser),
// then the config embedded in it, as resuming reads them.
FuzzDriver.run(fileExtension: "json") { bytes, path in
    let state = try CheckpointState.decode(Data(bytes), path: path)
    _ = try ExperimentConfig.parse(yaml: state.config, source: path)
}
