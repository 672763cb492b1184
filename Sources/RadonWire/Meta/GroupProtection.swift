/// How many more failures a placement group's blocks survive, from where its fragments are now.
///
/// A group's n positions each hold one fragment of every block; any k of them decode it. A
/// failure domain (a host: nodes sharing a host id fail together) that holds c positions takes
/// c fragments with it, so the worst next loss is the domain holding the most. The count is
/// exact for that worst case: `lossesSurvived` losses of the fullest domains, one after another,
/// still leave k fragments; one more would not.
///
/// Used by the metadata service to decide whether a position may go to a node that already
/// holds one of the group's fragments (no spare elsewhere), and by `status` to say how close to
/// unavailability each volume is.
public enum GroupProtection {
    /// Further failure-domain losses every block survives: 0 when the next loss could make some
    /// block unreadable, -1 when fewer than k fragments are reachable now.
    ///
    /// - Parameter holders: the failure domain holding each position's fragment, nil where that
    ///   fragment is not there now (its node is down or lost, or it is still being rebuilt).
    public static func lossesSurvived(k: Int, holders: [String?]) -> Int {
        var counts: [String: Int] = [:]
        for case let holder? in holders { counts[holder, default: 0] += 1 }
        var remaining = counts.values.reduce(0, +)
        guard remaining >= k else { return -1 }
        var survived = 0
        for count in counts.values.sorted(by: >) {
            remaining -= count
            guard remaining >= k else { break }
            survived += 1
        }
        return survived
    }

    /// Whether some failure domain holds more than one of the group's positions.
    public static func isDoubled(holders: [String?]) -> Bool {
        let present = holders.compactMap { $0 }
        return Set(present).count < present.count
    }
}
