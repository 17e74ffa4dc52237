/// Decodes the entropy-coded data of one scan into the coefficient store: sequential Huffman
/// (SOF0/1) or one of the four progressive passes (SOF2: DC first/refine, AC first/refine with
/// EOB runs), following ITU T.81 Annex F and G and libjpeg's jdhuff.c/jdphuff.c behaviour on
/// odd data (runs past coefficient 63 land on 63, coefficients wrap to 16 bits).
///
/// Throws `.truncated` when the file ends before the scan's data does; restart intervals reset
/// the DC predictions and the EOB run.
struct JPEGScanDecoder {
    private enum Pass { case sequential, dcFirst, dcRefine, acFirst, acRefine }

    /// One block position of an MCU, resolved once per scan so the MCU loop touches no arrays.
    private struct BlockSlot {
        var coefficients: UnsafeMutablePointer<Int16>
        var blocksPerLine: Int
        var horizontalSampling: Int
        var verticalSampling: Int
        var dx: Int
        var dy: Int
        /// Index of the component within the scan (its DC prediction).
        var slot: Int
        var dc: JPEGHuffmanLookup?
        var ac: JPEGHuffmanLookup?
        /// Direct mode: where the block's samples go, and its component's multipliers.
        var plane: UnsafeMutablePointer<UInt8>?
        var stride: Int
        var quantization: UnsafePointer<Int32>?
        var widthInBlocks: Int
        var heightInBlocks: Int
    }

    let frame: JPEGFrame
    let scan: JPEGScan
    let dcTables: [JPEGHuffmanTable?]
    let acTables: [JPEGHuffmanTable?]
    let restartInterval: Int
    /// Where coefficients go: kept for later (multi-scan files) or straight through the IDCT.
    enum Target {
        case store(JPEGCoefficientStore)
        /// Single-scan sequential files: each block is transformed as soon as it is decoded, into
        /// `planes`, with the per-component multipliers `quantization` (natural order).
        case planes(JPEGPlanes, quantization: [[Int32]])
    }

    let target: Target
    private var eobRun = 0

