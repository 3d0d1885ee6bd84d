import Foundation
import ZKRunbookProcess

#if canImport(Glibc)
    import Glibc
#endif

/// `zkrunbook relay`, on a node: runs the commands a conductor sends over its ssh session's stdin (several
/// at once), each with the same hygiene as a local command (`LocalCommandRunner`: its own process group,
/// both pipes drained, SIGTERM then SIGKILL on timeout), and writes their lines and endings to stdout.
///
/// When stdin closes — the conductor is gone, or its connection dropped — every command still running is
/// cancelled as the conductor would have: its held stdin closed first (an agent then stops on its own), then
/// SIGTERM after its grace. The relay exits once every command has ended.
public enum CommandRelay {
    /// The word after the agent's path that starts the relay.
    public static let word = "relay"

    /// Serves until `input` closes; returns the exit status (0).
    public static func serve(input: Int32 = STDIN_FILENO, output: FileHandle = .standardOutput, version: String) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let writer = NSLock()
        @Sendable func send(_ reply: RelayReply) {
            writer.lock()
            defer { writer.unlock() }
            output.writeAllIgnoringErrors(RelayWire.encode(reply))
        }
        let running = Tokens()
        let everyone = DispatchGroup()
        send(RelayReply(id: 0, kind: .ready, version: version))
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        reading: while true {
            let count = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break reading }
            buffer.append(contentsOf: chunk[0..<count])
            for line in RelayWire.lines(&buffer) {
                guard let request = try? JSONDecoder().decode(RelayRequest.self, from: line) else { continue }
                switch request.kind {
                case .cancel:
                    running.token(request.id)?.cancel(reason: request.reason ?? "cancelled by the conductor")
                case .run:
                    guard var spec = request.spec else { continue }
                    let token = CancellationToken()
                    running.set(request.id, token)
                    if request.streamLines == true {
                        spec.onStandardOutputLine = OutputLineHandler { send(RelayReply(id: request.id, kind: .line, line: $0)) }
                    }
                    everyone.enter()
                    let command = spec
                    Thread.detachNewThread {
                        let result = LocalCommandRunner().run(command, cancellation: token)
                        running.set(request.id, nil)
                        send(RelayReply(id: request.id, kind: .finished, result: RelayResult(result)))
                        everyone.leave()
                    }
                }
            }
        }
        for token in running.all { token.cancel(reason: "the conductor's connection closed") }
        everyone.wait()
        return 0
    }
}

/// The relay's commands still running, by id, behind a lock (read by the reader, cleared by each command's thread).
private final class Tokens: @unchecked Sendable {
    private let lock = NSLock()
    private var tokens: [Int: CancellationToken] = [:]

    func token(_ id: Int) -> CancellationToken? { lock.withLock { tokens[id] } }
    func set(_ id: Int, _ token: CancellationToken?) { lock.withLock { tokens[id] = token } }
    var all: [CancellationToken] { lock.withLock { Array(tokens.values) } }
}
