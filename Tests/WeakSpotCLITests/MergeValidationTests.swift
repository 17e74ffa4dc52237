import Foundation
import Influence
import TestSupport
import XCTest
import Support

/// `weakspot merge` refuses what it cannot join, naming the file and the place: a shard that
/// breaks the schema, shards of different splits, a shard given twice or missing (with the run's
/// true item count), and an output path that is one of its inputs.
final class MergeValidationTests: XCTestCase {
    let model = FixturePaths.path("models/tiny_resnet.onnx")
    let data = FixturePaths.path("models/tiny_resnet.input.npy")

    func shard(_ folder: String, _ shard: String) -> String {
        let path = folder + "/s\(shard.replacingOccurrences(of: "/", with: "of")).json"
        let result = weakspot("profile", model, "--data", data, "--shard", shard, "-o", path, "--quiet")
        XCTAssertEqual(result.code, 0, result.error)
        return path
    }

    func testAStringInAnInfluenceMeanIsRefusedBeforeAnythingIsWritten() throws {
        let folder = try temporaryFolder(self)
        let (s1, s2) = (shard(folder, "1/2"), shard(folder, "2/2"))
        var document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s2))) as? [String: Any])
        var items = try XCTUnwrap(document["items"] as? [[String: Any]])
        XCTAssertGreaterThan(items.count, 1)
        var influence = try XCTUnwrap(items[1]["influence"] as? [String: Any])
        influence["mean"] = "0.5"
        items[1]["influence"] = influence
        document["items"] = items
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: s2))
        let existing = folder + "/report.json"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: existing))

        let result = weakspot("merge", s1, s2, "-o", existing)
        XCTAssertEqual(result.code, 2, result.output)
        XCTAssertTrue(result.error.contains(s2) && result.error.contains("$.items[1].influence.mean") && result.error.contains("expected number"), result.error)
        XCTAssertEqual(try String(contentsOfFile: existing, encoding: .utf8), "keep me")
    }

    func testShardsOfDifferentSplitsNameTheShardAndN() throws {
        let folder = try temporaryFolder(self)
        let (a, b) = (shard(folder, "1/2"), shard(folder, "2/3"))
        let result = weakspot("merge", a, b, "-o", folder + "/m.json")
        XCTAssertEqual(result.code, 2)
        XCTAssertTrue(result.error.contains(b) && result.error.contains("2/3") && result.error.contains("N = 2 and 3"), result.error)
        XCTAssertFalse(result.error.contains("also in another shard"), result.error)

        let twice = weakspot("merge", a, a, "-o", folder + "/m.json")
        XCTAssertEqual(twice.code, 2)
        XCTAssertTrue(twice.error.contains("shard 1/2 is also given as \(a)"), twice.error)
    }

    func testAMissingShardCountsAgainstTheWholeRun() throws {
        let folder = try temporaryFolder(self)
        let whole = folder + "/whole.json"
        XCTAssertEqual(weakspot("profile", model, "--data", data, "-o", whole, "--quiet").code, 0)
        let total = try XCTUnwrap(try JSONValue.parse(String(contentsOfFile: whole, encoding: .utf8))["summary"]?["items"]?.intValue)
        let shards = (1...3).map { shard(folder, "\($0)/3") }
        let first = try XCTUnwrap(try JSONValue.parse(String(contentsOfFile: shards[0], encoding: .utf8))["items"]?.arrayValue?.count)
        // Leave out the shard holding the last item, the case that used to be counted short.
        let last = (total - 1) % 3
        let kept = shards.enumerated().filter { $0.offset != last }.map(\.element)
        let keptCount = try kept.map { try XCTUnwrap(try JSONValue.parse(String(contentsOfFile: $0, encoding: .utf8))["items"]?.arrayValue?.count) }.reduce(0, +)
        XCTAssertGreaterThan(first, 0)
        let result = weakspot(["merge"] + kept + ["-o", folder + "/m.json"])
        XCTAssertEqual(result.code, 2)
        XCTAssertTrue(result.error.contains("got \(keptCount) of \(total)") && result.error.contains("shard \(last + 1)/3 not given"), result.error)
        XCTAssertEqual(weakspot(["merge"] + shards + ["-o", folder + "/m.json"]).code, 0)
    }

    func testTheOutputCannotBeAnInput() throws {
        let folder = try temporaryFolder(self)
        let (s1, s2) = (shard(folder, "1/2"), shard(folder, "2/2"))
        let before = try Data(contentsOf: URL(fileURLWithPath: s1))
        for arguments in [["-o", s1], ["-o", folder + "/m.json", "--csv", s2], ["-o", folder + "/./" + (s1 as NSString).lastPathComponent]] {
            let result = weakspot(["merge", s1, s2] + arguments)
            XCTAssertEqual(result.code, 2, "\(arguments)")
            XCTAssertTrue(result.error.contains("never overwrites one of its inputs"), result.error)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: s1)), before)
    }
}
