import Foundation

/// Reads `--labels`: a `.npy` of integers (int64, int32 or uint8; shape `(N,)` or `(N, 1)`), or a
/// text file with one integer per line (surrounding spaces and a final empty line allowed).
public enum LabelsFile {
    public static func read(path: String) throws -> [Int] {
        if path.lowercased().hasSuffix(".npy") {
            let array = try NPYArray.read(path: path)
            guard [.int64, .int32, .uint8].contains(array.dtype) else {
                throw DatasetError("\(path): labels: expected integers (int64, int32 or uint8), got \(array.dtype)")
            }
            guard array.shape.count == 1 || (array.shape.count == 2 && array.shape[1] == 1) else {
                throw DatasetError("\(path): labels: expected shape (N,) or (N, 1), got \(array.shape)")
            }
            return array.int64s().map { Int($0) }
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DatasetError("\(path): could not read the labels: \(error.localizedDescription)")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.allSatisfy(\.isWhitespace) == true { lines.removeLast() }
        return try lines.enumerated().map { (number, line) throws(DatasetError) in
            guard let value = Int(line.trimmingCharacters(in: .whitespaces)) else {
                throw DatasetError("\(path): line \(number + 1): expected one integer label, got '\(line.prefix(40))'")
            }
            return value
        }
    }
}
