import ServiceLifecycle

/// Writes a daemon's `--port-file` from inside its service group, after the group has trapped
/// SIGTERM and SIGINT: a launcher that reads the port file and at once sends SIGTERM then gets a
/// graceful shutdown, never the signal's default action. Lives until the group shuts down
/// (a service that returned would end the group).
struct PortFileService: Service {
    let path: String
    let address: String

    func run() async throws {
        try DaemonRuntime.writeAtomically(address, to: path)
        try? await gracefulShutdown()
    }
}
