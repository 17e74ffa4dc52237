import CKernels
import Foundation

/// An instruction-set variant of the C kernels.
///
/// Every variant computes the same contract; they differ in register tile and speed, and in the
/// last bits of results (FMA versus separate multiply and add). All available variants can run
/// in one process: every kernel entry point takes an `isa:` argument defaulting to `selected`.
public enum KernelISA: String, Sendable, CaseIterable {
    /// Portable C vectors for the build's baseline (SSE2 on x86-64, NEON on arm64).
    case generic
    /// AVX2 + FMA, 6×16 register tile.
    case avx2
    /// AVX-512 (f, bw, dq, vl) + FMA, 14×32 register tile.
    case avx512

    /// The variant used by default: the fastest one this CPU supports, or the one named by the
    /// environment variable `WEAKSPOT_KERNEL` (`generic`, `avx2`, `avx512`) when it is available.
    /// An unknown or unsupported name is ignored.
    public static var selected: KernelISA { selection }

    /// The variants this CPU can run, slowest first.
    public static var available: [KernelISA] { allCases.filter { ck_isa_supported($0.cValue) != 0 } }

    /// The register tile (rows of A × columns of B) of the micro-kernel.
    public var tile: (rows: Int, columns: Int) {
        let blocking = ck_gemm_blocking_for(cValue)
        return (Int(blocking.mr), Int(blocking.nr))
    }

    var cValue: ck_isa {
        switch self {
        case .generic: CK_ISA_GENERIC
        case .avx2: CK_ISA_AVX2
        case .avx512: CK_ISA_AVX512
        }
    }

    /// The variant that actually runs when `self` is requested (itself, or generic when unsupported).
    var effective: KernelISA {
        switch ck_isa_effective(cValue) {
        case CK_ISA_AVX512: .avx512
        case CK_ISA_AVX2: .avx2
        default: .generic
        }
    }

    private static let selection: KernelISA = {
        if let name = ProcessInfo.processInfo.environment["WEAKSPOT_KERNEL"],
           let forced = KernelISA(rawValue: name.lowercased()),
           available.contains(forced) {
            return forced
        }
        switch ck_isa_best() {
        case CK_ISA_AVX512: return .avx512
        case CK_ISA_AVX2: return .avx2
        default: return .generic
        }
    }()
}
