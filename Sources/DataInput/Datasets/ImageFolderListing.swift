import Foundation

/// Lists image files the way WeakSpot orders them. "Sorted" means byte-wise order of the UTF-8
/// names (Python's `sorted` on str gives the same order, as code-point order equals UTF-8 byte
/// order). Image files are those ending in .png, .jpg, .jpeg, .ppm or .pgm in any case (`.JPG`
/// from a camera is read); other files, sub-folders of an image folder and hidden entries (names
/// starting with '.') are not read, and `ignored` lists them so the commands can say so.
public enum ImageFolderListing {
    public static let extensions: Set<String> = ["png", "jpg", "jpeg", "ppm", "pgm"]

    /// The image files directly inside `folder`, sorted. Subfolders are not entered.
    public static func imageFiles(in folder: String) throws(DatasetError) -> [String] {
        try imageFilesAndIgnored(in: folder).files
    }

    /// The image files directly inside `folder`, sorted, and every entry left out with why.
    public static func imageFilesAndIgnored(in folder: String) throws(DatasetError) -> (files: [String], ignored: [SkippedFile]) {
        var files: [String] = []
        var ignored: [SkippedFile] = []
        for entry in try allEntries(of: folder).sorted(by: byteOrder) {
            let path = folder + "/" + entry
            if let reason = whyIgnored(entry, path: path, subFolderReason: "a sub-folder (an image folder's sub-folders are not read; a folder of only sub-folders is read as class folders)") {
                ignored.append(SkippedFile(path: path, reason: reason))
            } else {
                files.append(path)
            }
        }
        return (files, ignored)
    }

    /// Why an entry is not read as an image, or nil when it is one.
    static func whyIgnored(_ entry: String, path: String, subFolderReason: String) -> String? {
        if entry.hasPrefix(".") { return "hidden" }
        if isFolder(path) { return subFolderReason }
        if isImageName(entry) { return nil }
        guard let dot = entry.lastIndex(of: "."), dot != entry.startIndex else { return "not an image (no extension)" }
        return "not an image (.\(entry[entry.index(after: dot)...]))"
    }

    /// What a folder holds that is not read, counted by reason, for the error on a folder
    /// without images: "2 hidden, 1 not an image (.txt)".
    public static func describe(_ ignored: [SkippedFile]) -> String {
        guard !ignored.isEmpty else { return "an empty folder" }
        var counts: [(String, Int)] = []
        for entry in ignored {
            let reason = entry.reason.hasPrefix("a sub-folder") ? "a sub-folder" : entry.reason
            if let i = counts.firstIndex(where: { $0.0 == reason }) { counts[i].1 += 1 } else { counts.append((reason, 1)) }
        }
        return counts.map { "\($0.1) × \($0.0)" }.joined(separator: ", ")
    }

    /// Class folders: the sorted class names, and every image file under each class folder
    /// (recursively, following torchvision's ImageFolder: a folder's files in sorted order, then
    /// its subfolders in sorted order of their paths) with its class index.
    public static func classFiles(in folder: String) throws(DatasetError) -> (classes: [String], files: [(path: String, label: Int)]) {
        let listing = try classFilesAndIgnored(in: folder)
        return (listing.classes, listing.files)
    }

    /// `classFiles`, and every entry under `folder` left out with why.
    public static func classFilesAndIgnored(in folder: String) throws(DatasetError)
        -> (classes: [String], files: [(path: String, label: Int)], ignored: [SkippedFile]) {
        var ignored: [SkippedFile] = []
        for entry in try allEntries(of: folder).sorted(by: byteOrder) where entry.hasPrefix(".") || !isFolder(folder + "/" + entry) {
            ignored.append(SkippedFile(path: folder + "/" + entry, reason: entry.hasPrefix(".") ? "hidden" : "a file beside the class folders"))
        }
        let classes = try visibleEntries(of: folder).filter { isFolder(folder + "/" + $0) }.sorted(by: byteOrder)
        var files: [(String, Int)] = []
        for (label, name) in classes.enumerated() {
            var folders = [folder + "/" + name]
            var found: [(directory: String, name: String)] = []
            while let current = folders.popLast() {
                for entry in try allEntries(of: current).sorted(by: byteOrder) {
                    let path = current + "/" + entry
                    if let reason = whyIgnored(entry, path: path, subFolderReason: "") {
                        if reason.isEmpty { folders.append(path) } else { ignored.append(SkippedFile(path: path, reason: reason)) }
                    } else {
                        found.append((current, entry))
                    }
                }
            }
            found.sort { a, b in
                a.directory == b.directory ? byteOrder(a.name, b.name) : byteOrder(a.directory, b.directory)
            }
            files += found.map { ($0.directory + "/" + $0.name, label) }
        }
        return (classes, files, ignored)
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
        try allEntries(of: folder).filter { !$0.hasPrefix(".") }
    }

    static func allEntries(of folder: String) throws(DatasetError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw DatasetError("\(folder): could not list the folder: \(error.localizedDescription)")
        }
    }
}
