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
}
