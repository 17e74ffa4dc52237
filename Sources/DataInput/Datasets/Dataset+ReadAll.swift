extension Dataset {
    /// Every input in order (the first `max` when given) as one batch, and the files `skipBad`
    /// left out: for the commands that need all inputs before they start (adaptive profiling,
    /// hard examples, plan verification, fine-tuning). The batch holds `count` items, 0 when no
    /// input could be read (the caller names what it expected).
    public func readAll(max: Int? = nil, batchSize: Int = 64) throws -> (inputs: InputBatch, skipped: [SkippedFile]) {
        let reader = try batches(size: batchSize)
        var all = InputBatch(values: [], shape: [0], labels: nil, sources: [])
        var labels: [Int] = []
        var hasLabels = false
        while let b = try reader.next() {
            var batch = b
            if let max, all.shape[0] + batch.shape[0] > max {
                let keep = max - all.shape[0]
                guard keep > 0 else { break }
                let per = batch.values.count / batch.shape[0]
                batch.values = Array(batch.values[0 ..< keep * per])
                batch.labels = batch.labels.map { Array($0.prefix(keep)) }
                batch.sources = Array(batch.sources.prefix(keep))
                batch.shape[0] = keep
            }
            if all.values.isEmpty { all.shape = batch.shape; all.shape[0] = 0 }
            all.values += batch.values
            all.shape[0] += batch.shape[0]
            all.sources += batch.sources
            if let l = batch.labels { labels += l; hasLabels = true }
        }
        all.labels = hasLabels ? labels : nil
        return (all, reader.skippedFiles)
    }
}
