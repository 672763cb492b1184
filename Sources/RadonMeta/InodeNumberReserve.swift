import Synchronization

/// Inode numbers taken ahead of need from PostgreSQL's inode sequence, so that a create knows
/// its file's number before it writes anything: its placement group and layout reads are then
/// sent with its directory's and waited for together, and the inode is inserted with its group
/// set, without waiting for a `RETURNING id` or updating the row after. A create's thread on
/// PostgreSQL waits twice (its reads, its commit) instead of four times.
///
/// Invariants: every number here came from `nextval` of the inode sequence, which never gives
/// a value twice, even when the transaction that asked rolls back, so a number is unique
/// however many servers reserve at once; each is handed out once. A number handed to a create
/// that then fails, or left here when the server stops, is only a gap in the numbering. Within
/// one server numbers are handed out in increasing order, so `inode mod groupCount` stays a
/// round robin over the groups.
final class InodeNumberReserve: Sendable {
    /// Numbers reserved by one round trip: a create in this many pays for the refill.
    static let batchSize = 128

    /// The reserved numbers still to hand out, the smallest last (handed out by `popLast`).
    private let numbers = Mutex<[UInt64]>([])

    /// The next number, or nil when the reserve is empty.
    func take() -> UInt64? {
        numbers.withLock { $0.popLast() }
    }

    /// Adds freshly reserved numbers.
    func refill(with fresh: [UInt64]) {
        numbers.withLock { numbers in
            numbers.append(contentsOf: fresh)
            numbers.sort(by: >)
        }
    }

    /// The query that reserves a batch: `batchSize` values of the inode table's sequence.
    static let reservation = "SELECT nextval(pg_get_serial_sequence('inode', 'id')) FROM generate_series(1, \(batchSize))"
}
