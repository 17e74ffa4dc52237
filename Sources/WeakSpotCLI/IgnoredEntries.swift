import DataInput

/// The entries of a `--data` folder that were not read (hidden, other extensions, sub-folders of
/// an image folder), said once on standard error so a user does not wonder where inputs went.
enum IgnoredEntries {
    static func note(_ dataset: Dataset, data: String) -> String? {
        guard !dataset.ignored.isEmpty else { return nil }
        let examples = dataset.ignored.prefix(3).map { "\($0.path) (\($0.reason))" }.joined(separator: "; ")
        return "data \(data): read \(dataset.count) images; not read: \(ImageFolderListing.describe(dataset.ignored))"
            + " — e.g. \(examples)\(dataset.ignored.count > 3 ? "; …" : "")"
    }
}
