import Foundation

/// Human-readable class names, one per line in class-index order (`imagenet_classes.txt`).
enum ClassNames {
    /// The names from `--classes FILE`, else from `imagenet_classes.txt` next to the model when
    /// it has exactly `classCount` lines, else nil. An explicit file that cannot be read or has
    /// the wrong number of lines throws `CLIError.input`.
    static func load(explicit path: String?, modelPath: String, classCount: Int) throws(CLIError) -> [String]? {
        if let path {
            guard let names = read(path) else {
                throw CLIError.input("\(path): expected a text file of class names, one per line, got an unreadable file")
            }
            guard names.count == classCount else {
                throw CLIError.input("\(path): expected \(classCount) class names (one per model output), got \(names.count)")
            }
            return names
        }
        let folder = URL(fileURLWithPath: modelPath).deletingLastPathComponent()
        let beside = folder.appendingPathComponent("imagenet_classes.txt").path
        guard let names = read(beside), names.count == classCount else { return nil }
        return names
    }

    private static func read(_ path: String) -> [String]? {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 24,
              let text = String(data: data, encoding: .utf8) else { return nil }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}
