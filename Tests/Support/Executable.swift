import Foundation

/// The built `weakspot` executable, for the few tests that need a real process (exit codes,
/// signals). `swift test` builds it next to the test bundle.
public enum WeakSpotExecutable {
    public static func path() -> String? {
        let bundle = Bundle.main.bundleURL
        let candidates = [
            bundle.appendingPathComponent("weakspot").path,
            bundle.deletingLastPathComponent().appendingPathComponent("weakspot").path,
            FixturePaths.repositoryRoot.appendingPathComponent(".build/release/weakspot").path,
            FixturePaths.repositoryRoot.appendingPathComponent(".build/debug/weakspot").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts the executable with `arguments`, output to /dev/null unless captured by the caller.
    public static func start(_ arguments: [String]) throws -> Process {
        guard let path = path() else { throw CocoaError(.fileNoSuchFile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
