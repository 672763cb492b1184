import Foundation
@testable import RadonCLI
import Testing

/// Every metric the Grafana dashboard (docs/grafana/radonfs-dashboard.json) plots is one the
/// processes export with its own help text, so a renamed metric cannot leave a panel empty.
struct MetricHelpTests {
    @Test("the dashboard plots only documented metrics")
    func dashboardMetricsAreDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/grafana/radonfs-dashboard.json"), encoding: .utf8)
        let regex = try NSRegularExpression(pattern: "radonfs_[a-z_]+")
        var names = Set<String>()
        for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let range = Range(match.range, in: text) else { continue }
            var name = String(text[range])
            if name.hasSuffix("_bucket") { name.removeLast("_bucket".count) }
            names.insert(name)
        }
        #expect(names.count >= 15)
        let undocumented = names.filter { MetricHelp.texts[$0] == nil }
        #expect(undocumented.isEmpty, "plotted but not exported with help text: \(undocumented.sorted())")
    }
}
