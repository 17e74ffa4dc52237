import Linalg

/// One convolution of the path tests: a geometry, an input size and a batch.
struct ConvCase {
    var name: String
    var geometry: ConvGeometry
    var height: Int
    var width: Int
    var batch: Int = 1

    /// Runs the convolution `make` builds on seeded values (drawn in the order weights, bias,
    /// input, residual) and returns its output with the Double reference of the same values.
    func run(seed: UInt64, bias: Bool = true, residual: Bool, activation: Activation, threads: Int,
             make: (_ weights: [Float], _ bias: [Float]?, _ geometry: ConvGeometry) throws -> Conv2D)
        throws -> (got: [Float], reference: [ReferenceValue]) {
        let g = geometry
        var random = SeededValues(seed: seed)
        let weights = random.array(try g.weightCount())
        let biasValues = bias ? random.array(g.outputChannels) : nil
        let input = random.array(batch * g.inputChannels * height * width)
        let (oh, ow) = try Conv2D.outputSize(geometry: g, inputHeight: height, inputWidth: width)
        let outCount = batch * g.outputChannels * oh * ow
        let residualValues = residual ? random.array(outCount) : nil
        let conv = try make(weights, biasValues, g)
        var output = [Float](repeating: .nan, count: outCount)
        try output.withUnsafeMutableBufferPointer { out in
            try (residualValues ?? []).withUnsafeBufferPointer { res in
                try conv.run(input: input, batch: batch, inputHeight: height, inputWidth: width,
                             output: out.baseAddress!, residual: residual ? res.baseAddress : nil,
                             activation: activation, threads: threads)
            }
        }
        let reference = try referenceConv(g, batch: batch, height: height, width: width, input: input,
                                          weights: weights, bias: biasValues, residual: residualValues,
                                          activation: activation)
        return (output, reference)
    }
}
