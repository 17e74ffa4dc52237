import Foundation
import Influence
import TestSupport
import XCTest
import Support

/// Options no other test passed (CLIReferenceTests.testEveryOptionIsExercisedByATest lists every
/// option and fails on one no test passes): each is given here with a value whose effect is
/// checked, on the tiny fixtures so the whole class takes seconds.
final class OptionCoverageTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")
    let data = FixturePaths.path("models/tiny_resnet.input.npy")
    /// The loader limits and image options every model-reading command accepts, at values that
    /// admit the fixtures.
    let limits = ["--max-string-bytes", "1000000", "--max-pixels", "1000000", "--std", "0.25,0.25,0.25"]

    func testCountAndRunAcceptTheSharedOptions() throws {
        XCTAssertEqual(weakspot(["count", model, "--max-string-bytes", "1000000"]).code, 0)
        XCTAssertEqual(weakspot(["count", model, "--max-string-bytes", "2"]).code, 2)
        let folder = try temporaryFolder(self)
        let run = weakspot(["run", model, "--data", data, "--output", folder + "/l.npy", "--quiet"] + limits)
        XCTAssertEqual(run.code, 0, run.error)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/l.npy"))
    }

    /// --ablate-at, --group-reduction, --latent-fraction and --hard-examples reach the report.
    func testProfileOptionsReachTheReport() throws {
        let folder = try temporaryFolder(self)
        let result = weakspot(["profile", model, "--data", data, "--items", "channels,groups", "--estimators", "l1", "--ablate-at", "output",
                               "--group-reduction", "max", "--latent-fraction", "0.3", "--hard-examples", "2",
                               "--output", folder + "/r.json", "--quiet"] + limits)
        XCTAssertEqual(result.code, 0, result.error)
        let report = try validatedReport(folder + "/r.json")
        XCTAssertEqual(report["settings"]?["ablateAt"]?.stringValue, "output")
        XCTAssertEqual(report["settings"]?["groupReduction"]?.stringValue, "max")
        XCTAssertEqual(report["settings"]?["latentFraction"]?.doubleValue, 0.3)
        XCTAssertEqual(report["data"]?["hardExamples"]?.intValue, 2)
        XCTAssertEqual(report["baseline"]?["count"]?.intValue, 2)
        for key in ["merge", "rank"] {
            let out = folder + "/\(key).out"
            let arguments = key == "merge" ? ["merge", folder + "/r.json", "--output", out] : ["rank", folder + "/r.json", "--output", out]
            XCTAssertEqual(weakspot(arguments).code, 0, key)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out), key)
        }
    }

    /// Every admission rule of the planner at once, recorded in plan.json's settings.
    func testPlanOptionsReachThePlan() throws {
        let folder = try temporaryFolder(self)
        XCTAssertEqual(weakspot("profile", model, "--data", data, "--items", "groups", "-o", folder + "/r.json", "--quiet").code, 0)
        let result = weakspot(["plan", model, folder + "/r.json", "--target", "macs=0.8", "--criterion", "l1", "--keep", "/fc*",
                               "--min-channels", "2", "--max-layer-sparsity", "0.5", "--round-to", "2", "--prune-first",
                               "--data", data, "--max-inputs", "2", "--max-top1", "1", "--output", folder + "/p.json", "--quiet"] + limits)
        XCTAssertEqual(result.code, 0, result.error)
        let plan = try JSONValue.parse(String(contentsOfFile: folder + "/p.json", encoding: .utf8))
        let schema = try JSONValue.parse(String(contentsOfFile: FixturePaths.repositoryRoot.appendingPathComponent("docs/schemas/plan.schema.json").path,
                                                encoding: .utf8))
        XCTAssertEqual(JSONSchemaValidator(schema: schema).violations(of: plan), [])
        var broken = try XCTUnwrap(plan.objectValue)
        broken["macsAfter"] = "small"
        XCTAssertEqual(JSONSchemaValidator(schema: schema).violations(of: .object(broken)).count, 1, "the schema can fail")
        let settings = plan["settings"]
        XCTAssertEqual(settings?["criterion"]?.stringValue, "l1")
        XCTAssertEqual(settings?["keep"]?.arrayValue, [.string("/fc*")])
        XCTAssertEqual(settings?["minChannels"]?.intValue, 2)
        XCTAssertEqual(settings?["maxLayerSparsity"]?.doubleValue, 0.5)
        XCTAssertEqual(settings?["roundTo"]?.intValue, 2)
        XCTAssertEqual(settings?["pruneFirst"]?.boolValue, true)
        XCTAssertEqual(settings?["maxInputs"]?.intValue, 2)
        XCTAssertEqual(settings?["maxTop1"]?.doubleValue, 1)
        let noLabels = weakspot("plan", model, folder + "/r.json", "--max-acc-drop", "0.1", "--data", data, "--quiet")
        XCTAssertEqual(noLabels.code, 2)
        XCTAssertTrue(noLabels.error.contains("--max-acc-drop needs labels"), noLabels.error)

        XCTAssertEqual(weakspot("prune", model, folder + "/p.json", "--output", folder + "/p.onnx", "--max-string-bytes", "1000000").code, 0)
        let gate = weakspot("gate", folder + "/p.json", "--max-top1", "1", "--min-params-saved", "0")
        XCTAssertEqual(gate.code, 0, gate.output + gate.error)
        // A plan measured without labels has no accuracy to hold to --max-acc-drop.
        let accuracy = weakspot("gate", folder + "/p.json", "--max-acc-drop", "1")
        XCTAssertTrue([1, 2].contains(accuracy.code), accuracy.output + accuracy.error)
        XCTAssertTrue((accuracy.output + accuracy.error).contains("acc"), accuracy.output + accuracy.error)
        let report = weakspot("gate", folder + "/r.json", "--max-hidden-critical", "1000000", "--estimator", "l1", "--min-spearman", "0")
        XCTAssertNotEqual(report.code, 3, report.error)
    }

    func testFinetuneTrainingOptions() throws {
        let folder = try temporaryFolder(self)
        let student = FixturePaths.path("models/tiny_mobilenet.onnx"), inputs = FixturePaths.path("models/tiny_mobilenet.input.npy")
        let result = weakspot(["finetune", student, "--data", inputs, "--teacher", model, "--epochs", "1", "--batch", "2", "--optimizer", "sgd", "--momentum", "0.5", "--weight-decay", "0.0001", "--schedule", "cosine",
                               "--temperature", "2", "--alpha", "0.5", "--bn-momentum", "0.2", "--crop-margin", "1", "--no-shuffle",
                               "--output", folder + "/t.onnx", "--quiet"] + limits)
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/t.onnx"))
        let bad = weakspot("finetune", student, "--data", inputs, "--teacher", model, "--momentum", "1", "-o", folder + "/u.onnx")
        XCTAssertEqual(bad.code, 2)
    }

    func testBenchBackwardAndTrainStep() throws {
        let result = weakspot(["bench", model, "--gemm-size", "0", "--repetitions", "1", "--threads", "1", "--backward", "--train-step",
                               "--format", "json"] + limits)
        XCTAssertEqual(result.code, 0, result.error)
        XCTAssertFalse(result.output.isEmpty)
    }
}
