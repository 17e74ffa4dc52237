import Foundation
import Influence
import Support
import TestSupport
import XCTest

/// Options that change a profile's numbers must be in both records of a run: the checkpoint
/// fingerprint (so `--resume` never mixes incompatible partial results) and the report's
/// `settings` (so `merge` never joins shards measured differently). Two of them were missing:
/// `--adaptive-slice` (it moves every batch boundary) and `--prune-mode`.
final class RecordedSettingsTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")
    let data = FixturePaths.path("models/tiny_resnet.input.npy")

    func testResumeWithAnotherAdaptiveSliceIsRefused() throws {
        let folder = try temporaryFolder(self)
        let checkpoint = folder + "/run.ckpt"
        func profile(slice: String, resume: Bool) -> CLIResult {
            weakspot(["profile", model, "--data", data, "--layers", "/layer1*", "--adaptive", "--adaptive-slice", slice,
                      "--checkpoint", checkpoint, "-o", folder + "/r.json", "--quiet"] + (resume ? ["--resume"] : []))
        }
        let first = profile(slice: "2", resume: false)
        XCTAssertEqual(first.code, 0, first.error)
        XCTAssert(FileManager.default.fileExists(atPath: checkpoint), "the run left no checkpoint to resume from")

        let same = profile(slice: "2", resume: true)
        XCTAssertEqual(same.code, 0, "resuming with the same options must work: \(same.error)")

        let other = profile(slice: "3", resume: true)
        XCTAssertEqual(other.code, 2, "a checkpoint made with --adaptive-slice 2 was resumed with 3: \(other.error)")
        XCTAssert(other.error.contains("belongs to another run"), other.error)
    }

    func testFingerprintAndSettingsHoldTheAdaptiveSliceAndPruneMode() {
        var request = ProfileRequest()
        request.measure.adaptive = true
        let unset = request.fingerprint
        request.adaptiveSlice = 2
        let two = request.fingerprint
        request.adaptiveSlice = 3
        XCTAssertNotEqual(unset, two)
        XCTAssertNotEqual(two, request.fingerprint)
        request.measure.pruneMode = .unstructured
        XCTAssertNotEqual(request.fingerprint, two)
        let settings = ProfileReport.settings(request)
        XCTAssertEqual(settings["pruneMode"]?.stringValue, "unstructured")
        XCTAssertEqual(settings["adaptiveSlice"]?.intValue, 3)
    }

    /// `--adaptive-level` and `--adaptive-range` change which items stop early: both are recorded,
    /// with the sequence's name, and every item says how it was decided.
    func testAdaptiveLevelAndRangeAreRecorded() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot("profile", model, "--data", "synthetic:12:1", "--layers", "/layer1*", "--adaptive",
                              "--adaptive-level", "0.05", "--adaptive-range", "0.5", "-o", folder + "/r.json", "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        let report = try JSONValue.parse(String(contentsOfFile: folder + "/r.json", encoding: .utf8))
        XCTAssertEqual(report["settings"]?["adaptiveLevel"]?.doubleValue, 0.05)
        XCTAssertEqual(report["settings"]?["adaptiveRange"]?.doubleValue, 0.5)
        XCTAssertEqual(report["settings"]?["adaptiveSequence"]?.stringValue, AdaptiveRule.sequence)
        let items = try XCTUnwrap(report["items"]?.arrayValue)
        XCTAssertFalse(items.isEmpty)
        for item in items {
            XCTAssertEqual(item["adaptive"]?["inputs"]?.intValue, item["influence"]?["n"]?.intValue)
            XCTAssertNotNil(item["adaptive"]?["decision"]?.stringValue)
        }
        var request = ProfileRequest()
        request.measure.adaptive = true
        let before = request.fingerprint
        request.measure.adaptiveLevel = 0.05
        XCTAssertNotEqual(request.fingerprint, before)
        let level = request.fingerprint
        request.measure.adaptiveRange = 0.5
        XCTAssertNotEqual(request.fingerprint, level)
        for bad in [["--adaptive-level", "0"], ["--adaptive-level", "0.7"], ["--adaptive-range", "-1"]] {
            let refused = weakspot(["profile", model, "--data", data, "--adaptive"] + bad + ["-o", folder + "/x.json", "--quiet"])
            XCTAssertEqual(refused.code, 2, "\(bad): \(refused.error)")
        }
    }

    func testMergeRefusesShardsOfDifferentPruneModes() throws {
        let folder = try temporaryFolder(self)
        func shard(_ index: Int, mode: String) throws -> String {
            let path = folder + "/shard-\(index).json"
            let result = weakspot("profile", model, "--data", data, "--items", "layers", "--perturb", "prune:0.5",
                                  "--prune-mode", mode, "--shard", "\(index)/2", "-o", path, "--quiet")
            XCTAssertEqual(result.code, 0, result.error)
            return path
        }
        let filters = try shard(1, mode: "filters")
        let unstructured = try shard(2, mode: "unstructured")
        let mixed = weakspot("merge", filters, unstructured, "-o", folder + "/merged.json")
        XCTAssertEqual(mixed.code, 2, "shards of different --prune-mode were merged: \(mixed.output)")
        XCTAssert(mixed.error.contains("settings"), mixed.error)

        let matching = try shard(2, mode: "filters")
        let merged = weakspot("merge", filters, matching, "-o", folder + "/merged.json")
        XCTAssertEqual(merged.code, 0, "shards of one --prune-mode must merge: \(merged.error)")
    }
}
