import DataInput
import XCTest

/// Malformed and hostile headers: each is refused with an NPYError naming the place, never a
/// crash, and never an allocation proportional to a declared size the file does not back.
final class NPYHostileHeaderTests: XCTestCase {
    /// A version-1.0 file with `dictionary` as its header and `data` after it.
    func file(_ dictionary: String, data: [UInt8] = [], major: UInt8 = 1) -> [UInt8] {
        let header = Array(dictionary.utf8) + [0x0A]
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0]
        if major == 1 {
            out += [UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
        } else {
            out += [UInt8(header.count & 0xFF), UInt8(header.count >> 8), 0, 0]
        }
        return out + header + data
    }

    func assertRefused(_ bytes: [UInt8], _ kind: NPYError.Kind, mentioning text: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try NPYArray.decode(bytes), file: file, line: line) { error in
            guard let e = error as? NPYError else { return XCTFail("not an NPYError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
            XCTAssertTrue(e.description.contains(text), "\(e)", file: file, line: line)
        }
    }

    func testValidMinimalHeaderParses() throws {
        let a = try NPYArray.decode(file("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", data: [1, 0, 0, 0, 2, 0, 0, 0]))
        XCTAssertEqual(a.storage, .int32([1, 2]))
        let b = try NPYArray.decode(file("{\"shape\": (1, 1), \"descr\": \"|u1\", \"fortran_order\": False}", data: [9]))
        XCTAssertEqual(b.uint8s(), [9])
    }

    func testBadMagicAndVersions() {
        assertRefused(Array("PK\u{3}\u{4}this is a zip file".utf8), .notNPY, mentioning: "magic")
        assertRefused([0x93, 0x4E, 0x55], .truncated, mentioning: "magic")
        assertRefused(file("{}", major: 4), .notNPY, mentioning: "version")
    }

    func testHeaderLengthPastTheEnd() {
        var bytes = file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }")
        bytes[8] = 0xFF; bytes[9] = 0xFF
        assertRefused(bytes, .truncated, mentioning: "header length")
        var v2 = file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", major: 2)
        v2[11] = 0x7F
        assertRefused(v2, .truncated, mentioning: "header length")
    }

    func testUnparsableDictionaries() {
        assertRefused(file("not a dict"), .badHeader, mentioning: "header")
        assertRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)"), .badHeader, mentioning: "header")
        assertRefused(file("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }"), .badHeader, mentioning: "True or False")
        assertRefused(file("{'descr': '<f4', 'fortran_order': False, }"), .badHeader, mentioning: "missing key 'shape'")
        assertRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}"), .badHeader, mentioning: "extra")
        assertRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (1, x), }"), .badHeader, mentioning: "dimension")
        assertRefused(file("{'descr': '<f4, 'fortran_order': False, 'shape': (1,), }"), .badHeader, mentioning: "header")
        assertRefused(file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"), .unsupported, mentioning: "structured")
        assertRefused(file("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"), .unsupported, mentioning: "'<c8'")
        assertRefused(file("{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }"), .badHeader, mentioning: "byte order")
    }

    func testNegativeAndOverflowingShapes() {
        assertRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }"), .badHeader, mentioning: "negative")
        assertRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }"), .badHeader, mentioning: "64 bits")
        assertRefused(file("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"), .badHeader, mentioning: "overflows")
        assertRefused(file("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }"), .badHeader, mentioning: "overflows")
    }

    func testHugeDeclaredArrayWithLittleDataIsRefusedBeforeAllocation() {
        // 10^12 float32 elements declared, 8 bytes present: must fail fast, not allocate 4 TB.
        let bytes = file("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }", data: [0, 0, 0, 0, 0, 0, 0, 0])
        assertRefused(bytes, .truncated, mentioning: "expected 4000000000000 bytes")
    }

    func testShortData() {
        assertRefused(file("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", data: [1, 2, 3]),
                      .truncated, mentioning: "expected 16 bytes for shape [2], got 3")
    }

    func testEveryTruncationOfAValidFileIsAnErrorNotACrash() throws {
        let valid = file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", data: [UInt8](repeating: 0x3F, count: 16))
        XCTAssertNoThrow(try NPYArray.decode(valid))
        for length in 0..<valid.count {
            XCTAssertThrowsError(try NPYArray.decode(Array(valid[0..<length])), "prefix of \(length) bytes")
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var mutated = valid
            for _ in 0..<3 { mutated[Int.random(in: 0..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            _ = try? NPYArray.decode(mutated)
        }
    }

    func testMissingFileNamesThePath() {
        XCTAssertThrowsError(try NPYArray.read(path: "/nonexistent/x.npy")) { error in
            XCTAssertEqual((error as? NPYError)?.kind, .io)
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/x.npy: "), "\(error)")
        }
    }
}
