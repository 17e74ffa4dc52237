import Influence
import DataInput
import Gradients
import Dispatch
import Foundation
import Support
import Training
import Linalg
import NetworkIR

/// `weakspot bench [MODEL]`: GEMM GFLOP/s, the model's forward latency, and decode+preprocess
/// throughput on a folder of images.
enum BenchCommand: Command {
    static let spec = CommandSpec(
        name: "bench",
        abstract: "Time the kernels: GEMM GFLOP/s, a model's forward latency, image preprocessing throughput.",
        discussion: """
        GEMM: C = A·B at size³ with 1 thread and with --threads threads (median over the \
        repetitions after one warm-up). MODEL: median and minimum latency of one forward pass at \
        each --batch on seeded synthetic input, after two warm-up runs. --data DIR: images per \
        second read, decoded and preprocessed (--preprocess, default imagenet) on --threads \
        threads. The kernel variant that ran is reported; WEAKSPOT_KERNEL=generic|avx2|avx512 \
        forces one. JSON: kernel, gemm {size, threads, gflopsSingleThread, gflopsAllThreads}, \
        model {path, latencies [{batch, threads, medianMs, minMs, backwardMedianMs?}]}, medianMs (the first batch's), \
        data {path, images, threads, imagesPerSecond}, imagesPerSecond. --layers adds \
        layers [{batch, runMedianMs, stepsMedianMs, steps [{nodes, operators, medianMs}]}].
        """,
        usage: "bench [<model>] [--batch <b> ...] [--threads <t>] [--repetitions <r>] [--format table|json] [--data <dir>]",
        arguments: [ArgumentSpec(name: "MODEL", help: "An ONNX model to time (optional).", isOptional: true)],
        options: OptionSpec.declared(BenchRequest.self)
            + PreprocessOptions.specs + [ModelOptions.inputShape] + ModelOptions.limits)

    struct Latency {
        var batch: Int
        var threads: Int
        var medianMs: Double
        var minMs: Double
        /// `--backward`: forward + backward (gradients of every parameter) median.
        var backwardMedianMs: Double? = nil
        /// `--train-step`: one `FineTuner.step()` median.
        var trainStepMedianMs: Double? = nil
    }

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        let request = try arguments.request(BenchRequest.self)
        let (threads, repetitions, gemmSize, batches) = (request.resolvedThreads, request.repetitions, request.gemmSize, request.resolvedBatches)

        var document: [String: JSONValue] = ["kernel": .string(KernelISA.selected.rawValue)]
        var lines: [String] = ["kernel: \(KernelISA.selected.rawValue) (WEAKSPOT_KERNEL=generic|avx2|avx512 forces one)"]

        // Inputs are checked before the long measurements start.
        let model = try arguments.positional(0).map {
            try LoadedModel.load(path: $0, limits: ModelOptions.limits(arguments), inputShape: ModelOptions.inputShape(arguments))
        }
        let dataFolder = request.data
        let images = try dataFolder.map { folder throws -> [String] in
            let files = try ImageFolderListing.imageFiles(in: folder)
            guard !files.isEmpty else { throw CLIError.input("\(folder): expected image files (.png, .jpg, .jpeg, .ppm), found none") }
            return files
        }
        let spec = try PreprocessOptions.spec(arguments, input: nil)

