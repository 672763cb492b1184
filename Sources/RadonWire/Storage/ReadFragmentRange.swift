import NIOCore
import RadonCodec

/// `readFragmentRange`: part of one slot of one fragment file.
///
/// For systematic codes a data fragment is one line of the block verbatim, so a small read of a
/// file needs only the few bytes of one fragment, not k fragments and a decode. The daemon still
/// reads the whole slot and checks its CRC32C; only the range travels. The reply is a
/// `ReadFragmentsReply` with one result whose bytes are the range (clamped to the slot), with
/// the slot's version and effective length, so the client can tell whether it is current.
///
/// The stored CRC covers the whole fragment, so it cannot vouch for a part of it: the range
/// travels with a CRC32C the daemon computes over the range right after its whole-slot check
/// passed, and the client checks that. The wire and the client's memory are covered as for a
/// whole read; what is not is the daemon's memory between its check and that computation (a
/// few instructions on one buffer), which no writer's CRC reaches.
public struct ReadFragmentRangeRequest: WireMessage, Hashable {
    public var file: FragmentFileKey
    public var blockIndex: UInt64
    /// First byte of the fragment wanted.
    public var offset: UInt32
    /// Bytes wanted from `offset`; 0 asks for the version only, read from the slot header (its
    /// own CRC checked, the fragment bytes not read).
    public var length: UInt32

    public init(file: FragmentFileKey, blockIndex: UInt64, offset: UInt32, length: UInt32) {
        self.file = file
        self.blockIndex = blockIndex
        self.offset = offset
        self.length = length
    }

    public func encode(into buffer: inout ByteBuffer) {
        file.encode(into: &buffer)
        buffer.writeMultipleIntegers(blockIndex, offset, length)
    }

    public init(from buffer: inout ByteBuffer) throws {
        file = try FragmentFileKey(from: &buffer)
        blockIndex = try buffer.readWireInteger()
        offset = try buffer.readWireInteger()
        length = try buffer.readWireInteger()
    }
}

extension ReadFragmentsReply {
    /// This reply with each present fragment cut to `offset..<offset + length` (clamped to the
    /// bytes the slot holds), each with the CRC32C of its range: what a `readFragmentRange`
    /// answers. Call it only on fragments whose whole-slot CRC was just checked.
    public func restricted(toOffset offset: Int, length: Int) -> ReadFragmentsReply {
        ReadFragmentsReply(results: results.map { result in
            guard case let .present(version, effectiveLength, bytes, _) = result.fragment else { return result }
            let start = min(offset, bytes.readableBytes)
            let count = min(length, bytes.readableBytes - start)
            let range = bytes.getSlice(at: bytes.readerIndex + start, length: count) ?? ByteBuffer()
            let checksum = range.withUnsafeReadableBytes { CRC32C.checksum($0) }
            return FragmentReadResult(
                blockIndex: result.blockIndex,
                fragment: .present(version: version, effectiveLength: effectiveLength, bytes: range, checksum: checksum))
        })
    }
}

extension StorageClient {
    /// `length` bytes at `offset` of the slot of block `blockIndex` in fragment file
    /// `g<group>/<inode>.<fragmentIndex>`, with the slot's version; the daemon checks the
    /// whole slot's CRC32C first (a corrupt slot answers `.corrupt`, no bytes). The result is
    /// as received: its checksum is the caller's to check (`StoredFragment.verified`).
    public func readFragmentRange(
        group: UInt32, inode: UInt64, fragmentIndex: UInt8, blockIndex: UInt64, offset: UInt32, length: UInt32
    ) async throws -> FragmentReadResult {
        let request = ReadFragmentRangeRequest(file: FragmentFileKey(group: group, inode: inode, fragmentIndex: fragmentIndex),
                                               blockIndex: blockIndex, offset: offset, length: length)
        let reply: ReadFragmentsReply = try await connection.call(StorageOpcode.readFragmentRange.rawValue, request, timeout: timeout, abandonedOnCancel: true)
        guard let result = reply.results.first, reply.results.count == 1, result.blockIndex == blockIndex else {
            throw WireError(.badRequest, "range reply for another block")
        }
        return result
    }
}
