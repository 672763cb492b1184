@testable import RadonCLI
import Testing

/// The test bed's address plan: roles apart, every address in 10.214.0.0/16 and unique, every
/// interface name unique and short enough for Linux, bad counts refused with a clear error.
struct TestbedPlanTests {
    @Test func thePapersBedHasSixStorageHostsAMetaHostAndClients() throws {
        let plan = try TestbedPlan(storageHosts: 6, paths: 1, metas: 1, clients: 3)
        #expect(plan.hosts(.storage).map(\.name) == (0..<6).map { "storage\($0)" })
        #expect(plan.hosts(.meta).map(\.addresses) == [["10.214.1.2"]])
        #expect(plan.hosts(.storage).map { $0.addresses[0] } == (2...7).map { "10.214.10.\($0)" })
        #expect(plan.hosts(.client).map { $0.addresses[0] } == ["10.214.100.2", "10.214.100.3", "10.214.100.4"])
        #expect(try plan.host(named: "client2").namespace == "radonbed-client2")
    }

    @Test func addressesAndInterfaceNamesAreUniqueAndFitLinux() throws {
        let plan = try TestbedPlan(storageHosts: 60, paths: 8, metas: 1, clients: 3)
        let links = plan.hosts.flatMap(\.links)
        #expect(Set(links.map(\.address)).count == links.count)
        let names = links.flatMap { [$0.hostInterface, $0.namespaceInterface] }
        #expect(Set(names).count == names.count)
        #expect(names.allSatisfy { $0.count <= 15 && TestbedPlan.isBedInterface($0) })
        #expect(!TestbedPlan.isBedInterface("rbx0") && !TestbedPlan.isBedInterface("eth0") && !TestbedPlan.isBedInterface("rfh12345"))
        for address in links.map(\.address) + [TestbedPlan.bridgeAddress] {
            let bytes = address.split(separator: ".").compactMap { Int($0) }
            #expect(bytes.count == 4 && bytes[0] == 10 && bytes[1] == 214 && bytes.allSatisfy { (0...255).contains($0) }, "\(address)")
            #expect((1...254).contains(bytes[3]), "\(address) is not a host address")
        }
    }

    @Test func aSecondPathOfAStorageHostIsOnItsOwnAddress() throws {
        let host = try TestbedPlan(storageHosts: 6, paths: 2, clients: 1).host(named: "storage3")
        #expect(host.addresses == ["10.214.10.5", "10.214.11.5"])
        #expect(host.links.map(\.namespaceInterface) == ["rbs3p0n", "rbs3p1n"])
    }

    @Test func twoMetadataHostsAreMeta0AndMeta1OnTheirOwnAddresses() throws {
        let plan = try TestbedPlan(storageHosts: 3, metas: 2, clients: 1)
        #expect(plan.hosts(.meta).map(\.name) == ["meta0", "meta1"])
        #expect(plan.hosts(.meta).map(\.addresses) == [["10.214.1.2"], ["10.214.1.3"]])
        #expect(plan.hosts(.meta).map(\.namespace) == ["radonbed-meta0", "radonbed-meta1"])
    }

    @Test func countsOutOfRangeAreRefused() {
        #expect(throws: CLIError.self) { try TestbedPlan(storageHosts: 0) }
        #expect(throws: CLIError.self) { try TestbedPlan(clients: 4) }
        #expect(throws: CLIError.self) { try TestbedPlan(metas: 3) }
        #expect(throws: CLIError.self) { try TestbedPlan(metas: 0) }
        #expect(throws: CLIError.self) { try TestbedPlan(paths: 9) }
        #expect(throws: CLIError.self) { try TestbedPlan().host(named: "storage9") }
    }
}
