#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Reads tensor data stored outside the model (`data_location = EXTERNAL`), at load time.
///
/// `location` is resolved relative to the model's folder. Refused with `.externalData`: a missing
/// folder (model decoded from memory), an empty or absolute location, a location that leaves the
/// folder lexically (`..`) or after resolving symlinks, offsets and lengths that are not decimal
/// integers or do not fit the file, and a length other than the tensor's declared size — all
/// checked before reading, so nothing is allocated beyond what the file holds.
struct ExternalDataReader {
    /// The model's folder, or nil when the model was decoded from memory without one.
    let directory: String?
    /// Total bytes read so far, which back the initializers alongside the model file.
    private(set) var bytesRead = 0
    private var resolvedDirectory: String?

    init(directory: String?) {
        self.directory = directory
    }

    mutating func read(entries: [ONNXMetadataEntry], expectedByteCount: Int) throws -> [UInt8] {
        var location: String?
        var offset = 0
        var length: Int?
        for entry in entries {
            switch entry.key {
            case "location": location = entry.value
            case "offset": offset = try Self.decimal(entry.value, "offset")
            case "length": length = try Self.decimal(entry.value, "length")
            default: break
            }
        }
        guard let location, !location.isEmpty else {
            throw ONNXError(.externalData, "external data has no location")
        }
        let path = try resolve(location)

        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            throw ONNXError(.externalData, "cannot open external data file '\(location)'")
        }
        defer { try? handle.close() }
        let fileSize: Int
        do {
            fileSize = Int(try handle.seekToEnd())
        } catch {
            throw ONNXError(.externalData, "cannot read the size of external data file '\(location)'")
        }
        guard offset <= fileSize else {
            throw ONNXError(.externalData, "external data offset \(offset) is past the end of '\(location)' (\(fileSize) bytes)")
        }
        let byteCount = length ?? (fileSize - offset)
        guard byteCount <= fileSize - offset else {
            throw ONNXError(.externalData, "external data offset \(offset) + length \(byteCount) runs past the end of '\(location)' (\(fileSize) bytes)")
        }
        guard byteCount == expectedByteCount else {
            throw ONNXError(.externalData, "external data length \(byteCount) in '\(location)', tensor dims need \(expectedByteCount) bytes")
        }
        guard byteCount > 0 else { return [] }
        let data: Data?
        do {
            try handle.seek(toOffset: UInt64(offset))
            data = try handle.read(upToCount: byteCount)
        } catch {
            throw ONNXError(.io, "cannot read \(byteCount) bytes at offset \(offset) of '\(location)'")
        }
        guard let data, data.count == byteCount else {
            throw ONNXError(.externalData, "external data file '\(location)' ended before \(byteCount) bytes at offset \(offset)")
        }
        bytesRead += byteCount
        return [UInt8](data)
    }

    /// The real path of `location` inside the model folder, or an `.externalData` error.
    private mutating func resolve(_ location: String) throws -> String {
        guard let directory else {
            throw ONNXError(.externalData, "tensor uses external data file '\(location)' but the model was decoded without a folder")
        }
        guard !location.hasPrefix("/"), !location.hasPrefix("\\"), !location.contains("\0") else {
            throw ONNXError(.externalData, "external data location '\(location)' must be relative to the model folder")
        }
        var depth = 0
        for component in location.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..":
                depth -= 1
                guard depth >= 0 else {
                    throw ONNXError(.externalData, "external data location '\(location)' leaves the model folder")
                }
            default: depth += 1
            }
        }
        if resolvedDirectory == nil {
            guard let real = Self.realPath(directory) else {
                throw ONNXError(.externalData, "model folder '\(directory)' cannot be resolved")
            }
            resolvedDirectory = real
        }
        let root = resolvedDirectory ?? directory
        guard let real = Self.realPath(directory + "/" + location) else {
            throw ONNXError(.externalData, "external data file '\(location)' not found in the model folder")
        }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        guard real.hasPrefix(prefix) else {
            throw ONNXError(.externalData, "external data location '\(location)' resolves to '\(real)', outside the model folder")
        }
        return real
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func decimal(_ text: String, _ key: String) throws -> Int {
        guard let value = Int(text), value >= 0 else {
            throw ONNXError(.externalData, "external data \(key) '\(text.prefix(40))' is not a non-negative integer")
        }
        return value
    }
}
