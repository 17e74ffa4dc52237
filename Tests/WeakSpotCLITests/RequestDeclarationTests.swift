import DataInput
import Foundation
import Influence
import Planning
import Reporting
import Support
import TestSupport
import XCTest

/// Every option of every typed request is declared once; these tests hold the declarations to
/// what the issue asks: a result-changing option moves the fingerprint and appears in `settings`,
/// a presentation option moves neither.
final class RequestDeclarationTests: XCTestCase {
    func testProfileOptionsAreRecorded() throws {
        try checkRecorded(ProfileRequest.self, base: ["data": ["synthetic:2"]])
    }

    func testPlanOptionsAreRecorded() throws {
        try checkRecorded(PlanRequest.self, base: ["target": ["params=0.5"]])
    }

    func testRankGateAndPreprocessOptionsAreRecorded() throws {
        try checkRecorded(RankRequest.self, base: [:])
        try checkRecorded(GateRequest.self, base: ["max-hidden-critical": ["1"]])
        try checkRecorded(PreprocessRequest.self, base: [:])
    }

    /// A gate with nothing to check, or an --estimator without --min-spearman, is refused before
    /// any file is read; a threshold outside its range names the range.
    func testGateRequestRefusesUsageMistakes() throws {
        XCTAssertThrowsError(try GateRequest.parse(values: ["kind": ["channel"]], flags: ["json"])) { error in
            XCTAssertTrue("\(error)".contains("no threshold given"), "\(error)")
        }
        XCTAssertThrowsError(try GateRequest.parse(values: ["max-kl": ["1"], "estimator": ["l2"]], flags: [])) { error in
            XCTAssertTrue("\(error)".contains("--estimator chooses what --min-spearman reads"), "\(error)")
        }
        XCTAssertThrowsError(try GateRequest.parse(values: ["max-top1": ["1.5"]], flags: [])) { error in
            XCTAssertEqual("\(error)", "--max-top1: expected a number in [0, 1], got '1.5'")
        }
        let request = try GateRequest.parse(values: ["max-kl": ["0.5"]], flags: ["require-target"])
        XCTAssertEqual(request.maxKL, 0.5)
        XCTAssertThrowsError(try request.refuseOptions(notFor: .report, path: "r.json")) { error in
            XCTAssertEqual("\(error)", "--max-kl applies to plans; r.json is a report")
        }
        XCTAssertNoThrow(try request.refuseOptions(notFor: .plan, path: "p.json"))
    }

    /// The preprocessing request adapts the preset to the model's image and then applies the
    /// explicit options, as `run`, `profile` and `plan` did when each read the options by name.
    func testPreprocessRequestBuildsTheSpec() throws {
        let defaults = try PreprocessRequest.parse(values: [:], flags: [])
        XCTAssertEqual(try defaults.spec(channels: 3, height: 224, width: 224), .imagenet)
        let small = try defaults.spec(channels: 1, height: 64, width: 64)
        XCTAssertEqual(small.crop, PreprocessSpec.Crop(64))
        XCTAssertEqual(small.resize, .shorterSide(73))
        XCTAssertEqual(small.channels, 1)
        let explicit = try PreprocessRequest.parse(values: ["resize": ["32x48"], "crop": ["16"], "mean": ["0.5, 0.5,0.5"], "max-pixels": ["99"]], flags: [])
        let spec = try explicit.spec(channels: 3, height: 64, width: 64)
        XCTAssertEqual(spec.resize, .size(height: 32, width: 48))
        XCTAssertEqual(spec.crop, PreprocessSpec.Crop(16))
        XCTAssertEqual(spec.mean, [0.5, 0.5, 0.5])
        XCTAssertEqual(explicit.limits.maxPixels, 99)
        XCTAssertEqual(explicit.fixedImageSize?.height, 16)
        XCTAssertThrowsError(try PreprocessRequest.parse(values: ["crop": ["2x3x4"]], flags: [])) { error in
            XCTAssertEqual("\(error)", "--crop: expected N or HxW, got '2x3x4'")
        }
        XCTAssertThrowsError(try PreprocessRequest.parse(values: ["std": ["0,1,1"]], flags: []).spec(channels: 3, height: nil, width: nil)) { error in
            XCTAssertTrue("\(error)".hasPrefix("--std"), "\(error)")
        }
    }

