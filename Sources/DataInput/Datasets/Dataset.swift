/// How a dataset is read and preprocessed.
public struct DatasetOptions: Sendable {
    public var preprocess: PreprocessSpec
    /// Layout of each item in a batch: NCHW or NHWC (the model's input layout).
    public var layout: PreprocessLayout
    /// `--labels`: overrides class-folder labels when both exist.
    public var labelsPath: String?
    /// Images of a batch are decoded and preprocessed on this many threads (at least 1).
    public var threads: Int
    /// `--skip-bad`: undecodable images are skipped and recorded instead of ending the run.
    public var skipBad: Bool
    /// `--max-pixels`: images declaring more pixels are refused before decoding.
    public var limits: ImageLimits
    /// Shape of one synthetic input without the batch axis (the model's input, in `layout`).
    /// Required for `synthetic:` sources, ignored otherwise.
    public var syntheticShape: [Int]?

    public init(preprocess: PreprocessSpec = .imagenet, layout: PreprocessLayout = .nchw, labelsPath: String? = nil,
                threads: Int = 1, skipBad: Bool = false, limits: ImageLimits = ImageLimits(),
                syntheticShape: [Int]? = nil) {
        self.preprocess = preprocess
        self.layout = layout
        self.labelsPath = labelsPath
        self.threads = threads
        self.skipBad = skipBad
        self.limits = limits
        self.syntheticShape = syntheticShape
    }
}

/// A batch of model inputs: `values` holds `shape` (batch axis first, then the item shape in the
/// requested layout), `labels` one per item when the dataset has labels, `sources` names each
/// item (file path, `file.npy[i]` or `synthetic[i]`).
public struct InputBatch: Sendable, Equatable {
    public var values: [Float]
    public var shape: [Int]
    public var labels: [Int]?
    public var sources: [String]
}

/// An image that `skipBad` left out, and why.
public struct SkippedFile: Sendable, Equatable {
    public var path: String
    public var reason: String
}

/// A source of model inputs read in a fixed order and delivered in batches. Opening it lists the
/// files (or reads the .npy header) and the labels; images are decoded only as batches are read,
/// so memory is bounded by a few batches whatever the number of images (see docs/data.md).
public final class Dataset: Sendable {
    public let source: DataSource
    public let options: DatasetOptions
    /// Items the source holds. With `skipBad`, batches may deliver fewer (see
    /// `BatchReader.skippedFiles`).
    public let count: Int
    /// One label per item, in order, when the source or `--labels` gives them.
    public let labels: [Int]?
    /// Class names in label order, for class folders.
    public let classNames: [String]?
    /// Image files in reading order (empty for .npy and synthetic sources).
    public let files: [String]
    /// Entries of an image folder that are not read (hidden, other extensions, sub-folders of
    /// an image folder, files beside class folders), with why; sorted by path.
    public let ignored: [SkippedFile]

    enum Items: Sendable {
        case files
        case npy(header: NPYHeader)
        case synthetic(seed: UInt64, shape: [Int])
    }
    let items: Items

    /// Opens `source`. Throws `DatasetError` (empty folder, labels that do not match, a .npy of an
    /// unsupported type or shape, a synthetic source without a shape), `NPYError` or
    /// `PreprocessError` (an invalid spec).
    public init(source: DataSource, options: DatasetOptions = DatasetOptions()) throws {
        try options.preprocess.validate()
        self.source = source
        self.options = options
        var labels: [Int]? = nil
        var classNames: [String]? = nil
        var files: [String] = []
        var ignored: [SkippedFile] = []
        switch source {
        case .imageFolder(let path):
            let listing = try ImageFolderListing.imageFilesAndIgnored(in: path)
            files = listing.files
            ignored = listing.ignored
            guard !files.isEmpty else {
                throw DatasetError("\(path): expected image files (.png, .jpg, .jpeg, .ppm, .pgm, any case), found \(ImageFolderListing.describe(ignored))")
            }
            items = .files
        case .classFolders(let path):
            let listing = try ImageFolderListing.classFilesAndIgnored(in: path)
            files = listing.files.map(\.path)
            ignored = listing.ignored
            guard !files.isEmpty else {
                throw DatasetError("\(path): expected image files (.png, .jpg, .jpeg, .ppm, .pgm, any case) in the class folders \(listing.classes.joined(separator: ", ")), found \(ImageFolderListing.describe(ignored))")
            }
            labels = listing.files.map(\.label)
            classNames = listing.classes
            items = .files
        case .npy(let path):
            let header = try NPYFileReader(path: path).header
            items = .npy(header: header)
            try Dataset.checkNPY(header, path: path, limits: options.limits)
        case .synthetic(let count, let seed):
            guard let shape = options.syntheticShape, !shape.isEmpty, shape.allSatisfy({ $0 > 0 }),
                  let elements = NPYArray.elementCount(shape), elements <= PreprocessGeometry.maxOutputPixels * 3 else {
                throw DatasetError("synthetic:\(count): expected the model's input shape (positive dimensions), got \(options.syntheticShape.map { "\($0)" } ?? "none")")
            }
            items = .synthetic(seed: seed, shape: shape)
        }
        switch items {
        case .files: count = files.count
        case .npy(let header): count = header.shape[0]
        case .synthetic:
            if case .synthetic(let n, _) = source { count = n } else { count = 0 }
        }
        if let labelsPath = options.labelsPath {
            let read = try LabelsFile.read(path: labelsPath)
            guard read.count == count else {
                throw DatasetError("\(labelsPath): labels: expected \(count) (one per input), got \(read.count)")
            }
            labels = read
        }
        self.labels = labels
        self.classNames = classNames
        self.files = files
        self.ignored = ignored
    }

    /// Refuses dtypes and shapes the pipeline cannot use, and items so large that one batch
    /// would break the memory bound (more than `limits.maxPixels` pixels, or more floats than
    /// three channels of `PreprocessGeometry.maxOutputPixels`).
    static func checkNPY(_ header: NPYHeader, path: String, limits: ImageLimits) throws(DatasetError) {
        let perItem = NPYArray.elementCount(Array(header.shape.dropFirst())) ?? Int.max
        switch header.dtype {
        case .float32, .float64:
            guard header.shape.count >= 2 else {
                throw DatasetError("\(path): expected a batch of inputs (N, ...), got shape \(header.shape)")
            }
            guard perItem <= 3 * PreprocessGeometry.maxOutputPixels else {
                throw DatasetError("\(path): expected at most \(3 * PreprocessGeometry.maxOutputPixels) values per input, got \(perItem)")
            }
        case .uint8:
            let s = header.shape
            guard s.count == 3 || (s.count == 4 && (s[3] == 1 || s[3] == 3)) else {
                throw DatasetError("\(path): expected uint8 pixels shaped (N,H,W,C) with C 1 or 3, or (N,H,W), got \(s)")
            }
            let (pixels, overflow) = s[1].multipliedReportingOverflow(by: s[2])
            guard !overflow, pixels <= limits.maxPixels else {
                throw DatasetError("\(path): expected at most \(limits.maxPixels) pixels per image (--max-pixels), got \(s[1])x\(s[2])")
            }
        case .int32, .int64:
            throw DatasetError("\(path): expected float32 inputs or uint8 pixels, got \(header.dtype)")
        }
    }

    /// Reads the items in order, `size` at a time (the last batch may be smaller).
    public func batches(size: Int) throws -> BatchReader {
        guard size > 0 else { throw DatasetError("batch size: expected a positive integer, got \(size)") }
        return try BatchReader(dataset: self, batchSize: size)
    }
}
