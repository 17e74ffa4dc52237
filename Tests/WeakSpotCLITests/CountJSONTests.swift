import Foundation
import Influence
import Support
import TestSupport
import XCTest

/// `count --format json` reads back with the report JSON reader.
final class CountJSONTests: XCTestCase {
    func testCountOutputReadsBack() throws {
        let result = weakspot("count", FixtureModel.tinyResNet, "--format", "json")
        let value = try JSONValue.parse(result.output)
        XCTAssertEqual(value["totals"]?["params"]?.intValue, 19_994)
        XCTAssertEqual(value["schema"]?.stringValue, "weakspot.count/1")
        XCTAssertEqual(value.rendered(), result.output, "parse then render gives the same bytes")
    }
}
