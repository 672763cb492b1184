extension MojetteGeometry {
    /// A projection handed to the inverse: its slope and its bins.
    struct Projection {
        let slope: Int
        let bins: UnsafeRawPointer
    }

    /// Rebuilds the rows listed in `missing` from as many projections, in place.
    ///
    /// `rows[r]` points at row r (L pixels): readable for the rows present, written for the
    /// missing ones. This is the Normand-Kingston-Evenou inverse in the form Pertin gives for the
    /// systematic code: each bin is one equation "XOR of the pixels on its line", and once every
    /// other pixel on the line is known, the last one is the bin XOR the others. Pixels known to
    /// be present are simply part of that XOR (subtracting their contribution), so the classic
    /// code (every row missing) and the systematic one (some rows missing) are the same sweep.
    ///
    /// Missing rows are sorted top to bottom and the projections by decreasing slope; missing row
    /// t is rebuilt from projection t. The sweep advances one step at a time; at step s, row t
    /// rebuilds its column s + offset[t]. The offsets are the tightest ones for which every
    /// pixel a row needs from another missing row was rebuilt earlier in the sweep (a system of
    /// difference constraints, solved by Bellman-Ford over at most 16 rows).
    ///
    /// Consecutive slopes go to the faster line solver (`reconstructConsecutive`) unless
    /// `allowLineSolver` is false (tests check each inverse on its own).
    func reconstruct(rows: [UnsafeMutableRawPointer], missing: [Int], projections: [Projection],
                     allowLineSolver: Bool = true) throws(ErasureCodeError) {
        let missingCount = missing.count
        guard missingCount > 0 else { return }
        guard projections.count == missingCount else {
            throw .internalFailure("Mojette inverse needs \(missingCount) projections, got \(projections.count)")
        }
        if allowLineSolver, reconstructConsecutive(rows: rows, missing: missing, projections: projections) { return }
        let pixel = BlockGeometry.pixelSize
        let k = rowCount, length = linePixels
        let sorted = projections.sorted { $0.slope > $1.slope }
        let offsets = try Self.sweepOffsets(missingRows: missing, slopes: sorted.map(\.slope))

        // Per missing row t: k sources, each a pointer indexed by step * pixel, and the range
        // of steps over which that source stays inside its line.
        let sourceCount = missingCount * k
        try withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: sourceCount) { (sources) throws(ErasureCodeError) in
            try withUnsafeTemporaryAllocation(of: Int.self, capacity: sourceCount) { (deltas) throws(ErasureCodeError) in
                try withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: missingCount) { (targets) throws(ErasureCodeError) in
                    var fastLower = Int.min, fastUpper = Int.max
                    var stepLower = Int.max, stepUpper = Int.min
                    for t in 0..<missingCount {
                        let row = missing[t], slope = sorted[t].slope, offset = offsets[t]
                        targets[t] = rows[row] + offset * pixel
                        sources[t * k] = sorted[t].bins + (shift(row: row, slope: slope) + offset) * pixel
                        deltas[t * k] = 0
                        var columnLower = 0, columnUpper = length
                        var q = 1
                        for other in 0..<k where other != row {
                            // The pixel of `other` on the same line as (row, x) is at column x + delta.
                            let delta = slope * (row - other)
                            sources[t * k + q] = UnsafeRawPointer(rows[other]) + (delta + offset) * pixel
                            deltas[t * k + q] = delta
                            columnLower = max(columnLower, -delta)
                            columnUpper = min(columnUpper, length - delta)
                            q += 1
                        }
                        fastLower = max(fastLower, columnLower - offset)
                        fastUpper = min(fastUpper, columnUpper - offset)
                        stepLower = min(stepLower, -offset)
                        stepUpper = max(stepUpper, length - offset)
                    }
                    let sourcesBase = UnsafePointer(sources.baseAddress!)
                    let targetsBase = UnsafePointer(targets.baseAddress!)

                    func checkedSteps(_ steps: Range<Int>) {
                        for step in steps {
                            for t in 0..<missingCount {
                                let column = step + offsets[t]
                                guard column >= 0 && column < length else { continue }
                                var sum = PixelKernels.load(sourcesBase[t * k], step * pixel)
                                for q in 1..<k {
                                    let other = column + deltas[t * k + q]
                                    if other >= 0 && other < length {
                                        sum ^= PixelKernels.load(sourcesBase[t * k + q], step * pixel)
                                    }
                                }
                                PixelKernels.store(sum, targetsBase[t], step * pixel)
                            }
                        }
                    }

                    guard fastLower < fastUpper else { return checkedSteps(stepLower..<stepUpper) }
                    checkedSteps(stepLower..<fastLower)
                    Self.sweep(sources: sourcesBase, targets: targetsBase, rowCount: missingCount,
                               sourcesPerRow: k, steps: fastLower..<fastUpper)
                    checkedSteps(fastUpper..<stepUpper)
                }
            }
        }
    }

    /// The unchecked middle of the sweep: every source of every row is inside its line.
    static func sweep(sources: UnsafePointer<UnsafeRawPointer>, targets: UnsafePointer<UnsafeMutableRawPointer>,
                      rowCount: Int, sourcesPerRow: Int, steps: Range<Int>) {
        let pixel = BlockGeometry.pixelSize
        var offset = steps.lowerBound * pixel
        let end = steps.upperBound * pixel
        while offset < end {
            var t = 0
            while t < rowCount {
                let row = sources + t * sourcesPerRow
                var sum = PixelKernels.load(row[0], offset)
                var q = 1
                while q < sourcesPerRow {
                    sum ^= PixelKernels.load(row[q], offset)
                    q += 1
                }
                PixelKernels.store(sum, targets[t], offset)
                t += 1
            }
            offset += pixel
        }
    }

    /// Offsets c[t] such that, sweeping steps upward and rows t = 0, 1, ... within a step, every
    /// pixel of another missing row that row t needs is already rebuilt:
    /// c[t] - c[u] <= -slope[t] * (row[t] - row[u])      for u < t (same step, earlier),
    /// c[t] - c[u] <= -slope[t] * (row[t] - row[u]) - 1  for u > t (an earlier step).
    /// Feasible whenever slopes decrease with t (Katz's criterion with q = 1).
    static func sweepOffsets(missingRows: [Int], slopes: [Int]) throws(ErasureCodeError) -> [Int] {
        let count = missingRows.count
        var offsets = [Int](repeating: 0, count: count)
        for round in 0...count {
            var changed = false
            for t in 0..<count {
                for u in 0..<count where u != t {
                    let bound = -slopes[t] * (missingRows[t] - missingRows[u]) - (u > t ? 1 : 0)
                    if offsets[u] + bound < offsets[t] {
                        offsets[t] = offsets[u] + bound
                        changed = true
                    }
                }
            }
            if !changed { return offsets }
            if round == count { break }
        }
        throw .internalFailure("Mojette inverse: no sweep order for rows \(missingRows), slopes \(slopes)")
    }
}
