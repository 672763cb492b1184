/// How a write of the PostgreSQL store proves that its server still leads, and how a takeover
/// waits for the writes of the leader it deposes: a transaction-scoped advisory lock on one key,
/// taken shared by every write transaction and exclusive by the transaction that changes the
/// epoch, plus the epoch read after the lock is granted.
///
/// Invariant: no write transaction of a server commits once another server's epoch is in
/// `meta_leader`. Either the write took its shared lock first, and then the takeover's exclusive
/// lock waits until that write has committed or rolled back; or the takeover committed first,
/// and then the write's epoch read, a new READ COMMITTED snapshot taken after its lock was
/// granted, sees the new epoch and the write rolls back (`PostgresEngine.writeBatch`).
///
/// Why an advisory lock and not `SELECT ... FOR SHARE` on the leader row: a row lock is written
/// into the row, so every write transaction, even one that changes nothing (a heartbeat), had to
/// log and wait for a synchronous commit, and the lease's renewals and a standby's takeover
/// attempts queued behind the writes. An advisory lock lives in memory only.
public enum LeaderFence {
    /// The advisory lock's key: "RadonFSL" in ASCII, unlikely to meet another application's key
    /// in the same database.
    public static let lockKey: Int64 = 0x5261_646F_6E46_534C

    /// First statement of every write transaction: waits while a takeover holds the lock.
    static let shareLock = "SELECT pg_advisory_xact_lock_shared(\(lockKey))"

    /// Second statement of every write transaction (its own snapshot, after the lock).
    static let readEpoch = "SELECT epoch FROM meta_leader WHERE id = 1"

    /// First statement of a takeover's transaction: waits for the write transactions in flight
    /// and holds new ones back until the new epoch is committed.
    static let exclusiveLock = "SELECT pg_advisory_xact_lock(\(lockKey))"
}
