import FuzzSupport
import MultiViewVAE

// A safetensors file: the header parsed and validated, then every tensor it lists read back as Float.
FuzzDriver.run(fileExtension: "safetensors") { _, path in
    let file = try SafeTensorsFile(path: path)
    for name in file.names { _ = try? file.tensor(name) }
}
