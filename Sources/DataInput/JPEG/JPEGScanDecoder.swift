/// Decodes the entropy-coded data of one scan into the coefficient store: sequential Huffman
/// (SOF0/1) or one of the four progressive passes (SOF2: DC first/refine, AC first/refine with
/// EOB runs), following ITU T.81 Annex F and G and libjpeg's jdhuff.c/jdphuff.c behaviour on
/// odd data (runs past coefficient 63 land on 63, coefficients wrap to 16 bits).
///
/// Throws `.truncated` when the file ends before the scan's data does; restart intervals reset
/// the DC predictions and the EOB run.
struct JPEGScanDecoder {
    private enum Pass { case sequential, dcFirst, dcRefine, acFirst, acRefine }

    let frame: JPEGFrame
    let scan: JPEGScan
    let dcTables: [JPEGHuffmanTable?]
    let acTables: [JPEGHuffmanTable?]
    let restartInterval: Int
    let coefficients: JPEGCoefficientStore
    private var predictions: [Int32]
    private var eobRun = 0

    init(frame: JPEGFrame, scan: JPEGScan, dcTables: [JPEGHuffmanTable?], acTables: [JPEGHuffmanTable?],
         restartInterval: Int, coefficients: JPEGCoefficientStore) {
        self.frame = frame
        self.scan = scan
        self.dcTables = dcTables
        self.acTables = acTables
        self.restartInterval = restartInterval
        self.coefficients = coefficients
        self.predictions = Array(repeating: 0, count: scan.componentIndices.count)
    }

    mutating func run(_ reader: inout JPEGBitReader) throws(ImageDecodingError) {
        let pass: Pass
        if !frame.progressive {
            pass = .sequential
        } else if scan.spectralStart == 0 {
            pass = scan.approximationHigh == 0 ? .dcFirst : .dcRefine
        } else {
            pass = scan.approximationHigh == 0 ? .acFirst : .acRefine
        }
        // Blocks of one MCU: (slot in the scan, block column offset, block row offset).
        var layout: [(slot: Int, dx: Int, dy: Int)] = []
        let mcusPerLine: Int, mcusPerColumn: Int
        if scan.componentIndices.count == 1 {
            let c = frame.components[scan.componentIndices[0]]
            mcusPerLine = c.widthInBlocks
            mcusPerColumn = c.heightInBlocks
            layout = [(0, 0, 0)]
        } else {
            mcusPerLine = frame.mcusPerLine
            mcusPerColumn = frame.mcusPerColumn
            for (slot, index) in scan.componentIndices.enumerated() {
                let c = frame.components[index]
                for dy in 0..<c.verticalSampling {
                    for dx in 0..<c.horizontalSampling { layout.append((slot, dx, dy)) }
                }
            }
        }
        let slotComponents = scan.componentIndices.map { frame.components[$0] }
        let slotPointers = scan.componentIndices.map { coefficients.pointers[$0] }
        let interleaved = scan.componentIndices.count > 1
        var untilRestart = restartInterval
        try jpegNaturalOrder.withUnsafeBufferPointer { (natural) throws(ImageDecodingError) in
            guard let natural = natural.baseAddress else { return }
            for my in 0..<mcusPerColumn {
                for mx in 0..<mcusPerLine {
                    if restartInterval > 0 {
                        if untilRestart == 0 {
                            try checkNotTruncated(reader)
                            reader.restart()
                            for i in predictions.indices { predictions[i] = 0 }
                            eobRun = 0
                            untilRestart = restartInterval
                        }
                        untilRestart -= 1
                    }
                    for entry in layout {
                        let c = slotComponents[entry.slot]
                        let bx = interleaved ? mx * c.horizontalSampling + entry.dx : mx
                        let by = interleaved ? my * c.verticalSampling + entry.dy : my
                        let block = slotPointers[entry.slot] + (by * c.blocksPerLine + bx) * 64
                        switch pass {
                        case .sequential:
                            decodeSequential(&reader, block: block, slot: entry.slot, natural: natural)
                        case .dcFirst:
                            decodeDCFirst(&reader, block: block, slot: entry.slot)
                        case .dcRefine:
                            if reader.bit() != 0 { block[0] |= Int16(truncatingIfNeeded: 1 << scan.approximationLow) }
                        case .acFirst:
                            decodeACFirst(&reader, block: block, natural: natural)
                        case .acRefine:
                            decodeACRefine(&reader, block: block, natural: natural)
                        }
                    }
                }
            }
        }
        try checkNotTruncated(reader)
    }

