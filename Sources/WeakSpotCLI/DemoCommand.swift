import Influence
import Foundation
import Support

/// `weakspot demo`: the whole pipeline on the bundled demo model and images.
enum DemoCommand: Command {
    static let spec = CommandSpec(
        name: "demo",
        abstract: "Run the pipeline on the bundled demo model (EfficientNet-Lite0) and images.",
        discussion: """
        Finds the demo in $WEAKSPOT_DEMO_DIR, else ./Fixtures/demo, else the repository the tool \
        was built from. Writes count.json (parameters and MACs per layer), logits.npy and \
        predictions.json (top-5 per image, inception preprocessing), then profiles every channel and \
        group of the last block and the head, and sweeps those layers, into report.json, report.csv \
        and report.html; plans to keep 95% of the MACs (plan.json, verified on the images), prunes \
        (pruned.onnx) and gates the plan, printing each stage's summary.
        """,
        usage: "demo [--out <dir>]",
        options: OptionSpec.declared(DemoRequest.self))

    static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
        let request = try arguments.request(DemoRequest.self)
        let out = OutputFile.folderWithoutTrailingSlash(request.out)
        let threads = request.threads ?? ProcessInfo.processInfo.activeProcessorCount
        let demo = try DemoLocation.find()
        try OutputFile.makeFolder(out)
        let started = Date()

        let modelPath = demo + "/efficientnet_lite0.onnx"
        let model = try LoadedModel.load(path: modelPath, limits: .init(), inputShape: nil)
        let count = try CountReport(model: model, onnx: nil, batch: 1)
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
        printPredictions(result, names: names, console: console)
        // Profile: every channel of the last stage and the head, on the same images.
        console.print("")
        let reportPath = out + "/report.json", csvPath = out + "/report.csv", htmlPath = out + "/report.html"
        let profileArguments = ["profile", modelPath, "--data", images, "--preprocess", "inception",
                                "--layers", demoLayers, "--items", "channels,groups,layers", "--perturb", "prune:0.25,0.5,0.75",
                                "--estimators", "l1,l2,bn,apoz,meanact,random", "--threads", "\(threads)", "-o", reportPath, "--csv", csvPath, "--html", htmlPath]
            + (request.quiet ? ["--quiet"] : [])
        let profileCode = try WeakSpotCLI.dispatch(profileArguments, console: console)
        guard profileCode == ExitCode.success else { return profileCode }
        try summarize(reportPath: reportPath, console: console)
        console.print("")
        // Plan: keep 95% of the model's MACs by removing measured-weak groups of the profiled
        // layers, verified on the same images; prune; gate the plan as a CI job would.
        let planPath = out + "/plan.json", prunedPath = out + "/pruned.onnx"
        console.print("")
        let planCode = try WeakSpotCLI.dispatch(["plan", modelPath, reportPath, "--target", "macs=\(demoTarget)", "--data", images,
                                                 "--preprocess", "inception", "--threads", "\(threads)", "-o", planPath]
                                                + (request.quiet ? ["--quiet"] : []), console: console)
        guard planCode == ExitCode.success else { return planCode }
        console.print("")
        let pruneCode = try WeakSpotCLI.dispatch(["prune", modelPath, planPath, "-o", prunedPath], console: console)
        guard pruneCode == ExitCode.success else { return pruneCode }
        console.print("")
        console.print("gate: weakspot gate plan.json --max-top1 \(demoGateTop1) --min-macs-saved \(demoGateSaved)")
        let gateCode = try WeakSpotCLI.dispatch(["gate", planPath, "--max-top1", "\(demoGateTop1)", "--min-macs-saved", "\(demoGateSaved)"], console: console)
        console.print(gateCode == ExitCode.success ? "gate: passed (exit 0)" : "gate: failed (exit \(gateCode)); a CI job would stop here")
        console.print("")
        let seconds = Date().timeIntervalSince(started)
        console.print("done in \(NumberText.fixed(seconds, decimals: 1)) s; files:")
        for path in [countPath, logitsPath, predictionsPath, reportPath, csvPath, htmlPath, planPath, prunedPath] { console.print("  \(path)") }
        return ExitCode.success
    }

    /// The producers the demo profiles: the last MBConv block and the head convolution — the
    /// widest layers, where pruning saves most, and quick to measure (a few seconds).
    static let demoLayers = "/_blocks.15/*,/_conv_head/*"
    /// The demo plan keeps this fraction of the model's MACs (the profiled layers hold 13% of them).
    static let demoTarget = 0.95
    /// The demo gate: at most this fraction of images may change class, at least this much saved.
    static let demoGateTop1 = 0.25
    static let demoGateSaved = 0.04

    /// The top-1 class of every demo photograph, one line each.
    static func printPredictions(_ result: InferenceResult, names: [String]?, console: Console) {
        console.print("top-1 class per image (preprocess: inception):")
        let width = result.predictions.map { ($0.source as NSString).lastPathComponent.count }.max() ?? 0
        for prediction in result.predictions {
            let file = (prediction.source as NSString).lastPathComponent
            let best = prediction.top.first
            let name = best.flatMap { PredictionText.name($0.index, names) } ?? "class \(best?.index ?? -1)"
            console.print("  " + file.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                          + NumberText.fixed(best?.probability ?? .nan, decimals: 3) + "  " + name)
        }
    }

    /// The weakest and strongest channels of the demo's report.
    static func summarize(reportPath: String, console: Console) throws {
        let text = try String(contentsOfFile: reportPath, encoding: .utf8)
        let report = try JSONValue.parse(text)
        let items = (report["items"]?.arrayValue ?? []).filter { $0["kind"]?.stringValue == "channel" }
            .sorted { ($0["rank"]?.intValue ?? 0) < ($1["rank"]?.intValue ?? 0) }
        let weak = items.filter { $0["weak"]?.boolValue == true }.count
        console.print("influence (KL, mean over images) of \(items.count) channels: \(weak) weak")
        func line(_ item: JSONValue) -> String {
            let mean = item["influence"]?["mean"]?.doubleValue ?? .nan
            let high = item["influence"]?["ciHigh"]?.doubleValue ?? .nan
            return "  \(item["id"]?.stringValue ?? "?")  kl \(NumberText.scientific(mean))  (95% ≤ \(NumberText.scientific(high)))"
        }
        if let l1 = report["agreement"]?["l1"], let rho = l1["spearman"]?.doubleValue {
            let latent = report["agreement"]?["latent"]
            console.print("L1 magnitude predicts measured influence with Spearman ρ = \(NumberText.fixed(rho, decimals: 2)), Kendall τ = \(NumberText.fixed(l1["kendall"]?.doubleValue ?? .nan, decimals: 2))")
            console.print("channels magnitude pruning would wrongly remove (latent, hidden-critical): \(latent?["hiddenCritical"]?.intValue ?? 0)")
        }
        console.print("weakest:")
        for item in items.prefix(3) { console.print(line(item)) }
        console.print("most influential:")
        for item in items.suffix(3).reversed() { console.print(line(item)) }
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
