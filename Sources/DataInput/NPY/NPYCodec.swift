import Foundation

extension NPYArray {
    /// Parses a whole `.npy` file held in memory. Versions 1.0, 2.0 and 3.0; little-endian and
    /// byte-order-free data are read as is, big-endian data is converted; Fortran order, other
    /// dtypes and structured dtypes are refused. Bytes after the declared data are ignored.
    /// The data length is checked against the header before anything is allocated.
    public static func decode(_ bytes: [UInt8]) throws(NPYError) -> NPYArray {
        let header = try NPYHeader.parse(bytes)
        let available = bytes.count - header.dataOffset
        guard available >= header.dataByteCount else {
            throw NPYError(.truncated, at: "data",
                           "expected \(header.dataByteCount) bytes for shape \(header.shape), got \(available)")
        }
        let storage = bytes.withUnsafeBytes { raw in
            decodeStorage(UnsafeRawBufferPointer(rebasing: raw[header.dataOffset..<(header.dataOffset + header.dataByteCount)]),
                          dtype: header.dtype, count: header.count, bigEndian: header.bigEndian)
        }
        return NPYArray(shape: header.shape, storage: storage)
    }

    /// Converts `count` elements of `dtype` from raw file bytes (which must hold exactly
    /// `count * dtype.size` bytes) to typed storage.
    static func decodeStorage(_ raw: UnsafeRawBufferPointer, dtype: DType, count: Int, bigEndian: Bool) -> Storage {
        func load<T: FixedWidthInteger>(_: T.Type) -> [T] {
            (0..<count).map { i in
                let v = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
                return bigEndian ? T(bigEndian: v) : T(littleEndian: v)
            }
        }
        switch dtype {
        case .uint8: return .uint8(Array(raw.bindMemory(to: UInt8.self)))
        case .int32: return .int32(load(Int32.self))
        case .int64: return .int64(load(Int64.self))
        case .float32: return .float32(load(UInt32.self).map(Float.init(bitPattern:)))
        case .float64: return .float64(load(UInt64.self).map(Double.init(bitPattern:)))
        }
    }

    /// The file numpy's `np.save` would write for this array (little-endian, C order, format
    /// version 1.0 unless the header needs 2.0), byte for byte.
    public func encoded() -> [UInt8] {
        var out = NPYHeader.encode(dtype: dtype, shape: shape)
        out.reserveCapacity(out.count + count * dtype.size)
        func append<T: FixedWidthInteger>(_ values: [T]) {
            for v in values { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        }
        switch storage {
        case .uint8(let v): out += v
        case .int32(let v): append(v)
        case .int64(let v): append(v)
        case .float32(let v): append(v.map(\.bitPattern))
        case .float64(let v): append(v.map(\.bitPattern))
        }
        return out
    }

    /// Reads and parses a `.npy` file. Errors carry the path.
    public static func read(path: String) throws(NPYError) -> NPYArray {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe))
        } catch {
            throw NPYError(.io, at: "file", "could not read: \(error.localizedDescription)", file: path)
        }
        do { return try decode(bytes) } catch { throw error.inFile(path) }
    }

    /// Writes the array atomically: to a temporary file in the same folder, then renamed over
    /// `path`, so that a reader never sees a half-written file. An existing destination that is
    /// not a regular file (`-o /dev/null`, `/dev/stdout`, a pipe) is written in place instead:
    /// renaming over it would replace a device node with a file.
    public func write(path: String) throws(NPYError) {
        var status = stat()
        if stat(path, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
            guard status.st_mode & S_IFMT != S_IFDIR else { throw NPYError(.io, at: "file", "expected a file, got a folder", file: path) }
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw NPYError(.io, at: "file", "could not open for writing: \(String(cString: strerror(errno)))", file: path)
            }
            do {
                try handle.write(contentsOf: Data(encoded()))
                try handle.close()
            } catch {
                throw NPYError(.io, at: "file", "could not write: \(error.localizedDescription)", file: path)
            }
            return
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).\(UInt32.random(in: 0...UInt32.max)).tmp")
        do {
            try Data(encoded()).write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                let code = errno
                try? FileManager.default.removeItem(at: temporary)
                throw NPYError(.io, at: "file", "could not rename the temporary file into place: \(String(cString: strerror(code)))", file: path)
            }
        } catch let error as NPYError {
            throw error
        } catch {
            throw NPYError(.io, at: "file", "could not write: \(error.localizedDescription)", file: path)
        }
    }
}
