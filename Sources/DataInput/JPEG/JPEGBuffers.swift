// The two whole-image buffers of a decode, owned by classes so they are freed exactly once.

/// Coefficients of every block of every component, kept until all scans are read.
/// Layout per component: blocks row by row (`blocksPerLine` per row), 64 `Int16` per block in
/// natural (row-major) order, quantised (not yet multiplied by the table), as libjpeg keeps them.
final class JPEGCoefficientStore {
    let pointers: [UnsafeMutablePointer<Int16>]
    let counts: [Int]

    init(frame: JPEGFrame) {
        var pointers: [UnsafeMutablePointer<Int16>] = []
        var counts: [Int] = []
        for c in frame.components {
            let n = c.blocksPerLine * c.blocksPerColumn * 64
            let p = UnsafeMutablePointer<Int16>.allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
            pointers.append(p)
            counts.append(n)
        }
        self.pointers = pointers
        self.counts = counts
    }

    deinit {
        for p in pointers { p.deallocate() }
    }
}

/// Decoded samples of each component before upsampling: `widthInBlocks × 8` bytes per row
/// (`strides`), `heightInBlocks × 8` rows; only the first `sampleWidth × sampleHeight` matter.
final class JPEGPlanes {
    let pointers: [UnsafeMutablePointer<UInt8>]
    let strides: [Int]

    init(frame: JPEGFrame) {
        strides = frame.components.map { $0.widthInBlocks * 8 }
        pointers = frame.components.map { c in
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: c.widthInBlocks * 8 * c.heightInBlocks * 8)
            p.initialize(repeating: 128, count: c.widthInBlocks * 8 * c.heightInBlocks * 8)
            return p
        }
    }

    deinit {
        for p in pointers { p.deallocate() }
    }
}
