import Glibc

/// The client's side of a waiting lock request: the service answers a wait within its bound
/// ("still blocked" after 10 s), so the client asks again until the lock is granted; a
/// cancelled task (the waiting process got a signal) asks the service to cancel the wait.
///
/// The wait's own call is never abandoned: the service's answer decides. A cancel that comes
/// after the grant finds no wait, and the request succeeds (the process then holds the lock,
/// as on Linux when the signal comes after the grant); otherwise the answer is EINTR. So a
/// lock is never granted to a waiter that gave up without the client knowing.
public enum LockWait {
    /// Runs `attempt` with a fresh wait token until it returns true (granted); `cancel` is
    /// called with the token of the attempt in progress when the task is cancelled.
    public static func untilGranted(
        _ attempt: @escaping @Sendable (UInt64) async throws -> Bool,
        cancel: @escaping @Sendable (UInt64) async -> Void
    ) async throws {
        while true {
            guard !Task.isCancelled else { throw FileSystemError(EINTR, "lock wait interrupted") }
            let token = UInt64.random(in: 1...UInt64.max)
            // The attempt runs in a task of its own so that cancelling this one does not
            // abandon the call: its answer (granted or EINTR) is what counts.
            let call = Task { try await attempt(token) }
            let granted = try await withTaskCancellationHandler {
                try await call.value
            } onCancel: {
                Task { await cancel(token) }
            }
            if granted { return }
        }
    }
}
