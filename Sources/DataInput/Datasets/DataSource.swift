import Foundation

/// Where the inputs come from, as given to `--data`.
public enum DataSource: Sendable, Equatable {
    /// A `.npy` file: float32/float64 taken as already preprocessed, uint8 `(N,H,W,C)` or `(N,H,W)`
    /// taken as raw pixels and preprocessed.
    case npy(path: String)
    /// A folder of image files, read in sorted order.
    case imageFolder(path: String)
    /// A folder of class folders (`DATA/CLASS/...`): labels are class indices in sorted class-name
    /// order, as torchvision's ImageFolder assigns them.
    case classFolders(path: String)
    /// `count` seeded standard-normal inputs (see `SyntheticNormalGenerator`).
    case synthetic(count: Int, seed: UInt64)

    /// Parses the `--data` text: `synthetic:N[:SEED]` (SEED defaults to 0), a path ending in `.npy`,
    /// or a folder. A folder whose entries (ignoring hidden ones, whose names start with '.') are
    /// all folders is class folders; any other folder is an image folder.
    public static func parse(_ text: String) throws(DatasetError) -> DataSource {
        if text.hasPrefix("synthetic:") {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 || parts.count == 3, let count = Int(parts[1]), count > 0 else {
                throw DatasetError("data '\(text)': expected synthetic:N or synthetic:N:SEED with N a positive integer")
            }
            var seed: UInt64 = 0
            if parts.count == 3 {
                guard let parsed = UInt64(parts[2]) else {
                    throw DatasetError("data '\(text)': expected SEED to be an integer in 0...\(UInt64.max), got '\(parts[2])'")
                }
                seed = parsed
            }
            return .synthetic(count: count, seed: seed)
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: text, isDirectory: &isFolder) else {
            throw DatasetError("data '\(text)': expected an existing .npy file, folder or synthetic:N, got no such path")
        }
        if !isFolder.boolValue {
            guard text.lowercased().hasSuffix(".npy") else {
                throw DatasetError("data '\(text)': expected a .npy file or a folder of images, got another kind of file")
            }
            return .npy(path: text)
        }
        let entries = try ImageFolderListing.visibleEntries(of: text)
        let allFolders = !entries.isEmpty && entries.allSatisfy { ImageFolderListing.isFolder(text + "/" + $0) }
        return allFolders ? .classFolders(path: text) : .imageFolder(path: text)
    }
}
