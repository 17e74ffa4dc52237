import Foundation
import WeakSpotCLI

/// `weakspot-fuzz TARGET PATH...`: runs every file (folders: every file inside, sorted) through
/// one target in-process, so a corpus or a crash input can be checked with a normal build.
/// Exit code 0 when every input returned, 2 on bad usage; a crash ends the process as it would
/// under the fuzzer.
enum ReplayCommand {
    static func main(_ arguments: [String]) -> Int32 {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
        guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[0]) else {
            FileHandle.standardError.write(Data("usage: weakspot-fuzz \(names) FILE|FOLDER...\n".utf8))
            return 2
        }
        var files: [String] = []
        for path in arguments.dropFirst() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                FileHandle.standardError.write(Data("error: \(path): no such file or folder\n".utf8))
                return 2
            }
            if isFolder.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { path + "/" + $0 }.filter { !$0.hasSuffix("/README.md") }
            } else {
                files.append(path)
            }
        }
        var accepted = 0
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            if target.run([UInt8](data)) { accepted += 1 }
        }
        print("\(target.rawValue): \(files.count) inputs replayed, \(accepted) accepted")
        return 0
    }
}
