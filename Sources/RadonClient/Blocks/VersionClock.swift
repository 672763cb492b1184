import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Hands out block versions: strictly increasing 64-bit numbers, close to wall-clock nanoseconds.
///
/// A reader takes the highest version that has k fragments, so a rewrite must always carry a
/// larger version than what it replaces, even when it comes from another client whose clock runs
/// ahead (`next(after:)`) or from this client twice in the same nanosecond (the counter). Being
/// near real time keeps versions from different clients roughly in write order.
public final class VersionClock: Sendable {
    /// The last version handed out; guarded by the mutex.
    private let last = Mutex<UInt64>(0)

    public init() {}

    /// A version larger than every one this clock gave before, and larger than `floor`.
    public func next(after floor: UInt64 = 0) -> UInt64 {
        let now = Self.nanosecondsSinceEpoch()
        return last.withLock { last in
            let version = max(now, max(last, floor) + 1)
            last = version
            return version
        }
    }

    static func nanosecondsSinceEpoch() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