    /// A repeatable option keeps every value in order; any other keeps the last.
    func testRepeatedOptionKeepsEveryValueInOrder() throws {
        struct Request: OptionRequest {
            var names: [String] = []
            var last = ""
            static let declarations: [OptionDeclaration<Request>] = [
                .repeated("name", "n", \.names, .text, help: "", effect: .result, sample: "a"),
                .value("last", "l", \.last, .text, help: "", effect: .result, sample: "b"),
            ]
        }
        let request = try Request.parse(values: ["name": ["b", "a", "c"], "last": ["x", "y"]], flags: [])
        XCTAssertEqual(request.names, ["b", "a", "c"])
        XCTAssertEqual(request.last, "y")
        XCTAssertEqual(request.settings.first?.value, .strings(["b", "a", "c"]))
        XCTAssertThrowsError(try Request.parse(values: ["name": ["b", ""]], flags: [])) { error in
            XCTAssertTrue("\(error)".hasPrefix("--name: expected a value"), "\(error)")
        }
    }

    /// Changes each declared option to its sample value, one at a time, and compares.
    func checkRecorded<R: OptionRequest>(_ type: R.Type, base: [String: [String]], file: StaticString = #filePath, line: UInt = #line) throws {
        let declarations = R.declarations
        XCTAssertGreaterThan(declarations.count, 5, file: file, line: line)
        XCTAssertEqual(Set(declarations.map(\.name)).count, declarations.count, "an option is declared twice", file: file, line: line)
        let start = try R.parse(values: base, flags: [])
        let baseSettings = Dictionary(uniqueKeysWithValues: start.settings.map { ($0.key, $0.value) })
        XCTAssertEqual(baseSettings.count, start.settings.count, "two options record the same settings key", file: file, line: line)
        var results = 0
        for declaration in declarations {
            var changed = start
            try declaration.apply(&changed, declaration.sample)
            let settings = Dictionary(uniqueKeysWithValues: changed.settings.map { ($0.key, $0.value) })
            switch declaration.effect {
            case .result:
                results += 1
                XCTAssertNotEqual(changed.fingerprint, start.fingerprint, "--\(declaration.name) \(declaration.sample) leaves the fingerprint unchanged", file: file, line: line)
                XCTAssertNotNil(settings[declaration.settingsKey], "settings lack \(declaration.settingsKey) (--\(declaration.name))", file: file, line: line)
                XCTAssertNotEqual(settings[declaration.settingsKey], baseSettings[declaration.settingsKey],
                                  "--\(declaration.name) \(declaration.sample) leaves settings.\(declaration.settingsKey) unchanged", file: file, line: line)
            case .presentation:
                XCTAssertEqual(changed.fingerprint, start.fingerprint, "--\(declaration.name) is marked presentation but changes the fingerprint", file: file, line: line)
                XCTAssertNil(settings[declaration.settingsKey], "--\(declaration.name) is marked presentation but is recorded", file: file, line: line)
            }
        }
        XCTAssertGreaterThan(results, 0, file: file, line: line)
    }

    /// The report schema describes every settings key a profile records.
    func testReportSchemaDescribesEverySetting() throws {
        let request = try ProfileRequest.parse(values: ["data": ["synthetic:2"]], flags: [])
        let schema = try JSONValue.parse(ReportSchema.text)
        let properties = try XCTUnwrap(schema["properties"]?["settings"]?["properties"]?.objectValue)
        XCTAssertEqual(Set(request.settings.map(\.key)).subtracting(properties.keys), [])
    }

