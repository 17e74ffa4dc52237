import Foundation
import WeakSpotCLI

// Two builds of one executable (docs/reliability.md):
// - plain `swift build`: `weakspot-fuzz TARGET FILE|FOLDER...` replays inputs through a target
//   (corpus checks, crash reproduction) and prints how many were accepted;
// - with `-D WEAKSPOT_LIBFUZZER -sanitize=fuzzer,address` (Tests/Fuzz/run_fuzz.sh): `main`
//   hands the command line to libFuzzer's driver (`LLVMFuzzerRunDriver`; SwiftPM links the
//   module's own entry point as `main`, so libFuzzer's `main` is not used), and the environment
//   variable WEAKSPOT_FUZZ_TARGET picks the target.
@main
enum FuzzMain {
    static func main() {
        #if WEAKSPOT_LIBFUZZER
        exit(LibFuzzer.run())
        #else
        exit(ReplayCommand.main(Array(CommandLine.arguments.dropFirst())))
        #endif
    }
}

#if WEAKSPOT_LIBFUZZER
/// libFuzzer's driver entry (compiler-rt `FuzzerInterface.h`), linked by `-sanitize=fuzzer`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

enum LibFuzzer {
    /// Read once: the callback runs millions of times.
    static let target: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["WEAKSPOT_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("error: WEAKSPOT_FUZZ_TARGET: expected one of \(names), got '\(name)'\n".utf8))
            exit(2)
        }
        return target
    }()

    static func run() -> Int32 {
        _ = target
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            LibFuzzer.target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        }
    }
}
#endif
