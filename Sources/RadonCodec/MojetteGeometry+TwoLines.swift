extension MojetteGeometry {
    /// Two lost rows r0 < r1 from projections of slopes P and P + 1, in one pass (the common
    /// case: 4+2 losing two data lines, or any layout losing two).
    ///
    /// This is the Björck-Pereyra solution of `reconstructConsecutive` for e = 2, fused: with
    /// R_j the projections minus the present rows (in exponents E, N_t = z^(P r_t) M_t),
    /// q[E] = R_1[E + r0] ^ R_0[E] ^ q[E - d] (d = r1 - r0) is N_1 and R_0[E] ^ q[E] is N_0. Each
    /// step reads the k - 1 pixels of each residual once, keeps the running q in a register when
    /// d = 1, and stores one pixel of each lost row: no scratch and no second pass.
    func reconstructTwo(rows: [UnsafeMutableRawPointer], missing: [Int], projections: [Projection]) -> Bool {
        let sorted = projections.sorted { $0.slope < $1.slope }
        guard missing.count == 2, sorted.count == 2, sorted[0].slope + 1 == sorted[1].slope else { return false }
        let k = rowCount, length = linePixels, pixel = BlockGeometry.pixelSize
        let r0 = missing[0], r1 = missing[1], d = r1 - r0, slope = sorted[0].slope
        let present = (0..<k).filter { $0 != r0 && $0 != r1 }
        let perResidual = present.count + 1
        typealias Source = PixelKernels.ClippedSource

        return withUnsafeTemporaryAllocation(of: Source.self, capacity: 2 * perResidual) { sources in
            // sources[0..<perResidual]: R_0 at E; sources[perResidual...]: R_1 at E + r0.
            for (j, extra) in [(0, 0), (1, -r0)] {
                let projection = sorted[j]
                let base = shift(row: 0, slope: projection.slope)
                sources[j * perResidual] = Source(base: projection.bins + (base - extra) * pixel,
                                                  lower: extra - base, upper: extra - base + binCount(slope: projection.slope))
                for (q, row) in present.enumerated() {
                    let offset = projection.slope * row + extra
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
            var fastLower = max(first0, first1 + d), fastUpper = min(first0, first1) + length
            for source in sources[0..<2 * perResidual] {
                fastLower = max(fastLower, source.lower)
                fastUpper = min(fastUpper, source.upper)
            }
            guard fastLower < fastUpper else {
                sweep.forEach(checkedStep)
                return true
            }
            (sweep.lowerBound..<fastLower).forEach(checkedStep)
            withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: 2 * perResidual) { pointers in
                for index in 0..<2 * perResidual { pointers[index] = sources[index].base }
                Self.twoLineKernel(residual0: UnsafePointer(pointers.baseAddress!),
                                   residual1: UnsafePointer(pointers.baseAddress! + perResidual), count: perResidual,
                                   lost0: lost0, lost1: lost1, period: d, range: fastLower..<fastUpper)
            }
            (fastUpper..<sweep.upperBound).forEach(checkedStep)
            return true
        }
    }

    /// The hot loop of `reconstructTwo`, in pixel indices E of `range`.
    static func twoLineKernel(residual0: UnsafePointer<UnsafeRawPointer>, residual1: UnsafePointer<UnsafeRawPointer>,
                              count: Int, lost0: UnsafeMutableRawPointer, lost1: UnsafeMutableRawPointer,
                              period d: Int, range: Range<Int>) {
        let pixel = BlockGeometry.pixelSize
        var offset = range.lowerBound * pixel
        let end = range.upperBound * pixel
        @inline(__always) func residuals(_ offset: Int) -> (PixelKernels.Pixel, PixelKernels.Pixel) {
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
        if d == 1 {
            // q[E - 1] stays in a register from one step to the next.
            var q = PixelKernels.load(lost1, offset - pixel)
            while offset < end {
                let (a, b) = residuals(offset)
                q ^= a ^ b
                PixelKernels.store(q, lost1, offset)
                PixelKernels.store(a ^ q, lost0, offset)
                offset += pixel
            }
        } else {
            let back = d * pixel
            while offset < end {
                let (a, b) = residuals(offset)
                let q = a ^ b ^ PixelKernels.load(lost1, offset - back)
                PixelKernels.store(q, lost1, offset)
                PixelKernels.store(a ^ q, lost0, offset)
                offset += pixel
            }
        }
    }
}