    /// The two findings of issue 16: `--adaptive-slice` was left out of the fingerprint and
    /// `--prune-mode` out of the settings.
    func testAdaptiveSliceAndPruneModeAreRecorded() throws {
        let a = try ProfileRequest.parse(values: ["data": ["x.npy"]], flags: ["adaptive"])
        let b = try ProfileRequest.parse(values: ["data": ["x.npy"], "adaptive-slice": ["5"]], flags: ["adaptive"])
        XCTAssertNotEqual(a.fingerprint, b.fingerprint)
        let filters = ProfileReport.settings(try ProfileRequest.parse(values: ["data": ["x.npy"]], flags: []))
        let unstructured = ProfileReport.settings(try ProfileRequest.parse(values: ["data": ["x.npy"], "prune-mode": ["unstructured"]], flags: []))
        XCTAssertEqual(filters["pruneMode"]?.stringValue, "filters")
        XCTAssertEqual(unstructured["pruneMode"]?.stringValue, "unstructured")
    }

    func testParseErrorsNameTheOption() {
        func message(_ values: [String: [String]], flags: Set<String> = []) -> String {
            do { _ = try ProfileRequest.parse(values: values, flags: flags); return "accepted" } catch { return error.message }
        }
        XCTAssertEqual(message([:]), "missing option '--data <data>'")
        XCTAssertEqual(message(["data": ["d"], "batch": ["0"]]), "--batch: expected an integer in 1...4096, got '0'")
        XCTAssertEqual(message(["data": ["d"], "perturb": ["scale:x"]]), "--perturb scale:A: expected a number, got 'x'")
        XCTAssertEqual(message(["data": ["d"], "latent-fraction": ["0.6"]]), "--latent-fraction: expected a number in (0, 0.5], got '0.6'")
        XCTAssertEqual(message(["data": ["d"], "items": ["channel,wires"]]), "--items: expected channels, groups, layers or tensors, got 'wires'")
        XCTAssertEqual(message(["data": ["d"]], flags: ["resume"]), "--resume needs --checkpoint FILE")
    }
}

/// Resuming and merging through the command line refuse runs whose recorded options differ.
final class RecordedOptionsCommandTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")
    let data = FixturePaths.path("models/tiny_resnet.input.npy")

    func testResumeWithAnotherAdaptiveSliceIsRefused() throws {
        let folder = try temporaryFolder(self)
        let common = ["profile", model, "--data", data, "--adaptive", "--checkpoint", folder + "/c.ckpt", "--quiet", "-o", folder + "/r.json"]
        XCTAssertEqual(weakspot(common + ["--adaptive-slice", "2"]).code, 0)
        let resumed = weakspot(common + ["--adaptive-slice", "3", "--resume"])
        XCTAssertEqual(resumed.code, 2)
        XCTAssertTrue(resumed.error.contains("belongs to another run"), resumed.error)
        XCTAssertEqual(weakspot(common + ["--adaptive-slice", "2", "--resume"]).code, 0)
    }

    /// Shards of a layer sweep merge into the whole run's report, and only when their prune
    /// modes agree (`pruneMode` was missing from `settings`).
    func testMergeComparesPruneModes() throws {
        let folder = try temporaryFolder(self)
        func profile(_ extra: [String], to name: String) {
            XCTAssertEqual(weakspot(["profile", model, "--data", data, "--perturb", "prune:0.5", "--quiet", "-o", folder + "/" + name] + extra).code, 0)
        }
        profile(["--shard", "1/2"], to: "s1.json")
        profile(["--shard", "2/2"], to: "s2.json")
        profile(["--shard", "2/2", "--prune-mode", "unstructured"], to: "u2.json")
        profile([], to: "whole.json")
        let refused = weakspot("merge", folder + "/s1.json", folder + "/u2.json", "-o", folder + "/bad.json")
        XCTAssertEqual(refused.code, 2)
        XCTAssertTrue(refused.error.contains("'settings' differ"), refused.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/bad.json"))
        let merged = weakspot("merge", folder + "/s1.json", folder + "/s2.json", "-o", folder + "/m.json")
        XCTAssertEqual(merged.code, 0, merged.error)
        XCTAssertEqual(try reportWithoutTiming(folder + "/m.json"), try reportWithoutTiming(folder + "/whole.json"))
    }
}
