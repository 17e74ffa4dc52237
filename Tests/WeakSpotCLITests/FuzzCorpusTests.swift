import Foundation
import TestSupport
import WeakSpotCLI
import XCTest

/// Every committed fuzz input (seeds in Fixtures/fuzz/TARGET, and any input a fuzz run found a
/// crash with, in Fixtures/fuzz/crashes/TARGET) goes through its parser as the fuzzer ran it:
/// each must return (accepted or refused), never trap. Seeds that are valid files must still be
/// accepted, so a seed cannot silently rot into an input that stops at the first byte.
final class FuzzCorpusTests: XCTestCase {
    func inputs(_ folder: String) -> [String] {
        let path = FixturePaths.path(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { path + "/" + $0 }
    }

    func testEverySeedReturnsAndTheValidOnesAreAccepted() throws {
        var replayed = 0
        for target in FuzzTarget.allCases {
            let files = inputs("fuzz/\(target.rawValue)")
            XCTAssertFalse(files.isEmpty, "no seeds for \(target.rawValue)")
            let accepted = try files.filter { target.run([UInt8](try Data(contentsOf: URL(fileURLWithPath: $0)))) }
            replayed += files.count
            XCTAssertGreaterThan(accepted.count, 0, "no seed of \(target.rawValue) is accepted")
        }
        XCTAssertGreaterThan(replayed, 50)
    }

    func testCrashInputsFoundByFuzzingReturn() throws {
        for target in FuzzTarget.allCases {
            for file in inputs("fuzz/crashes/\(target.rawValue)") {
                _ = target.run([UInt8](try Data(contentsOf: URL(fileURLWithPath: file))))
            }
        }
    }
}
