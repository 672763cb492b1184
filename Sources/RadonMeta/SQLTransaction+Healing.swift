import RadonWire

/// Rows of the healing tables: jobs (one placement group's work, with its progress, so a job
/// survives the death of its worker or of the service) and the repair queue (fragments writes
/// missed).
extension SQLTransaction {
    static var healingJobColumns: String {
        """
        id, run_id, kind, volume_id, group_id, targets, state, worker, cursor, files_done, bytes_written, bytes_read,
        blocks_checked, found, fixed, unrecoverable, rate, created_at, updated_at, message
        """
    }

    static func healingJob(from row: SQLRow) throws -> HealingJob {
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
        try self.row("SELECT \(Self.healingJobColumns) FROM healing_job WHERE id = ?", [id]).map(Self.healingJob(from:))
    }

    func healingJobs(where condition: String, _ arguments: SQLArguments = SQLArguments()) throws -> [HealingJob] {
        try self.rows("SELECT \(Self.healingJobColumns) FROM healing_job WHERE \(condition)", arguments).map(Self.healingJob(from:))
    }

    /// A fresh run id: one more than any run so far.
    func nextHealingRun() throws -> UInt64 {
        (try self.row("SELECT COALESCE(MAX(run_id), 0) + 1 FROM healing_job").map { $0[0] }) ?? 1
    }

    /// Queues `kind` work on `group`; a queued (not yet running) job of the same kind on the
    /// same group absorbs it (targets merged) rather than doubling the work.
    @discardableResult
    func queueHealingJob(run: UInt64, kind: HealingKind, group: PlacementGroup, targets: [UInt32], rate: UInt64, now: Int64) throws -> UInt64 {
        if let row = try self.row(
            "SELECT id, targets FROM healing_job WHERE group_id = ? AND kind = ? AND state = ? ORDER BY id LIMIT 1",
            [group.id, kind.rawValue, HealingJobState.queued.rawValue]
        ) {
            let id: UInt64 = row[0]
            let existing = Self.positions(from: row[1])
            let merged = existing.isEmpty || targets.isEmpty ? [] : existing + targets
            try self.execute("UPDATE healing_job SET targets = ?, rate = CASE WHEN rate > ? THEN rate ELSE ? END, updated_at = ? WHERE id = ?",
                              [Self.text(of: merged), rate, rate, now, id])
            return id
        }
        let inserted = try self.row(
            """
            INSERT INTO healing_job (run_id, kind, volume_id, group_id, targets, state, rate, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """,
            [run, kind.rawValue, group.volumeID, group.id, Self.text(of: targets), HealingJobState.queued.rawValue, rate, now, now]
        )
        guard let inserted else { throw WireError(.internalError, "INSERT RETURNING gave no row") }
        return inserted[0]
    }

    func markHealingJob(_ id: UInt64, running worker: UInt32, now: Int64) throws {
        try self.execute("UPDATE healing_job SET state = ?, worker = ?, updated_at = ? WHERE id = ?",
                          [HealingJobState.running.rawValue, worker, now, id])
    }

    /// Stores a worker's cumulative progress (and the end state when it finished).
    func saveHealingProgress(_ job: HealingJob, finished: Bool, now: Int64) throws {
        let state = finished ? (job.state == .failed ? HealingJobState.failed : .done) : .running
        try self.execute(
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
        try self.execute(
            "INSERT INTO repair_entry (group_id, inode, block, fragments, recorded_at) VALUES (?, ?, ?, ?, ?)",
            [report.groupID, report.inode, report.blockIndex, Self.text(of: report.fragmentIndices), now]
        )
    }

    /// Groups with recorded repairs and the union of their missing positions.
    func pendingRepairsByGroup() throws -> [UInt32: [UInt32]] {
        var result: [UInt32: Set<UInt32>] = [:]
        for row in try self.rows("SELECT group_id, fragments FROM repair_entry") {
            result[row[0], default: []].formUnion(Self.positions(from: row[1]))
        }
        return result.mapValues { $0.sorted() }
    }

    func pendingRepairCount() throws -> UInt64 {
        try self.row("SELECT count(*) FROM repair_entry").map { $0[0] } ?? 0
    }

    /// Forgets recorded repairs of `group` made before `before` that `targets` covered (empty:
    /// every position was checked).
    func clearRepairs(group: UInt32, coveredBy targets: [UInt32], recordedBefore before: Int64) throws {
        let covered = Set(targets)
        for row in try self.rows("SELECT id, fragments FROM repair_entry WHERE group_id = ? AND recorded_at <= ?", [group, before]) {
            let positions = Self.positions(from: row[1])
            if covered.isEmpty || positions.allSatisfy(covered.contains) {
                try self.execute("DELETE FROM repair_entry WHERE id = ?", [row[0] as Int64])
            }
        }
    }
}
