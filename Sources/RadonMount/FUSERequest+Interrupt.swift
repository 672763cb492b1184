import CFUSE3
import Synchronization

extension FUSERequest {
    /// Runs `body` in a task that an INTERRUPT of this request (a signal to the waiting
    /// process) cancels; returns or throws what it does.
    ///
    /// The interrupt callback is unregistered before this returns, and libfuse runs a callback
    /// under the request's lock, which unregistering takes: so no callback runs once the
    /// request may be answered, and the hook outlives every call of it.
    func interruptible(_ body: @escaping @Sendable () async throws -> Void) async throws {
        let hook = InterruptHook()
        let task = Task { try await body() }
        hook.attach(task)
        // If the request was interrupted already, libfuse calls the hook right here.
        fuse_req_interrupt_func(raw, { _, data in
            guard let data else { return }
            Unmanaged<InterruptHook>.fromOpaque(data).takeUnretainedValue().interrupt()
        }, Unmanaged.passUnretained(hook).toOpaque())
        let result = await task.result
        fuse_req_interrupt_func(raw, nil, nil)
        withExtendedLifetime(hook) {}
        try result.get()
    }
}

/// What an interrupt callback reaches: the task to cancel.
final class InterruptHook: Sendable {
    private let task = Mutex<Task<Void, any Error>?>(nil)

    func attach(_ task: Task<Void, any Error>) {
        self.task.withLock { $0 = task }
    }

    func interrupt() {
        task.withLock { $0 }?.cancel()
    }
}
