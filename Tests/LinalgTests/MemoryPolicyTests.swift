import Foundation
import Linalg
import XCTest

final class MemoryPolicyTests: XCTestCase {
    /// Minor page faults of this process so far (field 10 of /proc/self/stat), or nil.
    private func minorFaults() -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, minflt field 10.
        return fields.count > 7 ? Int(fields[7]) : nil
    }

    /// A 48 MB block (above glibc's largest mmap threshold) freed and allocated again must reuse
    /// its pages instead of faulting them in again.
    func testFreedLargeBlockIsReusedWithoutPageFaults() throws {
        #if os(Linux)
        guard MemoryPolicy.retainFreedMemory() else { throw XCTSkip("allocator policy not supported here") }
        guard minorFaults() != nil else { throw XCTSkip("no /proc/self/stat") }
        let bytes = 48 << 20, pages = bytes / 4096
        func touch(_ p: UnsafeMutableRawPointer) {
            for offset in stride(from: 0, to: bytes, by: 4096) { p.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self) }
        }
        guard let first = malloc(bytes) else { return XCTFail("malloc failed") }
        touch(first)
        free(first)
        guard let second = malloc(bytes) else { return XCTFail("malloc failed") }
        let before = minorFaults() ?? 0
        touch(second)
        let faults = (minorFaults() ?? 0) - before
        free(second)
        XCTAssertLessThan(faults, pages / 4, "expected the freed pages to be reused, got \(faults) faults for \(pages) pages")
        #else
        throw XCTSkip("Linux only")
        #endif
    }
}
