import Foundation
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
        let plan = try TestbedPlan(storageHosts: 60, paths: 8, metas: 1, clients: 3, clientPaths: 8)
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

    @Test func aClientsSecondLinkIsOnItsOwnAddressAndCarriesTheSecondStoragePath() throws {
        let plan = try TestbedPlan(storageHosts: 6, paths: 2, clients: 2, clientPaths: 2)
        let client = try plan.host(named: "client1")
        #expect(client.addresses == ["10.214.100.3", "10.214.101.3"])
        #expect(client.links.map(\.namespaceInterface) == ["rbc1p0n", "rbc1p1n"])
        #expect(plan.clientPaths == 2)
        #expect(plan.routes(of: client) == [
            TestbedPlan.Route(destination: "10.214.10.0/24", interface: "rbc1p0n", source: "10.214.100.3"),
            TestbedPlan.Route(destination: "10.214.11.0/24", interface: "rbc1p1n", source: "10.214.101.3"),
        ])
        #expect(plan.routes(of: client)[1].arguments == ["route", "add", "10.214.11.0/24", "dev", "rbc1p1n", "src", "10.214.101.3"])
        // Storage hosts answer by their per-path tables, meta has one link: no routes of this kind.
        let storage = try plan.host(named: "storage0")
        let meta = try plan.host(named: "meta0")
        #expect(plan.routes(of: storage).isEmpty && plan.routes(of: meta).isEmpty)
        #expect(plan.clientLinkPlan.first == "client0 link 0 10.214.100.2 (rbc0p0n): storage 10.214.10.x and metadata")
    }

    @Test func fewerClientLinksThanStoragePathsTakeThePathsInTurn() throws {
        let plan = try TestbedPlan(storageHosts: 6, paths: 4, clients: 1, clientPaths: 2)
        let client = try plan.host(named: "client0")
        #expect(plan.routes(of: client).map(\.destination) == (10...13).map { "10.214.\($0).0/24" })
        #expect(plan.routes(of: client).map(\.interface) == ["rbc0p0n", "rbc0p1n", "rbc0p0n", "rbc0p1n"])
        #expect(plan.storagePaths(overClientLink: 1) == [1, 3])
        // One client link: it carries everything, with no route added.
        let single = try TestbedPlan(paths: 4, clients: 1)
        let onlyLink = try single.host(named: "client0")
        #expect(single.clientPaths == 1 && single.routes(of: onlyLink).isEmpty)
        #expect(single.storagePaths(overClientLink: 0) == [0, 1, 2, 3])
    }

    @Test func aPlanWithClientLinksRoundTripsThroughTheStateFile() throws {
        let plan = try TestbedPlan(paths: 2, clients: 2, clientPaths: 2)
        let decoded = try JSONDecoder().decode(TestbedPlan.self, from: JSONEncoder().encode(plan))
        #expect(decoded == plan && decoded.clientPaths == 2)
    }

    @Test func countsOutOfRangeAreRefused() {
        #expect(throws: CLIError.self) { try TestbedPlan(paths: 2, clientPaths: 3) }
        #expect(throws: CLIError.self) { try TestbedPlan(paths: 2, clientPaths: 0) }
        #expect(throws: CLIError.self) { try TestbedPlan(storageHosts: 0) }
        #expect(throws: CLIError.self) { try TestbedPlan(clients: 4) }
        #expect(throws: CLIError.self) { try TestbedPlan(metas: 3) }
        #expect(throws: CLIError.self) { try TestbedPlan(metas: 0) }
        #expect(throws: CLIError.self) { try TestbedPlan(paths: 9) }
        #expect(throws: CLIError.self) { try TestbedPlan().host(named: "storage9") }
    }
}
