import Foundation

/// The write end of the self-pipe that the C signal handler writes the signal number into.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// Turns SIGINT and SIGTERM into a cancelled `CancellationToken` instead of an immediate death.
///
/// The default action would kill zkrunbook mid-step and leave a half-done change; trapping the signals lets
/// the engine stop the running step, roll back what it completed and write its journal before exiting 130.
/// The signals are *caught* by a handler that writes to a self-pipe, not ignored: an ignored disposition is
/// inherited across exec, and every child zkrunbook starts would then ignore the SIGTERM meant to stop it.
/// A second signal is reported through `onRepeat` (the CLI uses it to skip rollback on insistence).
public final class SignalTrap: @unchecked Sendable {
    private let readEnd: Int32
    private let lock = NSLock()
    private var count = 0

    public init(
        signals: [Int32] = [SIGINT, SIGTERM], token: CancellationToken,
        onRepeat: (@Sendable (Int32) -> Void)? = nil
    ) {
        var fds: [Int32] = [-1, -1]
        _ = pipe(&fds)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        readEnd = fds[0]
        signalPipeWriteEnd = fds[1]
        for signo in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signo in
                var byte = UInt8(truncatingIfNeeded: signo)
                _ = write(signalPipeWriteEnd, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signo, &action, nil)
        }
        let readEnd = self.readEnd
        let thread = Thread { [self] in
            var byte: UInt8 = 0
            while true {
                let got = read(readEnd, &byte, 1)
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { return }
                let signo = Int32(byte)
                self.lock.lock()
                self.count += 1
                let seen = self.count
                self.lock.unlock()
                if seen == 1 {
                    token.cancel(reason: "interrupted by \(SignalTrap.name(of: signo))")
                } else {
                    onRepeat?(signo)
                }
            }
        }
        thread.name = "zkrunbook.signals"
        thread.start()
    }

    static func name(of signo: Int32) -> String {
        switch signo {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(signo)"
        }
    }

    /// Makes writes to a closed pipe fail with EPIPE instead of killing zkrunbook, without the ignored
    /// disposition leaking into children (a `yes | head` in a step must still end the usual way).
    public static func deflectSIGPIPE() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGPIPE, &action, nil)
    }
}
