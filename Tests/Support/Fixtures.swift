import Foundation

/// Locates committed fixtures from any test target, whatever the working directory.
public enum FixturePaths {
    /// The repository root, found from this file's compile-time path (Tests/Support/Fixtures.swift).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Fixtures/<relative>` in the repository.
    public static func url(_ relative: String) -> URL {
        repositoryRoot.appendingPathComponent("Fixtures").appendingPathComponent(relative)
    }

    public static func path(_ relative: String) -> String { url(relative).path }

    public static func data(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(relative)))
    }
}
