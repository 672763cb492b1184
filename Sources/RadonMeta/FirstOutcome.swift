import Synchronization

/// The first of several results, handed to the one caller waiting for it, whether it waits
/// before or after the result comes; later ones are dropped. The lock guards the result and the
/// waiting continuation. (The leadership's racing renewal, and a group-commit writer's turn.)
final class FirstOutcome<T: Sendable>: Sendable {
    private struct State {
        var result: Result<T, any Error>?
        var waiter: CheckedContinuation<T, any Error>?
    }
    private let state = Mutex(State())

    /// Records `result` unless one came first; true when it was the first.
    @discardableResult
    func settle(_ result: Result<T, any Error>) -> Bool {
        let (first, waiter) = state.withLock { state -> (Bool, CheckedContinuation<T, any Error>?) in
            guard state.result == nil else { return (false, nil) }
            state.result = result
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(with: result)
        return first
    }

    func value() async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let known = state.withLock { state -> Result<T, any Error>? in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let known { continuation.resume(with: known) }
        }
    }
}
