/// Marker segment parsers: each reads one segment's payload (`payload` excludes the length
/// field) and updates the session, throwing what libjpeg would refuse as `.corrupt` and the
/// kinds this decoder does not implement as `.unsupported`.
extension JPEGDecodingSession {
    /// DQT: one or more tables, 8- or 16-bit, stored in natural order as the islow multipliers
    /// libjpeg uses (16-bit values wrap to `Int16` as in libjpeg-turbo's SIMD builds).
    mutating func readQuantizationTables(_ payload: Range<Int>) throws(ImageDecodingError) {
        var p = payload.lowerBound
        while p < payload.upperBound {
            let pq = Int(data[p] >> 4), tq = Int(data[p] & 15)
            guard pq <= 1, tq <= 3 else {
                throw ImageDecodingError(.corrupt, "dqt: expected precision 0/1 and table 0...3, got \(pq)/\(tq)", offset: p)
            }
            let size = pq == 0 ? 64 : 128
            guard payload.upperBound - (p + 1) >= size else {
                throw ImageDecodingError(.corrupt, "dqt: table \(tq) needs \(size) bytes, segment has \(payload.upperBound - p - 1)", offset: p)
            }
            var table = [Int32](repeating: 0, count: 64)
            for k in 0..<64 {
                let value = pq == 0 ? Int(data[p + 1 + k]) : Int(data[p + 1 + 2 * k]) << 8 | Int(data[p + 2 + 2 * k])
                table[jpegNaturalOrder[k]] = Int32(Int16(truncatingIfNeeded: value))
            }
            quantizationTables[tq] = table
            p += 1 + size
        }
    }

    /// DHT: one or more Huffman tables.
    mutating func readHuffmanTables(_ payload: Range<Int>) throws(ImageDecodingError) {
        var p = payload.lowerBound
        while p < payload.upperBound {
            let tc = Int(data[p] >> 4), th = Int(data[p] & 15)
            guard tc <= 1, th <= 3 else {
                throw ImageDecodingError(.corrupt, "dht: expected class 0/1 and table 0...3, got \(tc)/\(th)", offset: p)
            }
            guard payload.upperBound - p >= 17 else {
                throw ImageDecodingError(.corrupt, "dht: expected 16 code counts, segment ends", offset: p)
            }
            var counts = [Int](repeating: 0, count: 16)
            for i in 0..<16 { counts[i] = Int(data[p + 1 + i]) }
            let total = counts.reduce(0, +)
            let start = p + 17
            guard total <= 256, payload.upperBound - start >= total else {
                throw ImageDecodingError(.corrupt, "dht: table \(th) declares \(total) symbols, segment has room for \(payload.upperBound - start)", offset: p)
            }
            let values = Array(data[start..<(start + total)])
            let table = try JPEGHuffmanTable(counts: counts, values: values, isDC: tc == 0, offset: p)
            if tc == 0 { dcTables[th] = table } else { acTables[th] = table }
            p = start + total
        }
    }

    /// SOF0/1/2: frame header. Refuses sizes over the limit before anything is allocated.
    mutating func readFrame(_ payload: Range<Int>, marker: UInt8) throws(ImageDecodingError) {
        let at = payload.lowerBound
        guard frame == nil else {
            throw ImageDecodingError(.corrupt, "sof: second frame header in one file", offset: at - 4)
        }
        guard payload.count >= 6 else {
            throw ImageDecodingError(.corrupt, "sof: expected at least 6 bytes, got \(payload.count)", offset: at)
        }
        let precision = Int(data[at])
        let height = Int(data[at + 1]) << 8 | Int(data[at + 2])
        let width = Int(data[at + 3]) << 8 | Int(data[at + 4])
        let count = Int(data[at + 5])
        if precision == 12 {
            throw ImageDecodingError(.unsupported, "12-bit jpeg is not supported", offset: at)
        }
        guard precision == 8 else {
            throw ImageDecodingError(.unsupported, "sof: expected 8-bit samples, got \(precision)-bit (not supported)", offset: at)
        }
        guard width > 0, height > 0 else {
            throw ImageDecodingError(.corrupt, "sof: expected nonzero dimensions, got \(width)x\(height)", offset: at + 1)
        }
        if count == 4 {
            throw ImageDecodingError(.unsupported, "4-component (cmyk/ycck) jpeg is not supported", offset: at + 5)
        }
        guard count == 1 || count == 3 else {
            throw ImageDecodingError(.unsupported, "sof: expected 1 or 3 components, got \(count) (not supported)", offset: at + 5)
        }
        guard payload.count >= 6 + 3 * count else {
            throw ImageDecodingError(.corrupt, "sof: expected \(6 + 3 * count) bytes for \(count) components, got \(payload.count)", offset: at)
        }
        if width * height > limits.maxPixels {
            throw ImageDecodingError(.tooLarge, "jpeg is \(width)x\(height) = \(width * height) pixels, above the limit of \(limits.maxPixels) (raise it with --max-pixels)", offset: at + 1)
        }
        var components: [JPEGComponent] = []
        for i in 0..<count {
            let q = at + 6 + 3 * i
            let id = data[q], h = Int(data[q + 1] >> 4), v = Int(data[q + 1] & 15), tq = Int(data[q + 2])
            guard (1...4).contains(h), (1...4).contains(v) else {
                throw ImageDecodingError(.corrupt, "sof: component \(id) sampling factors must be 1...4, got \(h)x\(v)", offset: q + 1)
            }
            guard tq <= 3 else {
                throw ImageDecodingError(.corrupt, "sof: component \(id) quantisation table must be 0...3, got \(tq)", offset: q + 2)
            }
            guard !components.contains(where: { $0.id == id }) else {
                throw ImageDecodingError(.corrupt, "sof: component id \(id) appears twice", offset: q)
            }
            components.append(JPEGComponent(id: id, horizontalSampling: h, verticalSampling: v, quantTableIndex: tq))
        }
        var frame = JPEGFrame(width: width, height: height, progressive: marker == 0xC2, components: components)
        frame.computeGeometry()
        // libjpeg's MCU limit (D_MAX_BLOCKS_IN_MCU) and its upsampler's integral-ratio rule.
        if count > 1 {
            let blocks = components.reduce(0) { $0 + $1.horizontalSampling * $1.verticalSampling }
            guard blocks <= 10 else {
                throw ImageDecodingError(.corrupt, "sof: an mcu may hold at most 10 blocks, sampling factors give \(blocks)", offset: at + 6)
            }
            for c in components where frame.maxHorizontalSampling % c.horizontalSampling != 0
                || frame.maxVerticalSampling % c.verticalSampling != 0 {
                let factors = components.map { "\($0.horizontalSampling)x\($0.verticalSampling)" }.joined(separator: ",")
                throw ImageDecodingError(.unsupported, "sof: sampling factors \(factors) need fractional upsampling (not supported)", offset: at + 6)
            }
        }
        self.frame = frame
    }

