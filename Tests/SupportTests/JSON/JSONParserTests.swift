import Foundation
import Support
import XCTest

/// The JSON reader: what Foundation writes and what our writer writes read back exactly; bad
/// text is refused with the byte offset.
final class JSONParserTests: XCTestCase {
    func testReadsWhatFoundationWrites() throws {
        let object: [String: Any] = ["name": "conv1 \"x\" é 🐈 \n", "values": [1, -2, 0.5, 1e-7, 12345678901234], "nested": ["flag": true, "none": NSNull()]]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        let value = try JSONValue.parse(String(decoding: data, as: UTF8.self))
        XCTAssertEqual(value["name"]?.stringValue, "conv1 \"x\" é 🐈 \n")
        XCTAssertEqual(value["values"]?.arrayValue?.compactMap(\.doubleValue), [1, -2, 0.5, 1e-7, 12345678901234])
        XCTAssertEqual(value["values"]?.arrayValue?.first, .int(1))
        XCTAssertEqual(value["nested"]?["flag"]?.boolValue, true)
        XCTAssertEqual(value["nested"]?["none"], .null)
    }

    func testRoundTripsTheWriter() throws {
        let value: JSONValue = [
            "a": [1, 2, ["x": "y\u{01}\\"]],
            "d": .double(0.1), "e": .double(-1.5e-300), "big": .int(Int.max), "small": .int(Int.min),
            "empty": [:], "list": [], "t": true, "n": nil,
        ]
        XCTAssertEqual(try JSONValue.parse(value.rendered()), value)
        XCTAssertEqual(try JSONValue.parse(value.rendered(pretty: false)), value)
        XCTAssertEqual(try JSONValue.parse(#"["\ud83d\udc08", "\u00e9"]"#), ["🐈", "é"])
    }

    func testRefusesBadText() {
        let cases: [(String, Int)] = [
            ("", 0), ("{", 1), ("[1,]", 3), ("{\"a\" 1}", 5), ("01", 1), ("1.", 2), ("-", 1), ("tru", 0),
            ("\"abc", 4), ("\"\\x\"", 2), ("\"\\ud800\"", 7), ("\"a\nb\"", 2), ("[1] x", 4), ("{1:2}", 1),
            (String(repeating: "[", count: 300), 256),
        ]
        for (text, offset) in cases {
            XCTAssertThrowsError(try JSONValue.parse(text), text) { error in
                XCTAssertEqual((error as? JSONParseError)?.offset, offset, "\(text): \(error)")
            }
        }
    }

}
