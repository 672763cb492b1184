extension MojetteGeometry {
    /// Writes projection p of `rows` (k lines of L pixels) into `destination` (`binCount(slope: p)`
    /// pixels): bin b is the XOR of every pixel (r, x) with x + p * r + base(p) = b.
    ///
    /// The middle bins, where every row contributes, go through the wide k-way XOR kernel; the
    /// few bins at either end (|p| * (k - 1) of them) are summed pixel by pixel with bounds checks.
    func project(rows: [UnsafeRawPointer], slope p: Int, into destination: UnsafeMutableRawPointer) {
        let pixel = BlockGeometry.pixelSize
        withUnsafeTemporaryAllocation(of: PixelKernels.ClippedSource.self, capacity: rowCount) { sources in
            for row in 0..<rowCount {
                // Row r covers bins [shift, shift + L); reading it at bin b means column b - shift.
                let start = shift(row: row, slope: p)
                sources[row] = PixelKernels.ClippedSource(base: rows[row] - start * pixel, lower: start, upper: start + linePixels)
            }
            PixelKernels.xorClipped(into: destination, sources: sources, range: 0..<binCount(slope: p))
        }
    }
}
