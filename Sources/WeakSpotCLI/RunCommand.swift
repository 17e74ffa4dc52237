import DataInput
import Dispatch
import Foundation
import Support

/// `weakspot run MODEL --data DATA`: inference, top-K classes per input, logits to .npy.
enum RunCommand: Command {
    static let spec = CommandSpec(
        name: "run",
        abstract: "Run the model on inputs: top-K classes per input, logits saved as .npy.",
        discussion: """
        DATA is a .npy file (float32 already preprocessed, or uint8 (N,H,W,C) pixels), a folder of \
        images (.png, .jpg, .jpeg, .ppm) read in sorted order, a folder of class folders (labels \
        from the sorted class names), or synthetic:N[:SEED]. Probabilities are the softmax of the \
        logits (taken as is when the model ends in Softmax). Class names come from --classes, or \
        from imagenet_classes.txt next to the model.
        """,
        usage: "run <model> --data <data> [--top <k>] [-o <logits.npy>] [<options>]",
        arguments: [ArgumentSpec(name: "MODEL", help: "The ONNX model file.")],
        options: RunRequest.declarations.filter { RunRequest.leading.contains($0.name) }.map(OptionSpec.init) + PreprocessOptions.specs
            + RunRequest.declarations.filter { !RunRequest.leading.contains($0.name) }.map(OptionSpec.init)
            + [ModelOptions.inputShape, ModelIOOptions.outputKind] + ModelIOOptions.selection + ModelOptions.limits)

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        let request = try arguments.request(RunRequest.self)
        let (data, top, batch, threads, quiet) = (request.data ?? "", request.top, request.batch, request.resolvedThreads, request.quiet)
        let model = try LoadedModel.load(path: arguments.positionals[0], arguments, data: request.data, quiet: quiet, console: console).loaded
        guard let input = model.input else { throw CLIError.input("\(model.path): graph: expected an input") }
        let settings = InferenceSettings(
            data: data, batch: batch, threads: threads,
            preprocess: try PreprocessOptions.spec(arguments, input: input),
            labelsPath: request.labels, skipBad: request.skipBad,
            limits: try PreprocessOptions.limits(arguments), top: top, outputKind: try ModelIOOptions.outputKind(arguments))
        let output = try OutputFile.resolve(arguments, OutputOption(option: "output", defaultName: "logits.npy", content: .binary), console: console)?.path
        let classesPath = request.classes
        if let classesPath, !FileManager.default.isReadableFile(atPath: classesPath) {
            throw CLIError.input("\(classesPath): expected a text file of class names, one per line, got no readable file")
        }
        var names: [String]? = nil
        var namesLoaded = false
        var progress: ProgressReporter? = nil
        let started = DispatchTime.now().uptimeNanoseconds
        let result = try Inference.run(
            model: model, settings: settings,
            progress: { done, total in
                guard total > batch else { return }
                if progress == nil { progress = ProgressReporter(console: console, total: total, unit: "inputs", quiet: quiet, start: started) }
                progress?.update(done: done)
            },
            onDataset: { if let note = IgnoredEntries.note($0, data: data) { console.printError(note) } },
            onBatch: { predictions, classCount in
                if !namesLoaded {
                    names = try ClassNames.load(explicit: classesPath, modelPath: model.path, classCount: classCount)
                    namesLoaded = true
                }
                guard request.format == .text else { return }
                progress?.clear()
                for prediction in predictions { console.print(PredictionText.block(prediction, names: names)) }
            })
        progress?.finish()
        if let output {
            try DataOutput.writeLogits(result, to: output)
        }
        if request.format == .json {
            console.output.write(PredictionText.json(result, model: model.path, data: data, names: names,
                                                     top: top, logitsPath: output).rendered())
        } else {
            for line in PredictionText.summary(result, top: top, logitsPath: output) { console.print(line) }
        }
        for skipped in result.skipped { console.printError("skipped \(skipped.path): \(skipped.reason)") }
        if !result.skipped.isEmpty { console.printError("skipped \(result.skipped.count) unreadable file(s) (--skip-bad)") }
        return ExitCode.success
    }
}
