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
    /// other pixel on the line is known, the last one is the bin XOR the others. So the classic
    /// code (every row missing) and the systematic one (some rows missing) are the same inverse.
    ///
    /// Missing rows are sorted top to bottom and the projections by decreasing slope; missing row
    /// t is rebuilt from projection t. First each missing row receives its projection with the
    /// present rows subtracted (a streamed k-way XOR); then the geometric sweep XORs in the other
    /// missing rows, one step at a time: at step s, row t completes its column s + offset[t]. The
    /// offsets are the tightest ones for which every pixel a row needs from another missing row
    /// is complete earlier in the sweep (a system of difference constraints, solved by
    /// Bellman-Ford over at most 16 rows).
    ///
    /// Two lost rows with consecutive slopes take the fused one-pass kernel (`reconstructTwo`)
    /// unless `allowFusedKernel` is false (tests check both on their own).
    func reconstruct(rows: [UnsafeMutableRawPointer], missing: [Int], projections: [Projection],
                     allowFusedKernel: Bool = true) throws(ErasureCodeError) {
        let missingCount = missing.count
        guard missingCount > 0 else { return }
        guard projections.count == missingCount else {
            throw .internalFailure("Mojette inverse needs \(missingCount) projections, got \(projections.count)")
        }
        if allowFusedKernel, reconstructTwo(rows: rows, missing: missing, projections: projections) { return }
        let pixel = BlockGeometry.pixelSize
        let k = rowCount, length = linePixels
        let sorted = projections.sorted { $0.slope > $1.slope }
        let offsets = try Self.sweepOffsets(missingRows: missing, slopes: sorted.map(\.slope))
        let present = (0..<k).filter { !missing.contains($0) }

        // 1. Row t = projection t minus the present rows on each of its lines.
        for t in 0..<missingCount {
            subtractPresentRows(present, rows: rows, projection: sorted[t], into: missing[t])
        }
        guard missingCount > 1 else { return }

        // 2. The sweep. Per missing row t: its own pointer and the e - 1 other missing rows, each
        // indexed by step * pixel, with the column distance to each (for the bounds checks).
        let perRow = missingCount
        withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: missingCount * perRow) { sources in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: missingCount * perRow) { deltas in
                var fastLower = Int.min, fastUpper = Int.max
                var stepLower = Int.max, stepUpper = Int.min
                for t in 0..<missingCount {
                    let row = missing[t], slope = sorted[t].slope, offset = offsets[t]
                    sources[t * perRow] = UnsafeRawPointer(rows[row]) + offset * pixel
                    deltas[t * perRow] = 0
                    var columnLower = 0, columnUpper = length
                    for (q, other) in missing.enumerated() where other != row {
                        // The pixel of `other` on the same line as (row, x) is at column x + delta.
                        let delta = slope * (row - other)
                        let slot = t * perRow + (q < t ? q + 1 : q)
                        sources[slot] = UnsafeRawPointer(rows[other]) + (delta + offset) * pixel
                        deltas[slot] = delta
                        columnLower = max(columnLower, -delta)
                        columnUpper = min(columnUpper, length - delta)
                    }
                    fastLower = max(fastLower, columnLower - offset)
                    fastUpper = min(fastUpper, columnUpper - offset)
                    stepLower = min(stepLower, -offset)
                    stepUpper = max(stepUpper, length - offset)
                }
                let sourcesBase = UnsafePointer(sources.baseAddress!)
                // How each slot's pixel was made: 0 = this step, 1 = the step before, 2 = two steps
                // before, 3 = earlier. The unrolled kernels take the first three from registers.
                var lagKinds: [UInt8] = []
                for t in 0..<missingCount {
                    for slot in 1..<perRow {
                        let u = slot <= t ? slot - 1 : slot
                        let lag = offsets[u] - offsets[t] - sorted[t].slope * (missing[t] - missing[u])
                        lagKinds.append(UInt8(min(lag, 3)))
                    }
                }

                func checkedSteps(_ steps: Range<Int>) {
                    for step in steps {
                        for t in 0..<missingCount {
                            let column = step + offsets[t]
                            guard column >= 0 && column < length else { continue }
                            var sum = PixelKernels.load(sourcesBase[t * perRow], step * pixel)
                            for q in 1..<perRow {
                                let other = column + deltas[t * perRow + q]
                                if other >= 0 && other < length {
                                    sum ^= PixelKernels.load(sourcesBase[t * perRow + q], step * pixel)
                                }
                            }
                            PixelKernels.store(sum, UnsafeMutableRawPointer(mutating: sourcesBase[t * perRow]), step * pixel)
                        }
                    }
                }

                guard fastLower < fastUpper else { return checkedSteps(stepLower..<stepUpper) }
                checkedSteps(stepLower..<fastLower)
                if fastUpper - fastLower > 2, missingCount == 3 || missingCount == 4 {
                    // Two steps through memory give the registers their "steps before" values.
                    Self.sweep(sources: sourcesBase, rowCount: missingCount, steps: fastLower..<fastLower + 2)
                    Self.sweepInRegisters(sources: sourcesBase, lagKinds: lagKinds, rowCount: missingCount,
                                          steps: fastLower + 2..<fastUpper)
                } else {
                    Self.sweep(sources: sourcesBase, rowCount: missingCount, steps: fastLower..<fastUpper)
                }
                checkedSteps(fastUpper..<stepUpper)
            }
        }
    }

    /// Writes into missing row `target` (rebuilt from `projection`) the projection's bins on its
    /// pixels' lines minus every present row's pixel on those lines: column x is bin
    /// x + shift(target), and present row i meets that line at column x + slope * (target - i).
    func subtractPresentRows(_ present: [Int], rows: [UnsafeMutableRawPointer], projection: Projection, into target: Int) {
        let pixel = BlockGeometry.pixelSize
        typealias Source = PixelKernels.ClippedSource
        withUnsafeTemporaryAllocation(of: Source.self, capacity: present.count + 1) { sources in
            let first = shift(row: target, slope: projection.slope)
            sources[0] = Source(base: projection.bins + first * pixel, lower: -first,
                                upper: binCount(slope: projection.slope) - first)
            for (q, row) in present.enumerated() {
                let delta = projection.slope * (target - row)
                sources[q + 1] = Source(base: UnsafeRawPointer(rows[row]) + delta * pixel, lower: -delta, upper: linePixels - delta)
            }
            PixelKernels.xorClipped(into: rows[target], sources: sources, range: 0..<linePixels)
        }
    }

    /// The unchecked middle of the sweep: every pixel read is inside its line. Row t's own pixel
    /// (holding its residual) is XORed with the other rows' and written back. Three and four lost
    /// rows (6+3, 8+4, 10+4 losing every parity's worth) get loops with the rows unrolled and the
    /// pointers held in locals, which the optimiser can keep out of the way of the stores.
    static func sweep(sources: UnsafePointer<UnsafeRawPointer>, rowCount: Int, steps: Range<Int>) {
        let pixel = BlockGeometry.pixelSize
        var offset = steps.lowerBound * pixel
        let end = steps.upperBound * pixel
        typealias K = PixelKernels
        switch rowCount {
        case 3:
            let (a0, a1, a2) = (sources[0], sources[1], sources[2])
            let (b0, b1, b2) = (sources[3], sources[4], sources[5])
            let (c0, c1, c2) = (sources[6], sources[7], sources[8])
            while offset < end {
                K.store(K.load(a0, offset) ^ K.load(a1, offset) ^ K.load(a2, offset), UnsafeMutableRawPointer(mutating: a0), offset)
                K.store(K.load(b0, offset) ^ K.load(b1, offset) ^ K.load(b2, offset), UnsafeMutableRawPointer(mutating: b0), offset)
                K.store(K.load(c0, offset) ^ K.load(c1, offset) ^ K.load(c2, offset), UnsafeMutableRawPointer(mutating: c0), offset)
                offset += pixel
            }
        case 4:
            let (a0, a1, a2, a3) = (sources[0], sources[1], sources[2], sources[3])
            let (b0, b1, b2, b3) = (sources[4], sources[5], sources[6], sources[7])
            let (c0, c1, c2, c3) = (sources[8], sources[9], sources[10], sources[11])
            let (d0, d1, d2, d3) = (sources[12], sources[13], sources[14], sources[15])
            while offset < end {
                K.store(K.load(a0, offset) ^ K.load(a1, offset) ^ K.load(a2, offset) ^ K.load(a3, offset),
                        UnsafeMutableRawPointer(mutating: a0), offset)
                K.store(K.load(b0, offset) ^ K.load(b1, offset) ^ K.load(b2, offset) ^ K.load(b3, offset),
                        UnsafeMutableRawPointer(mutating: b0), offset)
                K.store(K.load(c0, offset) ^ K.load(c1, offset) ^ K.load(c2, offset) ^ K.load(c3, offset),
                        UnsafeMutableRawPointer(mutating: c0), offset)
                K.store(K.load(d0, offset) ^ K.load(d1, offset) ^ K.load(d2, offset) ^ K.load(d3, offset),
                        UnsafeMutableRawPointer(mutating: d0), offset)
                offset += pixel
            }
        default:
            while offset < end {
                var row = sources
                for _ in 0..<rowCount {
                    let own = row[0]
                    var sum = K.load(own, offset)
                    var q = 1
                    while q < rowCount {
                        sum ^= K.load(row[q], offset)
                        q += 1
                    }
                    K.store(sum, UnsafeMutableRawPointer(mutating: own), offset)
                    row += rowCount
                }
                offset += pixel
            }
        }
    }

    /// The sweep for three or four lost rows with the tight dependencies in registers: a pixel
    /// made in this step or the step before is taken from the register that made it, not
    /// reloaded from the store just issued, so the chain through the rows costs one XOR per hop
    /// instead of a store-to-load round trip (about five cycles). `lagKinds[t * (e - 1) + j]`
    /// says where slot j + 1 of row t comes from (0: this step, 1: the step before, 2: two steps
    /// before, 3: memory); the branches on it never change within a call and are predicted. The
    /// two steps before `steps.lowerBound` must be complete.
    static func sweepInRegisters(sources: UnsafePointer<UnsafeRawPointer>, lagKinds: [UInt8], rowCount e: Int, steps: Range<Int>) {
        typealias K = PixelKernels
        typealias Pixel = K.Pixel
        let pixel = BlockGeometry.pixelSize
        var offset = steps.lowerBound * pixel
        let end = steps.upperBound * pixel
        let four = e == 4
        func pointer(_ t: Int, _ slot: Int) -> UnsafeRawPointer { slot < e && t < e ? sources[t * e + slot] : sources[0] }
        func kind(_ t: Int, _ slot: Int) -> UInt8 { slot < e && t < e ? lagKinds[t * (e - 1) + slot - 1] : 3 }
        let own = (pointer(0, 0), pointer(1, 0), pointer(2, 0), pointer(3, 0))
        // Row t, slot j reads row (j <= t ? j - 1 : j).
        let (p01, p02, p03) = (pointer(0, 1), pointer(0, 2), pointer(0, 3))
        let (p11, p12, p13) = (pointer(1, 1), pointer(1, 2), pointer(1, 3))
        let (p21, p22, p23) = (pointer(2, 1), pointer(2, 2), pointer(2, 3))
        let (p31, p32, p33) = (pointer(3, 1), pointer(3, 2), pointer(3, 3))
        let (k01, k02, k03) = (kind(0, 1), kind(0, 2), kind(0, 3))
        let (k11, k12, k13) = (kind(1, 1), kind(1, 2), kind(1, 3))
        let (k21, k22, k23) = (kind(2, 1), kind(2, 2), kind(2, 3))
        let (k31, k32, k33) = (kind(3, 1), kind(3, 2), kind(3, 3))
        @inline(__always) func pick(_ kind: UInt8, _ now: Pixel, _ before: Pixel, _ twoBefore: Pixel,
                                    _ source: UnsafeRawPointer, _ offset: Int) -> Pixel {
            if kind == 0 { return now }
            if kind == 1 { return before }
            if kind == 2 { return twoBefore }
            return K.load(source, offset)
        }
        var b0 = K.load(own.0, offset - pixel), b1 = K.load(own.1, offset - pixel), b2 = K.load(own.2, offset - pixel)
        var b3 = four ? K.load(own.3, offset - pixel) : Pixel()
        var c0 = K.load(own.0, offset - 2 * pixel), c1 = K.load(own.1, offset - 2 * pixel), c2 = K.load(own.2, offset - 2 * pixel)
        var c3 = four ? K.load(own.3, offset - 2 * pixel) : Pixel()
        let zero = Pixel()
        while offset < end {
            // Row 0 reads rows 1, 2, 3 (never this step).
            var n0 = K.load(own.0, offset) ^ pick(k01, zero, b1, c1, p01, offset) ^ pick(k02, zero, b2, c2, p02, offset)
            if four { n0 ^= pick(k03, zero, b3, c3, p03, offset) }
            K.store(n0, UnsafeMutableRawPointer(mutating: own.0), offset)
            // Row 1 reads rows 0, 2, 3.
            var n1 = K.load(own.1, offset) ^ pick(k11, n0, b0, c0, p11, offset) ^ pick(k12, zero, b2, c2, p12, offset)
            if four { n1 ^= pick(k13, zero, b3, c3, p13, offset) }
            K.store(n1, UnsafeMutableRawPointer(mutating: own.1), offset)
            // Row 2 reads rows 0, 1, 3.
            var n2 = K.load(own.2, offset) ^ pick(k21, n0, b0, c0, p21, offset) ^ pick(k22, n1, b1, c1, p22, offset)
            if four { n2 ^= pick(k23, zero, b3, c3, p23, offset) }
            K.store(n2, UnsafeMutableRawPointer(mutating: own.2), offset)
            if four {
                // Row 3 reads rows 0, 1, 2.
                let n3 = K.load(own.3, offset) ^ pick(k31, n0, b0, c0, p31, offset) ^ pick(k32, n1, b1, c1, p32, offset)
                    ^ pick(k33, n2, b2, c2, p33, offset)
                K.store(n3, UnsafeMutableRawPointer(mutating: own.3), offset)
                c3 = b3
                b3 = n3
            }
            (c0, c1, c2) = (b0, b1, b2)
            (b0, b1, b2) = (n0, n1, n2)
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
