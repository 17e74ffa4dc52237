import Support

/// Delivers a dataset's batches in order. Each `next()` decodes and preprocesses the images of one
/// batch in parallel on `options.threads` threads; nothing is read ahead, so at most one batch of
/// pixels and values is alive (plus the one the caller holds).
public final class BatchReader {
    public let dataset: Dataset
    public let batchSize: Int
    /// Images left out so far (only with `skipBad`), in reading order.
    public private(set) var skippedFiles: [SkippedFile] = []
    /// Items delivered so far.
    public private(set) var delivered = 0
    private var cursor = 0
    private var itemShape: [Int]?
    private let npyReader: NPYFileReader?

    init(dataset: Dataset, batchSize: Int) throws {
        self.dataset = dataset
        self.batchSize = batchSize
        if case .npy(let path) = dataset.source {
            npyReader = try NPYFileReader(path: path)
        } else {
            npyReader = nil
        }
    }

    /// The next batch, or nil after the last. Throws `ImageDecodingError` (with the file path) for
    /// an undecodable image unless `skipBad`, `DatasetError` when an item preprocesses to a
    /// different shape than the first one (unless `skipBad`), `NPYError` on a read error.
    public func next() throws -> InputBatch? {
        guard cursor < dataset.count else { return nil }
        switch dataset.items {
        case .synthetic(let seed, let shape): return syntheticBatch(seed: seed, shape: shape)
        case .npy(let header): return try npyBatch(header)
        case .files: return try imageBatch()
        }
    }

    private func labels(_ indices: [Int]) -> [Int]? {
        dataset.labels.map { all in indices.map { all[$0] } }
    }

    private func syntheticBatch(seed: UInt64, shape: [Int]) -> InputBatch {
        let n = min(batchSize, dataset.count - cursor)
        let perItem = shape.reduce(1, *)
        let generator = SyntheticNormalGenerator(seed: seed)
        let values = generator.elements(from: cursor * perItem, count: n * perItem)
        let indices = Array(cursor..<(cursor + n))
        cursor += n
        delivered += n
        return InputBatch(values: values, shape: [n] + shape, labels: labels(indices),
                          sources: indices.map { "synthetic[\($0)]" })
    }

    private func npyBatch(_ header: NPYHeader) throws -> InputBatch? {
        guard let reader = npyReader, case .npy(let path) = dataset.source else { return nil }
        let n = min(batchSize, dataset.count - cursor)
        let indices = Array(cursor..<(cursor + n))
        let chunk = try reader.read(items: cursor..<(cursor + n))
        cursor += n
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if header.dtype != .uint8 {
            delivered += n
            let values: [Float]
            do throws(NPYError) { values = try chunk.exactFloats(firstItem: indices[0]) } catch { throw error.inFile(path) }
            return InputBatch(values: values, shape: chunk.shape, labels: labels(indices),
                              sources: indices.map { "\(name)[\($0)]" })
        }
        let s = header.shape
        let (h, w, c) = (s[1], s[2], s.count == 4 ? s[3] : 1)
        let pixels = chunk.uint8s()
        let per = h * w * c
        let images = (0..<n).map { i in
            DecodedImage(width: w, height: h, channels: c, pixels: Array(pixels[(i * per)..<((i + 1) * per)]))
        }
        return try assemble(indices: indices, names: indices.map { "\(name)[\($0)]" }) { i in
            .success(images[i])
        }
    }

    private func imageBatch() throws -> InputBatch? {
        var collected: [(index: Int, values: [Float])] = []
        while collected.count < batchSize && cursor < dataset.count {
            let take = min(batchSize - collected.count, dataset.count - cursor)
            let indices = Array(cursor..<(cursor + take))
            cursor += take
            let limits = dataset.options.limits
            let files = dataset.files
            let results = parallelPreprocess(count: take) { i in
                do throws(ImageDecodingError) {
                    return .success(try ImageFileReader.decode(path: files[indices[i]], limits: limits))
                } catch {
                    return .failure(error)
                }
            }
            for (i, result) in results.enumerated() {
                switch result {
                case .success(let values):
                    if let problem = checkShape(values.shape, name: files[indices[i]]) {
                        try skipOrThrow(files[indices[i]], problem)
                    } else {
                        collected.append((indices[i], values.values))
                    }
                case .failure(let error):
                    try skipOrThrow(files[indices[i]], error)
                }
            }
        }
        guard !collected.isEmpty, let shape = itemShape else { return nil }
        return batch(collected, itemShape: shape, names: collected.map { files[$0.index] })
    }

