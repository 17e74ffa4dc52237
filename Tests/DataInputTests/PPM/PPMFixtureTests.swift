import DataInput
import TestSupport
import XCTest

/// Every PPM/PGM fixture (binary and plain, maxval 15 to 65535) decodes to exactly Pillow's pixels.
final class PPMFixtureTests: XCTestCase {
    func testEveryNetpbmFixtureMatchesPillow() throws {
        let fixtures = try PNGFixture.all().filter { $0.file.hasSuffix(".ppm") || $0.file.hasSuffix(".pgm") }
        XCTAssertGreaterThanOrEqual(fixtures.count, 10)
        for fixture in fixtures {
            do {
                let image = try PPMDecoder.decode(try fixture.bytes(), limits: ImageLimits())
                if let problem = try fixture.mismatch(image) { XCTFail(problem + " (\(fixture.why))") }
            } catch let error as ImageDecodingError {
                XCTFail("\(fixture.file): \(error) (\(fixture.why))")
            }
        }
    }
}
