/// A set of byte ranges inside one block, kept sorted and merged.
///
/// The write buffer uses it to know which bytes of a block the application wrote: a block whose
/// ranges cover all of it (or all of it inside the file) can be encoded without reading the old
/// contents first.
public struct ByteRangeSet: Sendable, Hashable {
    /// Disjoint, non-adjacent, sorted ranges.
    public private(set) var ranges: [Range<Int>] = []
    /// Bytes in the set (kept as ranges change, so asking costs nothing).
    public private(set) var byteCount = 0

    public init() {}

    /// Adds `range`, merging it with any range it touches.
    public mutating func insert(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        var merged = range
        var absorbed = 0
        var kept: [Range<Int>] = []
        kept.reserveCapacity(ranges.count + 1)
        for existing in ranges {
            if existing.upperBound < merged.lowerBound || existing.lowerBound > merged.upperBound {
                kept.append(existing)
            } else {
                merged = min(existing.lowerBound, merged.lowerBound)..<max(existing.upperBound, merged.upperBound)
                absorbed += existing.count
            }
        }
        byteCount += merged.count - absorbed
        let position = kept.firstIndex { $0.lowerBound > merged.lowerBound } ?? kept.endIndex
        kept.insert(merged, at: position)
        ranges = kept
    }

    /// Whether every byte of `range` is in the set.
    public func covers(_ range: Range<Int>) -> Bool {
        guard !range.isEmpty else { return true }
        return ranges.contains { $0.lowerBound <= range.lowerBound && $0.upperBound >= range.upperBound }
    }

    /// Drops every byte at or after `bound`.
    public mutating func truncate(at bound: Int) {
        ranges = ranges.compactMap { range in
            guard range.lowerBound < bound else { return nil }
            return range.lowerBound..<min(range.upperBound, bound)
        }
        byteCount = ranges.reduce(0) { $0 + $1.count }
    }

    public var isEmpty: Bool { ranges.isEmpty }
}
