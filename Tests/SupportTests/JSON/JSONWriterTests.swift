import Foundation
import Support
import XCTest

/// The deterministic JSON writer, checked by reading its output back with Foundation's parser.
final class JSONWriterTests: XCTestCase {
    func testKeysAreSorted() {
        let value: JSONValue = ["b": 1, "a": ["z": true, "y": nil], "B": "x"]
        XCTAssertEqual(value.rendered(pretty: false), #"{"B":"x","a":{"y":null,"z":true},"b":1}"#)
        XCTAssertEqual(value.rendered(), """
        {
          "B": "x",
          "a": {
            "y": null,
            "z": true
          },
          "b": 1
        }

        """)
    }

    func testArrays() {
        XCTAssertEqual(JSONValue.array([1, 2, 3]).rendered(), "[1, 2, 3]\n")
        XCTAssertEqual(JSONValue.array([]).rendered(), "[]\n")
        XCTAssertEqual(JSONValue.object([:]).rendered(), "{}\n")
        XCTAssertEqual(JSONValue.array([["a": 1]]).rendered(), "[\n  {\n    \"a\": 1\n  }\n]\n")
    }

    func testStringEscaping() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t cr \r bell \u{07} nul \u{00} unit \u{1F} é 猫 🐈 /"
        let text = JSONValue.array([.string(tricky)]).rendered(pretty: false)
        XCTAssertTrue(text.contains(#"\u0007"#))
        XCTAssertTrue(text.contains(#"\u0000"#))
        XCTAssertTrue(text.contains(#"\u001f"#))
        XCTAssertTrue(text.contains(#"\"#))
        XCTAssertFalse(text.contains("\n"))
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String]
        XCTAssertEqual(parsed, [tricky])
    }

    func testNumbersRoundTrip() throws {
        let doubles: [Double] = [0.1, 1.0 / 3.0, 1e-7, 123456789.123, -2.5e300, Double.leastNonzeroMagnitude, Double.pi, 1, 1e21]
        let floats: [Float] = [0.1, 1.0 / 3.0, 1e-7, 3.4e38, Float.pi, -0.75]
        let value = JSONValue.object([
            "d": .array(doubles.map { .double($0) }),
            "f": .array(floats.map { .float($0) }),
            "i": .array([.int(Int.max), .int(Int.min), .int(0)]),
        ])
        let text = value.rendered()
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let readDoubles = try XCTUnwrap(parsed["d"] as? [Any]).compactMap { ($0 as? NSNumber)?.doubleValue }
        XCTAssertEqual(readDoubles, doubles)
        // Floats print their own shortest digits (0.1, not 0.10000000149011612).
        XCTAssertTrue(text.contains("[0.1, 0.33333334, 1e-07, 3.4e+38, 3.1415925, -0.75]"), text)
        let readFloats = try XCTUnwrap(parsed["f"] as? [Any]).compactMap { ($0 as? NSNumber).map { Float($0.doubleValue) } }
        XCTAssertEqual(readFloats, floats)
        XCTAssertTrue(text.contains("\(Int.max)"))
        XCTAssertTrue(text.contains("\(Int.min)"))
    }

    func testSpecialNumbers() {
        let value = JSONValue.array([.double(.nan), .double(.infinity), .float(-.infinity), .double(-0.0), .double(0), .float(0)])
        XCTAssertEqual(value.rendered(pretty: false), "[null,null,null,0.0,0.0,0.0]")
    }

    func testSameValueSameBytes() {
        var members: [String: JSONValue] = [:]
        for i in 0..<200 { members["key\(i * 7919 % 1000)"] = .double(Double(i) / 7) }
        let first = JSONValue.object(members).rendered()
        let second = JSONValue.object(Dictionary(uniqueKeysWithValues: members.reversed())).rendered()
        XCTAssertEqual(first, second)
    }
}
