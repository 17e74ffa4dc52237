import DataInput
import Foundation
import Gradients
import NetworkIR
import ONNXFormat
import TestSupport
import XCTest

/// Whole-model gradients of the mean softmax cross-entropy against PyTorch on the same weights,
/// inputs and labels (Fixtures/gradients, made by Fixtures/scripts/make_gradient_fixtures.py).
/// Error measure: max |ours − torch| / max |torch| over a tensor; for per-tensor statistics
/// (L1, L2 norms) the relative difference, for sums the difference relative to the L1 norm.
///
/// The bound is 1e-3 against PyTorch's float32 gradients. On mobilenet_v2 (`strict: false`) a few
/// ReLU6 inputs sit within float32 rounding of 0 or 6, so any float32 computation may flip their
/// masks: PyTorch's own float32 gradient differs from its float64 one by up to 6e-2 (the fixture's
/// `torchFloat32Error`). There the bound of each tensor is max(1e-3, 2 × that tensor's PyTorch
/// float32 error): two float32 computations each that far from the exact gradient may differ by
/// twice as much. Against the float64 gradients every model must be within max(1e-3, 2 × PyTorch's own
/// float32 error) of each tensor: as accurate as PyTorch in float32.
final class ModelGradientTests: XCTestCase {
    static let limit = 1e-3

