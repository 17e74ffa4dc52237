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
    /// Throws `InfluenceError` naming `path` and the reason (missing folder, no permission, disk full).
    public static func write(_ text: String, to path: String) throws(InfluenceError) {
        try write(Data(text.utf8), to: path)
    }

    public static func write(_ data: Data, to path: String) throws(InfluenceError) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try data.write(to: temporary)
        } catch {
            unlink(temporary.path)
            throw InfluenceError("\(path): cannot write the file: \(reason(error))")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let code = errno
            unlink(temporary.path)
            throw InfluenceError("\(path): cannot write the file: \(String(cString: strerror(code)))")
        }
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
