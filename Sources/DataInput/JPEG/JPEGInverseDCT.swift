/// libjpeg's "islow" inverse DCT (jidctint.c, the default `JDCT_ISLOW`): the Loeffler–Ligtenberg–
/// Moschytz factorisation in 32-bit integers with 13-bit constants, two passes (columns, then
/// rows) with `PASS1_BITS = 2` of extra precision in between, round-half-up descaling by shifts,
/// and libjpeg's 1024-entry range-limit table on the output (values wrap modulo 1024 before
/// clamping, which only matters for absurd coefficients). Results are bit-identical to libjpeg.
enum JPEGInverseDCT {
    private static let constBits: Int32 = 13
    private static let pass1Bits: Int32 = 2
    private static let fix0_298631336: Int32 = 2446
    private static let fix0_390180644: Int32 = 3196
    private static let fix0_541196100: Int32 = 4433
    private static let fix0_765366865: Int32 = 6270
    private static let fix0_899976223: Int32 = 7373
    private static let fix1_175875602: Int32 = 9633
    private static let fix1_501321110: Int32 = 12299
    private static let fix1_847759065: Int32 = 15137
    private static let fix1_961570560: Int32 = 16069
    private static let fix2_053119869: Int32 = 16819
    private static let fix2_562915447: Int32 = 20995
    private static let fix3_072711026: Int32 = 25172

    /// libjpeg's post-IDCT range limit, indexed by `(value & 1023)` where `value` is the
    /// descaled sample before the +128 level shift: 0...127 → 128...255, 128...511 → 255,
    /// 512...895 → 0, 896...1023 → 0...127.
    static let rangeLimit: [UInt8] = (0..<1024).map { i -> UInt8 in
        switch i {
        case 0..<128: return UInt8(i + 128)
        case 128..<512: return 255
        case 512..<896: return 0
        default: return UInt8(i - 896)
        }
    }

