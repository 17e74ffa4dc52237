/// The state of one decode: tables, frame, coefficients, and the walk over marker segments.
///
/// Policy on damaged files (see docs/jpeg.md): header damage throws `.corrupt`; damage inside
/// entropy-coded data is decoded the way libjpeg decodes it (unknown codes read as 0, a marker in
/// the middle of a scan supplies zero bits), because Pillow returns those pixels; data that ends
/// inside a scan, or before the next marker of a progressive file, throws `.truncated`. A
/// sequential file whose scans are all complete decodes even if its final EOI marker is missing.
struct JPEGDecodingSession {
    let data: UnsafeBufferPointer<UInt8>
    let limits: ImageLimits
    var quantizationTables: [[Int32]?] = [nil, nil, nil, nil]
    var dcTables: [JPEGHuffmanTable?] = [nil, nil, nil, nil]
    var acTables: [JPEGHuffmanTable?] = [nil, nil, nil, nil]
    var restartInterval = 0
    var frame: JPEGFrame?
    var coefficients: JPEGCoefficientStore?
    /// Set for single-scan sequential files, whose blocks go straight to samples (libjpeg, too,
    /// decides from the first scan whether it needs a whole-image coefficient buffer).
    var directPlanes: JPEGPlanes?
    /// The quantisation table of each component, latched at the first scan that carries it (as libjpeg does).
    var componentQuantization: [[Int32]?] = []
    var sawJFIF = false
    var adobeTransform: Int?
    var scanCount = 0

    init(data: UnsafeBufferPointer<UInt8>, limits: ImageLimits) {
        self.data = data
        self.limits = limits
    }

    /// Reads the whole file and returns the decoded pixels.
    mutating func run() throws(ImageDecodingError) -> DecodedImage {
        guard data.count >= 2, data[0] == 0xFF, data[1] == 0xD8 else {
            if data.count < 2 {
                throw ImageDecodingError(.truncated, "jpeg: expected the soi marker ff d8, file has \(data.count) bytes", offset: 0)
            }
            throw ImageDecodingError(.corrupt, "jpeg: expected the soi marker ff d8, got \(jpegHex(data[0])) \(jpegHex(data[1]))", offset: 0)
        }
        var position = 2
        while true {
            guard let (marker, markerOffset) = nextMarker(from: position) else {
                if canFinishWithoutEOI { break }
                throw ImageDecodingError(.truncated, "jpeg: file ends before the eoi marker", offset: data.count)
            }
            position = markerOffset + 2
            switch marker {
            case 0xD9:
                return try finish()
            case 0xD8:
                throw ImageDecodingError(.corrupt, "jpeg: second soi marker", offset: markerOffset)
            case 0xD0...0xD7, 0x01:
                continue // stray restart marker or TEM: no payload, libjpeg ignores them
            default:
                break
            }
            let payload = try segmentPayload(at: position, marker: marker)
            position = payload.upperBound
            switch marker {
            case 0xC0, 0xC1, 0xC2:
                try readFrame(payload, marker: marker)
            case 0xC3:
                throw ImageDecodingError(.unsupported, "lossless jpeg is not supported", offset: markerOffset)
            case 0xC5, 0xC6, 0xC7, 0xDE, 0xDF:
                throw ImageDecodingError(.unsupported, "hierarchical jpeg is not supported", offset: markerOffset)
            case 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xCC:
                throw ImageDecodingError(.unsupported, "arithmetic-coded jpeg is not supported", offset: markerOffset)
            case 0xC4:
                try readHuffmanTables(payload)
            case 0xDB:
                try readQuantizationTables(payload)
            case 0xDD:
                try readRestartInterval(payload)
            case 0xDA:
                let scan = try readScan(payload)
                position = try decodeScan(scan, entropyStart: payload.upperBound)
            case 0xE0...0xEF:
                readApplicationSegment(payload, marker: marker)
            case 0xFE, 0xF0...0xFD, 0xDC:
                break // COM, JPGn extensions and DNL carry nothing we use
            default:
                throw ImageDecodingError(.corrupt, "jpeg: unknown marker ff \(jpegHex(marker))", offset: markerOffset)
            }
        }
        return try finish()
    }

    /// A sequential file whose every component has been scanned may lack its EOI marker.
    private var canFinishWithoutEOI: Bool {
        guard let frame, !frame.progressive, scanCount > 0 else { return false }
        return componentQuantization.allSatisfy { $0 != nil }
    }

    /// The next marker at or after `position`, skipping stray bytes and fill bytes as libjpeg
    /// does. Returns the marker byte and the offset of its `FF`, or nil at the end of the data.
    private func nextMarker(from position: Int) -> (UInt8, Int)? {
        var p = position
        while p < data.count {
            if data[p] != 0xFF { p += 1; continue }
            var q = p + 1
            while q < data.count && data[q] == 0xFF { q += 1 }
            guard q < data.count else { return nil }
            if data[q] != 0 { return (data[q], q - 1) }
            p = q + 1
        }
        return nil
    }

    /// The payload range of the segment whose length field starts at `position`.
    private func segmentPayload(at position: Int, marker: UInt8) throws(ImageDecodingError) -> Range<Int> {
        guard data.count - position >= 2 else {
            throw ImageDecodingError(.truncated, "marker ff \(jpegHex(marker)): file ends inside the segment length", offset: position)
        }
        let length = Int(data[position]) << 8 | Int(data[position + 1])
        guard length >= 2 else {
            throw ImageDecodingError(.corrupt, "marker ff \(jpegHex(marker)): segment length must be at least 2, got \(length)", offset: position)
        }
        guard data.count - position >= length else {
            throw ImageDecodingError(.truncated, "marker ff \(jpegHex(marker)): segment of \(length) bytes, file has \(data.count - position) left", offset: position)
        }
        return (position + 2)..<(position + length)
    }

