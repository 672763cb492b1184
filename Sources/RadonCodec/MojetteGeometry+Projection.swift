extension MojetteGeometry {
    /// Writes projection p of `rows` (k lines of L pixels) into `destination` (`binCount(slope: p)`
    /// pixels): bin b is the XOR of every pixel (r, x) with x + p * r + base(p) = b.
    ///
    /// The middle bins, where every row contributes, go through the wide k-way XOR kernel; the
    /// few bins at either end (|p| * (k - 1) of them) are summed pixel by pixel with bounds checks.
    func project(rows: [UnsafeRawPointer], slope p: Int, into destination: UnsafeMutableRawPointer) {
        let pixel = BlockGeometry.pixelSize
        let k = rowCount, length = linePixels, bins = binCount(slope: p)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: k) { shifts in
            for row in 0..<k { shifts[row] = shift(row: row, slope: p) }
            // Bins where all k rows have a pixel: [largest shift, smallest shift + L).
            let fullLower = p >= 0 ? shifts[k - 1] : shifts[0]
            let fullUpper = (p >= 0 ? shifts[0] : shifts[k - 1]) + length

            func sumWithBoundsChecks(_ range: Range<Int>) {
                for bin in range {
                    var sum = PixelKernels.Pixel()
                    for row in 0..<k {
                        let column = bin - shifts[row]
                        if column >= 0 && column < length { sum ^= PixelKernels.load(rows[row], column * pixel) }
                    }
                    PixelKernels.store(sum, destination, bin * pixel)
                }
            }

            guard fullLower < fullUpper else { return sumWithBoundsChecks(0..<bins) }
            sumWithBoundsChecks(0..<fullLower)
            sumWithBoundsChecks(fullUpper..<bins)
            withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: k) { sources in
                // Source r is row r moved so that offset (bin * pixel) reads its pixel in that bin.
                for row in 0..<k { sources[row] = rows[row] - shifts[row] * pixel }
                PixelKernels.xor(into: destination, sources: UnsafePointer(sources.baseAddress!), count: k,
                                 lower: fullLower * pixel, upper: fullUpper * pixel)
            }
        }
    }
}
