import Foundation

/// Reads a `.npy` file item by item along its first axis without loading it whole, so that a
/// dataset of any size is streamed with memory bounded by the batch. The header is checked against
/// the file size when opened.
public final class NPYFileReader {
    public let path: String
    public let header: NPYHeader
    /// Elements per item: the product of `shape[1...]` (1 for a 1-d array).
    public let itemCount: Int
    /// Number of items: `shape[0]`.
    public let items: Int
    private let handle: FileHandle

    /// Opens `path` and parses its header. Throws `.io`, header errors, `.truncated` when the file
    /// is shorter than the header declares, `.badHeader` for a 0-d array (no items to iterate).
    public init(path: String) throws(NPYError) {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw NPYError(.io, at: "file", "could not open for reading", file: path)
        }
        self.handle = handle
        do {
            let fileSize = Int(try handle.seekToEnd())
            try handle.seek(toOffset: 0)
            let prefix = [UInt8](try handle.read(upToCount: 12) ?? Data())
            var headerBytes = prefix
            if prefix.count >= 12 {
                let lengthBytes = prefix[6] == 1 ? 2 : 4
                var headerLength = 0
                for i in 0..<lengthBytes { headerLength |= Int(prefix[8 + i]) << (8 * i) }
                let want = min(8 + lengthBytes + headerLength, fileSize) - prefix.count
                if want > 0 { headerBytes += [UInt8](try handle.read(upToCount: want) ?? Data()) }
            }
            let header = try NPYHeader.parse(headerBytes)
            guard let first = header.shape.first else {
                throw NPYError(.badHeader, at: "header 'shape'", "expected at least one dimension (items), got ()")
            }
            guard fileSize - header.dataOffset >= header.dataByteCount else {
                throw NPYError(.truncated, at: "data",
                               "expected \(header.dataByteCount) bytes for shape \(header.shape), got \(fileSize - header.dataOffset)")
            }
            self.header = header
            self.items = first
            self.itemCount = NPYArray.elementCount(Array(header.shape.dropFirst())) ?? 0
        } catch let error as NPYError {
            try? handle.close()
            throw error.inFile(path)
        } catch {
            try? handle.close()
            throw NPYError(.io, at: "file", "could not read: \(error.localizedDescription)", file: path)
        }
    }

    deinit { try? handle.close() }

    /// Items `range` (a sub-range of `0..<items`) as one array of shape `[range.count] + shape[1...]`.
    public func read(items range: Range<Int>) throws(NPYError) -> NPYArray {
        guard range.lowerBound >= 0, range.upperBound <= items else {
            throw NPYError(.io, at: "data", "expected items within 0..<\(items), got \(range)", file: path)
        }
        let elementSize = header.dtype.size
        let start = header.dataOffset + range.lowerBound * itemCount * elementSize
        let length = range.count * itemCount * elementSize
        let bytes: [UInt8]
        do {
            try handle.seek(toOffset: UInt64(start))
            bytes = [UInt8](try handle.read(upToCount: length) ?? Data())
        } catch {
            throw NPYError(.io, at: "data", "could not read: \(error.localizedDescription)", file: path)
        }
        guard bytes.count == length else {
            throw NPYError(.truncated, at: "data", "expected \(length) bytes at offset \(start), got \(bytes.count)", file: path)
        }
        let count = range.count * itemCount
        let storage = bytes.withUnsafeBytes {
            NPYArray.decodeStorage($0, dtype: header.dtype, count: count, bigEndian: header.bigEndian)
        }
        return NPYArray(shape: [range.count] + header.shape.dropFirst(), storage: storage)
    }
}
