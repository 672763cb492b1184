import NIOCore

/// Decides, from the fragments of one block gathered so far, what the block holds.
///
/// The rules keep the promise "the right bytes or an error, never wrong bytes": a write is
/// acknowledged only once it is durable on `min(n, k+1)` nodes, so a version seen on fewer
/// nodes than that, when every node has answered, was a write that failed and can be ignored;
/// but while enough nodes are silent for a newer acknowledged version to hide among them, an
/// older version is not returned. A block no node holds (and that no silent node could hold as
/// an acknowledged write) is a hole and reads as zeros.
public struct BlockVote: Sendable {
    /// n: fragments per block.
    public let fragmentCount: Int
    /// k: fragments needed to decode.
    public let requiredCount: Int
    /// The answers so far, by fragment index.
    public private(set) var answers: [Int: FragmentAnswer] = [:]
    /// The previous versions nodes kept beside their current one (an overwrite not confirmed
    /// yet), asked for only when the current versions cannot be decoded.
    public private(set) var previousAnswers: [Int: FragmentAnswer] = [:]

    public init(fragmentCount: Int, requiredCount: Int) {
        self.fragmentCount = fragmentCount
        self.requiredCount = requiredCount
    }

    /// What the reader should do next.
    public enum Verdict: Sendable {
        /// Decode these k fragments, all of `version`.
        case decode(version: UInt64, effectiveLength: Int, fragments: [(index: Int, bytes: ByteBuffer)])
        /// The block was never written (or not with an acknowledged write): zeros.
        case hole
        /// Ask the nodes not asked yet before deciding.
        case needMoreAnswers
        /// The block cannot be read safely with the nodes that answered.
        case unreadable(String)
    }

    /// How many nodes a write must reach before it is acknowledged.
    public var durableCount: Int { min(fragmentCount, requiredCount + 1) }

    public mutating func record(_ answer: FragmentAnswer, forFragment index: Int) {
        answers[index] = answer
    }

    /// Records the previous version node `index` keeps (only `.present` ones count). The vote
    /// then counts fragments of a version whether a node holds it as current or previous: a
    /// failed overwrite that reached fewer than k+1 nodes leaves the old version decodable.
    public mutating func recordPrevious(_ answer: FragmentAnswer, forFragment index: Int) {
        previousAnswers[index] = answer
    }

    /// The verdict with the answers so far; `unaskedCount` nodes have not been asked at all.
    public func verdict() -> Verdict {
        var countByVersion: [UInt64: Int] = [:]
        var presentCount = 0
        var missingCount = 0
        var corruptCount = 0
        for answer in answers.values {
            switch answer {
            case .present(let version, _, _, _):
                countByVersion[version, default: 0] += 1
                presentCount += 1
            case .missing:
                missingCount += 1
            case .corrupt:
                corruptCount += 1
            case .failed:
                break
            }
        }
        for (index, answer) in previousAnswers {
            guard case .present(let version, _, _, _) = answer else { continue }
            if case .present(version, _, _, _)? = answers[index] { continue }
            countByVersion[version, default: 0] += 1
        }
        // Nodes whose slot version we do not know: silent, failed, corrupt, or not asked yet.
        let unknownCount = fragmentCount - presentCount - missingCount
        let unaskedCount = fragmentCount - answers.count
        let decodable = countByVersion.filter { $0.value >= requiredCount }.keys.max()

        // Could a version newer than `floor` (seen or not) have been acknowledged?
        func newerMayBeAcknowledged(than floor: UInt64?) -> Bool {
            if unknownCount >= durableCount { return true }
            return countByVersion.contains { version, count in
                (floor.map { version > $0 } ?? true) && count + unknownCount >= durableCount
            }
        }

        if let version = decodable, !newerMayBeAcknowledged(than: version) {
            return decodeVerdict(version: version)
        }
        // No node holds anything (intact or rotten) and no acknowledged write can hide among the
        // silent ones: never written. Fragments that cannot be decoded are never a hole: a failed
        // later write may have overwritten part of an acknowledged one.
        if presentCount == 0, corruptCount == 0, unknownCount < durableCount { return .hole }
        if unaskedCount > 0 { return .needMoreAnswers }
        if let version = decodable {
            return .unreadable("block version \(version) has \(countByVersion[version] ?? 0) fragments but a newer write may hide among \(unknownCount) unreachable nodes")
        }
        let reachable = presentCount + missingCount
        return .unreadable("only \(reachable) of \(fragmentCount) fragments readable, \(requiredCount) needed")
    }

    /// The newest version any node answered with, intact (0 when none).
    public var newestVersionSeen: UInt64 {
        (Array(answers.values) + Array(previousAnswers.values)).reduce(0) { newest, answer in
            if case .present(let version, _, _, _) = answer { max(newest, version) } else { newest }
        }
    }

    /// Fragment indices that answered but do not hold `version` intact: where a repair writes.
    public func staleFragments(comparedTo version: UInt64) -> [Int] {
        answers.compactMap { index, answer in
            switch answer {
            case .present(let found, _, _, _): found < version ? index : nil
            case .missing, .corrupt: index
            case .failed: nil
            }
        }.sorted()
    }

    /// Fragment indices whose answer was corrupt: rot on the node, or bytes that failed their
    /// checksum on arrival.
    public var corruptFragments: [Int] {
        answers.compactMap { index, answer in
            if case .corrupt = answer { index } else { nil }
        }.sorted()
    }

    private func decodeVerdict(version: UInt64) -> Verdict {
        var fragments: [(index: Int, bytes: ByteBuffer)] = []
        var effectiveLength = 0
        for index in answers.keys.sorted() where fragments.count < requiredCount {
            for answer in [answers[index], previousAnswers[index]] {
                guard case .present(let found, let length, let bytes, _)? = answer, found == version else { continue }
                effectiveLength = length
                fragments.append((index, bytes))
                break
            }
        }
        return .decode(version: version, effectiveLength: effectiveLength, fragments: fragments)
    }
}