    init(frame: JPEGFrame, scan: JPEGScan, dcTables: [JPEGHuffmanTable?], acTables: [JPEGHuffmanTable?],
         restartInterval: Int, target: Target) {
        self.frame = frame
        self.scan = scan
        self.dcTables = dcTables
        self.acTables = acTables
        self.restartInterval = restartInterval
        self.target = target
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
        let interleaved = scan.componentIndices.count > 1
        // Direct mode needs one 64-coefficient scratch block, the IDCT workspace and stable multipliers.
        let scratch = UnsafeMutablePointer<Int16>.allocate(capacity: 64)
        scratch.initialize(repeating: 0, count: 64)
        let workspace = UnsafeMutablePointer<Int32>.allocate(capacity: 64)
        let multipliers = UnsafeMutablePointer<Int32>.allocate(capacity: 64 * max(frame.components.count, 1))
        multipliers.initialize(repeating: 0, count: 64 * max(frame.components.count, 1))
        defer {
            scratch.deallocate()
            workspace.deallocate()
            multipliers.deallocate()
        }
        var layout: [BlockSlot] = []
        for (slot, index) in scan.componentIndices.enumerated() {
            let c = frame.components[index]
            let (h, v) = interleaved ? (c.horizontalSampling, c.verticalSampling) : (1, 1)
            var coefficientBase = scratch
            var plane: UnsafeMutablePointer<UInt8>?
            var stride = 0
            var quantization: UnsafePointer<Int32>?
            switch target {
            case .store(let store):
                coefficientBase = store.pointers[index]
            case .planes(let planes, let tables):
                plane = planes.pointers[index]
                stride = planes.strides[index]
                let q = multipliers + 64 * index
                for i in 0..<64 where i < tables[index].count { q[i] = tables[index][i] }
                quantization = UnsafePointer(q)
            }
            for dy in 0..<v {
                for dx in 0..<h {
                    layout.append(BlockSlot(coefficients: coefficientBase, blocksPerLine: c.blocksPerLine,
                                            horizontalSampling: h, verticalSampling: v, dx: dx, dy: dy, slot: slot,
                                            dc: dcTables[slot]?.lookup, ac: acTables[slot]?.lookup,
                                            plane: plane, stride: stride, quantization: quantization,
                                            widthInBlocks: c.widthInBlocks, heightInBlocks: c.heightInBlocks))
                }
            }
        }
        let mcusPerLine: Int, mcusPerColumn: Int
        if interleaved {
            mcusPerLine = frame.mcusPerLine
            mcusPerColumn = frame.mcusPerColumn
        } else {
            let c = frame.components[scan.componentIndices[0]]
            mcusPerLine = c.widthInBlocks
            mcusPerColumn = c.heightInBlocks
        }
        let predictions = UnsafeMutablePointer<Int32>.allocate(capacity: 4)
        predictions.initialize(repeating: 0, count: 4)
        defer { predictions.deallocate() }
        let slots = UnsafeMutablePointer<BlockSlot>.allocate(capacity: layout.count)
        slots.initialize(from: layout, count: layout.count)
        defer { slots.deinitialize(count: layout.count); slots.deallocate() }
        let slotCount = layout.count
        let low = scan.approximationLow
        var untilRestart = restartInterval
        try JPEGInverseDCT.rangeLimit.withUnsafeBufferPointer { (limit) throws(ImageDecodingError) in
        try jpegNaturalOrder.withUnsafeBufferPointer { (natural) throws(ImageDecodingError) in
            guard let natural = natural.baseAddress, let limit = limit.baseAddress else { return }
            for my in 0..<mcusPerColumn {
                try checkNotTruncated(reader)
                for mx in 0..<mcusPerLine {
                    if restartInterval > 0 {
                        if untilRestart == 0 {
                            try checkNotTruncated(reader)
                            reader.restart()
                            predictions.update(repeating: 0, count: 4)
                            eobRun = 0
                            untilRestart = restartInterval
                        }
                        untilRestart -= 1
                    }
                    for i in 0..<slotCount {
                        let s = slots[i]
                        let bx = mx * s.horizontalSampling + s.dx
                        let by = my * s.verticalSampling + s.dy
                        switch pass {
                        case .sequential:
                            guard let dc = s.dc, let ac = s.ac else { continue }
                            if let plane = s.plane, let q = s.quantization {
                                Self.decodeSequential(&reader, block: scratch, dc: dc, ac: ac,
                                                      prediction: predictions + s.slot, natural: natural)
                                if bx < s.widthInBlocks && by < s.heightInBlocks {
                                    JPEGInverseDCT.transform(scratch, q, plane + by * 8 * s.stride + bx * 8,
                                                             stride: s.stride, workspace, limit)
                                }
                                scratch.update(repeating: 0, count: 64)
                                continue
                            }
                            let block = s.coefficients + (by * s.blocksPerLine + bx) * 64
                            Self.decodeSequential(&reader, block: block, dc: dc, ac: ac,
                                                  prediction: predictions + s.slot, natural: natural)
                        case .dcFirst:
                            guard let dc = s.dc else { continue }
                            let block = s.coefficients + (by * s.blocksPerLine + bx) * 64
                            let size = reader.decode(dc)
                            let value = predictions[s.slot] &+ reader.signedBits(size & 15)
                            predictions[s.slot] = value
                            block[0] = Int16(truncatingIfNeeded: value << Int32(low))
                        case .dcRefine:
                            let block = s.coefficients + (by * s.blocksPerLine + bx) * 64
                            if reader.bit() != 0 { block[0] |= Int16(truncatingIfNeeded: 1 << low) }
                        case .acFirst:
                            guard let ac = s.ac else { continue }
                            let block = s.coefficients + (by * s.blocksPerLine + bx) * 64
                            decodeACFirst(&reader, block: block, ac: ac, natural: natural)
                        case .acRefine:
                            guard let ac = s.ac else { continue }
                            let block = s.coefficients + (by * s.blocksPerLine + bx) * 64
                            decodeACRefine(&reader, block: block, ac: ac, natural: natural)
                        }
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
    private static func decodeSequential(_ readerState: inout JPEGBitReader, block: UnsafeMutablePointer<Int16>,
                                         dc: JPEGHuffmanLookup, ac: JPEGHuffmanLookup,
                                         prediction: UnsafeMutablePointer<Int32>, natural: UnsafePointer<Int>) {
        // A local copy lets the bit buffer live in registers for the whole block.
        var reader = readerState
        defer { readerState = reader }
        let size = reader.decode(dc)
        prediction.pointee = prediction.pointee &+ reader.signedBits(size & 15)
        block[0] = Int16(truncatingIfNeeded: prediction.pointee)
        var k = 1
        while k < 64 {
            reader.refill()
            let shortcut = ac.fastAC[reader.peek(JPEGHuffmanTable.lookaheadBits)]
            if shortcut != 0 {
                k += Int(shortcut >> 4) & 15
                reader.skip(Int(shortcut & 15))
                block[natural[k]] = Int16(truncatingIfNeeded: shortcut >> 8)
                k += 1
                continue
            }
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

    private mutating func decodeACFirst(_ readerState: inout JPEGBitReader, block: UnsafeMutablePointer<Int16>,
                                        ac: JPEGHuffmanLookup, natural: UnsafePointer<Int>) {
        if eobRun > 0 {
            eobRun -= 1
            return
        }
        var reader = readerState
        defer { readerState = reader }
        let low = Int32(scan.approximationLow)
        let end = scan.spectralEnd
        var k = scan.spectralStart
        while k <= end {
            reader.refill()
            let shortcut = ac.fastAC[reader.peek(JPEGHuffmanTable.lookaheadBits)]
            if shortcut != 0 {
                k += Int(shortcut >> 4) & 15
                reader.skip(Int(shortcut & 15))
                block[natural[k]] = Int16(truncatingIfNeeded: (shortcut >> 8) << low)
                k += 1
                continue
            }
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

    private mutating func decodeACRefine(_ readerState: inout JPEGBitReader, block: UnsafeMutablePointer<Int16>,
                                         ac: JPEGHuffmanLookup, natural: UnsafePointer<Int>) {
        var reader = readerState
        defer { readerState = reader }
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
