import NIOCore
@testable import RadonClient
import RadonWire
import Synchronization

/// The real storage transport with a faulty link to some fragment positions: one bit of the
/// fragment bytes flipped in every read reply from them (whole or range), or in every write
/// to them after the fragment's checksum was computed. Everything else passes untouched.
final class BitFlipTransport: WrappingFragmentTransport, FragmentRangeTransport {
    let base: StorageFragmentTransport
    var wrapped: any FragmentTransport { base }

    struct Faults {
        /// Fragment positions whose read replies arrive with a bit flipped.
        var reads: Set<Int> = []
        /// Fragment positions whose writes leave with a bit flipped (the checksum as computed).
        var writes: Set<Int> = []
        /// How many replies and requests were damaged so far.
        var flippedReads = 0
        var flippedWrites = 0
    }

    /// The faults to inject and what was injected; guarded by the mutex.
    let faults = Mutex(Faults())

    init(base: StorageFragmentTransport) {
        self.base = base
    }

    /// `bytes` with one bit flipped in the middle.
    static func flipped(_ bytes: ByteBuffer) -> ByteBuffer {
        var bytes = ByteBuffer(bytes: bytes.readableBytesView)
        if bytes.readableBytes > 0 { bytes.setInteger(bytes.getInteger(at: bytes.readableBytes / 2, as: UInt8.self)! ^ 0x10, at: bytes.readableBytes / 2) }
        return bytes
    }

    /// `answer` as the faulty link delivers it from position `fragmentIndex`.
    private func delivered(_ answer: FragmentAnswer, fragmentIndex: Int) -> FragmentAnswer {
        guard case .present(let version, let effectiveLength, let bytes, let checksum) = answer, bytes.readableBytes > 0 else { return answer }
        let damage = faults.withLock { faults in
            guard faults.reads.contains(fragmentIndex) else { return false }
            faults.flippedReads += 1
            return true
        }
        return damage ? .present(version: version, effectiveLength: effectiveLength, bytes: Self.flipped(bytes), checksum: checksum) : answer
    }

    func write(
        to address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, fragmentCapacity: Int,
        blockIndex: UInt64, version: UInt64, effectiveLength: Int, bytes: ByteBuffer, checksum: UInt32, keepPrevious: Bool,
        deferSync: Bool
    ) async throws -> FragmentWriteReceipt {
        let damage = faults.withLock { faults in
            guard faults.writes.contains(fragmentIndex) else { return false }
            faults.flippedWrites += 1
            return true
        }
        return try await base.write(to: address, group: group, inode: inode, fragmentIndex: fragmentIndex, fragmentCapacity: fragmentCapacity,
                                    blockIndex: blockIndex, version: version, effectiveLength: effectiveLength,
                                    bytes: damage ? Self.flipped(bytes) : bytes, checksum: checksum, keepPrevious: keepPrevious,
                                    deferSync: deferSync)
    }

    func read(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64) async -> FragmentAnswer {
        delivered(await base.read(from: address, group: group, inode: inode, fragmentIndex: fragmentIndex, blockIndex: blockIndex),
                  fragmentIndex: fragmentIndex)
    }

    func readRange(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int,
                   blockIndex: UInt64, offset: Int, length: Int, timeout: Duration) async -> FragmentAnswer {
        delivered(await base.readRange(from: address, group: group, inode: inode, fragmentIndex: fragmentIndex, blockIndex: blockIndex,
                                       offset: offset, length: length, timeout: timeout),
                  fragmentIndex: fragmentIndex)
    }

    func readPrevious(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int, blockIndex: UInt64) async -> FragmentAnswer {
        delivered(await base.readPrevious(from: address, group: group, inode: inode, fragmentIndex: fragmentIndex, blockIndex: blockIndex),
                  fragmentIndex: fragmentIndex)
    }
}

/// Keeps every report, for the test to look at.
final class RecordingRepairReporter: RepairReporter {
    let reports = Mutex<[FragmentDamage]>([])

    func fragmentsNeedRepair(_ damage: FragmentDamage) async {
        reports.withLock { $0.append(damage) }
    }
}
