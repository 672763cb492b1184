import GRDB
import RadonWire

/// Rows of the healing tables: jobs (one placement group's work, with its progress, so a job
/// survives the death of its worker or of the service) and the repair queue (fragments writes
/// missed).
extension Database {
    /// Created on start-up if missing: healing keeps its own tables beside the store's schema.
    static let healingSchema = [
        """
        CREATE TABLE IF NOT EXISTS healing_job (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id INTEGER NOT NULL, kind INTEGER NOT NULL, volume_id INTEGER NOT NULL, group_id INTEGER NOT NULL,
            targets TEXT NOT NULL, state INTEGER NOT NULL, worker INTEGER NOT NULL DEFAULT 0,
            cursor INTEGER NOT NULL DEFAULT 0, files_done INTEGER NOT NULL DEFAULT 0,
            bytes_written INTEGER NOT NULL DEFAULT 0, bytes_read INTEGER NOT NULL DEFAULT 0,
            blocks_checked INTEGER NOT NULL DEFAULT 0, found INTEGER NOT NULL DEFAULT 0, fixed INTEGER NOT NULL DEFAULT 0,
            unrecoverable INTEGER NOT NULL DEFAULT 0, rate INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, message TEXT NOT NULL DEFAULT ''
        )
        """,
        "CREATE INDEX IF NOT EXISTS healing_job_state ON healing_job (state, id)",
        "CREATE INDEX IF NOT EXISTS healing_job_run ON healing_job (run_id)",
        """
        CREATE TABLE IF NOT EXISTS repair_entry (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            group_id INTEGER NOT NULL, inode INTEGER NOT NULL, block INTEGER NOT NULL,
            fragments TEXT NOT NULL, recorded_at INTEGER NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS repair_entry_group ON repair_entry (group_id)",
    ]

    static let healingJobColumns = """
        id, run_id, kind, volume_id, group_id, targets, state, worker, cursor, files_done, bytes_written, bytes_read,
        blocks_checked, found, fixed, unrecoverable, rate, created_at, updated_at, message
        """

    static func healingJob(from row: Row) throws -> HealingJob {
        let rawKind: UInt8 = row[2]
        let rawState: UInt8 = row[6]
        guard let kind = HealingKind(rawValue: rawKind), let state = HealingJobState(rawValue: rawState) else {
            throw WireError(.corrupt, "healing job \(row[0] as Int64) has kind \(rawKind) state \(rawState)")
        }
        return HealingJob(
            id: row[0], runID: row[1], kind: kind, volumeID: row[3], groupID: row[4],
            targets: Self.positions(from: row[5]), state: state, workerNodeID: row[7], cursorInode: row[8],
            filesDone: row[9], bytesWritten: row[10], bytesRead: row[11], blocksChecked: row[12], found: row[13],
            fixed: row[14], unrecoverable: row[15], rateLimit: row[16],
            createdAt: Timestamp(nanoseconds: row[17]), updatedAt: Timestamp(nanoseconds: row[18]), message: row[19]
        )
    }

    static func positions(from text: String) -> [UInt32] {
        text.split(separator: ",").compactMap { UInt32($0) }
    }

    static func text(of positions: [UInt32]) -> String {
        Set(positions).sorted().map(String.init).joined(separator: ",")
    }

    func healingJob(id: UInt64) throws -> HealingJob? {
        try cachedRow("SELECT \(Self.healingJobColumns) FROM healing_job WHERE id = ?", [id]).map(Self.healingJob(from:))
    }

    func healingJobs(where condition: String, _ arguments: StatementArguments = StatementArguments()) throws -> [HealingJob] {
        try Row.fetchAll(self, sql: "SELECT \(Self.healingJobColumns) FROM healing_job WHERE \(condition)", arguments: arguments)
            .map(Self.healingJob(from:))
    }

    /// A fresh run id: one more than any run so far.
    func nextHealingRun() throws -> UInt64 {
        (try cachedRow("SELECT COALESCE(MAX(run_id), 0) + 1 FROM healing_job").map { $0[0] }) ?? 1
    }

    /// Queues `kind` work on `group`; a queued (not yet running) job of the same kind on the
    /// same group absorbs it (targets merged) rather than doubling the work.
    @discardableResult
    func queueHealingJob(run: UInt64, kind: HealingKind, group: PlacementGroup, targets: [UInt32], rate: UInt64, now: Int64) throws -> UInt64 {
        if let row = try cachedRow(
            "SELECT id, targets FROM healing_job WHERE group_id = ? AND kind = ? AND state = ? ORDER BY id LIMIT 1",
            [group.id, kind.rawValue, HealingJobState.queued.rawValue]
        ) {
            let id: UInt64 = row[0]
            let existing = Self.positions(from: row[1])
            let merged = existing.isEmpty || targets.isEmpty ? [] : existing + targets
            try cachedExecute("UPDATE healing_job SET targets = ?, rate = MAX(rate, ?), updated_at = ? WHERE id = ?",
                              [Self.text(of: merged), rate, now, id])
            return id
        }
        try cachedExecute(
            """
            INSERT INTO healing_job (run_id, kind, volume_id, group_id, targets, state, rate, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [run, kind.rawValue, group.volumeID, group.id, Self.text(of: targets), HealingJobState.queued.rawValue, rate, now, now]
        )
        return UInt64(lastInsertedRowID)
    }

