import Synchronization

extension MojetteGeometry {
    /// What the inverse needs that depends only on which rows are lost and which slopes rebuild
    /// them: the sweep order, its offsets, which pixels the forwarding kernel keeps in registers,
    /// and the stretches where no bounds checks are needed. Worked out once per erasure pattern
    /// and kept by the code (`InversePlanCache`), so a decode call only fills in its pointers.
    final class InversePlan: Sendable {
        /// Lost rows, top to bottom; row t is rebuilt from the projection of slope `slopes[t]`.
        let missing: [Int]
        /// Decreasing: the order in which the sweep pairs projections with lost rows.
        let slopes: [Int]
        let present: [Int]
        /// Row t completes column step + offsets[t] at each step of the sweep.
        let offsets: [Int]
        /// Sweep slot j (1..<e) of row t, at t * e + j: the other lost row it reads (index into
        /// `missing`) and the column distance to that row's pixel on the same line.
        let slotRows: [Int]
        let slotDeltas: [Int]
        /// For 3 or 4 lost rows, `lags[t * 4 + j - 1]` says where slot j of row t comes from.
        let lags: [SweepLag]
        /// Steps where every pixel row t reads, and its own, lies inside its line.
        let uncheckedSteps: Range<Int>
        /// Every step some row completes a column in.
        let allSteps: Range<Int>
        /// Per lost row: the columns where its projection and every present row have a pixel.
        let residualColumns: [Range<Int>]
        /// Two lost rows from consecutive slopes: the fused one-pass kernel (`reconstructTwo`).
        let usesTwoLineKernel: Bool
        /// Three or four lost rows where row t always reads row t - 1 as made in the same step
        /// (every 8+4 and 10+4 pattern losing n - k rows, some 6+3 ones): the steps where the residual and
        /// the sweep run as one pass (`sweepFused`); empty when the pattern does not allow it.
        let fusedSteps: Range<Int>

        var forwarding: Bool { !lags.isEmpty }

        init(grid: MojetteGeometry, missing unsorted: [Int], slopes given: [Int], allowFusedKernel: Bool) throws(ErasureCodeError) {
            let e = unsorted.count, length = grid.linePixels
            guard given.count == e else {
                throw .internalFailure("Mojette inverse needs \(e) projections, got \(given.count)")
            }
            let missing = unsorted.sorted()
            let slopes = given.sorted(by: >)
            self.missing = missing
            self.slopes = slopes
            let present = (0..<grid.rowCount).filter { !missing.contains($0) }
            self.present = present
            usesTwoLineKernel = allowFusedKernel && e == 2 && slopes[0] == slopes[1] + 1
            let offsets = e > 1 ? try MojetteGeometry.sweepOffsets(missingRows: missing, slopes: slopes) : Array(repeating: 0, count: e)
            self.offsets = offsets

            var slotRows = [Int](repeating: 0, count: e * e), slotDeltas = [Int](repeating: 0, count: e * e)
            var fastLower = Int.min, fastUpper = Int.max, stepLower = Int.max, stepUpper = Int.min
            for t in 0..<e {
                var columnLower = 0, columnUpper = length
                for slot in 1..<max(e, 1) {
                    let u = slot <= t ? slot - 1 : slot
                    // The pixel of row u on the same line as (row t, x) is at column x + delta.
                    let delta = slopes[t] * (missing[t] - missing[u])
                    slotRows[t * e + slot] = u
                    slotDeltas[t * e + slot] = delta
                    columnLower = max(columnLower, -delta)
                    columnUpper = min(columnUpper, length - delta)
                }
                fastLower = max(fastLower, columnLower - offsets[t])
                fastUpper = min(fastUpper, columnUpper - offsets[t])
                stepLower = min(stepLower, -offsets[t])
                stepUpper = max(stepUpper, length - offsets[t])
            }
            self.slotRows = slotRows
            self.slotDeltas = slotDeltas
            uncheckedSteps = fastLower < fastUpper ? fastLower..<fastUpper : fastLower..<fastLower
            allSteps = e > 0 ? stepLower..<stepUpper : 0..<0

            var lags: [SweepLag] = []
            if e == 3 || e == 4 {
                lags = Array(repeating: .memory, count: 16)
                for t in 0..<e {
                    for slot in 1..<e {
                        let u = slotRows[t * e + slot]
                        lags[t * 4 + slot - 1] = SweepLag(steps: offsets[u] - offsets[t] - slopes[t] * (missing[t] - missing[u]))
                    }
                }
            }
            self.lags = lags

            residualColumns = (0..<e).map { t in
                // Present row i meets the line of (missing[t], x) at column x + slope * (missing[t] - i);
                // the projection's bin for column x is x + shift, inside 0..<binCount.
                let shift = grid.shift(row: missing[t], slope: slopes[t])
                var lower = max(0, -shift), upper = min(length, grid.binCount(slope: slopes[t]) - shift)
                for row in present {
                    let delta = slopes[t] * (missing[t] - row)
                    lower = max(lower, -delta)
                    upper = min(upper, length - delta)
                }
                return lower < upper ? lower..<upper : lower..<lower
            }

            var fusedLower = uncheckedSteps.lowerBound, fusedUpper = uncheckedSteps.upperBound
            let chained = allowFusedKernel && (e == 3 || e == 4) && (1..<max(e, 1)).allSatisfy { t in lags[t * 4 + t - 1] == .now }
            for t in 0..<e where chained {
                fusedLower = max(fusedLower, residualColumns[t].lowerBound - offsets[t])
                fusedUpper = min(fusedUpper, residualColumns[t].upperBound - offsets[t])
            }
            let fewest = MojetteGeometry.fusedStepsPerIteration(rowCount: e)
            fusedSteps = chained && fusedLower + fewest <= fusedUpper ? fusedLower..<fusedUpper : 0..<0
        }

