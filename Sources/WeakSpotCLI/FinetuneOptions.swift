import NetworkIR
import Training

/// `finetune`'s options that depend on the model: the crop margin's default follows its input.
enum FinetuneOptions {
    /// `--crop-margin`, default ⌊input height / 14⌋ (16 pixels at 224).
    static func cropMargin(_ request: FinetuneRequest, input: GraphInput) throws(CLIError) -> Int {
        let (_, height, width) = PreprocessOptions.imageSize(input)
        guard let height, let width else { throw CLIError.input("finetune: expected an image input (N, C, H, W) or (N, H, W, C), got \(input.sampleShape)") }
        let margin = request.cropMargin ?? height / 14
        guard margin < min(height, width) else {
            throw CLIError.usage(command: "finetune", message: "--crop-margin: expected less than the input's \(height)×\(width), got \(margin)")
        }
        return margin
    }

    /// The trained model's file (`-o`, binary), the checkpoint (default: the model's path +
    /// `.checkpoint`) and `--history` (text, may be `-`), resolved before any training.
    static func outputs(_ request: FinetuneRequest, _ arguments: ParsedArguments, console: Console) throws(CLIError) -> (model: String, checkpoint: String, history: OutputDestination?) {
        let model = OutputOption(option: "output", defaultName: "tuned.onnx", content: .binary)
        guard let modelPath = try OutputFile.resolve(arguments, model, console: console)?.path else {
            throw arguments.usageError("missing option '-o <tuned.onnx>'")
        }
        let checkpoint = OutputOption(option: "checkpoint", defaultName: "finetune.checkpoint", content: .checkpoint)
        let resolved = try OutputFile.resolve(arguments, [(checkpoint, request.checkpoint ?? modelPath + ".checkpoint"),
                                                          (OutputOption(option: "history", defaultName: "history.json"), request.history)],
                                              console: console)
        return (modelPath, resolved[0]!.path!, resolved[1])
    }
}
