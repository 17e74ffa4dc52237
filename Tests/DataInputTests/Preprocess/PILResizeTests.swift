import DataInput
import TestSupport
import XCTest

/// The bilinear resize against Pillow's `Image.resize(size, BILINEAR)`: byte-identical.
final class PILResizeTests: XCTestCase {
    /// (source image, width, height): the cases make_preprocess_fixtures.py wrote.
    static let cases: [(String, Int, Int)] = [
        ("astronaut", 140, 105), ("astronaut", 75, 57), ("chelsea", 185, 139), ("chelsea", 240, 61),
        ("camera", 61, 79), ("coffee", 48, 32), ("tiny", 384, 256),
    ]

    func testResizeIsByteIdenticalToPillow() throws {
        for (name, width, height) in Self.cases {
            let source = try PreprocessFixtures.image("\(name).pixels.npy")
            let expected = try PreprocessFixtures.image("resize_\(name)_\(width)x\(height).npy")
            let resized = try PILResize.bilinear(source, width: width, height: height)
            XCTAssertEqual(resized.width, width)
            XCTAssertEqual(resized.height, height)
            XCTAssertEqual(resized.channels, source.channels)
            let differing = zip(resized.pixels, expected.pixels).filter { $0 != $1 }.count
            XCTAssertEqual(differing, 0, "\(name) -> \(width)x\(height): \(differing) of \(expected.pixels.count) bytes differ from Pillow")
        }
    }

    func testSameSizeIsACopyAndBadSizesThrow() throws {
        let source = try PreprocessFixtures.image("tiny.pixels.npy")
        XCTAssertEqual(try PILResize.bilinear(source, width: source.width, height: source.height), source)
        XCTAssertThrowsError(try PILResize.bilinear(source, width: 0, height: 5))
    }
}
