/// The discrete geometry of a Mojette grid with q = 1 for every projection.
///
/// The grid is k rows (the data lines) of L pixels. Projection (p, 1) sums, in bin
/// b = x + p * r + base(p), the pixel of row r at column x, where base(p) = |p| * (k - 1) when p is
/// negative so that bins start at 0. It has B = L + |p| * (k - 1) bins (the paper's
/// B(k, l, p, q) = (k - 1)|q| + (l - 1)|p| + 1 with rows and columns named the other way round).
/// Sums are XORs, so a projection is the XOR of the k rows, row r shifted right by p * r + base(p).
struct MojetteGeometry: Sendable, Hashable {
    let rowCount: Int
    let linePixels: Int

    /// Bins in projection p.
    func binCount(slope p: Int) -> Int { linePixels + abs(p) * (rowCount - 1) }

    /// The bin that column 0 of `row` falls into in projection p.
    func shift(row: Int, slope p: Int) -> Int { p * row + (p < 0 ? -p * (rowCount - 1) : 0) }

    /// The systematic slopes for parity j: 0, 1, -1, 2, -2, ... (p around 0 keeps bins few).
    static func systematicSlope(parity j: Int) -> Int {
        j == 0 ? 0 : (j % 2 == 1 ? (j + 1) / 2 : -(j / 2))
    }

    /// RozoFS's slopes for the n projections of the classic code: p = i - floor(n / 2).
    static func classicSlope(fragment i: Int, fragmentCount n: Int) -> Int { i - n / 2 }
}
