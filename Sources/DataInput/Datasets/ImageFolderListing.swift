import Foundation

/// Lists image files the way WeakSpot orders them. "Sorted" means byte-wise order of the UTF-8
/// names (Python's `sorted` on str gives the same order, as code-point order equals UTF-8 byte
/// order). Image files are those ending in .png, .jpg, .jpeg, .ppm or .pgm (any case); other files
/// are ignored, as are hidden entries (names starting with '.').
public enum ImageFolderListing {
    public static let extensions: Set<String> = ["png", "jpg", "jpeg", "ppm", "pgm"]

    /// The image files directly inside `folder`, sorted. Subfolders are not entered.
    public static func imageFiles(in folder: String) throws(DatasetError) -> [String] {
        try visibleEntries(of: folder)
            .filter { isImageName($0) && !isFolder(folder + "/" + $0) }
            .sorted(by: byteOrder)
            .map { folder + "/" + $0 }
    }

    /// Class folders: the sorted class names, and every image file under each class folder
    /// (recursively, following torchvision's ImageFolder: a folder's files in sorted order, then
    /// its subfolders in sorted order of their paths) with its class index.
    public static func classFiles(in folder: String) throws(DatasetError) -> (classes: [String], files: [(path: String, label: Int)]) {
        let classes = try visibleEntries(of: folder).filter { isFolder(folder + "/" + $0) }.sorted(by: byteOrder)
        var files: [(String, Int)] = []
        for (label, name) in classes.enumerated() {
            var folders = [folder + "/" + name]
            var found: [(directory: String, name: String)] = []
            while let current = folders.popLast() {
                for entry in try visibleEntries(of: current) {
                    let path = current + "/" + entry
                    if isFolder(path) { folders.append(path) } else if isImageName(entry) { found.append((current, entry)) }
                }
            }
            found.sort { a, b in
                a.directory == b.directory ? byteOrder(a.name, b.name) : byteOrder(a.directory, b.directory)
            }
            files += found.map { ($0.directory + "/" + $0.name, label) }
        }
        return (classes, files)
    }

    static func byteOrder(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    static func isImageName(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        return extensions.contains(name[name.index(after: dot)...].lowercased())
    }

    static func isFolder(_ path: String) -> Bool {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &folder) && folder.boolValue
    }

    static func visibleEntries(of folder: String) throws(DatasetError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }
        } catch {
            throw DatasetError("\(folder): could not list the folder: \(error.localizedDescription)")
        }
    }
}