    /// Transforms one block.
    /// - Parameters:
    ///   - block: 64 quantised coefficients, natural order.
    ///   - quantization: 64 multipliers, natural order.
    ///   - output: top-left sample of the 8×8 destination; rows are `stride` bytes apart.
    ///   - workspace: 64 `Int32` of scratch.
    ///   - limit: `rangeLimit`'s storage.
    @inline(__always)
    static func transform(_ block: UnsafePointer<Int16>, _ quantization: UnsafePointer<Int32>,
                          _ output: UnsafeMutablePointer<UInt8>, stride: Int,
                          _ workspace: UnsafeMutablePointer<Int32>, _ limit: UnsafePointer<UInt8>) {
        // Pass 1: columns from the input into the workspace, scaled up by PASS1_BITS.
        for column in 0..<8 {
            let input = block + column
            let q = quantization + column
            let ws = workspace + column
            if input[8] == 0 && input[16] == 0 && input[24] == 0 && input[32] == 0
                && input[40] == 0 && input[48] == 0 && input[56] == 0 {
                let dc = (Int32(input[0]) &* q[0]) &<< pass1Bits
                for row in 0..<8 { ws[row * 8] = dc }
                continue
            }
            var z2 = Int32(input[16]) &* q[16]
            var z3 = Int32(input[48]) &* q[48]
            var z1 = (z2 &+ z3) &* fix0_541196100
            var tmp2 = z1 &+ z3 &* -fix1_847759065
            var tmp3 = z1 &+ z2 &* fix0_765366865
            z2 = Int32(input[0]) &* q[0]
            z3 = Int32(input[32]) &* q[32]
            var tmp0 = (z2 &+ z3) &<< constBits
            var tmp1 = (z2 &- z3) &<< constBits
            let tmp10 = tmp0 &+ tmp3, tmp13 = tmp0 &- tmp3
            let tmp11 = tmp1 &+ tmp2, tmp12 = tmp1 &- tmp2

            tmp0 = Int32(input[56]) &* q[56]
            tmp1 = Int32(input[40]) &* q[40]
            tmp2 = Int32(input[24]) &* q[24]
            tmp3 = Int32(input[8]) &* q[8]
            z1 = tmp0 &+ tmp3
            z2 = tmp1 &+ tmp2
            z3 = tmp0 &+ tmp2
            var z4 = tmp1 &+ tmp3
            let z5 = (z3 &+ z4) &* fix1_175875602
            tmp0 = tmp0 &* fix0_298631336
            tmp1 = tmp1 &* fix2_053119869
            tmp2 = tmp2 &* fix3_072711026
            tmp3 = tmp3 &* fix1_501321110
            z1 = z1 &* -fix0_899976223
            z2 = z2 &* -fix2_562915447
            z3 = z3 &* -fix1_961570560 &+ z5
            z4 = z4 &* -fix0_390180644 &+ z5
            tmp0 = tmp0 &+ z1 &+ z3
            tmp1 = tmp1 &+ z2 &+ z4
            tmp2 = tmp2 &+ z2 &+ z3
            tmp3 = tmp3 &+ z1 &+ z4

            let shift = constBits - pass1Bits
            let round: Int32 = 1 << (shift - 1)
            ws[0] = (tmp10 &+ tmp3 &+ round) &>> shift
            ws[56] = (tmp10 &- tmp3 &+ round) &>> shift
            ws[8] = (tmp11 &+ tmp2 &+ round) &>> shift
            ws[48] = (tmp11 &- tmp2 &+ round) &>> shift
            ws[16] = (tmp12 &+ tmp1 &+ round) &>> shift
            ws[40] = (tmp12 &- tmp1 &+ round) &>> shift
            ws[24] = (tmp13 &+ tmp0 &+ round) &>> shift
            ws[32] = (tmp13 &- tmp0 &+ round) &>> shift
        }
        // Pass 2: rows from the workspace to the output, descaled by PASS1_BITS + 3.
        let shift = constBits + pass1Bits + 3
        let round: Int32 = 1 << (shift - 1)
        for row in 0..<8 {
            let ws = workspace + row * 8
            let out = output + row * stride
            if ws[1] == 0 && ws[2] == 0 && ws[3] == 0 && ws[4] == 0 && ws[5] == 0 && ws[6] == 0 && ws[7] == 0 {
                let value = limit[Int((ws[0] &+ (1 << (pass1Bits + 2))) &>> (pass1Bits + 3)) & 1023]
                for i in 0..<8 { out[i] = value }
                continue
            }
            var z2 = ws[2]
            var z3 = ws[6]
            var z1 = (z2 &+ z3) &* fix0_541196100
            var tmp2 = z1 &+ z3 &* -fix1_847759065
            var tmp3 = z1 &+ z2 &* fix0_765366865
            var tmp0 = (ws[0] &+ ws[4]) &<< constBits
            var tmp1 = (ws[0] &- ws[4]) &<< constBits
            let tmp10 = tmp0 &+ tmp3, tmp13 = tmp0 &- tmp3
            let tmp11 = tmp1 &+ tmp2, tmp12 = tmp1 &- tmp2

            tmp0 = ws[7]
            tmp1 = ws[5]
            tmp2 = ws[3]
            tmp3 = ws[1]
            z1 = tmp0 &+ tmp3
            z2 = tmp1 &+ tmp2
            z3 = tmp0 &+ tmp2
            var z4 = tmp1 &+ tmp3
            let z5 = (z3 &+ z4) &* fix1_175875602
            tmp0 = tmp0 &* fix0_298631336
            tmp1 = tmp1 &* fix2_053119869
            tmp2 = tmp2 &* fix3_072711026
            tmp3 = tmp3 &* fix1_501321110
            z1 = z1 &* -fix0_899976223
            z2 = z2 &* -fix2_562915447
            z3 = z3 &* -fix1_961570560 &+ z5
            z4 = z4 &* -fix0_390180644 &+ z5
            tmp0 = tmp0 &+ z1 &+ z3
            tmp1 = tmp1 &+ z2 &+ z4
            tmp2 = tmp2 &+ z2 &+ z3
            tmp3 = tmp3 &+ z1 &+ z4

            out[0] = limit[Int((tmp10 &+ tmp3 &+ round) &>> shift) & 1023]
            out[7] = limit[Int((tmp10 &- tmp3 &+ round) &>> shift) & 1023]
            out[1] = limit[Int((tmp11 &+ tmp2 &+ round) &>> shift) & 1023]
            out[6] = limit[Int((tmp11 &- tmp2 &+ round) &>> shift) & 1023]
            out[2] = limit[Int((tmp12 &+ tmp1 &+ round) &>> shift) & 1023]
            out[5] = limit[Int((tmp12 &- tmp1 &+ round) &>> shift) & 1023]
            out[3] = limit[Int((tmp13 &+ tmp0 &+ round) &>> shift) & 1023]
            out[4] = limit[Int((tmp13 &- tmp0 &+ round) &>> shift) & 1023]
        }
    }
}
