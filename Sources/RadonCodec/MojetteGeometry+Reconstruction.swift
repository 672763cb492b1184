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
    /// Two lost rows with consecutive slopes take the fused one-pass kernel (`reconstructTwo`);
    /// three or four lost rows whose sweep reads row t - 1 in the same step (every pattern of
    /// 8+4 and 10+4 losing n - k data lines, some of 6+3) make the residual and the sweep in one pass
    /// over the middle of the lines (`sweepFused`), which removes a store and a reload of each
    /// residual pixel and the per-block calls; the ragged ends keep the blocked two-pass form.
    /// `allowFusedKernel: false` turns both off (tests check every path on its own).
    func reconstruct(rows: [UnsafeMutableRawPointer], missing: [Int], projections: [Projection],
                     allowFusedKernel: Bool = true, blockPixels: Int = sweepBlockPixels) throws(ErasureCodeError) {
        guard !missing.isEmpty else { return }
        let plan = try InversePlan(grid: self, missing: missing, slopes: projections.map(\.slope), allowFusedKernel: allowFusedKernel)
        try reconstruct(rows: rows, projections: projections, plan: plan, blockPixels: blockPixels)
    }

    /// The inverse with a plan made (or cached) for these lost rows and slopes.
    func reconstruct(rows: [UnsafeMutableRawPointer], projections: [Projection], plan: InversePlan,
                     blockPixels: Int = sweepBlockPixels) throws(ErasureCodeError) {
        guard projections.count == plan.missing.count else {
            throw .internalFailure("Mojette inverse needs \(plan.missing.count) projections, got \(projections.count)")
        }
        var bins: [UnsafeRawPointer] = []
        for slope in plan.slopes {
            guard let projection = projections.first(where: { $0.slope == slope }) else {
                throw .internalFailure("Mojette inverse: no projection of slope \(slope)")
            }
            bins.append(projection.bins)
        }
        rows.withUnsafeBufferPointer { rows in
            bins.withUnsafeBufferPointer { bins in
                reconstruct(rows: rows.baseAddress!, projections: bins.baseAddress!, plan: plan, blockPixels: blockPixels)
            }
        }
    }

    /// The inverse on pointer tables, allocating nothing on the heap: `rows[r]` is row r and
    /// `projections[t]` the bins of the projection of slope `plan.slopes[t]`.
    func reconstruct(rows: UnsafePointer<UnsafeMutableRawPointer>, projections: UnsafePointer<UnsafeRawPointer>, plan: InversePlan,
                     blockPixels: Int = sweepBlockPixels) {
        let e = plan.missing.count
        guard e > 0 else { return }
        if plan.usesTwoLineKernel { return reconstructTwo(rows: rows, projections: projections, plan: plan) }
        let pixel = BlockGeometry.pixelSize, length = linePixels
        let missing = plan.missing, offsets = plan.offsets, deltas = plan.slotDeltas
        let count = plan.present.count + 1

        withUnsafeTemporaryAllocation(of: PixelKernels.ClippedSource.self, capacity: e * count) { clipped in
        withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: e * count) { residualPointers in
        withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: e * e) { sources in
            // Row t's residual sources: its projection, then the present rows on its lines.
            for t in 0..<e {
                let slope = plan.slopes[t]
                let first = shift(row: missing[t], slope: slope)
                clipped[t * count] = .init(base: projections[t] + first * pixel, lower: -first, upper: binCount(slope: slope) - first)
                for (q, row) in plan.present.enumerated() {
                    let delta = slope * (missing[t] - row)
                    clipped[t * count + q + 1] = .init(base: UnsafeRawPointer(rows[row]) + delta * pixel, lower: -delta, upper: length - delta)
                }
                for q in 0..<count { residualPointers[t * count + q] = clipped[t * count + q].base }
            }
            func writeResidual(row t: Int, columns: Range<Int>) {
                let full = plan.residualColumns[t]
                if columns.lowerBound >= full.lowerBound && columns.upperBound <= full.upperBound {
                    PixelKernels.xor(into: rows[missing[t]], sources: UnsafePointer(residualPointers.baseAddress! + t * count), count: count,
                                     lower: columns.lowerBound * pixel, upper: columns.upperBound * pixel)
                } else {
                    PixelKernels.xorClipped(into: rows[missing[t]], sources: UnsafeMutableBufferPointer(rebasing: clipped[t * count ..< (t + 1) * count]),
                                            range: columns)
                }
            }
            guard e > 1 else { return writeResidual(row: 0, columns: 0..<length) }

            // Per lost row t: its own pointer and the e - 1 other lost rows, each indexed by
            // step * pixel.
            for t in 0..<e {
                sources[t * e] = UnsafeRawPointer(rows[missing[t]]) + offsets[t] * pixel
                for slot in 1..<e {
                    sources[t * e + slot] = UnsafeRawPointer(rows[missing[plan.slotRows[t * e + slot]]]) + (deltas[t * e + slot] + offsets[t]) * pixel
                }
            }
            let sourcesBase = UnsafePointer(sources.baseAddress!)

            func checkedSteps(_ steps: Range<Int>) {
                for step in steps {
                    for t in 0..<e {
                        let column = step + offsets[t]
                        guard column >= 0 && column < length else { continue }
                        var sum = PixelKernels.load(sourcesBase[t * e], step * pixel)
                        for slot in 1..<e {
                            let other = column + deltas[t * e + slot]
                            if other >= 0 && other < length {
                                sum ^= PixelKernels.load(sourcesBase[t * e + slot], step * pixel)
                            }
                        }
                        PixelKernels.store(sum, UnsafeMutableRawPointer(mutating: sourcesBase[t * e]), step * pixel)
                    }
                }
            }

            // Column blocks: row t's residual for the columns that steps [s0, s1) complete is
            // written just before those steps, so the sweep reads it back from L1, and the
            // present rows, read once per lost row, stay in L1 between the e residual passes.
            // The residual of a column is written before the step that completes it and no row
            // reads another's pixel before that step, so the order is the sweep's.
            let fastLower = plan.uncheckedSteps.lowerBound, fastUpper = plan.uncheckedSteps.upperBound
            func blockedSweep(_ range: Range<Int>) {
                var blockStart = range.lowerBound
                while blockStart < range.upperBound {
                    let blockEnd = min(blockStart + blockPixels, range.upperBound)
                    for t in 0..<e {
                        let first = max(0, blockStart + offsets[t]), last = min(length, blockEnd + offsets[t])
                        if first < last { writeResidual(row: t, columns: first..<last) }
                    }
                    let fastStart = max(blockStart, fastLower), fastEnd = min(blockEnd, fastUpper)
                    guard fastStart < fastEnd else {
                        checkedSteps(blockStart..<blockEnd)
                        blockStart = blockEnd
                        continue
                    }
                    checkedSteps(blockStart..<fastStart)
                    if plan.forwarding {
                        // The forwarding kernel starts from the step before: the first unchecked
                        // step goes through memory so that step is inside every line.
                        var rest = fastStart
                        if rest == fastLower {
                            Self.sweep(sources: sourcesBase, rowCount: e, steps: rest..<rest + 1)
                            rest += 1
                        }
                        plan.lags.withUnsafeBufferPointer { lags in
                            Self.sweepForwarding(sources: sourcesBase, lags: lags.baseAddress!, rowCount: e, steps: rest..<fastEnd)
                        }
                    } else {
                        Self.sweep(sources: sourcesBase, rowCount: e, steps: fastStart..<fastEnd)
                    }
                    checkedSteps(fastEnd..<blockEnd)
                    blockStart = blockEnd
                }
            }
            let fused = plan.fusedSteps
            guard !fused.isEmpty else { return blockedSweep(plan.allSteps) }
            // The ragged ends the usual way; the middle, where every pixel any row reads exists,
            // in one pass that makes each residual pixel in registers and stores it final.
            blockedSweep(plan.allSteps.lowerBound..<fused.lowerBound)
            for t in 0..<e {
                for q in 0..<count { residualPointers[t * count + q] = clipped[t * count + q].base + offsets[t] * pixel }
            }
            Self.sweepFused(residuals: UnsafePointer(residualPointers.baseAddress!), count: count, sources: sourcesBase, rowCount: e, steps: fused)
            for t in 0..<e {
                for q in 0..<count { residualPointers[t * count + q] = clipped[t * count + q].base }
            }
            blockedSweep(fused.upperBound..<plan.allSteps.upperBound)
        }
        }
        }
    }

    /// Steps per iteration of `sweepFused` for `rowCount` lost rows, and so the fewest a plan
    /// may give it (`InversePlan.fusedSteps`).
    static func fusedStepsPerIteration(rowCount e: Int) -> Int { e == 4 ? 4 : 2 }

    /// The residual and the sweep of three or four lost rows in one pass, for steps where every
    /// pixel read exists (`InversePlan.fusedSteps`). `residuals[t * count + q]` is source q of
    /// row t's residual (its projection, then the present rows), indexed by step like
    /// `sources`. Row t reads row t - 1 as made this step (a register); every other lost pixel
    /// it reads was stored at least one step earlier and comes from memory. The four-row kernel
    /// (every 8+4 and 10+4 pattern losing four lines) takes four steps per iteration, so each
    /// residual source pointer is loaded once for four pixels and sixteen independent chains are
    /// in flight (about 6% faster than two steps, measured A/B on 8+4 64 KiB blocks); the
    /// three-row one takes two. The sources of all rows are summed in one interleaved loop
    /// (about 10% faster than row by row, measured A/B in one process), so the three- and
    /// four-row kernels are written out separately.
    static func sweepFused(residuals: UnsafePointer<UnsafeRawPointer>, count: Int, sources: UnsafePointer<UnsafeRawPointer>,
                           rowCount e: Int, steps: Range<Int>) {
        typealias K = PixelKernels
        let pixel = BlockGeometry.pixelSize
        var offset = steps.lowerBound * pixel
        let end = steps.upperBound * pixel
        // A short last iteration is moved back to end at the last step, making up to three steps
        // again: a step reads only its residual's sources (never a lost row) and pixels made at
        // earlier steps or, for row t - 1, remade the same way, so it writes the same bytes.
        precondition(steps.count >= fusedStepsPerIteration(rowCount: e), "the fused sweep takes \(fusedStepsPerIteration(rowCount: e)) steps at a time")
        if e == 4 {
            let own0 = UnsafeMutableRawPointer(mutating: sources[0]), own1 = UnsafeMutableRawPointer(mutating: sources[4])
            let own2 = UnsafeMutableRawPointer(mutating: sources[8]), own3 = UnsafeMutableRawPointer(mutating: sources[12])
            // Slot t of row t is row t - 1 (this step, in a register); the others from memory.
            let (p01, p02, p03) = (sources[1], sources[2], sources[3])
            let (p12, p13) = (sources[6], sources[7])
            let (p20, p23) = (sources[9], sources[11])
            let (p30, p31) = (sources[13], sources[14])
            let r0 = residuals, r1 = residuals + count, r2 = residuals + 2 * count, r3 = residuals + 3 * count
            @inline(__always) func step(_ a: K.Pixel, _ b: K.Pixel, _ c: K.Pixel, _ d: K.Pixel, _ o: Int) {
                let n0 = a ^ K.load(p01, o) ^ K.load(p02, o) ^ K.load(p03, o)
                K.store(n0, own0, o)
                let n1 = b ^ n0 ^ K.load(p12, o) ^ K.load(p13, o)
                K.store(n1, own1, o)
                let n2 = c ^ K.load(p20, o) ^ n1 ^ K.load(p23, o)
                K.store(n2, own2, o)
                K.store(d ^ K.load(p30, o) ^ K.load(p31, o) ^ n2, own3, o)
            }
            while offset < end {
                offset = min(offset, end - 4 * pixel)
                let o1 = offset + pixel, o2 = offset + 2 * pixel, o3 = offset + 3 * pixel
                var a0 = K.load(r0[0], offset), a1 = K.load(r0[0], o1), a2 = K.load(r0[0], o2), a3 = K.load(r0[0], o3)
                var b0 = K.load(r1[0], offset), b1 = K.load(r1[0], o1), b2 = K.load(r1[0], o2), b3 = K.load(r1[0], o3)
                var c0 = K.load(r2[0], offset), c1 = K.load(r2[0], o1), c2 = K.load(r2[0], o2), c3 = K.load(r2[0], o3)
                var d0 = K.load(r3[0], offset), d1 = K.load(r3[0], o1), d2 = K.load(r3[0], o2), d3 = K.load(r3[0], o3)
                var q = 1
                while q < count {
                    let (s0, s1, s2, s3) = (r0[q], r1[q], r2[q], r3[q])
                    a0 ^= K.load(s0, offset); a1 ^= K.load(s0, o1); a2 ^= K.load(s0, o2); a3 ^= K.load(s0, o3)
                    b0 ^= K.load(s1, offset); b1 ^= K.load(s1, o1); b2 ^= K.load(s1, o2); b3 ^= K.load(s1, o3)
                    c0 ^= K.load(s2, offset); c1 ^= K.load(s2, o1); c2 ^= K.load(s2, o2); c3 ^= K.load(s2, o3)
                    d0 ^= K.load(s3, offset); d1 ^= K.load(s3, o1); d2 ^= K.load(s3, o2); d3 ^= K.load(s3, o3)
                    q += 1
                }
                step(a0, b0, c0, d0, offset)
                step(a1, b1, c1, d1, o1)
                step(a2, b2, c2, d2, o2)
                step(a3, b3, c3, d3, o3)
                offset += 4 * pixel
            }
        } else {
            let own0 = UnsafeMutableRawPointer(mutating: sources[0]), own1 = UnsafeMutableRawPointer(mutating: sources[3])
            let own2 = UnsafeMutableRawPointer(mutating: sources[6])
            // Row 0: slots 1, 2 (rows 1, 2); row 1: slot 1 is row 0 (register), slot 2 row 2;
            // row 2: slot 1 row 0, slot 2 is row 1 (register).
            let (p01, p02, p12, p20) = (sources[1], sources[2], sources[5], sources[7])
            let r0 = residuals, r1 = residuals + count, r2 = residuals + 2 * count
            @inline(__always) func step(_ a: K.Pixel, _ b: K.Pixel, _ c: K.Pixel, _ o: Int) {
                let n0 = a ^ K.load(p01, o) ^ K.load(p02, o)
                K.store(n0, own0, o)
                let n1 = b ^ n0 ^ K.load(p12, o)
                K.store(n1, own1, o)
                K.store(c ^ K.load(p20, o) ^ n1, own2, o)
            }
            while offset < end {
                offset = min(offset, end - 2 * pixel)
                let o1 = offset + pixel
                // Three rows: the loop over sources the four-row kernel has, one row less.
                var a0 = K.load(r0[0], offset), a1 = K.load(r0[0], o1)
                var b0 = K.load(r1[0], offset), b1 = K.load(r1[0], o1)
                var c0 = K.load(r2[0], offset), c1 = K.load(r2[0], o1)
                var q = 1
                while q < count {
                    let (s0, s1, s2) = (r0[q], r1[q], r2[q])
                    a0 ^= K.load(s0, offset); a1 ^= K.load(s0, o1)
                    b0 ^= K.load(s1, offset); b1 ^= K.load(s1, o1)
                    c0 ^= K.load(s2, offset); c1 ^= K.load(s2, o1)
                    q += 1
                }
                step(a0, b0, c0, offset)
                step(a1, b1, c1, o1)
                offset += 2 * pixel
            }
        }
    }

    /// Steps per column block of the inverse: 64 pixels (2 KiB) of each lost row, its projection
    /// and the present rows it reads stay in the 48 KiB L1 for e = 4.
    static let sweepBlockPixels = 64

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

