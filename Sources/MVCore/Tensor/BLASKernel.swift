import CLinearAlgebra
import Foundation

/// OpenBLAS picks its GEMM kernels for the CPU it recognises at load time. Builds older than the
/// CPU (Debian 12's 0.3.21 on Sapphire Rapids, say) fall back to the SSE3 "Prescott" kernels, about
/// 5× slower than the AVX-512 ones the CPU can run. `OPENBLAS_CORETYPE` overrides the choice, but only
/// before the library loads — so the tool re-executes itself once with it set (see `mvvae`'s entry).
public enum BLASKernel {
    /// The kernel family OpenBLAS chose, e.g. "SkylakeX", "Haswell", "Prescott".
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// The fastest kernel family the CPU's flags support, or nil when nothing better than the
    /// generic kernels is certain.
    public static func bestCoreTypeForThisCPU() -> String? {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if ["avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// The core type to re-execute with, when OpenBLAS fell back to a generic kernel the CPU outgrows
    /// and the user has not chosen one (`OPENBLAS_CORETYPE` unset). Nil: keep what was loaded.
    public static func upgradeNeeded() -> String? {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env["MVVAE_KEEP_BLAS_KERNEL"] == nil else { return nil }
        let generic: Set<String> = [
            "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Sandybridge", "Katmai", "Coppermine", "Northwood",
        ]
        guard generic.contains(coreName), let best = bestCoreTypeForThisCPU(), best != coreName else { return nil }
        if best == "Haswell" && coreName == "Sandybridge" { return "Haswell" }
        return best
    }
}

/// Subnormal floats cost ~100× a normal operation on x86; training never needs them.
public enum FloatingPointMode {
    /// Runs `body` with subnormal results and inputs flushed to zero on the calling thread, then
    /// restores the thread's previous mode (so callers outside training see IEEE behaviour).
    public static func withDenormalsFlushed<T>(_ body: () throws -> T) rethrows -> T {
        let saved = mvvae_fp_mode()
        mvvae_flush_denormals()
        defer { mvvae_set_fp_mode(saved) }
        return try body()
    }
}
