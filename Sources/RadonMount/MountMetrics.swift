import Metrics
import Synchronization

/// The mount's instruments: per FUSE operation, the time to answer and the errors; bytes read
/// and written. Instruments are made once per operation and kept (making one takes the
/// metrics backend's lock); without a backend (`--no-metrics`) they do nothing.
final class MountMetrics: Sendable {
    struct Operation: Sendable {
        let duration: Metrics.Timer
        let errors: Counter
    }

    private let operations = Mutex<[String: Operation]>([:])
    let bytesRead = Counter(label: "radonfs_mount_read_bytes_total")
    let bytesWritten = Counter(label: "radonfs_mount_written_bytes_total")

    func operation(_ name: StaticString) -> Operation {
        let key = name.description
        return operations.withLock { known in
            if let operation = known[key] { return operation }
            let operation = Operation(
                duration: Metrics.Timer(label: "radonfs_mount_operation_duration_seconds", dimensions: [("op", key)]),
                errors: Counter(label: "radonfs_mount_operation_errors_total", dimensions: [("op", key)]))
            known[key] = operation
            return operation
        }
    }
}