    func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: FixturePaths.url(relative))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func doubles(_ any: Any?) throws -> [Double] {
        try XCTUnwrap(any as? [Any]).map { try XCTUnwrap(($0 as? NSNumber)?.doubleValue) }
    }

    func peakError(_ ours: [Double], _ reference: [Double]) -> Double {
        let peak = reference.map(abs).max() ?? 0
        let worst = zip(ours, reference).map { abs($0 - $1) }.max() ?? 0
        return peak > 0 ? worst / peak : worst
    }

    /// Which kind of parameter a constant is, by the operand it feeds.
    func kind(of id: ValueID, in graph: Graph) -> String {
        for node in graph.nodes {
            guard let slot = node.inputs.firstIndex(of: id) else { continue }
            switch (node.op, slot) {
            case (.conv, 1): return "conv weight"
            case (.conv, _): return "conv bias"
            case (.batchNormalization, 1): return "BN gamma"
            case (.batchNormalization, _): return "BN beta"
            case (.gemm, _), (.matMul, _): return "classifier"
            default: return node.op.onnxName
            }
        }
        return "unused"
    }

    func check(model: String, fixture: String, strict: Bool = true, batchNormMode: BatchNormMode = .frozen,
               fullTensorLimit: Double? = nil) throws {
        let reference = try json("gradients/\(fixture)")
        let graph = try Importer.importGraph(ONNXModel.load(path: FixturePaths.path(model)))
        let batch = try XCTUnwrap(reference["batch"] as? Int)
        let labels = try XCTUnwrap(reference["labels"] as? [Int])
        let array = try NPYArray.read(path: FixturePaths.path(try XCTUnwrap(reference["inputs"] as? String)))
        let sample = array.shape.dropFirst().reduce(1, *)
        let input = Tensor(shape: [batch] + array.shape.dropFirst(), storage: Array(array.floats()[0..<(batch * sample)]))

        let engine = try GraphGradients(graph: graph, threads: 2, batchNormMode: batchNormMode)
        let result = try engine.gradients(input: input, loss: .softmaxCrossEntropy(labels: labels))
        var worst: [String: Double] = [:]
        var worst64: [String: Double] = [:]
        func bound(_ kind: String, _ base: Double) -> Double {
            if let fullTensorLimit, kind.hasSuffix("(full)") { return fullTensorLimit }
            return base
        }
        func record(_ kind: String, _ error: Double, _ what: String, torch32: Double = 0) {
            worst[kind] = max(worst[kind] ?? 0, error)
            XCTAssertLessThanOrEqual(error, bound(kind, strict ? Self.limit : max(Self.limit, 2 * torch32)), "\(model) \(what)")
        }
        func record64(_ kind: String, _ error: Double, _ what: String, torch32: Double) {
            worst64[kind] = max(worst64[kind] ?? 0, error)
            worst64["PyTorch float32 " + kind] = max(worst64["PyTorch float32 " + kind] ?? 0, torch32)
            XCTAssertLessThanOrEqual(error, bound(kind, max(Self.limit, 2 * torch32)), "\(model) \(what) against float64")
        }
        // Norm-wise relative error ‖ours − torch‖₂ / ‖torch‖₂ of every tensor compared in full,
        // bounded by 1e-3 where the element-wise bound is strict; on mobilenet_v2 (random
        // weights, many activations near ReLU6 kinks) it is printed: 1.7e-3 to 3e-3 there.
        var normWorst: [String: Double] = [:]
        func recordNorm(_ kind: String, _ ours: [Double], _ reference: [Double], _ what: String) {
            let difference = zip(ours, reference).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            let norm = reference.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let error = norm > 0 ? difference / norm : difference
            normWorst[kind] = max(normWorst[kind] ?? 0, error)
            if strict { XCTAssertLessThanOrEqual(error, Self.limit, "\(model) \(what), norm-wise") }
        }
        let torchLoss = try XCTUnwrap(reference["loss"] as? Double)
        record("loss", abs(result.loss - torchLoss) / abs(torchLoss), "loss \(result.loss) vs \(torchLoss)")

        // Input: a central crop in full, and every plane's sum and norms.
        let inputRef = try XCTUnwrap(reference["input"] as? [String: Any])
        let crop = try XCTUnwrap(inputRef["crop"] as? [String: Int])
        let dx = try XCTUnwrap(result.input)
        let (c, h, w) = (dx.shape[1], dx.shape[2], dx.shape[3])
        let (top, left, size) = (crop["top"]!, crop["left"]!, crop["size"]!)
        var ours = [Double]()
        for p in 0..<(batch * c) { for y in top..<(top + size) { for x in left..<(left + size) { ours.append(Double(dx.storage[(p * h + y) * w + x])) } } }
        let inputTorch32 = try XCTUnwrap(inputRef["torchFloat32Error"] as? Double)
        record("input", peakError(ours, try doubles(inputRef["cropGradient"])), "input crop", torch32: inputTorch32)
        recordNorm("input", ours, try doubles(inputRef["cropGradient"]), "input crop")
        record64("input", peakError(ours, try doubles(inputRef["cropGradientFloat64"])), "input crop", torch32: inputTorch32)
        let planeL1 = try doubles(inputRef["planeL1"]), planeL2 = try doubles(inputRef["planeL2"]), planeSum = try doubles(inputRef["planeSum"])
        for p in 0..<(batch * c) {
            let plane = dx.storage[(p * h * w)..<((p + 1) * h * w)].map(Double.init)
            let l1 = plane.reduce(0) { $0 + abs($1) }, l2 = plane.reduce(0) { $0 + $1 * $1 }.squareRoot()
            record("input", abs(l1 - planeL1[p]) / planeL1[p], "input plane \(p) L1", torch32: inputTorch32)
            record("input", abs(l2 - planeL2[p]) / planeL2[p], "input plane \(p) L2", torch32: inputTorch32)
            record("input", abs(plane.reduce(0, +) - planeSum[p]) / planeL1[p], "input plane \(p) sum", torch32: inputTorch32)
        }

        // Every parameter's statistics, and a few in full.
        let parameters = try XCTUnwrap(reference["parameters"] as? [String: [String: Any]])
        for (name, stats) in parameters {
            let id = try XCTUnwrap(graph.value(named: name), "no constant \(name)")
            let g = try XCTUnwrap(result.constants[id], "no gradient for \(name)").storage.map(Double.init)
            let kind = kind(of: id, in: graph)
            let l1 = g.reduce(0) { $0 + abs($1) }, l2 = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let refL1 = try XCTUnwrap(stats["l1"] as? Double), refL2 = try XCTUnwrap(stats["l2"] as? Double)
            let refSum = try XCTUnwrap(stats["sum"] as? Double)
            guard refL1 > 0 else { XCTAssertEqual(l1, 0, name); continue }
            let torch32 = try XCTUnwrap(stats["torchFloat32Error"] as? Double)
            record(kind, abs(l1 - refL1) / refL1, "\(name) L1", torch32: torch32)
            record(kind, abs(l2 - refL2) / refL2, "\(name) L2", torch32: torch32)
            record(kind, abs(g.reduce(0, +) - refSum) / refL1, "\(name) sum", torch32: torch32)
            let f64 = try XCTUnwrap(stats["float64"] as? [String: Double])
            record64(kind, abs(l2 - f64["l2"]!) / f64["l2"]!, "\(name) L2", torch32: torch32)
        }
        let full = try XCTUnwrap(reference["fullGradients"] as? [String: Any])
        for (name, values) in full {
            let id = try XCTUnwrap(graph.value(named: name))
            let g = try XCTUnwrap(result.constants[id]).storage.map(Double.init)
            let torch32 = try XCTUnwrap(parameters[name]?["torchFloat32Error"] as? Double)
            record(kind(of: id, in: graph) + " (full)", peakError(g, try doubles(values)), "\(name) in full", torch32: torch32)
            recordNorm(kind(of: id, in: graph), g, try doubles(values), name)
            let full64 = try XCTUnwrap(reference["fullGradientsFloat64"] as? [String: Any])
            record64(kind(of: id, in: graph) + " (full)", peakError(g, try doubles(full64[name])), "\(name) in full", torch32: torch32)
        }
        XCTAssertEqual(Set(parameters.keys).count, parameters.count)
        let summary = worst.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2e", $0.value))" }.joined(separator: ", ")
        print("\(model) gradients vs PyTorch float32, max relative error: \(summary)")
        let summary64 = worst64.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2e", $0.value))" }.joined(separator: ", ")
        print("\(model) gradients vs PyTorch float64, max relative error: \(summary64)")
        let summaryNorm = normWorst.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2e", $0.value))" }.joined(separator: ", ")
        print("\(model) gradients vs PyTorch float32, norm-wise relative error of the tensors compared in full: \(summaryNorm)")
    }

    func testResNet18BN() throws { try check(model: "models/resnet18_bn.onnx", fixture: "resnet18_bn.json") }
    /// BatchNormalization in training mode (batch statistics), against `model.train()`. With batch
    /// 2 the batch-statistics backward amplifies float32 rounding toward the early layers: PyTorch
    /// float32 is up to 1.3e-2 from float64 there; ours is closer on the input and the per-tensor
    /// norms (2e-4–8e-4) but reaches 5e-3 on a few early full tensors (bn1, conv1,
    /// layer2.0.downsample.0), errors spread over many channels rather than one flipped mask. Full
    /// tensors are therefore bounded at 1e-2 here.
    func testResNet18BNTrainingMode() throws {
        try check(model: "models/resnet18_bn.onnx", fixture: "resnet18_bn_train.json", strict: false, batchNormMode: .training,
                  fullTensorLimit: 1e-2)
    }
    func testMobileNetV2() throws { try check(model: "models/mobilenet_v2.onnx", fixture: "mobilenet_v2.json", strict: false) }
    /// Trained weights (distilled from EfficientNet-Lite0, BatchNormalization kept;
    /// Fixtures/scripts/make_distilled_models.py), held to the strict bound. Their batch is one
    /// on which float32 rounding decides no ReLU mask: the fixture's PyTorch float32 gradients
    /// are within 1e-4 of float64 — asserted, so that a fixture made on an ill-conditioned batch
    /// fails loudly instead of turning the comparison into a coin flip.
    func checkTrained(model: String, fixture: String, parameterCount: Int) throws {
        let reference = try json("gradients/\(fixture)")
        let parameters = try XCTUnwrap(reference["parameters"] as? [String: [String: Any]])
        let input = try XCTUnwrap(reference["input"] as? [String: Any])
        let torch32 = try parameters.values.map { try XCTUnwrap($0["torchFloat32Error"] as? Double) }
            + [try XCTUnwrap(input["torchFloat32Error"] as? Double)]
        XCTAssertEqual(parameters.count, parameterCount)
        XCTAssertLessThanOrEqual(torch32.max() ?? .infinity, 1e-4, "\(fixture): the batch is not well conditioned")
        try check(model: model, fixture: fixture)
    }
    func testMobileNetV2Trained() throws {
        try checkTrained(model: "models/mobilenet_v2_trained.onnx", fixture: "mobilenet_v2_trained.json", parameterCount: 158)
    }
    func testResNet18Trained() throws {
        try checkTrained(model: "models/resnet18_trained.onnx", fixture: "resnet18_trained.json", parameterCount: 62)
    }
    func testEfficientNetLite0() throws { try check(model: "demo/efficientnet_lite0.onnx", fixture: "efficientnet_lite0.json") }

    func testLossesAgainstPyTorch() throws {
        let reference = try json("gradients/losses.json")
        let shape = try XCTUnwrap(reference["shape"] as? [Int])
        let student = Tensor(shape: shape, storage: try doubles(reference["student"]).map(Float.init))
        let teacher = Tensor(shape: shape, storage: try doubles(reference["teacher"]).map(Float.init))
        let labels = try XCTUnwrap(reference["labels"] as? [Int])
        let temperature = Float(try XCTUnwrap(reference["temperature"] as? Double))
        for (key, loss) in [("crossEntropy", Loss.softmaxCrossEntropy(labels: labels)),
                            ("distillation", Loss.distillation(teacherLogits: teacher, temperature: temperature))] {
            let expected = try XCTUnwrap(reference[key] as? [String: Any])
            let (value, gradient) = try loss.evaluate(logits: student)
            XCTAssertEqual(value, try XCTUnwrap(expected["loss"] as? Double), accuracy: 1e-5, key)
            XCTAssertLessThanOrEqual(peakError(gradient.storage.map(Double.init), try doubles(expected["gradient"])), 1e-5, key)
        }
    }

    func testBadLabelsAreErrors() throws {
        let logits = Tensor(shape: [2, 3], storage: [0, 1, 2, 3, 4, 5])
        XCTAssertThrowsError(try Loss.softmaxCrossEntropy(labels: [0, 3]).evaluate(logits: logits)) { error in
            XCTAssertTrue("\(error)".contains("label 3 of sample 1"), "\(error)")
        }
        XCTAssertThrowsError(try Loss.softmaxCrossEntropy(labels: [0]).evaluate(logits: logits))
    }
}
