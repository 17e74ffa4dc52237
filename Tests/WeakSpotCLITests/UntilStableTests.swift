import Foundation
import TestSupport
import XCTest

/// `profile --until-stable T` on data larger than one batch: it stops reading once the halves
/// Kendall τ reaches T (fewer inputs measured than given), reads everything and warns when T is
/// out of reach, and every report carries `stability.estimate` (the predicted τ at the measured N
/// and the inputs per target, non-decreasing in the target).
final class UntilStableTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_mobilenet.onnx")

    func profile(_ folder: String, _ extra: [String]) throws -> (code: Int32, error: String, report: [String: Any]) {
        let result = weakspot(["profile", model, "--data", "synthetic:48:3", "--batch", "8", "--threads", "2", "-o", folder + "/r.json", "--quiet"] + extra)
        guard result.code == 0 else { return (result.code, result.error, [:]) }
        return (result.code, result.error, try parseJSON(try String(contentsOfFile: folder + "/r.json", encoding: .utf8)))
    }

    func testStopsOnceTheRankingIsStable() throws {
        let folder = try temporaryFolder(self)
        let run = try profile(folder, ["--until-stable", "0.6"])
        XCTAssertEqual(run.code, 0, run.error)
        let stability = try XCTUnwrap(run.report["stability"] as? [String: Any])
        let until = try XCTUnwrap(stability["untilStable"] as? [String: Any])
        XCTAssertEqual(until["reached"] as? Bool, true)
        let inputs = try XCTUnwrap(until["inputs"] as? Int)
        XCTAssertLessThan(inputs, 48, "a stable ranking stops the reading early")
        XCTAssertEqual(inputs % 8, 0, "whole batches")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(stability["halvesKendall"] as? Double), 0.6)
        XCTAssertEqual((run.report["data"] as? [String: Any])?["count"] as? Int, inputs, "the report describes the inputs measured")
    }

    func testUnreachableTargetReadsEverythingAndWarns() throws {
        let folder = try temporaryFolder(self)
        let run = try profile(folder, ["--until-stable", "1"])
        XCTAssertEqual(run.code, 0, run.error)
        let until = try XCTUnwrap((run.report["stability"] as? [String: Any])?["untilStable"] as? [String: Any])
        XCTAssertEqual(until["reached"] as? Bool, false)
        XCTAssertEqual(until["inputs"] as? Int, 48)
        XCTAssertTrue(run.error.contains("warning: --until-stable 1.0: the data ran out after 48 inputs"), run.error)
    }

    func testTheReportEstimatesInputsPerTarget() throws {
        let folder = try temporaryFolder(self)
        let run = try profile(folder, [])
        XCTAssertEqual(run.code, 0, run.error)
        let stability = try XCTUnwrap(run.report["stability"] as? [String: Any])
        XCTAssertNil(stability["untilStable"])
        let estimate = try XCTUnwrap(stability["estimate"] as? [String: Any])
        XCTAssertEqual(estimate["measuredInputs"] as? Int, 48)
        let predicted = try XCTUnwrap(estimate["predictedHalvesKendall"] as? Double)
        let measured = try XCTUnwrap(stability["halvesKendall"] as? Double)
        XCTAssertLessThan(abs(predicted - measured), 0.15, "the model predicts the τ it can check: \(predicted) vs \(measured)")
        let counts = try XCTUnwrap(estimate["inputsForHalvesKendall"] as? [String: Any])
        XCTAssertEqual(Set(counts.keys), ["0.8", "0.9", "0.95"])
        let n = ["0.8", "0.9", "0.95"].compactMap { counts[$0] as? Int }
        XCTAssertFalse(n.isEmpty)
        XCTAssertEqual(n, n.sorted(), "a higher target never needs fewer inputs")
    }

    func testRefusedWithAdaptiveAndShards() throws {
        let folder = try temporaryFolder(self)
        for extra in [["--adaptive"], ["--shard", "1/2"], ["--until-stable", "0"]] {
            let result = weakspot(["profile", model, "--data", "synthetic:8", "-o", folder + "/r.json", "--quiet", "--until-stable", "0.5"] + extra)
            XCTAssertEqual(result.code, 2, "\(extra): \(result.error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/r.json"))
    }

    /// An image folder larger than one batch: 27 images (the nine demo photographs three times,
    /// sorted so that after 18 inputs both halves hold each photograph once). The halves agree
    /// exactly from there, so `--until-stable 0.99` stops at 18 of 27 inputs.
    func testAnImageFolderStopsWhenBothHalvesHoldTheSamePhotographs() throws {
        let folder = try copyOfDemoImages(self)
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            try FileManager.default.copyItem(atPath: folder + "/" + name, toPath: folder + "/b_" + name)
            try FileManager.default.copyItem(atPath: folder + "/" + name, toPath: folder + "/c_" + name)
        }
        let out = try temporaryFolder(self) + "/r.json"
        let result = weakspot("profile", FixturePaths.path("models/tiny_resnet.onnx"), "--data", folder, "--batch", "6", "--until-stable", "0.99",
                              "--threads", "2", "-o", out, "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        let report = try parseJSON(try String(contentsOfFile: out, encoding: .utf8))
        let stability = try XCTUnwrap(report["stability"] as? [String: Any])
        let until = try XCTUnwrap(stability["untilStable"] as? [String: Any])
        XCTAssertEqual(until["reached"] as? Bool, true, "\(stability)")
        XCTAssertEqual(until["inputs"] as? Int, 18, "6 and 12 inputs give halves of different photographs; 18 gives the same nine twice")
        XCTAssertEqual((report["data"] as? [String: Any])?["count"] as? Int, 18)
        // The estimate on the folder: at the measured 18, halves holding the same photographs.
        let estimate = try XCTUnwrap(stability["estimate"] as? [String: Any])
        XCTAssertEqual(estimate["measuredInputs"] as? Int, 18)
        let counts = try XCTUnwrap(estimate["inputsForHalvesKendall"] as? [String: Any])
        let n = ["0.8", "0.9", "0.95"].compactMap { counts[$0] as? Int }
        XCTAssertEqual(n.count, 3, "\(counts)")
        XCTAssertEqual(n, n.sorted())
    }
}
