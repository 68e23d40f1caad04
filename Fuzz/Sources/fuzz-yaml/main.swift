import FuzzSupport
import MultiViewVAE

// A config file and `--set` overrides: the bytes up to the first NUL are the YAML, every further
// NUL-separated piece one override, as `mvvae train --config FILE --set …` reads them.
FuzzDriver.run(fileExtension: "yaml") { bytes, path in
    let pieces = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    _ = try ExperimentConfig.parse(yaml: pieces.first ?? "", source: path, overrides: Array(pieces.dropFirst()))
}
