import FuzzSupport
import MultiViewVAE

// An IDX file (Fashion-MNIST's format), plain or gzip-compressed, read and converted to Float.
FuzzDriver.run(fileExtension: "idx") { _, path in
    let file = try IDXFile.read(path)
    _ = file.floatValues()
}
