/// The three fields of a .npy header, parsed from its Python dict literal
/// (`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`). Only the literal forms numpy
/// writes are accepted: quoted strings, True/False, tuples of non-negative integers.
struct NPYHeaderDictionary {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    static func parse(_ text: ArraySlice<UInt8>) throws(NPYError) -> NPYHeaderDictionary {
        var scanner = Scanner(bytes: Array(text))
        var descr: String?
        var fortranOrder: Bool?
        var shape: [Int]?
        try scanner.expect("{")
        while true {
            scanner.skipSpace()
            if scanner.peek() == UInt8(ascii: "}") { break }
            let key = try scanner.string()
            try scanner.expect(":")
            switch key {
            case "descr":
                scanner.skipSpace()
                if scanner.peek() == UInt8(ascii: "[") {
                    throw NPYError(.unsupported, at: "header 'descr'", "expected a plain dtype, got a structured dtype")
                }
                descr = try scanner.string()
            case "fortran_order": fortranOrder = try scanner.boolean()
            case "shape": shape = try scanner.tuple()
            default:
                throw NPYError(.badHeader, at: "header", "expected keys descr, fortran_order, shape, got '\(key)'")
            }
            scanner.skipSpace()
            if scanner.peek() == UInt8(ascii: ",") { scanner.position += 1; continue }
            scanner.skipSpace()
            guard scanner.peek() == UInt8(ascii: "}") else {
                throw scanner.failure("expected ',' or '}'")
            }
        }
        guard let descr else { throw NPYError(.badHeader, at: "header", "missing key 'descr'") }
        guard let fortranOrder else { throw NPYError(.badHeader, at: "header", "missing key 'fortran_order'") }
        guard let shape else { throw NPYError(.badHeader, at: "header", "missing key 'shape'") }
        return NPYHeaderDictionary(descr: descr, fortranOrder: fortranOrder, shape: shape)
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        func failure(_ expected: String) -> NPYError {
            let got = peek().map { "'\(String(decoding: [$0], as: UTF8.self))'" } ?? "the end of the header"
            return NPYError(.badHeader, at: "header byte \(position)", "\(expected), got \(got)")
        }

        mutating func skipSpace() {
            while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { position += 1 }
        }

        mutating func expect(_ token: Character) throws(NPYError) {
            skipSpace()
            guard let ascii = token.asciiValue, peek() == ascii else { throw failure("expected '\(token)'") }
            position += 1
        }

        mutating func string() throws(NPYError) -> String {
            skipSpace()
            guard let quote = peek(), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
                throw failure("expected a quoted string")
            }
            position += 1
            let start = position
            while let c = peek(), c != quote {
                if c == UInt8(ascii: "\\") { throw failure("expected a string without escapes") }
                position += 1
            }
            guard peek() != nil else { throw failure("expected a closing quote") }
            let value = String(decoding: bytes[start..<position], as: UTF8.self)
            position += 1
            return value
        }

        mutating func boolean() throws(NPYError) -> Bool {
            skipSpace()
            for (word, value) in [("True", true), ("False", false)] {
                let w = Array(word.utf8)
                if position + w.count <= bytes.count && Array(bytes[position..<(position + w.count)]) == w {
                    position += w.count
                    return value
                }
            }
            throw failure("expected True or False")
        }

        mutating func tuple() throws(NPYError) -> [Int] {
            try expect("(")
            var values: [Int] = []
            while true {
                skipSpace()
                if peek() == UInt8(ascii: ")") { position += 1; return values }
                values.append(try integer())
                skipSpace()
                if peek() == UInt8(ascii: ",") { position += 1; continue }
                guard peek() == UInt8(ascii: ")") else { throw failure("expected ',' or ')' in the shape") }
            }
        }

        mutating func integer() throws(NPYError) -> Int {
            skipSpace()
            if peek() == UInt8(ascii: "-") {
                throw NPYError(.badHeader, at: "header 'shape'", "expected non-negative dimensions, got a negative one")
            }
            var value = 0
            var digits = 0
            while let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(c - UInt8(ascii: "0")))
                guard !o1 && !o2 else {
                    throw NPYError(.badHeader, at: "header 'shape'", "expected a dimension that fits in 64 bits, got a longer one")
                }
                value = sum
                digits += 1
                position += 1
            }
            guard digits > 0 else { throw failure("expected a dimension") }
            if peek() == UInt8(ascii: "L") { position += 1 }  // Python 2 long literal
            return value
        }
    }
}
