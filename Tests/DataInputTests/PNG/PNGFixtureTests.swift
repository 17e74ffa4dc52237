import DataInput
import TestSupport
import XCTest

/// Every PNG fixture decodes to exactly Pillow's pixels.
final class PNGFixtureTests: XCTestCase {
    func testEveryPNGFixtureMatchesPillow() throws {
        let fixtures = try PNGFixture.all().filter { $0.file.hasSuffix(".png") }
        XCTAssertGreaterThan(fixtures.count, 80)
        for fixture in fixtures {
            do {
                let image = try PNGDecoder.decode(try fixture.bytes(), limits: ImageLimits())
                if let problem = try fixture.mismatch(image) { XCTFail(problem + " (\(fixture.why))") }
            } catch let error as ImageDecodingError {
                XCTFail("\(fixture.file): \(error) (\(fixture.why))")
            }
        }
    }
}
