/// One image component of a frame (SOF), with its block geometry (libjpeg's jpeg_component_info).
struct JPEGComponent: Sendable {
    var id: UInt8
    var horizontalSampling: Int
    var verticalSampling: Int
    var quantTableIndex: Int
    /// Samples per row before upsampling: ceil(width × h / hmax) (libjpeg's downsampled_width).
    var sampleWidth = 0
    /// Sample rows before upsampling: ceil(height × v / vmax).
    var sampleHeight = 0
    /// Blocks covering the samples: ceil(sampleWidth / 8); a non-interleaved scan visits these only.
    var widthInBlocks = 0
    var heightInBlocks = 0
    /// Blocks stored, padded out to whole MCUs of an interleaved scan (row stride of the coefficients).
    var blocksPerLine = 0
    var blocksPerColumn = 0
}

/// The frame header (SOF0/1/2) and the MCU geometry derived from it.
struct JPEGFrame: Sendable {
    var width: Int
    var height: Int
    var progressive: Bool
    var components: [JPEGComponent]
    var maxHorizontalSampling = 1
    var maxVerticalSampling = 1
    /// MCUs of an interleaved scan: ceil(width / (8 × hmax)) by ceil(height / (8 × vmax)).
    var mcusPerLine = 0
    var mcusPerColumn = 0

    /// Fills in the derived geometry. The caller has checked width × height against the limits,
    /// so none of these products can overflow.
    mutating func computeGeometry() {
        maxHorizontalSampling = components.map(\.horizontalSampling).max() ?? 1
        maxVerticalSampling = components.map(\.verticalSampling).max() ?? 1
        mcusPerLine = Self.ceilDiv(width, 8 * maxHorizontalSampling)
        mcusPerColumn = Self.ceilDiv(height, 8 * maxVerticalSampling)
        for i in components.indices {
            var c = components[i]
            c.sampleWidth = Self.ceilDiv(width * c.horizontalSampling, maxHorizontalSampling)
            c.sampleHeight = Self.ceilDiv(height * c.verticalSampling, maxVerticalSampling)
            c.widthInBlocks = Self.ceilDiv(c.sampleWidth, 8)
            c.heightInBlocks = Self.ceilDiv(c.sampleHeight, 8)
            c.blocksPerLine = mcusPerLine * c.horizontalSampling
            c.blocksPerColumn = mcusPerColumn * c.verticalSampling
            components[i] = c
        }
    }

    static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
}

/// A scan header (SOS): which components, which tables, and the progression parameters.
struct JPEGScan: Sendable {
    /// Indices into `JPEGFrame.components`, in scan order.
    var componentIndices: [Int]
    var dcTableIndices: [Int]
    var acTableIndices: [Int]
    /// Spectral selection start and end (0...63), successive approximation high and low bits.
    var spectralStart: Int
    var spectralEnd: Int
    var approximationHigh: Int
    var approximationLow: Int
}

/// Zigzag position → natural (row-major) position, with 16 extra entries mapping to 63 so that a
/// run that overshoots coefficient 63 in corrupt data lands on 63, as in libjpeg.
let jpegNaturalOrder: [Int] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
]
