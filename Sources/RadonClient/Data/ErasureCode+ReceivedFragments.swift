import NIOCore
import RadonCodec

extension ErasureCode {
    /// The block decoded from fragments as they were received, read in place: no copy of
    /// them into arrays first.
    ///
    /// A systematic code holding every data fragment (0..<k) needs no decoding: the block is
    /// those lines back to back, each copied once into a block that is not zero-filled first
    /// (together the lines cover all `blockSize` bytes). Any other set goes through the codec's
    /// `decode(_:)`, which reads the received buffers in place.
    func decodeBlock(from fragments: [(index: Int, bytes: ByteBuffer)]) throws(ErasureCodeError) -> [UInt8] {
        let k = layout.dataCount
        let lineSize = fragmentSize(at: 0)
        let dataLines = fragments.filter { $0.index < k }
        if isSystematic, dataLines.count == k, Set(dataLines.map(\.index)).count == k,
           dataLines.allSatisfy({ $0.bytes.readableBytes == lineSize }) {
            return [UInt8](unsafeUninitializedCapacity: blockSize) { block, initialized in
                for (line, bytes) in dataLines {
                    let start = line * lineSize
                    let count = min(lineSize, blockSize - start)
                    guard count > 0 else { continue }
                    bytes.withUnsafeReadableBytes { source in
                        UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(block)[start..<start + count])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[..<count]))
                    }
                }
                initialized = blockSize
            }
        }
        return try decode(fragments)
    }
}
