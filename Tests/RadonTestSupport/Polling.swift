/// Polls `condition` every `interval` until it returns true, or fails after `timeout` naming
/// `what`. A cluster converges (nodes up, rebuilds done) in its own time; a test waits for the
/// state it needs instead of sleeping a guessed duration. An error thrown by `condition`
/// counts as "not yet" (the service may be restarting).
public func poll(
    _ what: String, timeout: Duration, interval: Duration = .milliseconds(250), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: interval)
    }
    throw TestFailure("timed out waiting for \(what)")
}
