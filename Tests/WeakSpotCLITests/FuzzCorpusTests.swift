import Foundation
import TestSupport
import WeakSpotCLI
import XCTest

/// Every committed fuzz input (seeds in Fixtures/fuzz/TARGET, and any input a fuzz run found a
/// crash with, in Fixtures/fuzz/crashes/TARGET) goes through its parser as the fuzzer ran it:
/// each must return, and return what Fixtures/fuzz/expected.tsv says — `accepted` for a seed
/// that is a valid file, `refused` for one built to be hostile — so a seed cannot silently rot
/// into an input that stops at the first byte, and a hostile one cannot start to pass.
///
/// `WEAKSPOT_RECORD_FUZZ=1` rewrites expected.tsv from the current outcomes and fails on
/// purpose; read the diff: every `accepted` must be a valid file, every `refused` a broken one.
final class FuzzCorpusTests: XCTestCase {
    static let manifest = "fuzz/expected.tsv"

    /// The files of a corpus folder, sorted; a missing folder throws (the corpus must be there).
    func inputs(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: FixturePaths.path(folder)).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// `target/file` → accepted (true) or refused (false), from the manifest.
    func expectations() throws -> [String: Bool] {
        let text = try String(contentsOfFile: FixturePaths.path(Self.manifest), encoding: .utf8)
        var result: [String: Bool] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t").map(String.init)
            XCTAssertEqual(fields.count, 2, "expected.tsv: '\(line)': expected 'TARGET/FILE<TAB>accepted|refused'")
            guard fields.count == 2, ["accepted", "refused"].contains(fields[1]) else { continue }
            XCTAssertNil(result[fields[0]], "expected.tsv lists \(fields[0]) twice")
            result[fields[0]] = fields[1] == "accepted"
        }
        return result
    }

    func testEverySeedReturnsWhatTheManifestSays() throws {
        let recording = ProcessInfo.processInfo.environment["WEAKSPOT_RECORD_FUZZ"] == "1"
        let expected = recording ? [:] : try expectations()
        var outcomes: [(String, Bool)] = []
        for target in FuzzTarget.allCases {
            let files = try inputs("fuzz/\(target.rawValue)")
            XCTAssertFalse(files.isEmpty, "no seeds for \(target.rawValue)")
            for file in files {
                let accepted = target.run(try FixturePaths.data("fuzz/\(target.rawValue)/\(file)"))
                outcomes.append(("\(target.rawValue)/\(file)", accepted))
            }
            XCTAssertTrue(outcomes.contains { $0.0.hasPrefix(target.rawValue + "/") && $0.1 }, "no seed of \(target.rawValue) is accepted")
        }
        XCTAssertGreaterThan(outcomes.count, 50)
        if recording {
            let text = "# fuzz seed\texpected outcome (FuzzCorpusTests; WEAKSPOT_RECORD_FUZZ=1 re-records)\n"
                + outcomes.map { "\($0.0)\t\($0.1 ? "accepted" : "refused")" }.joined(separator: "\n") + "\n"
            try text.write(toFile: FixturePaths.path(Self.manifest), atomically: true, encoding: .utf8)
            XCTFail("recorded \(outcomes.count) outcomes into Fixtures/\(Self.manifest); unset WEAKSPOT_RECORD_FUZZ and review the diff")
            return
        }
        for (name, accepted) in outcomes {
            guard let want = expected[name] else { XCTFail("\(name): not in Fixtures/\(Self.manifest)"); continue }
            XCTAssertEqual(accepted, want, "\(name): \(accepted ? "accepted" : "refused"), expected \(want ? "accepted" : "refused")")
        }
        let replayed = Set(outcomes.map(\.0))
        for name in expected.keys where !name.hasPrefix("crashes/") {
            XCTAssertTrue(replayed.contains(name), "Fixtures/\(Self.manifest) lists \(name), which is not in the corpus")
        }
    }

    /// Crash inputs: none are committed today (docs/reliability.md: no run has found one), so
    /// the folder may be absent; any that appear must return and be in the manifest.
    func testCrashInputsFoundByFuzzingReturn() throws {
        let expected = try expectations()
        let root = FixturePaths.path("fuzz/crashes")
        XCTAssertTrue(FileManager.default.fileExists(atPath: FixturePaths.path("fuzz")), "the fuzz corpus is missing")
        guard FileManager.default.fileExists(atPath: root) else { return }
        var replayed = 0
        for target in FuzzTarget.allCases where FileManager.default.fileExists(atPath: root + "/" + target.rawValue) {
            for file in try inputs("fuzz/crashes/\(target.rawValue)") {
                let accepted = target.run(try FixturePaths.data("fuzz/crashes/\(target.rawValue)/\(file)"))
                XCTAssertEqual(accepted, expected["crashes/\(target.rawValue)/\(file)"], "crashes/\(target.rawValue)/\(file)")
                replayed += 1
            }
        }
        XCTAssertGreaterThan(replayed, 0, "Fixtures/fuzz/crashes exists but holds no input")
    }
}
