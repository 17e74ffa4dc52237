import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes output files so that a crash or kill never leaves a half-written one: the bytes go to
/// a temporary file in the same folder, which is then renamed over the destination (rename is
/// atomic within one file system). On failure the previous file is left as it was.
public enum AtomicFile {
    /// Throws `FileError` naming `path` and the reason (missing folder, no permission, disk full).
    public static func write(_ text: String, to path: String) throws(FileError) {
        try write(Data(text.utf8), to: path)
    }

    public static func write(_ data: Data, to path: String) throws(FileError) {
        // A destination that exists and is not a regular file (`/dev/stdout`, a pipe, `/dev/full`)
        // is written in place: renaming over it would replace a device node with a file.
        var status = stat()
        if stat(path, &status) == 0 {
            let type = status.st_mode & S_IFMT
            if type == S_IFDIR { throw FileError("\(path): cannot write the file: it is a folder") }
            if type != S_IFREG { return try writeInPlace(data, to: path) }
        }
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        // POSIX calls rather than `Data.write`, so that the error names the reason (ENOSPC,
        // EFBIG, EDQUOT) instead of a Foundation error number.
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw FileError("\(path): cannot write the file: \(String(cString: strerror(errno)))") }
        let failure = writeAll(data, to: fd)
        guard failure == 0 else {
            unlink(temporary.path)
            throw FileError("\(path): cannot write the file: \(String(cString: strerror(failure)))")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let code = errno
            unlink(temporary.path)
            throw FileError("\(path): cannot write the file: \(String(cString: strerror(code)))")
        }
    }

    /// Writes every byte to an existing special file, with the POSIX reason on failure (ENOSPC
    /// for `/dev/full`, EPIPE for a closed pipe).
    static func writeInPlace(_ data: Data, to path: String) throws(FileError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("\(path): cannot write the file: \(String(cString: strerror(errno)))") }
        let failure = writeAll(data, to: fd)
        if failure != 0 { throw FileError("\(path): cannot write the file: \(String(cString: strerror(failure)))") }
    }

    /// Writes every byte of `data` to `fd` and closes it; the errno of the first failure, or 0.
    static func writeAll(_ data: Data, to fd: Int32) -> Int32 {
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = posixWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += n
            }
        }
        if close(fd) != 0 && failure == 0 { failure = errno }
        return failure
    }

    /// The POSIX reason behind a Foundation file error, in lower case.
    public static func reason(_ error: any Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let underlying, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return (error as NSError).localizedDescription.lowercased()
    }
}

/// POSIX `write`, out of reach of `AtomicFile.write`'s overloads.
private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }
