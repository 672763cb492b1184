import RadonWire

/// Re-encoding a file into another volume (`radonfs layout apply`): its bytes read through the
/// client as any reader would, written block by block in the target volume's geometry and code
/// under the same inode, then switched over by the metadata service (`relayoutCommit`), which
/// refuses when the file changed or was opened meanwhile. Blocks that read as all zeros stay
/// holes, so a sparse file stays sparse.
extension RadonFileSystemClient {
    /// What one re-encoding did.
    public enum RelayoutOutcome: Sendable, Equatable {
        /// The file is in the target volume now; `bytes` were encoded (holes excluded).
        case moved(bytes: UInt64)
        /// It was there already.
        case alreadyThere
        /// It is open on some client, or changed during the copy: nothing changed; try again later.
        case busy(String)
    }

    /// Blocks written at once: enough to keep every node of the target group busy.
    static let relayoutWindow = 8

    /// Re-encodes `inode` into volume `volumeID`. `progress` hears the bytes done so far.
    public func relayout(
        _ inode: UInt64, to volumeID: UInt32, progress: @escaping @Sendable (UInt64) -> Void = { _ in }
    ) async throws -> RelayoutOutcome {
        let begin = try await service { try await meta().relayoutBegin(inode, to: volumeID) }
        if begin.source.group.id == begin.target.group.id { return .alreadyThere }
        var written: [UInt64] = []
        var bytes: UInt64 = 0
        if !begin.source.isInline {
            (written, bytes) = try await copyBlocks(from: begin.source, to: begin.target, progress: progress)
        }
        let commit = RelayoutCommitRequest(
            inode: inode, volumeID: volumeID, groupID: begin.target.group.id, changeTime: begin.changeTime,
            writtenBlocks: BlockRun.runs(of: written))
        do {
            _ = try await meta().relayoutCommit(commit)
        } catch let error as WireError where error.status == .staleVersion {
            return .busy(error.message)
        }
        forgetAttributes(inode)
        return .moved(bytes: bytes)
    }

    /// Every block of the target geometry that holds a non-zero byte, read from `source` and
    /// written to `target`, a window of them at a time. Returns the indices written.
    private func copyBlocks(
        from source: FileLayout, to target: FileLayout, progress: @escaping @Sendable (UInt64) -> Void
    ) async throws -> (indices: [UInt64], bytes: UInt64) {
        let reader = try await makeOpenFile(layout: source)
        let blockSize = UInt64(target.volume.blockSize)
        let size = source.size
        let blockCount = (size + blockSize - 1) / blockSize
        let store = self.store
        var indices: [UInt64] = []
        var bytes: UInt64 = 0
        try await withThrowingTaskGroup(of: (UInt64, Int).self) { group in
            var inFlight = 0
            for index in 0..<blockCount {
                let length = Int(min(blockSize, size - index * blockSize))
                var block = try await reader.read(at: index * blockSize, count: length)
                guard block.contains(where: { $0 != 0 }) else { continue }
                block += [UInt8](repeating: 0, count: Int(blockSize) - block.count)
                if inFlight == Self.relayoutWindow, let (done, doneLength) = try await group.next() {
                    inFlight -= 1
                    indices.append(done)
                    bytes += UInt64(doneLength)
                    progress(bytes)
                }
                group.addTask { [block] in
                    try await store.writeBlock(layout: target, index: index, bytes: block, effectiveLength: length, after: 0)
                    return (index, length)
                }
                inFlight += 1
            }
            for try await (done, doneLength) in group {
                indices.append(done)
                bytes += UInt64(doneLength)
                progress(bytes)
            }
        }
        return (indices.sorted(), bytes)
    }
}
