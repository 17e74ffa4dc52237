/// The chunks of a PNG file that decoding needs, read and checked (PNG spec §5).
///
/// Each chunk's CRC is verified (a mismatch is `.corrupt`, naming the chunk). IHDR must come
/// first, PLTE before the image data, IDAT chunks consecutively, and IEND last; a file that ends
/// before IEND is `.truncated`. Unknown critical chunks are `.unsupported`; ancillary ones
/// (tRNS, gAMA, text...) are skipped, as the output has no alpha and PIL's `convert` ignores them.
struct PNGChunks {
    var header: PNGHeader
    /// 256 RGB entries, zero-padded past the file's PLTE.
    var palette: [UInt8]
    /// The IDAT payloads, concatenated: one zlib stream.
    var imageData: [UInt8]
    var firstImageDataOffset: Int

    static func read(_ bytes: [UInt8], limits: ImageLimits) throws(ImageDecodingError) -> PNGChunks {
        let signature = PNGDecoder.signature
        guard bytes.count >= 8 else {
            if bytes.elementsEqual(signature.prefix(bytes.count)) {
                throw ImageDecodingError(.truncated, "png: signature needs 8 bytes, got \(bytes.count)", offset: 0)
            }
            throw ImageDecodingError(.corrupt, "png: not a png file (signature)", offset: 0)
        }
        guard bytes[0..<8].elementsEqual(signature) else {
            throw ImageDecodingError(.corrupt, "png: not a png file (signature)", offset: 0)
        }
        var header: PNGHeader? = nil
        var palette: [UInt8]? = nil
        var imageData: [UInt8] = []
        var firstImageDataOffset: Int? = nil
        var imageDataEnded = false
        var position = 8
        while true {
            guard bytes.count - position >= 12 else {
                throw ImageDecodingError(.truncated, "png: chunk header: expected 12 bytes, got \(bytes.count - position) (no IEND)", offset: position)
            }
            let length = Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            let typeBytes = bytes[(position + 4)..<(position + 8)]
            guard typeBytes.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
                throw ImageDecodingError(.corrupt, "png: chunk type must be 4 letters, got \(typeBytes.map { String($0, radix: 16) })", offset: position)
            }
            let type = String(decoding: typeBytes, as: UTF8.self)
            guard length <= 0x7FFF_FFFF else {
                throw ImageDecodingError(.corrupt, "png: chunk \(type): length \(length) exceeds 2^31-1", offset: position)
            }
            guard bytes.count - position - 12 >= length else {
                throw ImageDecodingError(.truncated, "png: chunk \(type): declares \(length) bytes, \(bytes.count - position - 12) left", offset: position)
            }
            let dataStart = position + 8
            let data = bytes[dataStart..<(dataStart + length)]
            let crcOffset = dataStart + length
            let stored = UInt32(bytes[crcOffset]) << 24 | UInt32(bytes[crcOffset + 1]) << 16 | UInt32(bytes[crcOffset + 2]) << 8 | UInt32(bytes[crcOffset + 3])
            let computed = bytes.withUnsafeBufferPointer { p in
                PNGCRC32.checksum(UnsafeBufferPointer(rebasing: p[(position + 4)..<crcOffset]))
            }
            guard stored == computed else {
                throw ImageDecodingError(.corrupt, "png: chunk \(type): crc expected 0x\(String(computed, radix: 16)), got 0x\(String(stored, radix: 16))", offset: crcOffset)
            }
            if header == nil && type != "IHDR" {
                throw ImageDecodingError(.corrupt, "png: first chunk: expected IHDR, got \(type)", offset: position)
            }
            if firstImageDataOffset != nil && type != "IDAT" { imageDataEnded = true }
            switch type {
            case "IHDR":
                guard header == nil else { throw ImageDecodingError(.corrupt, "png: second IHDR chunk", offset: position) }
                header = try PNGHeader.parse(data, offset: position, limits: limits)
            case "PLTE":
                guard palette == nil, firstImageDataOffset == nil else {
                    throw ImageDecodingError(.corrupt, "png: PLTE: expected one, before IDAT", offset: position)
                }
                guard length % 3 == 0, (3...768).contains(length) else {
                    throw ImageDecodingError(.corrupt, "png: PLTE: expected 1 to 256 entries of 3 bytes, got \(length) bytes", offset: position)
                }
                palette = Array(data) + [UInt8](repeating: 0, count: 768 - length)
            case "IDAT":
                guard !imageDataEnded else {
                    throw ImageDecodingError(.corrupt, "png: IDAT chunks must be consecutive", offset: position)
                }
                if firstImageDataOffset == nil { firstImageDataOffset = position }
                imageData.append(contentsOf: data)
            case "IEND":
                guard let header else { throw ImageDecodingError(.corrupt, "png: IEND before IHDR", offset: position) }
                guard let firstImageDataOffset else { throw ImageDecodingError(.corrupt, "png: no IDAT chunk", offset: position) }
                if header.colorType == .palette && palette == nil {
                    throw ImageDecodingError(.corrupt, "png: colour type 3 needs a PLTE chunk, none before IDAT", offset: firstImageDataOffset)
                }
                return PNGChunks(header: header, palette: palette ?? [UInt8](repeating: 0, count: 768),
                                 imageData: imageData, firstImageDataOffset: firstImageDataOffset)
            default:
                if typeBytes.first.map({ $0 & 0x20 == 0 }) == true {
                    throw ImageDecodingError(.unsupported, "png: unknown critical chunk \(type)", offset: position)
                }
            }
            position = crcOffset + 4
        }
    }
}