        if gemmSize > 0 {
            let single = LinalgBenchmark.benchmarkGEMM(size: gemmSize, threads: 1, repetitions: repetitions)
            let all = LinalgBenchmark.benchmarkGEMM(size: gemmSize, threads: threads, repetitions: repetitions)
            document["gemm"] = ["size": .int(gemmSize), "threads": .int(threads),
                                "gflopsSingleThread": .double(rounded(single)), "gflopsAllThreads": .double(rounded(all))]
            lines.append("gemm \(gemmSize)x\(gemmSize)x\(gemmSize): \(NumberText.fixed(single, decimals: 1)) GFLOP/s on 1 thread, \(NumberText.fixed(all, decimals: 1)) GFLOP/s on \(threads) thread\(threads == 1 ? "" : "s")")
        }
        if let model {
            try benchModel(model, request: request, threads: threads, repetitions: repetitions, batches: batches, document: &document, lines: &lines)
        }
        if let dataFolder, let images {
            let rate = try Dataset.benchmarkPreprocessing(paths: images, spec: spec, threads: threads)
            document["data"] = ["path": .string(dataFolder), "images": .int(images.count), "threads": .int(threads),
                                "imagesPerSecond": .double(rounded(rate))]
            document["imagesPerSecond"] = .double(rounded(rate))
            lines.append("")
            lines.append("\(dataFolder): \(images.count) images read, decoded and preprocessed (\(PreprocessOptions.describe(spec))) at \(NumberText.fixed(rate, decimals: 1)) images/s on \(threads) thread\(threads == 1 ? "" : "s")")
        }
        if request.format == .json {
            console.output.write(JSONValue.object(document).rendered())
        } else {
            for line in lines { console.print(line) }
        }
        return ExitCode.success
    }

    /// The model's forward (and backward, training-step) latencies per batch, and per step with `--layers`.
    static func benchModel(_ model: LoadedModel, request: BenchRequest, threads: Int, repetitions: Int, batches: [Int],
                           document: inout [String: JSONValue], lines: inout [String]) throws {
        var latencies = try measure(model, batches: batches, threads: threads, repetitions: repetitions)
        if request.backward {
            for i in latencies.indices {
                latencies[i].backwardMedianMs = try measureBackward(model, batch: latencies[i].batch, threads: threads, repetitions: repetitions)
            }
        }
        if request.trainStep {
            for i in latencies.indices {
                latencies[i].trainStepMedianMs = try measureTrainStep(model, batch: latencies[i].batch, threads: threads, repetitions: repetitions)
            }
        }
        document["model"] = [
            "path": .string(model.path),
            "latencies": .array(latencies.map {
                var entry: [String: JSONValue] = ["batch": .int($0.batch), "threads": .int($0.threads), "medianMs": .double(rounded($0.medianMs)), "minMs": .double(rounded($0.minMs))]
                if let b = $0.backwardMedianMs { entry["backwardMedianMs"] = .double(rounded(b)) }
                if let t = $0.trainStepMedianMs { entry["trainStepMedianMs"] = .double(rounded(t)) }
                return .object(entry)
            }),
        ]
        if let first = latencies.first { document["medianMs"] = .double(rounded(first.medianMs)) }
        let backward = latencies.contains { $0.backwardMedianMs != nil }
        let trainStep = latencies.contains { $0.trainStepMedianMs != nil }
        var table = TextTable(headers: ["batch", "threads", "median ms", "min ms", "ms per input"] + (backward ? ["fwd+bwd ms"] : [])
                                  + (trainStep ? ["train step ms"] : []),
                              alignments: [.right, .right, .right, .right, .right, .right, .right])
        table.rows = latencies.map {
            [String($0.batch), String($0.threads), NumberText.fixed($0.medianMs, decimals: 2),
             NumberText.fixed($0.minMs, decimals: 2), NumberText.fixed($0.medianMs / Double($0.batch), decimals: 2)]
                + ($0.backwardMedianMs.map { [NumberText.fixed($0, decimals: 2)] } ?? [])
                + ($0.trainStepMedianMs.map { [NumberText.fixed($0, decimals: 2)] } ?? [])
        }
        lines.append("")
        lines.append("\(model.path): forward latency, synthetic input, \(repetitions) runs after 2 warm-up")
        lines.append(table.rendered().trimmingCharacters(in: .newlines))
        if request.layers {
            try benchLayers(model, latencies: latencies, threads: threads, repetitions: repetitions, document: &document, lines: &lines)
        }
    }

    /// `--layers`: the time of every step of the execution plan, per batch size.
    static func benchLayers(_ model: LoadedModel, latencies: [Latency], threads: Int, repetitions: Int,
                            document: inout [String: JSONValue], lines: inout [String]) throws {
        var layerDocuments: [JSONValue] = []
        for latency in latencies {
            let result = try BenchLayers.measure(model, batch: latency.batch, threads: threads, repetitions: repetitions)
            layerDocuments.append(.object([
                "batch": .int(result.batch), "runMedianMs": .double(rounded(result.runMedianMs)),
                "stepsMedianMs": .double(rounded(result.stepsMedianMs)),
                "steps": .array(result.rows.map {
                    .object(["nodes": .array($0.nodes.map { .string($0) }), "operators": .array($0.operators.map { .string($0) }),
                             "medianMs": .double(rounded($0.medianMs))])
                }),
            ]))
            var steps = TextTable(headers: ["step", "operators", "median ms"], alignments: [.left, .left, .right])
            steps.rows = result.rows.map { [$0.nodes.first ?? "", $0.operators.joined(separator: "+"), NumberText.fixed($0.medianMs, decimals: 3)] }
            lines.append("")
            lines.append("batch \(result.batch): whole run \(NumberText.fixed(result.runMedianMs, decimals: 2)) ms, sum of steps \(NumberText.fixed(result.stepsMedianMs, decimals: 2)) ms (medians, alternating rounds)")
            lines.append(steps.rendered().trimmingCharacters(in: .newlines))
        }
        document["layers"] = .array(layerDocuments)
    }

    /// Median time of one gradient computation (forward keeping activations, backward to every
    /// parameter, cross-entropy against class 0) after two warm-ups.
    static func measureBackward(_ model: LoadedModel, batch: Int, threads: Int, repetitions: Int) throws -> Double {
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        let shape = input.shape(batch: batch)
        let tensor = Tensor(shape: shape, storage: SyntheticNormalGenerator(seed: 0).elements(from: 0, count: shape.reduce(1, *)))
        let engine: GraphGradients
        do { engine = try GraphGradients(graph: model.graph, threads: threads) } catch { throw CLIError.input("\(model.path): \(error)") }
        var times: [Double] = []
        for round in 0..<(repetitions + 2) {
            let start = DispatchTime.now().uptimeNanoseconds
            do { _ = try engine.gradients(input: tensor, loss: .softmaxCrossEntropy(labels: [Int](repeating: 0, count: shape[0]))) } catch {
                throw CLIError.input("\(model.path): \(error)")
            }
            if round >= 2 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
        }
        times.sort()
        return times[times.count / 2]
    }

    /// Median time of one fine-tuning step (`FineTuner.step()`: forward and backward with
    /// BatchNormalization in training mode, cross-entropy against class 0, Adam update, running
    /// statistics) on synthetic inputs without augmentation, after two warm-up steps.
    static func measureTrainStep(_ model: LoadedModel, batch: Int, threads: Int, repetitions: Int) throws -> Double {
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        let count = input.sampleShape.reduce(1, *) * batch
        var settings = FineTuneSettings(epochs: repetitions + 2, batchSize: batch, optimizer: OptimizerSettings(kind: .adam, learningRate: 1e-5))
        settings.augment = .none
        settings.shuffle = false
        settings.threads = threads
        let tuner: FineTuner
        do {
            let data = try TrainingSet.reflectPadded(SyntheticNormalGenerator(seed: 0).elements(from: 0, count: count), count: batch,
                                                     sampleShape: input.sampleShape, layout: input.layout, margin: 0,
                                                     labels: [Int](repeating: 0, count: batch))
            tuner = try FineTuner(graph: LogitsGraph.strippingFinalSoftmax(model.graph), settings: settings, data: data, teacher: nil)
        } catch { throw CLIError.input("\(model.path): \(error)") }
        var times: [Double] = []
        for round in 0..<(repetitions + 2) {
            let start = DispatchTime.now().uptimeNanoseconds
            try tuner.step()
            if round >= 2 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
        }
        times.sort()
        return times[times.count / 2]
    }

    /// Median and minimum wall-clock time of `plan.run` at each batch size.
    static func measure(_ model: LoadedModel, batches: [Int], threads: Int, repetitions: Int) throws -> [Latency] {
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        let plan = try model.plan(threads: threads)
        var results: [Latency] = []
        for batch in batches {
            let shape = input.shape(batch: batch)
            guard let count = elementCount(shape), count <= 1 << 30 else {
                throw CLIError.input("\(model.path): input at batch \(batch): expected at most 2^30 values, got shape \(shape)")
            }
            let tensor = Tensor(shape: shape, storage: SyntheticNormalGenerator(seed: 0).elements(from: 0, count: count))
            var times: [Double] = []
            for round in 0..<(repetitions + 2) {
                let start = DispatchTime.now().uptimeNanoseconds
                do {
                    _ = try plan.run(tensor)
                } catch {
                    throw CLIError.input("\(model.path): \(error)")
                }
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                if round >= 2 { times.append(elapsed) }
            }
            times.sort()
            results.append(Latency(batch: shape.first ?? batch, threads: threads,
                                   medianMs: times[times.count / 2], minMs: times[0]))
        }
        return results
    }

    /// The product of `shape`, or nil when a dimension is negative or the product overflows.
    static func elementCount(_ shape: [Int]) -> Int? {
        var product = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            product = next
        }
        return product
    }

    /// Four decimals are plenty for timings and keep the JSON short.
    static func rounded(_ value: Double) -> Double {
        guard value.isFinite else { return value }
        return (value * 10_000).rounded() / 10_000
    }
}