        /// The key of a plan in a cache: the lost rows and the slopes as bit sets (k <= 32,
        /// slopes in -16..<16, every layout the codes accept).
        static func key(missing: some Sequence<Int>, slopes: some Sequence<Int>) -> UInt64 {
            var rows: UInt64 = 0, slopeBits: UInt64 = 0
            for row in missing { rows |= 1 << UInt64(row) }
            for slope in slopes { slopeBits |= 1 << UInt64(slope + 16) }
            return rows | slopeBits << 32
        }
    }
}

/// The inverse plans of one code, one per erasure pattern met so far. A lookup holds the lock
/// for a dictionary access only; plans are made outside it. The cache forgets everything past
/// `capacity` plans (large layouts have too many patterns to keep them all).
final class InversePlanCache: Sendable {
    private let plans = Mutex<[UInt64: MojetteGeometry.InversePlan]>([:])
    static let capacity = 4096

    func plan(grid: MojetteGeometry, missing: [Int], slopes: [Int]) throws(ErasureCodeError) -> MojetteGeometry.InversePlan {
        try plan(key: MojetteGeometry.InversePlan.key(missing: missing, slopes: slopes)) { () throws(ErasureCodeError) in
            try MojetteGeometry.InversePlan(grid: grid, missing: missing, slopes: slopes, allowFusedKernel: true)
        }
    }

    /// The plan under `key` (see `InversePlan.key`), made by `make` the first time.
    func plan(key: UInt64, make: () throws(ErasureCodeError) -> MojetteGeometry.InversePlan) throws(ErasureCodeError) -> MojetteGeometry.InversePlan {
        if let plan = plans.withLock({ $0[key] }) { return plan }
        let plan = try make()
        plans.withLock { plans in
            if plans.count >= Self.capacity { plans.removeAll(keepingCapacity: true) }
            plans[key] = plan
        }
        return plan
    }
}

/// Up to 8 optional pointers held inline (no heap): the parity fragments of one call, by
/// parity index (n - k <= 8 for every layout the codes accept).
struct InlinePointers {
    private var storage: (UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?,
                          UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?) =
        (nil, nil, nil, nil, nil, nil, nil, nil)
    static let capacity = 8

    subscript(index: Int) -> UnsafeRawPointer? {
        get {
            precondition(index >= 0 && index < Self.capacity)
            return withUnsafeBytes(of: storage) { $0.load(fromByteOffset: index * MemoryLayout<UnsafeRawPointer?>.stride, as: UnsafeRawPointer?.self) }
        }
        set {
            precondition(index >= 0 && index < Self.capacity)
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: newValue, toByteOffset: index * MemoryLayout<UnsafeRawPointer?>.stride, as: UnsafeRawPointer?.self) }
        }
    }
}
