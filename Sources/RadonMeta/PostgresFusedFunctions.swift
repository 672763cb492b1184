import Logging
import Synchronization

/// The functions an engine runs its write runs through (`PostgresWriteRun`): which exist in the
/// database, which are being made, which could not be.
///
/// A run whose function is not ready is sent statement by statement, as before, and its
/// function is made meanwhile by the installer (on a connection of its own, in autocommit, so
/// a definition PostgreSQL refuses never touches a client's transaction). A making that failed
/// for another reason than the definition (no primary during a failover) is forgotten, and
/// tried again at the next need. Only the active server writes, so only it makes functions;
/// `CREATE OR REPLACE` makes a second making harmless.
///
/// Invariant: a name is `ready` only after its definition committed; a call that PostgreSQL
/// answers with a class-42 error (undefined function, wrong type: a definition that does not fit
/// its statements) marks it `refused`, and its runs go statement by statement from then on. A
/// run that cannot be written as a function (over `PostgresWriteRun.maximumParameters`
/// arguments) is `refused` at once, without a word.
final class PostgresFusedFunctions: Sendable {
    enum State: Sendable, Equatable {
        case making
        case ready
        case refused
    }

    /// What came of running a definition.
    enum Installation: Sendable {
        /// Committed: the function can be called.
        case made
        /// PostgreSQL refused the definition itself (or this role may not create functions):
        /// asking again would get the same answer.
        case refused
        /// Anything else (no primary reachable, during a failover): asked again at next need.
        case failed
    }

    typealias Installer = @Sendable (_ definition: String) async -> Installation

    private let states = Mutex<[String: State]>([:])
    /// Runs a definition and says what came of it; set once by the engine that owns this.
    private let installer = Mutex<Installer?>(nil)
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// Sets how definitions are run (the engine, once it exists).
    func install(with installer: @escaping Installer) {
        self.installer.withLock { $0 = installer }
    }

    /// Whether `run` can be sent as its function's call now. When its function was never asked
    /// for, starts making it and answers false: this run goes statement by statement.
    func isReady(_ run: PostgresWriteRun) -> Bool {
        let name = run.functionName
        let (state, starts) = states.withLock { states -> (State?, Bool) in
            if let state = states[name] { return (state, false) }
            states[name] = .making
            return (nil, true)
        }
        if starts {
            guard let definition = run.definition, let install = installer.withLock({ $0 }) else {
                states.withLock { $0[name] = .refused }
                return false
            }
            Task {
                let installation = await install(definition)
                self.states.withLock { states in
                    switch installation {
                    case .made: states[name] = .ready
                    case .refused: states[name] = .refused
                    case .failed: states[name] = nil
                    }
                }
            }
        }
        return state == .ready
    }

    /// Stops sending runs through `name`: PostgreSQL refused a call of it.
    func refuse(_ name: String, because problem: String) {
        let first = states.withLock { states -> Bool in
            defer { states[name] = .refused }
            return states[name] != .refused
        }
        if first {
            logger.warning("a fused write function was refused; its statements go one by one", metadata: [
                "function": "\(name)", "error": "\(problem)",
            ])
        }
    }
}
