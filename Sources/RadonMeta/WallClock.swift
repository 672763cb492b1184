#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system's real-time clock (CLOCK_REALTIME): what file times and liveness are measured in.
enum WallClock {
    static func now() -> (seconds: Int64, nanoseconds: UInt32) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return (Int64(spec.tv_sec), UInt32(spec.tv_nsec))
    }

    static func nanosecondsSinceEpoch() -> Int64 {
        let (seconds, nanoseconds) = now()
        return seconds &* 1_000_000_000 &+ Int64(nanoseconds)
    }
}
