import FuzzSupport
import MultiViewVAE

// A .npy file as a data view (every value copied out as Float) and as a view mask.
FuzzDriver.run(fileExtension: "npy") { _, path in
    defer { _ = try? ViewMask.load(path) }
    let file = try NPYFile(path: path)
    _ = file.matrix()
}