    /// SOS: the scan header. Checks component ids, table numbers and progression parameters.
    mutating func readScan(_ payload: Range<Int>) throws(ImageDecodingError) -> JPEGScan {
        let at = payload.lowerBound
        guard let frame else {
            throw ImageDecodingError(.corrupt, "sos: scan before any frame header", offset: at)
        }
        guard payload.count >= 1 else {
            throw ImageDecodingError(.corrupt, "sos: empty scan header", offset: at)
        }
        let n = Int(data[at])
        guard n >= 1, n <= frame.components.count, payload.count >= 1 + 2 * n + 3 else {
            throw ImageDecodingError(.corrupt, "sos: expected 1...\(frame.components.count) components with \(1 + 2 * n + 3) bytes, got \(n) and \(payload.count)", offset: at)
        }
        var scan = JPEGScan(componentIndices: [], dcTableIndices: [], acTableIndices: [],
                            spectralStart: 0, spectralEnd: 0, approximationHigh: 0, approximationLow: 0)
        for i in 0..<n {
            let q = at + 1 + 2 * i
            let id = data[q]
            guard let index = frame.components.firstIndex(where: { $0.id == id }) else {
                throw ImageDecodingError(.corrupt, "sos: component id \(id) is not in the frame", offset: q)
            }
            guard !scan.componentIndices.contains(index) else {
                throw ImageDecodingError(.corrupt, "sos: component id \(id) appears twice", offset: q)
            }
            let td = Int(data[q + 1] >> 4), ta = Int(data[q + 1] & 15)
            guard td <= 3, ta <= 3 else {
                throw ImageDecodingError(.corrupt, "sos: huffman table numbers must be 0...3, got \(td)/\(ta)", offset: q + 1)
            }
            scan.componentIndices.append(index)
            scan.dcTableIndices.append(td)
            scan.acTableIndices.append(ta)
        }
        if n > 1 {
            let blocks = scan.componentIndices.reduce(0) {
                $0 + frame.components[$1].horizontalSampling * frame.components[$1].verticalSampling
            }
            guard blocks <= 10 else {
                throw ImageDecodingError(.corrupt, "sos: an mcu may hold at most 10 blocks, got \(blocks)", offset: at)
            }
        }
        let q = at + 1 + 2 * n
        scan.spectralStart = Int(data[q])
        scan.spectralEnd = Int(data[q + 1])
        scan.approximationHigh = Int(data[q + 2] >> 4)
        scan.approximationLow = Int(data[q + 2] & 15)
        if frame.progressive {
            var bad = false
            if scan.spectralStart == 0 {
                bad = scan.spectralEnd != 0
            } else {
                bad = scan.spectralStart > scan.spectralEnd || scan.spectralEnd > 63 || n != 1
            }
            if scan.approximationHigh != 0 && scan.approximationLow != scan.approximationHigh - 1 { bad = true }
            if scan.approximationLow > 13 { bad = true }
            if bad {
                throw ImageDecodingError(.corrupt, "sos: invalid progression Ss=\(scan.spectralStart) Se=\(scan.spectralEnd) Ah=\(scan.approximationHigh) Al=\(scan.approximationLow)", offset: q)
            }
        }
        return scan
    }

    /// DRI: restart interval in MCUs (0 disables restarts).
    mutating func readRestartInterval(_ payload: Range<Int>) throws(ImageDecodingError) {
        guard payload.count >= 2 else {
            throw ImageDecodingError(.corrupt, "dri: expected 2 bytes, got \(payload.count)", offset: payload.lowerBound)
        }
        restartInterval = Int(data[payload.lowerBound]) << 8 | Int(data[payload.lowerBound + 1])
    }

    /// APP0 (JFIF) and APP14 (Adobe): only what decides the colour space.
    mutating func readApplicationSegment(_ payload: Range<Int>, marker: UInt8) {
        let bytes = data[payload]
        if marker == 0xE0, bytes.count >= 5, bytes.starts(with: [0x4A, 0x46, 0x49, 0x46, 0x00]) {
            sawJFIF = true
        } else if marker == 0xEE, bytes.count >= 12, bytes.starts(with: [0x41, 0x64, 0x6F, 0x62, 0x65]) {
            adobeTransform = Int(bytes[bytes.startIndex + 11])
        }
    }
}