    func markHealingJob(_ id: UInt64, running worker: UInt32, now: Int64) throws {
        try cachedExecute("UPDATE healing_job SET state = ?, worker = ?, updated_at = ? WHERE id = ?",
                          [HealingJobState.running.rawValue, worker, now, id])
    }

    /// Stores a worker's cumulative progress (and the end state when it finished).
    func saveHealingProgress(_ job: HealingJob, finished: Bool, now: Int64) throws {
        let state = finished ? (job.state == .failed ? HealingJobState.failed : .done) : .running
        try cachedExecute(
            """
            UPDATE healing_job SET state = ?, cursor = ?, files_done = ?, bytes_written = ?, bytes_read = ?,
                blocks_checked = ?, found = ?, fixed = ?, unrecoverable = ?, updated_at = ?, message = ?
            WHERE id = ?
            """,
            [state.rawValue, job.cursorInode, job.filesDone, job.bytesWritten, job.bytesRead, job.blocksChecked,
             job.found, job.fixed, job.unrecoverable, now, job.message, job.id]
        )
    }

    // MARK: Repair queue

    func recordRepair(_ report: DamageReport, now: Int64) throws {
        try cachedExecute(
            "INSERT INTO repair_entry (group_id, inode, block, fragments, recorded_at) VALUES (?, ?, ?, ?, ?)",
            [report.groupID, report.inode, report.blockIndex, Self.text(of: report.fragmentIndices), now]
        )
    }

    /// Groups with recorded repairs and the union of their missing positions.
    func pendingRepairsByGroup() throws -> [UInt32: [UInt32]] {
        var result: [UInt32: Set<UInt32>] = [:]
        for row in try cachedRows("SELECT group_id, fragments FROM repair_entry") {
            result[row[0], default: []].formUnion(Self.positions(from: row[1]))
        }
        return result.mapValues { $0.sorted() }
    }

    func pendingRepairCount() throws -> UInt64 {
        try cachedRow("SELECT count(*) FROM repair_entry").map { $0[0] } ?? 0
    }

    /// Forgets recorded repairs of `group` made before `before` that `targets` covered (empty:
    /// every position was checked).
    func clearRepairs(group: UInt32, coveredBy targets: [UInt32], recordedBefore before: Int64) throws {
        let covered = Set(targets)
        for row in try cachedRows("SELECT id, fragments FROM repair_entry WHERE group_id = ? AND recorded_at <= ?", [group, before]) {
            let positions = Self.positions(from: row[1])
            if covered.isEmpty || positions.allSatisfy(covered.contains) {
                try cachedExecute("DELETE FROM repair_entry WHERE id = ?", [row[0] as Int64])
            }
        }
    }
}