    private var files: [String] { dataset.files }

    /// Decodes (through `load`) and preprocesses items `0..<count` on the configured threads; the
    /// results come back in item order whatever the scheduling.
    private func parallelPreprocess(count: Int, load: @escaping @Sendable (Int) -> Result<DecodedImage, ImageDecodingError>)
        -> [Result<(values: [Float], shape: [Int]), any Error>] {
        let spec = dataset.options.preprocess
        let layout = dataset.options.layout
        let results = Locked<[Result<(values: [Float], shape: [Int]), any Error>?]>(Array(repeating: nil, count: count))
        let workers = max(1, min(dataset.options.threads, count, Parallel.maxParts))
        WorkerThreads.run(parts: workers) { worker in
            for i in stride(from: worker, to: count, by: workers) {
                let outcome: Result<(values: [Float], shape: [Int]), any Error>
                switch load(i) {
                case .failure(let error): outcome = .failure(error)
                case .success(let image):
                    do {
                        let geometry = try spec.geometry(width: image.width, height: image.height)
                        let values = try preprocess(image, spec: spec, layout: layout)
                        outcome = .success((values, spec.outputShape(geometry, layout: layout)))
                    } catch {
                        outcome = .failure(error)
                    }
                }
                results.withLock { $0[i] = outcome }
            }
        }
        return results.withLock { $0.map { $0 ?? .failure(DatasetError("internal: item not processed")) } }
    }

    /// Preprocesses already decoded images (uint8 .npy items).
    private func assemble(indices: [Int], names: [String],
                          load: @escaping @Sendable (Int) -> Result<DecodedImage, ImageDecodingError>) throws -> InputBatch? {
        var collected: [(index: Int, values: [Float])] = []
        var kept: [String] = []
        for (i, result) in parallelPreprocess(count: indices.count, load: load).enumerated() {
            switch result {
            case .success(let values):
                if let problem = checkShape(values.shape, name: names[i]) {
                    try skipOrThrow(names[i], problem)
                } else {
                    collected.append((indices[i], values.values))
                    kept.append(names[i])
                }
            case .failure(let error): try skipOrThrow(names[i], error)
            }
        }
        guard !collected.isEmpty, let shape = itemShape else { return nil }
        return batch(collected, itemShape: shape, names: kept)
    }

    private func checkShape(_ shape: [Int], name: String) -> DatasetError? {
        guard let established = itemShape else { itemShape = shape; return nil }
        guard established == shape else {
            return DatasetError("\(name): preprocessed to shape \(shape), expected \(established) like the first input (give --resize/--crop)")
        }
        return nil
    }

    private func skipOrThrow(_ name: String, _ error: any Error) throws {
        guard dataset.options.skipBad else {
            if let decoding = error as? ImageDecodingError, decoding.file == nil {
                var located = decoding
                located.file = name
                throw located
            }
            if let preprocessing = error as? PreprocessError {
                throw DatasetError("\(name): \(preprocessing.description)")
            }
            throw error
        }
        let reason: String
        if let decoding = error as? ImageDecodingError {
            var unlocated = decoding
            unlocated.file = nil
            reason = unlocated.description
        } else {
            reason = "\(error)"
        }
        skippedFiles.append(SkippedFile(path: name, reason: reason))
    }

    private func batch(_ collected: [(index: Int, values: [Float])], itemShape: [Int], names: [String]) -> InputBatch {
        var values: [Float] = []
        values.reserveCapacity(collected.count * (collected.first?.values.count ?? 0))
        for item in collected { values += item.values }
        delivered += collected.count
        return InputBatch(values: values, shape: [collected.count] + itemShape,
                          labels: labels(collected.map(\.index)), sources: names)
    }
}

