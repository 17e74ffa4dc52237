import Foundation

/// `weakspot demo`: the pipeline on the bundled demo model and images, as far as it is built.
enum DemoCommand: Command {
    static let spec = CommandSpec(
        name: "demo",
        abstract: "Run the pipeline on the bundled demo model (EfficientNet-Lite0) and images.",
        discussion: """
        Finds the demo in $WEAKSPOT_DEMO_DIR, else ./Fixtures/demo, else the repository the tool \
        was built from. Writes count.json (parameters and MACs per layer), logits.npy and \
        predictions.json (top-5 per image, inception preprocessing) into the output folder and \
        prints each image's most probable class.
        """,
        usage: "demo [--out <dir>]",
        options: [
            .value("out", "dir", help: "Folder for the demo's files (created when missing).", default: "./weakspot-demo"),
            .value("threads", "t", help: "Threads for decoding and the model.", default: "all cores"),
            .flag("quiet", short: "q", help: "No progress on standard error."),
        ])

    /// Stages of the whole pipeline that the demo will run once they exist (SPEC.md, `demo`).
    static let laterStages: [(stage: String, command: String)] = [
        ("profile", "profile"), ("report", "profile"), ("plan", "plan"), ("prune", "prune"), ("gate", "gate"),
    ]

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        let out = arguments.value("out") ?? "weakspot-demo"
        let threads = try arguments.integer("threads", default: ProcessInfo.processInfo.activeProcessorCount, in: 1...1024)
        let demo = try DemoLocation.find()
        try OutputFile.makeFolder(out)
        let started = Date()

        let modelPath = demo + "/efficientnet_lite0.onnx"
        let model = try LoadedModel.load(path: modelPath, limits: .init(), inputShape: nil)
        let count = try CountReport(model: model, batch: 1)
        let countPath = out + "/count.json"
        try OutputFile.write(count.json.rendered(), to: countPath)
        console.print("model: \(modelPath)")
        console.print("  \(count.cost.layers.count) layers, \(NumberText.grouped(count.cost.params)) parameters, \(NumberText.grouped(count.cost.macs)) MACs at \(NumberText.shape(count.inputShape))")

        let images = demo + "/images"
        let settings = InferenceSettings(data: images, batch: 16, threads: threads, preprocess: .inception,
                                         labelsPath: nil, skipBad: false, limits: .init(), top: 5)
        var names: [String]? = nil
        let result = try Inference.run(model: model, settings: settings, onBatch: { _, classCount in
            if names == nil { names = try ClassNames.load(explicit: nil, modelPath: modelPath, classCount: classCount) }
        })
        let logitsPath = out + "/logits.npy"
        try DataOutput.writeLogits(result, to: logitsPath)
        let predictionsPath = out + "/predictions.json"
        try OutputFile.write(PredictionText.json(result, model: modelPath, data: images, names: names, top: 5,
                                                 logitsPath: logitsPath).rendered(), to: predictionsPath)
        console.print("")
        console.print("top-1 class per image (preprocess: inception):")
        let width = result.predictions.map { ($0.source as NSString).lastPathComponent.count }.max() ?? 0
        for prediction in result.predictions {
            let file = (prediction.source as NSString).lastPathComponent
            let best = prediction.top.first
            let name = best.flatMap { PredictionText.name($0.index, names) } ?? "class \(best?.index ?? -1)"
            console.print("  " + file.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                          + NumberText.fixed(best?.probability ?? .nan, decimals: 3) + "  " + name)
        }
        console.print("")
        for (stage, command) in laterStages {
            switch CommandTable.entry(named: command)?.action {
            case .planned(let issue)?: console.print("\(stage): not built yet (issue \(issue))")
            case .built?: console.print("\(stage): 'weakspot \(command)' exists but is not part of the demo yet")
            case nil: console.print("\(stage): not built yet")
            }
        }
        console.print("")
        let seconds = Date().timeIntervalSince(started)
        console.print("done in \(NumberText.fixed(seconds, decimals: 1)) s; files:")
        for path in [countPath, logitsPath, predictionsPath] { console.print("  \(path)") }
        return ExitCode.success
    }
}

/// Where the bundled demo (model, images, class names) lives.
enum DemoLocation {
    /// `$WEAKSPOT_DEMO_DIR`, else `./Fixtures/demo`, else `Fixtures/demo` in the repository this
    /// file was compiled in. Throws `CLIError.input` when none holds the demo model.
    static func find() throws(CLIError) -> String {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["WEAKSPOT_DEMO_DIR"], !explicit.isEmpty {
            candidates.append(explicit)
        }
        candidates.append("Fixtures/demo")
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(repository.appendingPathComponent("Fixtures/demo").path)
        for folder in candidates where FileManager.default.fileExists(atPath: folder + "/efficientnet_lite0.onnx") {
            return folder
        }
        throw CLIError.input("\(candidates[0]): expected the demo folder (efficientnet_lite0.onnx, images/); set WEAKSPOT_DEMO_DIR or run from the repository")
    }
}