    private func checkNotTruncated(_ reader: JPEGBitReader) throws(ImageDecodingError) {
        if reader.hitEnd && reader.overran {
            throw ImageDecodingError(.truncated, "sos: file ends inside the entropy-coded data of a scan", offset: reader.data.count)
        }
    }

    @inline(__always)
    private mutating func decodeSequential(_ reader: inout JPEGBitReader, block: UnsafeMutablePointer<Int16>,
                                           slot: Int, natural: UnsafePointer<Int>) {
        guard let dc = dcTables[slot], let ac = acTables[slot] else { return }
        let size = reader.decode(dc)
        predictions[slot] = predictions[slot] &+ reader.signedBits(size & 15)
        block[0] = Int16(truncatingIfNeeded: predictions[slot])
        var k = 1
        while k < 64 {
            let rs = reader.decode(ac)
            let run = rs >> 4, size = rs & 15
            if size != 0 {
                k += run
                block[natural[k]] = Int16(truncatingIfNeeded: reader.signedBits(size))
                k += 1
            } else {
                if run != 15 { break }
                k += 16
            }
        }
    }

    private mutating func decodeDCFirst(_ reader: inout JPEGBitReader, block: UnsafeMutablePointer<Int16>, slot: Int) {
        guard let dc = dcTables[slot] else { return }
        let size = reader.decode(dc)
        predictions[slot] = predictions[slot] &+ reader.signedBits(size & 15)
        block[0] = Int16(truncatingIfNeeded: predictions[slot] << Int32(scan.approximationLow))
    }

    private mutating func decodeACFirst(_ reader: inout JPEGBitReader, block: UnsafeMutablePointer<Int16>,
                                        natural: UnsafePointer<Int>) {
        if eobRun > 0 {
            eobRun -= 1
            return
        }
        guard let ac = acTables[0] else { return }
        let low = Int32(scan.approximationLow)
        var k = scan.spectralStart
        while k <= scan.spectralEnd {
            let rs = reader.decode(ac)
            let run = rs >> 4, size = rs & 15
            if size != 0 {
                k += run
                block[natural[k]] = Int16(truncatingIfNeeded: reader.signedBits(size) << low)
            } else if run == 15 {
                k += 15
            } else {
                eobRun = (1 << run) - 1
                if run > 0 { eobRun += reader.bits(run) }
                break
            }
            k += 1
        }
    }

    private mutating func decodeACRefine(_ reader: inout JPEGBitReader, block: UnsafeMutablePointer<Int16>,
                                         natural: UnsafePointer<Int>) {
        guard let ac = acTables[0] else { return }
        let plus = Int16(truncatingIfNeeded: 1 << scan.approximationLow)
        let minus = Int16(truncatingIfNeeded: -1 << scan.approximationLow)
        let end = scan.spectralEnd
        var k = scan.spectralStart
        if eobRun == 0 {
            while k <= end {
                let rs = reader.decode(ac)
                var run = rs >> 4
                let size = rs & 15
                var value: Int16 = 0
                if size != 0 {
                    value = reader.bit() != 0 ? plus : minus
                } else if run != 15 {
                    eobRun = 1 << run
                    if run > 0 { eobRun += reader.bits(run) }
                    break
                }
                // Skip `run` zero coefficients, refining the nonzero ones passed on the way.
                while k <= end {
                    let coefficient = block + natural[k]
                    if coefficient.pointee != 0 {
                        refine(&reader, coefficient, plus: plus, minus: minus)
                    } else {
                        if run == 0 { break }
                        run -= 1
                    }
                    k += 1
                }
                if value != 0 {
                    block[natural[k]] = value
                }
                k += 1
            }
        }
        if eobRun > 0 {
            while k <= end {
                let coefficient = block + natural[k]
                if coefficient.pointee != 0 {
                    refine(&reader, coefficient, plus: plus, minus: minus)
                }
                k += 1
            }
            eobRun -= 1
        }
    }

    @inline(__always)
    private func refine(_ reader: inout JPEGBitReader, _ coefficient: UnsafeMutablePointer<Int16>,
                        plus: Int16, minus: Int16) {
        if reader.bit() != 0 && coefficient.pointee & plus == 0 {
            coefficient.pointee = coefficient.pointee &+ (coefficient.pointee >= 0 ? plus : minus)
        }
    }
}
