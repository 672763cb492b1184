import NIOCore
import RadonCodec

/// A fragment with the CRC32C of its bytes, computed when the fragment is made (from the
/// encoder's output, `ErasureCode.encodeWithChecksums`) and carried with it to the storage
/// node, which checks it before writing and stores it: whatever damages the bytes after this
/// point (the writer's memory, the wire, the node's buffers) is caught instead of stored under
/// a valid CRC.
///
/// The bytes are in a network buffer from the start: the write request sends that buffer as
/// it is, so a fragment is copied once after encoding, not three times.
struct ChecksummedFragment: Sendable {
    let bytes: ByteBuffer
    let checksum: UInt32
}

extension ErasureCode {
    /// Encodes `data` and gives each fragment in a buffer of its own with its CRC32C, computed
    /// from the encoder's own output before the bytes are copied anywhere: what a writer sends
    /// with a fragment so the node can tell whether the bytes it got are the ones encoded.
    func encodeWithChecksums(_ data: [UInt8]) throws(ErasureCodeError) -> [ChecksummedFragment] {
        if let systematic = self as? any SystematicErasureCode, data.count == blockSize {
            return try systematic.encodeIntoNetworkBuffers(data)
        }
        return try encode(data) { fragment in
            ChecksummedFragment(bytes: ByteBuffer(bytes: fragment), checksum: CRC32C.checksum(fragment))
        }
    }
}

extension SystematicErasureCode {
    /// The systematic case without the encoder's own buffers: each data fragment is its line
    /// of the block copied once into its network buffer (the CRC computed from the block
    /// first, a short last line's zero padding after it), and the parity fragments are encoded
    /// straight into one network buffer, whose slices they are. `data.count == blockSize`.
    fileprivate func encodeIntoNetworkBuffers(_ data: [UInt8]) throws(ErasureCodeError) -> [ChecksummedFragment] {
        let allocator = ByteBufferAllocator()
        let paritySizes = (layout.dataCount..<layout.fragmentCount).map { fragmentSize(at: $0) }
        let parityLength = paritySizes.reduce(0, +)
        var parity = allocator.buffer(capacity: parityLength)
        var fragments: [ChecksummedFragment] = []
        var failure: ErasureCodeError?
        data.withUnsafeBytes { block in
            for line in 0..<layout.dataCount {
                let start = min(line * lineSize, blockSize)
                let count = min(lineSize, blockSize - start)
                let source = UnsafeRawBufferPointer(rebasing: block[start..<start + count])
                var buffer = allocator.buffer(capacity: lineSize)
                buffer.writeBytes(source)
                buffer.writeRepeatingByte(0, count: lineSize - count)
                let checksum = buffer.withUnsafeReadableBytes { padded in
                    CRC32C.checksum(UnsafeRawBufferPointer(rebasing: padded[count...]), seed: CRC32C.checksum(source))
                }
                fragments.append(ChecksummedFragment(bytes: buffer, checksum: checksum))
            }
            parity.writeWithUnsafeMutableBytes(minimumWritableBytes: parityLength) { output in
                var offset = 0
                let regions = paritySizes.map { size in
                    defer { offset += size }
                    return UnsafeMutableRawBufferPointer(rebasing: output[offset..<offset + size])
                }
                do throws(ErasureCodeError) { try encodeParity(block, into: regions) } catch { failure = error }
                return parityLength
            }
        }
        if let failure { throw failure }
        var offset = 0
        for size in paritySizes {
            let bytes = parity.getSlice(at: offset, length: size)!
            offset += size
            fragments.append(ChecksummedFragment(bytes: bytes, checksum: bytes.withUnsafeReadableBytes { CRC32C.checksum($0) }))
        }
        return fragments
    }
}
