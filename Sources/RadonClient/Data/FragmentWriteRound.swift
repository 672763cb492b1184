import Synchronization

/// The answers to one block's fragment writes as they come in, so the writer can stop waiting
/// for a node that hangs (SIGSTOP, a stuck disk) once enough others made the block durable,
/// instead of waiting out the transport's timeout. A write answering after that is "late":
/// `record` tells its sender nobody counts it anymore.
final class FragmentWriteRound: Sendable {
    /// One node's answer to its fragment write.
    struct Answer: Sendable {
        var fragmentIndex: Int
        var failure: FileSystemError?
        /// The node keeps the version this write replaced (to drop once the write is durable).
        var keptPrevious: Bool
        /// The node left the fsync to a sync, answering under this host boot (`FragmentWriteReceipt`).
        var deferredUnderBoot: UInt64?
    }

    private struct State {
        var answers: [Answer] = []
        var listening = true
        var waiter: CheckedContinuation<Void, Never>?
    }

    /// Answers so far and the writer waiting for the next; guarded by the mutex.
    private let state = Mutex(State())

    /// Records `answer`; false when the writer has stopped listening (the write was
    /// acknowledged without this node).
    func record(_ answer: Answer) -> Bool {
        let (counted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard state.listening else { return (false, nil) }
            state.answers.append(answer)
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return counted
    }

    var answers: [Answer] { state.withLock { $0.answers } }

    /// Returns once more than `count` answers are in, or at `deadline` (possibly earlier, on a
    /// spurious wake-up: the caller looks again).
    func waitForAnswer(beyond count: Int, until deadline: ContinuousClock.Instant?) async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.answers.count > count || state.waiter != nil { return true }
                state.waiter = continuation
                return false
            }
            if resumeNow {
                continuation.resume()
            } else if let deadline {
                Task {
                    try? await Task.sleep(until: deadline)
                    self.state.withLock { state in
                        defer { state.waiter = nil }
                        return state.waiter
                    }?.resume()
                }
            }
        }
    }

    /// Stops listening and returns the answers counted.
    func stopListening() -> [Answer] {
        state.withLock { state in
            state.listening = false
            return state.answers
        }
    }
}

/// Nodes that recently let a request go unanswered while other nodes answered (hung or cut
/// off, not dead: the map still shows them up). `BlockStore` keeps two sets: nodes a write gave
/// up on after its grace, which writes skip (their fragments reported for repair, as for a down
/// node) and reads ask last; and nodes a read hedged around, which reads ask last. So a hung
/// node costs one grace period or hedge, not a transport timeout or a hedge per block, and
/// writes waiting on it do not pile up. A node leaves a set when it answers, or after `memory`,
/// when it is tried again.
final class HungNodes: Sendable {
    /// When each node was last given up on; guarded by the mutex.
    private let since = Mutex<[WireAddress: ContinuousClock.Instant]>([:])
    /// How long a node counts as hung after it was last given up on.
    static let memory: Duration = .seconds(15)

    func markHung(_ address: WireAddress) {
        since.withLock { $0[address] = .now }
    }

    func markAnswered(_ address: WireAddress) {
        _ = since.withLock { $0.removeValue(forKey: address) }
    }

    func isHung(_ address: WireAddress) -> Bool {
        since.withLock { $0[address].map { ContinuousClock.now - $0 < Self.memory } ?? false }
    }
}
