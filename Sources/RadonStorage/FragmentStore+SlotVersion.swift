#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import RadonWire

extension FragmentStore {
    /// The version of block `block`'s slot from its 32-byte header alone (the header's own
    /// CRC checked, the fragment bytes neither read nor checked): what a witness of a range
    /// read answers, where only the version counts and the bytes come from another node.
    func slotVersion(_ file: FragmentFileKey, block: UInt64) async throws -> FragmentReadResult {
        try await onIOThread {
            guard let handle = try POSIXFile.openIfExists(self.path(of: file), flags: O_RDONLY) else {
                return FragmentReadResult(blockIndex: block, fragment: .missing)
            }
            let size = try handle.size
            var headerBytes = [UInt8](repeating: 0, count: FragmentFileHeader.length)
            _ = try headerBytes.withUnsafeMutableBytes { try handle.read(into: $0, at: 0) }
            guard let layout = FragmentFileHeader(headerBytes) else {
                return FragmentReadResult(blockIndex: block, fragment: size > FragmentFileHeader.length ? .corrupt : .missing)
            }
            guard let offset = layout.offset(ofBlock: block), offset + SlotHeader.length <= size else {
                return FragmentReadResult(blockIndex: block, fragment: .missing)
            }
            var slotHeader = [UInt8](repeating: 0, count: SlotHeader.length)
            let read = try self.withSlotLock(file, block: block) {
                try slotHeader.withUnsafeMutableBytes { try handle.read(into: $0, at: offset) }
            }
            let decoded = slotHeader.withUnsafeBytes { SlotHeader.decode(UnsafeRawBufferPointer(rebasing: $0[0..<read])) }
            switch decoded {
            case .hole:
                return FragmentReadResult(blockIndex: block, fragment: .missing)
            case .corrupt:
                return FragmentReadResult(blockIndex: block, fragment: .corrupt)
            case .valid(let header):
                guard header.fragmentIndex == layout.fragmentIndex else { return FragmentReadResult(blockIndex: block, fragment: .corrupt) }
                return FragmentReadResult(blockIndex: block, fragment: .present(
                    version: header.version, effectiveLength: header.effectiveLength, bytes: ByteBuffer(), checksum: 0))
            }
        }
    }
}