    /// Decodes the entropy-coded data of one scan into the coefficient store and returns the
    /// offset where marker search resumes.
    private mutating func decodeScan(_ scan: JPEGScan, entropyStart: Int) throws(ImageDecodingError) -> Int {
        guard let frame else {
            throw ImageDecodingError(.corrupt, "sos: scan before any frame header", offset: entropyStart)
        }
        if directPlanes != nil {
            // A single-scan file has had its scan; libjpeg ignores any further ones too.
            return entropyStart
        }
        if coefficients == nil && scanCount == 0 {
            // Every block costs at least one bit of entropy-coded data (a DC code), so a file too
            // short for its declared size is truncated; say so before allocating for that size.
            let blocks = frame.components.reduce(0) { $0 + $1.widthInBlocks * $1.heightInBlocks }
            let available = data.count - entropyStart
            if blocks > 8 * available + 64 {
                throw ImageDecodingError(.truncated, "sos: the frame needs \(blocks) blocks, the file has \(available) bytes of data left", offset: entropyStart)
            }
            componentQuantization = Array(repeating: nil, count: frame.components.count)
        }
        for index in scan.componentIndices where componentQuantization[index] == nil {
            let tq = frame.components[index].quantTableIndex
            guard let table = quantizationTables[tq] else {
                throw ImageDecodingError(.corrupt, "sos: component \(frame.components[index].id) uses quantisation table \(tq), which is not defined", offset: entropyStart)
            }
            componentQuantization[index] = table
        }
        let target: JPEGScanDecoder.Target
        if scanCount == 0 && !frame.progressive && scan.componentIndices.count == frame.components.count {
            let planes = JPEGPlanes(frame: frame)
            directPlanes = planes
            target = .planes(planes, quantization: componentQuantization.map { $0 ?? [] })
        } else {
            if coefficients == nil { coefficients = JPEGCoefficientStore(frame: frame) }
            guard let coefficients else { return entropyStart }
            target = .store(coefficients)
        }
        let tables = try scanTables(scan, frame: frame, offset: entropyStart)
        var reader = JPEGBitReader(data, position: entropyStart)
        var decoder = JPEGScanDecoder(frame: frame, scan: scan, dcTables: tables.dc, acTables: tables.ac,
                                      restartInterval: restartInterval, target: target)
        try decoder.run(&reader)
        scanCount += 1
        return reader.position
    }

    /// The Huffman tables the scan needs, checked to be defined.
    private func scanTables(_ scan: JPEGScan, frame: JPEGFrame, offset: Int) throws(ImageDecodingError)
        -> (dc: [JPEGHuffmanTable?], ac: [JPEGHuffmanTable?]) {
        let needDC = !frame.progressive || (scan.spectralStart == 0 && scan.approximationHigh == 0)
        let needAC = !frame.progressive || scan.spectralStart > 0
        var dc: [JPEGHuffmanTable?] = []
        var ac: [JPEGHuffmanTable?] = []
        for (i, index) in scan.componentIndices.enumerated() {
            let id = frame.components[index].id
            if needDC {
                guard let table = dcTables[scan.dcTableIndices[i]] else {
                    throw ImageDecodingError(.corrupt, "sos: component \(id) uses dc huffman table \(scan.dcTableIndices[i]), which is not defined", offset: offset)
                }
                dc.append(table)
            } else {
                dc.append(nil)
            }
            if needAC {
                guard let table = acTables[scan.acTableIndices[i]] else {
                    throw ImageDecodingError(.corrupt, "sos: component \(id) uses ac huffman table \(scan.acTableIndices[i]), which is not defined", offset: offset)
                }
                ac.append(table)
            } else {
                ac.append(nil)
            }
        }
        return (dc, ac)
    }

    /// Turns the coefficients into pixels: IDCT, upsampling, colour conversion.
    private func finish() throws(ImageDecodingError) -> DecodedImage {
        guard let frame, scanCount > 0 else {
            throw ImageDecodingError(.corrupt, "jpeg: no image data before the eoi marker", offset: data.count)
        }
        let planes: JPEGPlanes
        if let directPlanes {
            planes = directPlanes
        } else if let coefficients {
            let quantization = componentQuantization.map { $0 ?? [Int32](repeating: 0, count: 64) }
            planes = JPEGReconstruction.planes(frame: frame, coefficients: coefficients, quantization: quantization)
        } else {
            throw ImageDecodingError(.corrupt, "jpeg: no image data before the eoi marker", offset: data.count)
        }
        return JPEGReconstruction.pixels(frame: frame, planes: planes, colorTransform: colorTransform(frame))
    }

    /// libjpeg's guess of the stored colour space for 3 components (jdapimin.c).
    private func colorTransform(_ frame: JPEGFrame) -> JPEGColorTransform {
        guard frame.components.count == 3 else { return .grey }
        if sawJFIF { return .yCbCr }
        if let adobeTransform { return adobeTransform == 0 ? .rgb : .yCbCr }
        let ids = frame.components.map(\.id)
        if ids == [82, 71, 66] { return .rgb }
        return .yCbCr
    }
}

func jpegHex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}
