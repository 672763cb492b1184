extension MojetteGeometry {
    /// Writes projection p of `rows` (k lines of L pixels) into `destination` (`binCount(slope: p)`
    /// pixels): bin b is the XOR of every pixel (r, x) with x + p * r + base(p) = b.
    func project(rows: [UnsafeRawPointer], slope p: Int, into destination: UnsafeMutableRawPointer) {
        rows.withUnsafeBufferPointer { rows in
            withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: 1) { destinations in
                destinations[0] = destination
                withUnsafeTemporaryAllocation(of: Int.self, capacity: 1) { slopes in
                    slopes[0] = p
                    project(rows: rows.baseAddress!, slopes: UnsafeBufferPointer(slopes), into: UnsafePointer(destinations.baseAddress!))
                }
            }
        }
    }

    /// Writes every projection in `slopes` at once, in column blocks: the k rows' pixels of a
    /// block are read from L2 (or memory) by the first projection and from L1 by the others,
    /// instead of streaming the whole block once per projection.
    ///
    /// The middle bins of each block, where every row contributes, go through the wide k-way XOR
    /// kernel; the few bins at either end (|p| * (k - 1) of them) are summed with bounds checks.
    func project(rows: UnsafePointer<UnsafeRawPointer>, slopes: UnsafeBufferPointer<Int>, into destinations: UnsafePointer<UnsafeMutableRawPointer>,
                 blockPixels: Int = projectionBlockPixels) {
        let pixel = BlockGeometry.pixelSize, count = slopes.count
        typealias Source = PixelKernels.ClippedSource
        withUnsafeTemporaryAllocation(of: Source.self, capacity: count * rowCount) { sources in
        withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: count * rowCount) { pointers in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * count) { full in
            var bins = 0
            for (j, p) in slopes.enumerated() {
                var lower = 0, upper = binCount(slope: p)
                bins = max(bins, upper)
                for row in 0..<rowCount {
                    // Row r covers bins [shift, shift + L); reading it at bin b means column b - shift.
                    let start = shift(row: row, slope: p)
                    sources[j * rowCount + row] = Source(base: rows[row] - start * pixel, lower: start, upper: start + linePixels)
                    pointers[j * rowCount + row] = rows[row] - start * pixel
                    lower = max(lower, start)
                    upper = min(upper, start + linePixels)
                }
                full[2 * j] = lower
                full[2 * j + 1] = max(lower, upper)
            }
            var blockStart = 0
            while blockStart < bins {
                let blockEnd = min(blockStart + blockPixels, bins)
                for (j, p) in slopes.enumerated() {
                    let end = min(blockEnd, binCount(slope: p))
                    guard blockStart < end else { continue }
                    if blockStart >= full[2 * j] && end <= full[2 * j + 1] {
                        PixelKernels.xor(into: destinations[j], sources: UnsafePointer(pointers.baseAddress! + j * rowCount), count: rowCount,
                                         lower: blockStart * pixel, upper: end * pixel)
                    } else {
                        PixelKernels.xorClipped(into: destinations[j], sources: UnsafeMutableBufferPointer(rebasing: sources[j * rowCount ..< (j + 1) * rowCount]),
                                                range: blockStart..<end)
                    }
                }
                blockStart = blockEnd
            }
        }
        }
        }
    }

    /// Bins per column block of the encoder: 64 pixels (2 KiB) of k = 8 rows and 4 projections
    /// stay in the 48 KiB L1.
    static let projectionBlockPixels = 64
}
