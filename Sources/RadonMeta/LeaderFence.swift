/// How a write of the PostgreSQL store proves that its server still leads, and how a takeover
/// waits for the writes of the leader it deposes: a transaction-scoped advisory lock on one key,
/// taken shared by every write transaction and exclusive by the transaction that changes the
/// epoch, plus the epoch read after the lock is granted (both in `check`, one statement).
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

    /// Run in every write transaction before its first write, savepoint or COMMIT (only reads
    /// may come first; it then runs as the first statement of the writes' call:
    /// `PostgresTransaction.sendGuard`), with the server's epoch as argument (NULL when it has
    /// none: a server without a standby fences nobody).
    ///
    /// It limits how long the transaction may sit idle (see `PostgresEngine.idleTransactionLimit`;
    /// set locally, as the writer's chained transactions idle between batches without one,
    /// see `PostgresEngine.inWriteConnection`). Then, with an epoch, it takes the lock shared
    /// (waiting while a takeover holds it), reads the leader row's epoch and fails with
    /// `refusedState` unless it is the argument.
    ///
    /// One statement, one round trip: a function, because one plain statement reads with the
    /// snapshot it took before its lock was granted, while each statement of a VOLATILE
    /// PL/pgSQL function takes its own (READ COMMITTED), so the epoch is read after the lock, as
    /// the invariant needs.
    public static let check = "SELECT radonfs_write_guard(?)"

    /// The SQLSTATE `check` fails with (class RF, the project's own).
    public static let refusedState = "RF001"

    /// The function `check` calls, made by the PostgreSQL schema's migration 3.
    public static let guardFunction = """
        CREATE OR REPLACE FUNCTION radonfs_write_guard(held BIGINT) RETURNS void LANGUAGE plpgsql VOLATILE AS $guard$
        DECLARE leader BIGINT;
        BEGIN
            PERFORM set_config('idle_in_transaction_session_timeout', '\(PostgresEngine.idleTransactionSeconds)s', true);
            IF held IS NULL THEN
                RETURN;
            END IF;
            PERFORM pg_advisory_xact_lock_shared(\(lockKey));
            SELECT epoch INTO leader FROM meta_leader WHERE id = 1;
            IF leader IS DISTINCT FROM held THEN
                RAISE EXCEPTION 'this metadata server holds epoch % but the leader''s is %', held, coalesce(leader::text, 'unset')
                    USING ERRCODE = '\(refusedState)';
            END IF;
        END
        $guard$
        """

    /// First statement of a takeover's transaction: waits for the write transactions in flight
    /// and holds new ones back until the new epoch is committed.
    static let exclusiveLock = "SELECT pg_advisory_xact_lock(\(lockKey))"
}
