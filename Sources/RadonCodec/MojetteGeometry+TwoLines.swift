extension MojetteGeometry {
    /// Two lost rows r0 < r1 from projections of slopes P and P + 1, in one pass (the common
    /// case: 4+2 losing two data lines, or any layout losing two).
    ///
    /// With z the shift by one pixel, projection j holds sum over rows r of z^((P + j) r) row_r;
    /// once the present rows are subtracted (residuals R_j), the lost rows N_t = z^(P r_t) M_t
    /// solve a 2x2 Vandermonde system over GF(2)[z] with nodes z^r0, z^r1. Its Björck-Pereyra
    /// solution, fused into one pass over exponents E: q[E] = R_1[E + r0] ^ R_0[E] ^ q[E - d]
    /// (d = r1 - r0, the division by 1 + z^d) is N_1, and R_0[E] ^ q[E] is N_0. Each
    /// step reads the k - 1 pixels of each residual once, keeps the running q in a register when
    /// d = 1, and stores one pixel of each lost row: no scratch and no second pass.
    func reconstructTwo(rows: [UnsafeMutableRawPointer], missing: [Int], projections: [Projection]) -> Bool {
        guard let plan = try? InversePlan(grid: self, missing: missing, slopes: projections.map(\.slope), allowFusedKernel: true),
              plan.usesTwoLineKernel else { return false }
        let bins = plan.slopes.map { slope in projections.first { $0.slope == slope }!.bins }
        rows.withUnsafeBufferPointer { rows in
            bins.withUnsafeBufferPointer { bins in reconstructTwo(rows: rows.baseAddress!, projections: bins.baseAddress!, plan: plan) }
        }
        return true
    }

    /// `reconstructTwo` on pointer tables: `rows[r]` is row r, `projections[t]` the bins of slope
    /// `plan.slopes[t]` (decreasing, so projection 1 has the smaller slope P).
    func reconstructTwo(rows: UnsafePointer<UnsafeMutableRawPointer>, projections: UnsafePointer<UnsafeRawPointer>, plan: InversePlan) {
        let length = linePixels, pixel = BlockGeometry.pixelSize
        let r0 = plan.missing[0], r1 = plan.missing[1], d = r1 - r0, slope = plan.slopes[1]
        let present = plan.present
        let perResidual = present.count + 1
        typealias Source = PixelKernels.ClippedSource

        withUnsafeTemporaryAllocation(of: Source.self, capacity: 2 * perResidual) { sources in
            // sources[0..<perResidual]: R_0 at E; sources[perResidual...]: R_1 at E + r0.
            for j in 0..<2 {
                let extra = j == 0 ? 0 : -r0
                let projectionSlope = slope + j, bins = projections[1 - j]
                let base = shift(row: 0, slope: projectionSlope)
                sources[j * perResidual] = Source(base: bins + (base - extra) * pixel,
                                                  lower: extra - base, upper: extra - base + binCount(slope: projectionSlope))
                for (q, row) in present.enumerated() {
                    let offset = projectionSlope * row + extra
                    sources[j * perResidual + 1 + q] = Source(base: UnsafeRawPointer(rows[row]) - offset * pixel,
                                                              lower: offset, upper: offset + length)
                }
            }
            // Row t, column x is exponent x + P r_t.
            let first0 = slope * r0, first1 = slope * r1
            let lost0 = rows[r0] - first0 * pixel, lost1 = rows[r1] - first1 * pixel
            let window0 = first0..<first0 + length, window1 = first1..<first1 + length
            let sweep = min(first0, first1)..<max(first0, first1) + length

            func sum(_ part: Int, _ e: Int) -> PixelKernels.Pixel {
                var value = PixelKernels.Pixel()
                for source in sources[part * perResidual ..< (part + 1) * perResidual] where e >= source.lower && e < source.upper {
                    value ^= PixelKernels.load(source.base, e * pixel)
                }
                return value
            }
            func checkedStep(_ e: Int) {
                let residual0 = sum(0, e)
                var q = PixelKernels.Pixel()
                if window1.contains(e) {
                    q = sum(1, e) ^ residual0
                    if window1.contains(e - d) { q ^= PixelKernels.load(lost1, (e - d) * pixel) }
                    PixelKernels.store(q, lost1, e * pixel)
                }
                if window0.contains(e) { PixelKernels.store(residual0 ^ q, lost0, e * pixel) }
            }

            // The unchecked middle: both windows (and q[E - d]) inside, every source inside.
            // The kernel reads up to three q pixels back when d < 4 (and d back otherwise).
            var fastLower = max(first0, first1 + max(d, 3)), fastUpper = min(first0, first1) + length
            for source in sources[0..<2 * perResidual] {
                fastLower = max(fastLower, source.lower)
                fastUpper = min(fastUpper, source.upper)
            }
            guard fastLower < fastUpper else {
                sweep.forEach(checkedStep)
                return
            }
            (sweep.lowerBound..<fastLower).forEach(checkedStep)
            withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: 2 * perResidual) { pointers in
                for index in 0..<2 * perResidual { pointers[index] = sources[index].base }
                Self.twoLineKernel(residual0: UnsafePointer(pointers.baseAddress!),
                                   residual1: UnsafePointer(pointers.baseAddress! + perResidual), count: perResidual,
                                   lost0: lost0, lost1: lost1, period: d, range: fastLower..<fastUpper)
            }
            (fastUpper..<sweep.upperBound).forEach(checkedStep)
        }
    }

    /// The hot loop of `reconstructTwo`, in pixel indices E of `range`. Several pixels per
    /// iteration share each load of a source pointer; with d = 1 the running q stays in a register,
    /// otherwise q[E - d] comes from an earlier iteration's stores (at least d pixels back).
    static func twoLineKernel(residual0: UnsafePointer<UnsafeRawPointer>, residual1: UnsafePointer<UnsafeRawPointer>,
                              count: Int, lost0: UnsafeMutableRawPointer, lost1: UnsafeMutableRawPointer,
                              period d: Int, range: Range<Int>) {
        typealias Pixel = PixelKernels.Pixel
        let pixel = BlockGeometry.pixelSize
        var offset = range.lowerBound * pixel
        let end = range.upperBound * pixel
        /// Residual pixels at offset + j * pixel for j < 4, as (R_0, R_1 shifted) pairs XORed.
        @inline(__always) func residuals4(_ offset: Int) -> (Pixel, Pixel, Pixel, Pixel, Pixel, Pixel, Pixel, Pixel) {
            let p0 = residual0[0], p1 = residual1[0]
            var a0 = PixelKernels.load(p0, offset), a1 = PixelKernels.load(p0, offset + 32)
            var a2 = PixelKernels.load(p0, offset + 64), a3 = PixelKernels.load(p0, offset + 96)
            var b0 = PixelKernels.load(p1, offset), b1 = PixelKernels.load(p1, offset + 32)
            var b2 = PixelKernels.load(p1, offset + 64), b3 = PixelKernels.load(p1, offset + 96)
            var index = 1
            while index < count {
                let q0 = residual0[index], q1 = residual1[index]
                a0 ^= PixelKernels.load(q0, offset); a1 ^= PixelKernels.load(q0, offset + 32)
                a2 ^= PixelKernels.load(q0, offset + 64); a3 ^= PixelKernels.load(q0, offset + 96)
                b0 ^= PixelKernels.load(q1, offset); b1 ^= PixelKernels.load(q1, offset + 32)
                b2 ^= PixelKernels.load(q1, offset + 64); b3 ^= PixelKernels.load(q1, offset + 96)
                index += 1
            }
            return (a0, a1, a2, a3, b0, b1, b2, b3)
        }
        @inline(__always) func residuals1(_ offset: Int) -> (Pixel, Pixel) {
            var a = PixelKernels.load(residual0[0], offset)
            var b = PixelKernels.load(residual1[0], offset)
            var index = 1
            while index < count {
                a ^= PixelKernels.load(residual0[index], offset)
                b ^= PixelKernels.load(residual1[index], offset)
                index += 1
            }
            return (a, b)
        }
        let back = d * pixel
        if d == 1 {
            var q = PixelKernels.load(lost1, offset - pixel)
            while offset + 4 * pixel <= end {
                let (a0, a1, a2, a3, b0, b1, b2, b3) = residuals4(offset)
                // a ^ b first: one XOR per pixel on the running chain, not two.
                let q0 = q ^ (a0 ^ b0)
                let q1 = q0 ^ (a1 ^ b1)
                let q2 = q1 ^ (a2 ^ b2)
                q = q2 ^ (a3 ^ b3)
                // Stores grouped by row (four to lost1's lines, then four to lost0's): a few per
                // cent faster than alternating rows, measured A/B in one process.
                PixelKernels.store(q0, lost1, offset); PixelKernels.store(q1, lost1, offset + 32)
                PixelKernels.store(q2, lost1, offset + 64); PixelKernels.store(q, lost1, offset + 96)
                PixelKernels.store(a0 ^ q0, lost0, offset); PixelKernels.store(a1 ^ q1, lost0, offset + 32)
                PixelKernels.store(a2 ^ q2, lost0, offset + 64); PixelKernels.store(a3 ^ q, lost0, offset + 96)
                offset += 4 * pixel
            }
        } else if d >= 4 {
            while offset + 4 * pixel <= end {
                let (a0, a1, a2, a3, b0, b1, b2, b3) = residuals4(offset)
                let q0 = a0 ^ b0 ^ PixelKernels.load(lost1, offset - back)
                let q1 = a1 ^ b1 ^ PixelKernels.load(lost1, offset + 32 - back)
                let q2 = a2 ^ b2 ^ PixelKernels.load(lost1, offset + 64 - back)
                let q3 = a3 ^ b3 ^ PixelKernels.load(lost1, offset + 96 - back)
                PixelKernels.store(q0, lost1, offset); PixelKernels.store(q1, lost1, offset + 32)
                PixelKernels.store(q2, lost1, offset + 64); PixelKernels.store(q3, lost1, offset + 96)
                PixelKernels.store(a0 ^ q0, lost0, offset); PixelKernels.store(a1 ^ q1, lost0, offset + 32)
                PixelKernels.store(a2 ^ q2, lost0, offset + 64); PixelKernels.store(a3 ^ q3, lost0, offset + 96)
                offset += 4 * pixel
            }
        } else {
            // d = 2 or 3: q[E] needs q[E - d], which may be in this group of four: keep the last
            // three q in registers.
            var q1 = PixelKernels.load(lost1, offset - 3 * pixel)
            var q2 = PixelKernels.load(lost1, offset - 2 * pixel)
            var q3 = PixelKernels.load(lost1, offset - pixel)
            while offset + 4 * pixel <= end {
                let (a0, a1, a2, a3, b0, b1, b2, b3) = residuals4(offset)
                let n0 = a0 ^ b0 ^ (d == 2 ? q2 : q1)
                let n1 = a1 ^ b1 ^ (d == 2 ? q3 : q2)
                let n2 = a2 ^ b2 ^ (d == 2 ? n0 : q3)
                let n3 = a3 ^ b3 ^ (d == 2 ? n1 : n0)
                PixelKernels.store(n0, lost1, offset); PixelKernels.store(n1, lost1, offset + 32)
                PixelKernels.store(n2, lost1, offset + 64); PixelKernels.store(n3, lost1, offset + 96)
                PixelKernels.store(a0 ^ n0, lost0, offset); PixelKernels.store(a1 ^ n1, lost0, offset + 32)
                PixelKernels.store(a2 ^ n2, lost0, offset + 64); PixelKernels.store(a3 ^ n3, lost0, offset + 96)
                (q1, q2, q3) = (n1, n2, n3)
                offset += 4 * pixel
            }
        }
        while offset < end {
            let (a, b) = residuals1(offset)
            let q = a ^ b ^ PixelKernels.load(lost1, offset - back)
            PixelKernels.store(q, lost1, offset)
            PixelKernels.store(a ^ q, lost0, offset)
            offset += pixel
        }
    }
}
