import Synchronization

/// The memory every open file of one client may hold in written-but-unsent blocks.
///
/// Scattered small writes are only cheap if many of them wait in memory and leave together, one
/// read-modify-write per block (a 4 KiB write alone costs a 1 MiB read and a 1.5 MiB write).
/// One budget for the client, not one per file, so many files written at once cannot take
/// memory without bound: a write that finds the client over its capacity sends blocks of its
/// own file until it is not (or its file has none left), like the kernel's dirty-page limit
/// throttling the writer that pushes over it. Writes do not wait longer than `writeBackDelay`
/// either (the kernel's dirty_expire): a file written and then left open is flushed in the
/// background, so a crash of the client loses at most that much.
final class WriteBufferBudget: Sendable {
    /// Bytes held at most before writers start sending blocks.
    let capacity: Int
    /// How long after its first unsent write a file is flushed even if nobody asks.
    let writeBackDelay: Duration
    /// Bytes held by all open files; guarded by the mutex.
    private let held = Mutex(0)

    init(capacity: Int, writeBackDelay: Duration = .seconds(30)) {
        self.capacity = capacity
        self.writeBackDelay = writeBackDelay
    }

    /// Records that a file's buffer grew (positive) or shrank (negative) by `change` bytes.
    func adjust(by change: Int) {
        guard change != 0 else { return }
        held.withLock { $0 += change }
    }

    var heldBytes: Int { held.withLock { $0 } }

    var isOverCapacity: Bool { heldBytes > capacity }
}
