import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-install`: changes the ZooKeeper release this node's server runs, by the ensemble file's mechanism: a
/// `current` link switched atomically to the release unpacked beside the others, or an install command with
/// `${version}`. What was there before is recorded first (`record`), so `back: true` (the upgrade's rollback)
/// puts exactly that back: the link's old target, or the command run for the version the server ran.
struct ZKInstallAction: ArgumentsDecodable {
    static let name = "zk-install"
    static let summary = "switch this node's ZooKeeper release (a link to a release side by side, or an install command), the way back recorded first"

    /// "link" or "command".
    var layout: Template
    var link: Template?
    /// Where each release is unpacked, with `${version}`.
    var versions: Template?
    /// The install command (an argv parameter or node field), with `${version}`.
    var command: Template?
    var version: Template
    /// The version the server ran before (its srvr release): what the command puts back.
    var previous: Template?
    /// The folder the way back is recorded in.
    var record: Template
    var back: Bool
    var isReadOnly: Bool { false }
    static var defaults: [String: any ArgumentValue] { ["back": false] }
    var yieldedFacts: FactNames? { FactNames(["changed", "from", "to"]) }

    struct Record: Codable {
        var layout: String
        /// The link's target before the change (link layout).
        var linkTarget: String?
        /// The release the server ran before (command layout).
        var version: String?
    }

    func describe(_ resolver: TemplateResolver) -> [String] {
        let wanted = version.display(resolver)
        if back { return ["put back the release recorded in \(record.display(resolver)) (the link's old target, or the install command for the old version)"] }
        switch layout.display(resolver) {
        case "link":
            return [
                "record where \(link?.display(resolver) ?? "the link") points, then switch it atomically to \(Self.filling(versions?.display(resolver) ?? "", wanted)) (refused if that release is not unpacked there)"
            ]
        case "command":
            return ["record the version running, then run: " + ShellQuoting.join(commandWords(resolver).map { Self.filling($0, wanted) })]
        default:
            return ["refused: the ensemble file gives no 'install' (link and versions, or command) for this node"]
        }
    }

    func commandWords(_ resolver: TemplateResolver) -> [String] {
        guard let command else { return [] }
        if let words = command.argvWords(resolver) { return words }
        // A node's install command reaches the agent as its JSON array text (empty for another layout).
        let text = command.display(resolver)
        return JSONText.stringArray(text) ?? (text.isEmpty ? [] : [text])
    }

    static func filling(_ text: String, _ version: String) -> String { text.replacingOccurrences(of: InstallMethod.versionMark, with: version) }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let folder = try context.resolved(record)
        let recordFile = folder + "/install.json"
        if back { return putBack(recordFile, context) }
        let wanted = try context.resolved(version)
        guard ZooKeeperVersion(wanted) != nil else {
            return .failure(cause: .invalidArgument, message: "version must be a release number like 3.9.3, found '\(wanted)'")
        }
        let mode = try context.resolved(layout)
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            return .failure(cause: .ioError, message: "cannot create \(folder): \(error.localizedDescription)")
        }
        switch mode {
        case "link":
            let linkPath = try context.resolved(link ?? .literal(""))
            let target = Self.filling(try context.resolved(versions ?? .literal("")), wanted)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), isDirectory.boolValue else {
                return ActionOutcome.refusal("release \(wanted) is not unpacked at \(target) on this node: unpack it there first")
            }
            guard let old = try? FileManager.default.destinationOfSymbolicLink(atPath: linkPath) else {
                return ActionOutcome.refusal("\(linkPath) is not a symbolic link on this node: the side-by-side layout needs the server to run from a link")
            }
            // Recorded once: a run resumed after the switch keeps the first record, the true way back.
            if !FileManager.default.fileExists(atPath: recordFile), let problem = write(Record(layout: "link", linkTarget: old), to: recordFile) {
                return .failure(cause: .ioError, message: problem)
            }
            if old == target { return .success("\(linkPath) already points at \(target)", facts: facts(false, old, target)) }
            if let problem = Self.switchLink(linkPath, to: target) { return .failure(cause: .ioError, message: problem) }
            return .success("\(linkPath) now points at \(target) (was \(old))", facts: facts(true, old, target))
        case "command":
            let before = try context.resolved(previous ?? .literal(""))
            guard ZooKeeperVersion(before) != nil else {
                return ActionOutcome.refusal("the version the server runs is not known ('\(before)'): the way back needs it before the install command runs")
            }
            if !FileManager.default.fileExists(atPath: recordFile), let problem = write(Record(layout: "command", version: before), to: recordFile) {
                return .failure(cause: .ioError, message: problem)
            }
            return runCommand(version: wanted, context)
        default:
            return ActionOutcome.refusal(
                "the ensemble file gives no 'install' for this node: add install: { link, versions } or install: { command } (see README, Upgrading ZooKeeper)")
        }
    }

    private func putBack(_ recordFile: String, _ context: ActionContext) -> ActionOutcome {
        guard let data = FileManager.default.contents(atPath: recordFile), let saved = try? JSONDecoder().decode(Record.self, from: data) else {
            return .success("nothing recorded in \(recordFile): the release was not changed", facts: facts(false, "", ""))
        }
        switch saved.layout {
        case "link":
            guard let linkPath = try? context.resolved(link ?? .literal("")), let old = saved.linkTarget else {
                return .failure(cause: .restoreFailed, message: "the record \(recordFile) names no link target")
            }
            let now = (try? FileManager.default.destinationOfSymbolicLink(atPath: linkPath)) ?? ""
            if now == old { return .success("\(linkPath) already points at \(old)", facts: facts(false, now, old)) }
            if let problem = Self.switchLink(linkPath, to: old) { return .failure(cause: .restoreFailed, message: problem) }
            return .success("\(linkPath) points at \(old) again (was \(now))", facts: facts(true, now, old))
        default:
            guard let old = saved.version else { return .failure(cause: .restoreFailed, message: "the record \(recordFile) names no version") }
            return runCommand(version: old, context)
        }
    }

    private func runCommand(version wanted: String, _ context: ActionContext) -> ActionOutcome {
        let argv = commandWords(context.resolver).map { Self.filling($0, wanted) }
        guard let program = argv.first, !program.isEmpty else { return ActionOutcome.refusal("no install command given") }
        let result = context.runner.run(
            CommandSpec(argv: argv, timeout: max(1, context.remainingSeconds), outputCap: 65536), cancellation: context.cancellation)
        guard result.exitStatus == 0 else {
            return .failure(
                cause: result.exitStatus == nil ? .signaled : .exitStatus,
                message: "\(ShellQuoting.join(argv)): \(result.termination.summary); "
                    + (result.stderr.lastLines(3) + result.stdout.lastLines(2)).joined(separator: " | "))
        }
        return .success("ran \(ShellQuoting.join(argv))", facts: facts(true, "", wanted))
    }

    /// Replaces the link in one rename: a server started at any moment finds the old release or the new one.
    static func switchLink(_ link: String, to target: String) -> String? {
        let temporary = link + ".zkrunbook-\(getpid())"
        unlink(temporary)
        guard symlink(target, temporary) == 0 else { return "cannot create \(temporary): \(String(cString: strerror(errno)))" }
        guard rename(temporary, link) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            return "cannot replace \(link): \(why)"
        }
        return nil
    }

    private func write(_ record: Record, to path: String) -> String? {
        do {
            try JSONEncoder().encode(record).write(to: URL(fileURLWithPath: path), options: .atomic)
            return nil
        } catch {
            return "cannot record the way back in \(path): \(error.localizedDescription)"
        }
    }

    private func facts(_ changed: Bool, _ from: String, _ to: String) -> [String: FactValue] {
        ["changed": .bool(changed), "from": .string(from), "to": .string(to)]
    }

}
