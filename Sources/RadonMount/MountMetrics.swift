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

    /// Keyed by the operation name's address: the names are string literals, and a lookup by
    /// address costs no String per request.
    private let operations = Mutex<[UInt: Operation]>([:])
    let bytesRead = Counter(label: "radonfs_mount_read_bytes_total")
    let bytesWritten = Counter(label: "radonfs_mount_written_bytes_total")

    func operation(_ name: StaticString) -> Operation {
        let key = name.hasPointerRepresentation ? UInt(bitPattern: name.utf8Start) : UInt(name.unicodeScalar.value)
        return operations.withLock { known in
            if let operation = known[key] { return operation }
            let label = name.description
            let operation = Operation(
                duration: Metrics.Timer(label: "radonfs_mount_operation_duration_seconds", dimensions: [("op", label)]),
                errors: Counter(label: "radonfs_mount_operation_errors_total", dimensions: [("op", label)]))
            known[key] = operation
            return operation
        }
    }
}