extension MojetteGeometry {
    /// Where a sweep slot's pixel comes from: made this step (`now`), the step before (`previous`),
    /// or earlier (`memory`: its store has long left the store buffer).
    enum SweepLag: UInt8 {
        case now = 0, previous = 1, memory = 2

        init(steps lag: Int) { self = lag == 0 ? .now : lag == 1 ? .previous : .memory }
    }

    /// The unchecked middle of the sweep for three or four lost rows, with the pixels made this
    /// step or the step before taken from the registers that made them. Through memory each such
    /// hop is a store-to-load forward (about six cycles), and the rows of a sweep form a cycle of
    /// such hops per step, so the plain sweep is latency-bound; here a hop is one XOR.
    /// `lags[t * 4 + j]` says where slot j + 1 of row t comes from (slot j + 1 reads row
    /// j < t ? j : j + 1). The step before `steps.lowerBound` must be complete.
    static func sweepForwarding(sources: UnsafePointer<UnsafeRawPointer>, lags: UnsafePointer<SweepLag>,
                                rowCount e: Int, steps: Range<Int>) {
        typealias K = PixelKernels
        typealias Pixel = K.Pixel
        let pixel = BlockGeometry.pixelSize
        var offset = steps.lowerBound * pixel
        let end = steps.upperBound * pixel
        guard offset < end else { return }
        let four = e == 4
        @inline(__always) func pointer(_ t: Int, _ slot: Int) -> UnsafeRawPointer { slot < e && t < e ? sources[t * e + slot] : sources[0] }
        @inline(__always) func lag(_ t: Int, _ slot: Int) -> SweepLag { slot < e && t < e ? lags[t * 4 + slot - 1] : .memory }
        let own0 = UnsafeMutableRawPointer(mutating: pointer(0, 0)), own1 = UnsafeMutableRawPointer(mutating: pointer(1, 0))
        let own2 = UnsafeMutableRawPointer(mutating: pointer(2, 0)), own3 = UnsafeMutableRawPointer(mutating: pointer(3, 0))
        let (p01, p02, p03) = (pointer(0, 1), pointer(0, 2), pointer(0, 3))
        let (p10, p12, p13) = (pointer(1, 1), pointer(1, 2), pointer(1, 3))
        let (p20, p21, p23) = (pointer(2, 1), pointer(2, 2), pointer(2, 3))
        let (p30, p31, p32) = (pointer(3, 1), pointer(3, 2), pointer(3, 3))
        let (l01, l02, l03) = (lag(0, 1), lag(0, 2), lag(0, 3))
        let (l10, l12, l13) = (lag(1, 1), lag(1, 2), lag(1, 3))
        let (l20, l21, l23) = (lag(2, 1), lag(2, 2), lag(2, 3))
        let (l30, l31, l32) = (lag(3, 1), lag(3, 2), lag(3, 3))
        @inline(__always) func take(_ lag: SweepLag, _ now: Pixel, _ before: Pixel, _ source: UnsafeRawPointer, _ offset: Int) -> Pixel {
            switch lag {
            case .memory: K.load(source, offset)
            case .previous: before
            case .now: now
            }
        }
        var b0 = K.load(own0, offset - pixel), b1 = K.load(own1, offset - pixel), b2 = K.load(own2, offset - pixel)
        var b3 = four ? K.load(own3, offset - pixel) : Pixel()
        if four {
            while offset < end {
                let n0 = K.load(own0, offset) ^ take(l01, b1, b1, p01, offset) ^ take(l02, b2, b2, p02, offset) ^ take(l03, b3, b3, p03, offset)
                K.store(n0, own0, offset)
                let n1 = K.load(own1, offset) ^ take(l10, n0, b0, p10, offset) ^ take(l12, b2, b2, p12, offset) ^ take(l13, b3, b3, p13, offset)
                K.store(n1, own1, offset)
                let n2 = K.load(own2, offset) ^ take(l20, n0, b0, p20, offset) ^ take(l21, n1, b1, p21, offset) ^ take(l23, b3, b3, p23, offset)
                K.store(n2, own2, offset)
                let n3 = K.load(own3, offset) ^ take(l30, n0, b0, p30, offset) ^ take(l31, n1, b1, p31, offset) ^ take(l32, n2, b2, p32, offset)
                K.store(n3, own3, offset)
                (b0, b1, b2, b3) = (n0, n1, n2, n3)
                offset += pixel
            }
        } else {
            while offset < end {
                let n0 = K.load(own0, offset) ^ take(l01, b1, b1, p01, offset) ^ take(l02, b2, b2, p02, offset)
                K.store(n0, own0, offset)
                let n1 = K.load(own1, offset) ^ take(l10, n0, b0, p10, offset) ^ take(l12, b2, b2, p12, offset)
                K.store(n1, own1, offset)
                let n2 = K.load(own2, offset) ^ take(l20, n0, b0, p20, offset) ^ take(l21, n1, b1, p21, offset)
                K.store(n2, own2, offset)
                (b0, b1, b2) = (n0, n1, n2)
                offset += pixel
            }
        }
    }
}
