import Influence
import XCTest
import Support

/// The one mapping from a report item's JSON to `ReportItem`: typed fields, and refusals that
/// name the item and the key instead of defaulting to 0.
final class ReportItemTests: XCTestCase {
    let item: JSONValue = [
        "id": "group:3", "index": 7, "kind": "group", "layer": "/conv", "output": "x", "channel": nil, "group": 3,
        "params": 10, "macs": 20, "weak": false, "latent": "none", "rank": 2,
        "influence": ["mean": 0.5, "std": 0.1, "ciLow": 0.25, "ciHigh": nil, "n": 4],
        "metrics": ["kl": 0.5, "top1": 0.25], "estimators": [:],
    ]

    func testReadsEveryTypedField() throws {
        let read = try ReportItem(json: item, position: 0)
        XCTAssertEqual(read.id, "group:3")
        XCTAssertEqual(read.index, 7)
        XCTAssertEqual(read.kind, .group)
        XCTAssertEqual(read.group, 3)
        XCTAssertNil(read.channel)
        XCTAssertEqual(read.influence?.mean, 0.5)
        XCTAssertNil(read.influence?.ciHigh)
        XCTAssertEqual(read.influence?.n, 4)
        XCTAssertEqual(read.metrics, ["kl": 0.5, "top1": 0.25])
        XCTAssertEqual(read.rank, 2)
    }

    func testRefusalsNameTheItemAndKey() {
        func refusal(_ edit: (inout [String: JSONValue]) -> Void) -> String {
            guard case .object(var o) = item else { return "not an object" }
            edit(&o)
            do { _ = try ReportItem(json: .object(o), position: 5); return "accepted" } catch { return error.description }
        }
        XCTAssertEqual(refusal { $0["influence"] = ["mean": "big", "n": 4] }, "items[5].influence.mean: expected a number or null, got \"big\"")
        XCTAssertEqual(refusal { $0["index"] = nil }, "items[5].index: expected a value, got nothing")
        XCTAssertEqual(refusal { $0["group"] = .null }, "items[5].group: expected the group index of a group item, got null")
        XCTAssertEqual(refusal { $0["kind"] = "wire" }, "items[5].kind: expected channel, group, layer or tensor")
        XCTAssertEqual(refusal { $0["metrics"] = ["kl": "x"] }, "items[5].metrics.kl: expected a number or null, got \"x\"")
    }
}
