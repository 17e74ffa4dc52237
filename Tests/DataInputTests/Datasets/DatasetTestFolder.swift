import Foundation
import TestSupport

/// A temporary folder for dataset tests, removed on deinit.
final class DatasetTestFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("weakspot-dataset-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Copies `Fixtures/<fixture>` to `relative` (creating folders).
    @discardableResult
    func copy(_ fixture: String, to relative: String) throws -> String {
        try write(Data(try FixturePaths.data(fixture)), to: relative)
    }

    @discardableResult
    func write(_ data: Data, to relative: String) throws -> String {
        let target = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: target))
        return target
    }
}
