import NIOCore

/// A transport over another one that changes only some of its calls (the fault injectors of
/// the tests: held reads, flipped bits): every call it does not implement itself goes to
/// `wrapped` unchanged.
protocol WrappingFragmentTransport: FragmentTransport {
    var wrapped: any FragmentTransport { get }
}

extension WrappingFragmentTransport {
    @discardableResult
    func write(
        to address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, fragmentCapacity: Int,
        blockIndex: UInt64, version: UInt64, effectiveLength: Int, bytes: ByteBuffer, checksum: UInt32, keepPrevious: Bool,
        deferSync: Bool
    ) async throws -> FragmentWriteReceipt {
        try await wrapped.write(to: address, group: group, inode: inode, fragmentIndex: fragmentIndex, fragmentCapacity: fragmentCapacity,
                                blockIndex: blockIndex, version: version, effectiveLength: effectiveLength, bytes: bytes,
                                checksum: checksum, keepPrevious: keepPrevious, deferSync: deferSync)
    }

    func sync(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int) async throws -> UInt64 {
        try await wrapped.sync(at: address, group: group, inode: inode, fragmentIndex: fragmentIndex)
    }

    func read(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64) async -> FragmentAnswer {
        await wrapped.read(from: address, group: group, inode: inode, fragmentIndex: fragmentIndex, blockIndex: blockIndex)
    }

    func readPrevious(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64) async -> FragmentAnswer {
        await wrapped.readPrevious(from: address, group: group, inode: inode, fragmentIndex: fragmentIndex, blockIndex: blockIndex)
    }

    func dropPrevious(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64, version: UInt64) async throws {
        try await wrapped.dropPrevious(at: address, group: group, inode: inode, fragmentIndex: fragmentIndex, blockIndex: blockIndex, version: version)
    }

    func truncate(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockCount: UInt64) async throws {
        try await wrapped.truncate(at: address, group: group, inode: inode, fragmentIndex: fragmentIndex, blockCount: blockCount)
    }

    func delete(at address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int) async throws {
        try await wrapped.delete(at: address, group: group, inode: inode, fragmentIndex: fragmentIndex)
    }
}
