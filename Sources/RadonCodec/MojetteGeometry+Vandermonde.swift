extension MojetteGeometry {
    /// The fast inverse for projections of consecutive slopes P0, P0 + 1, ..., P0 + e - 1 (the
    /// systematic code's usual case: all its projections, or a run of them).
    ///
    /// With z the shift by one pixel, projection j holds sum over rows r of z^((P0 + j) r) row_r:
    /// once the present rows are subtracted, the e missing rows N_t = z^(P0 r_t) M_t solve a
    /// Vandermonde system sum_t x_t^j N_t = b_j with nodes x_t = z^(r_t) over GF(2)[z]. The
    /// Björck-Pereyra algorithm solves it with whole-line operations only: "b_i ^= z^s b_j" (a
    /// streamed shifted XOR) and "b_i /= z^m (1 + z^d)" (a relabelling plus the recurrence
    /// q[x] = b[x] ^ q[x - d], which for d = 1 is a running XOR held in one register). No pixel
    /// waits on the one just stored, unlike a pixel-by-pixel sweep, so every pass runs at
    /// streaming speed.
    ///
    /// Returns false (having written nothing to `rows`) when the slopes are not consecutive.
    func reconstructConsecutive(rows: [UnsafeMutableRawPointer], missing: [Int], projections: [Projection]) -> Bool {
        let e = missing.count
        let sorted = projections.sorted { $0.slope < $1.slope }
        guard e > 0, sorted.count == e,
              zip(sorted, sorted.dropFirst()).allSatisfy({ $0.slope + 1 == $1.slope }) else { return false }
        let k = rowCount, length = linePixels, pixel = BlockGeometry.pixelSize
        let firstSlope = sorted[0].slope
        let present = (0..<k).filter { !missing.contains($0) }
        typealias Source = PixelKernels.ClippedSource

        /// Writes sum over `parts` (projection, extra shift) of z^shift (z^(-base) projection minus
        /// the present rows) at exponents `range` through `target` (pixel E at target + E * pixel).
        func residual(_ parts: [(projection: Projection, shift: Int)], into target: UnsafeMutableRawPointer, range: Range<Int>) {
            withUnsafeTemporaryAllocation(of: Source.self, capacity: parts.count * (present.count + 1)) { sources in
                var count = 0
                for (projection, extra) in parts {
                    // Exponent E of z^(-base) projection is bin E + base; of row r, column E - p r.
                    let base = shift(row: 0, slope: projection.slope)
                    sources[count] = Source(base: projection.bins + (base - extra) * pixel,
                                            lower: extra - base, upper: extra - base + binCount(slope: projection.slope))
                    count += 1
                    for row in present {
                        let offset = projection.slope * row + extra
                        sources[count] = Source(base: UnsafeRawPointer(rows[row]) - offset * pixel,
                                                lower: offset, upper: offset + length)
                        count += 1
                    }
                }
                PixelKernels.xorClipped(into: target, sources: UnsafeMutableBufferPointer(rebasing: sources[0..<count]), range: range)
            }
        }

        if e == 2 { return reconstructTwo(rows: rows, missing: missing, projections: projections) }
        if e == 1 {
            // One lost row r: column x is exponent x + p r of the residual; streamed into the row.
            let offset = firstSlope * missing[0]
            residual([(sorted[0], 0)], into: rows[missing[0]] - offset * pixel, range: offset..<offset + length)
            return true
        }

        // Polynomials live in buffers of `span` pixels; exponent E of polynomial j is at index
        // E + origin[j]. Shifting a polynomial by a power of z only changes its origin.
        let reach = (abs(firstSlope) + abs(sorted[e - 1].slope) + 2 * e + 2) * (k - 1)
        let span = length + 2 * reach
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: e * span * pixel, alignment: 64)
        defer { scratch.deallocate() }
        var origin = [Int](repeating: reach, count: e)
        var lower = [Int](repeating: 0, count: e)   // valid exponents [lower, upper)
        var upper = [Int](repeating: 0, count: e)
        func pointer(_ j: Int) -> UnsafeMutableRawPointer { scratch + (j * span + origin[j]) * pixel }
        func fits(_ j: Int, _ range: Range<Int>) -> Bool { origin[j] + range.lowerBound >= 0 && origin[j] + range.upperBound <= span }

        // b_0 is the residual of projection 0; the first Björck-Pereyra step (b_i ^= x_0 b_(i-1))
        // is folded in: b_i = residual_i ^ z^(r_0) residual_(i-1), one pass each.
        for j in 0..<e {
            let base = shift(row: 0, slope: sorted[j].slope)
            var range = -base..<binCount(slope: sorted[j].slope) - base
            var parts = [(projection: sorted[j], shift: 0)]
            if j > 0 {
                let before = shift(row: 0, slope: sorted[j - 1].slope)
                let shifted = missing[0] - before..<binCount(slope: sorted[j - 1].slope) - before + missing[0]
                range = min(range.lowerBound, shifted.lowerBound)..<max(range.upperBound, shifted.upperBound)
                parts.append((sorted[j - 1], missing[0]))
            }
            guard fits(j, range) else { return false }
            lower[j] = range.lowerBound
            upper[j] = range.upperBound
            residual(parts, into: pointer(j), range: range)
        }

        /// b_i ^= z^s b_j over the union of both ranges.
        func shiftedXor(_ i: Int, _ j: Int, shift s: Int) -> Bool {
            let range = min(lower[i], lower[j] + s)..<max(upper[i], upper[j] + s)
            guard fits(i, range) else { return false }
            withUnsafeTemporaryAllocation(of: Source.self, capacity: 2) { sources in
                sources[0] = Source(base: UnsafeRawPointer(pointer(i)), lower: lower[i], upper: upper[i])
                sources[1] = Source(base: UnsafeRawPointer(pointer(j)) - s * pixel, lower: lower[j] + s, upper: upper[j] + s)
                PixelKernels.xorClipped(into: pointer(i), sources: sources, range: range)
            }
            lower[i] = range.lowerBound
            upper[i] = range.upperBound
            return true
        }

        /// b_i = b_i / (z^m (1 + z^d)), d > 0, in place.
        func divide(_ i: Int, shiftDown m: Int, period d: Int) {
            origin[i] += m
            lower[i] -= m
            upper[i] -= m
            let count = max(0, upper[i] - lower[i] - d)
            let start = pointer(i) + lower[i] * pixel
            PixelKernels.prefixXor(from: UnsafeRawPointer(start), into: start, count: count, period: d)
            upper[i] = lower[i] + count
        }

        // Björck-Pereyra (Golub & Van Loan, algorithm 4.6.2) for V b = rhs with V[j][t] = x_t^j,
        // x_t = z^(r_t); step 0 of the first loop was done above.
        let last = e - 1
        for step in 1..<max(1, last) {
            for i in stride(from: last, to: step, by: -1) {
                guard shiftedXor(i, i - 1, shift: missing[step]) else { return false }
            }
        }
        for step in stride(from: last - 1, through: 1, by: -1) {
            for i in (step + 1)...last {
                // x_i - x_(i-step-1) = z^(r_(i-step-1)) (1 + z^(r_i - r_(i-step-1))).
                let low = missing[i - step - 1]
                divide(i, shiftDown: low, period: missing[i] - low)
            }
            for i in step..<last {
                guard shiftedXor(i, i + 1, shift: 0) else { return false }
            }
        }
        // The last step writes the rows: N_t = z^(P0 r_t) M_t, so row t, column x is exponent
        // x + P0 r_t. Exponents outside a row are zero for consistent fragments and are dropped.
        func rowPointer(_ t: Int) -> (base: UnsafeMutableRawPointer, range: Range<Int>) {
            let first = firstSlope * missing[t]
            return (rows[missing[t]] - first * pixel, first..<first + length)
        }
        for i in 1...last {
            let low = missing[i - 1]
            if i < last {
                divide(i, shiftDown: low, period: missing[i] - low)
                continue
            }
            // b_last / (z^low (1 + z^d)) straight into its row, starting where the row starts.
            let (row, window) = rowPointer(last)
            origin[last] += low
            lower[last] -= low
            upper[last] -= low
            let start = max(lower[last], window.lowerBound)
            let end = min(upper[last] - (missing[last] - low), window.upperBound)
            row.advanced(by: window.lowerBound * pixel)
                .initializeMemory(as: UInt8.self, repeating: 0, count: max(0, start - window.lowerBound) * pixel)
            if start < end {
                PixelKernels.prefixXor(from: UnsafeRawPointer(pointer(last) + start * pixel), into: row + start * pixel,
                                       count: end - start, period: missing[last] - low)
            }
            (row + max(start, end) * pixel)
                .initializeMemory(as: UInt8.self, repeating: 0, count: max(0, window.upperBound - max(start, end)) * pixel)
            origin[last] = 0
            lower[last] = window.lowerBound
            upper[last] = window.upperBound
        }
        // Row t = b_t ^ b_(t+1); b_last already sits in its row.
        for t in 0..<last {
            let (row, window) = rowPointer(t)
            let next: UnsafeRawPointer = t + 1 == last ? UnsafeRawPointer(rowPointer(last).base) : UnsafeRawPointer(pointer(t + 1))
            withUnsafeTemporaryAllocation(of: Source.self, capacity: 2) { sources in
                sources[0] = Source(base: UnsafeRawPointer(pointer(t)), lower: lower[t], upper: upper[t])
                sources[1] = Source(base: next, lower: lower[t + 1], upper: upper[t + 1])
                PixelKernels.xorClipped(into: row, sources: sources, range: window)
            }
        }
        return true
    }
}
