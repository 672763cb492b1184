import Foundation

/// This host's boot, as a number: what a storage daemon answers with every write whose fsync
/// it deferred and every sync, so a client can tell whether the page cache that held its
/// deferred writes survived until they were synced.
///
/// A killed or restarted daemon keeps the host's page cache, and with it every deferred write:
/// the boot stays the same. A reboot or a kernel crash loses the page cache, and the kernel's
/// `boot_id` changes with it. Where the kernel gives none, the number is drawn afresh for each
/// process, which only makes a restarted daemon look rebooted (its deferred writes are then
/// reported for repair, never taken as durable when they might not be).
enum HostBoot {
    static let current: UInt64 = {
        if let text = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) {
            let digits = text.filter(\.isHexDigit)
            if digits.count >= 16, let number = UInt64(digits.prefix(16), radix: 16), number != 0 { return number }
        }
        return UInt64.random(in: 1...UInt64.max)
    }()
}
