import RadonCodec

/// A transport that can read part of one fragment slot (the storage daemon's
/// `readFragmentRange`). Kept apart from `FragmentTransport` so transports without it (test
/// wrappers) simply leave reads on the whole-block path.
protocol FragmentRangeTransport: FragmentTransport {
    /// `length` bytes at `offset` of the slot, with its version; the node checks the whole
    /// slot's CRC32C first, then sends the range with a CRC32C of the range, unchecked here
    /// (the store checks it as the bytes arrive). With `length` 0 only the version, from the
    /// slot header. Every failure, silence past `timeout` included, becomes `.failed`.
    func readRange(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int,
                   blockIndex: UInt64, offset: Int, length: Int, timeout: Duration) async -> FragmentAnswer
}

extension StorageFragmentTransport: FragmentRangeTransport {
    func readRange(from address: WireAddress, group: UInt32, inode: UInt64, fragmentIndex: Int,
                   blockIndex: UInt64, offset: Int, length: Int, timeout: Duration) async -> FragmentAnswer {
        do {
            let result = try await router.perform(on: address, silentAfter: readSilentAfter) { [self] path in
                try await client(path, timeout: timeout).readFragmentRange(
                    group: group, inode: inode, fragmentIndex: UInt8(fragmentIndex), blockIndex: blockIndex,
                    offset: UInt32(offset), length: UInt32(length))
            }
            return FragmentAnswer(result.fragment)
        } catch {
            return .failed("\(address): \(error)")
        }
    }
}

extension BlockStore {
    /// The bytes `range` of block `index` read straight from the data fragments that hold them,
    /// or nil when the caller must read the whole block (`readBlock`, which votes, decodes and
    /// repairs).
    ///
    /// Systematic codes store line j of the block (bytes `j*lineSize ..< (j+1)*lineSize`) as
    /// fragment j verbatim, so a 4 KiB read needs 4 KiB of one node instead of k fragments and
    /// a decode. The bytes must belong to the block's current version, which one node alone
    /// cannot prove (it may have missed the last overwrite): an acknowledged write reached
    /// `durableCount` of the n nodes, so any n - durableCount + 1 nodes include one that has it.
    /// That many nodes are asked at once (the data nodes for their bytes, the others for their
    /// version only) and the answer is used only when every one of them holds the same version
    /// intact. Anything else (a node down, slow, corrupt, missing, an overwrite in progress, a
    /// range that fails its checksum on arrival) returns nil.
    ///
    /// A caller that already knows the block's current version (it wrote it, or read it this
    /// way before, since it last saw the file change) passes it as `knownVersion`: then only
    /// the data nodes are asked, and their bytes are used only if they hold exactly that
    /// version, which proves them current as far as the caller may know.
    func readRange(layout: FileLayout, index: UInt64, range: Range<Int>, knownVersion: UInt64? = nil) async -> (bytes: [UInt8], version: UInt64)? {
        guard let transport = rangeTransport, !range.isEmpty else { return nil }
        let layout = await membership.current(layout)
        guard let code = try? codecs.code(for: layout.volume), code.isSystematic,
              range.lowerBound >= 0, range.upperBound <= code.blockSize else { return nil }
        let n = Int(layout.volume.n)
        let k = Int(layout.volume.k)
        guard layout.members.count == n else { return nil }
        let lineSize = code.fragmentSize(at: 0)
        let lines = Array((range.lowerBound / lineSize)...((range.upperBound - 1) / lineSize))
        guard let lastLine = lines.last, lastLine < k else { return nil }
        let usable = (0..<n).filter { layout.members[$0].state == .up && !isSuspectForReads(layout.members[$0].address) }
        guard lines.allSatisfy(usable.contains) else { return nil }
        let needed = knownVersion == nil ? n - durableCount(layout) + 1 : lines.count
        let witnesses = usable.filter { !lines.contains($0) }.prefix(max(0, needed - lines.count))
        guard lines.count + witnesses.count >= needed else { return nil }

        // What each asked node should send: the part of `range` in its line, or nothing.
        var asks: [(fragmentIndex: Int, offset: Int, length: Int)] = lines.map { line in
            let start = max(range.lowerBound, line * lineSize)
            let end = min(range.upperBound, (line + 1) * lineSize)
            return (line, start - line * lineSize, end - start)
        }
        asks += witnesses.map { ($0, 0, 0) }
        // A slow node is not waited for past the hedge delay (the whole-block path hedges around
        // it); the wire's own per-call timer says when, cheaper than a sleeping task per read.
        let hedge = hedgeDelay
        let answers: [Int: FragmentAnswer]? = await withTaskGroup(of: (Int, FragmentAnswer).self) { group in
            for ask in asks {
                let member = layout.members[ask.fragmentIndex]
                group.addTask {
                    let answer = await transport.readRange(
                        from: member.address, group: layout.group.id, inode: layout.inode, fragmentIndex: ask.fragmentIndex,
                        blockIndex: index, offset: ask.offset, length: ask.length, timeout: hedge)
                    return (ask.fragmentIndex, self.verified(answer, from: member, layout: layout, fragmentIndex: ask.fragmentIndex, block: index))
                }
            }
            var answers: [Int: FragmentAnswer] = [:]
            while let (fragmentIndex, answer) = await group.next() {
                guard case .present = answer else { break }
                answers[fragmentIndex] = answer
                if answers.count == asks.count { break }
            }
            group.cancelAll()
            return answers.count == asks.count ? answers : nil
        }
        guard let answers else {
            logger.trace("range read falls back to the whole block", metadata: ["inode": "\(layout.inode)", "block": "\(index)"])
            return nil
        }
        var version = knownVersion
        var effectiveLength = 0
        for answer in answers.values {
            guard case .present(let answerVersion, let answerLength, _, _) = answer,
                  version == nil || version == answerVersion else { return nil }
            version = answerVersion
            effectiveLength = answerLength
        }
        var bytes = [UInt8](repeating: 0, count: range.count)
        for ask in asks where ask.length > 0 {
            guard case .present(_, _, let fragmentBytes, _) = answers[ask.fragmentIndex], fragmentBytes.readableBytes == ask.length else { return nil }
            let start = ask.fragmentIndex * lineSize + ask.offset - range.lowerBound
            bytes.withUnsafeMutableBytes { destination in
                fragmentBytes.withUnsafeReadableBytes { UnsafeMutableRawBufferPointer(rebasing: destination[start..<start + ask.length]).copyMemory(from: $0) }
            }
        }
        // Past the block's effective length a block reads as zeros, as `readBlock` gives it.
        if effectiveLength < range.upperBound {
            let zeroFrom = max(0, effectiveLength - range.lowerBound)
            bytes.replaceSubrange(zeroFrom..<bytes.count, with: repeatElement(0, count: bytes.count - zeroFrom))
        }
        guard let version else { return nil }
        logger.trace("range read", metadata: ["inode": "\(layout.inode)", "block": "\(index)", "range": "\(range)", "version": "\(version)"])
        return (bytes, version)
    }
}
