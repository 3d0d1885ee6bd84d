import Foundation
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// The diagnostics actions runbooks may use.
public enum DiagnosticsActions {
    public static let all: [any ActionKind] = [BundleAction.kind, ZxidWatchAction.kind]
}

/// `diagnostics-bundle`: collects this node's diagnostics into one .tar.gz (see `BundleCollector`).
struct BundleAction: ArgumentsDecodable {
    static let name = "diagnostics-bundle"
    static let summary = "collect 4lw replies, AdminServer JSON, redacted configs, logs in a window, data-dir listing and system facts into a .tar.gz"

    var zooCfg: Template
    var server: Template?
    var adminPort: Template?
    var logDirs: Template?
    var since: DurationSpec
    var output: Template
    var maxLogBytes: Template?
    var commandTimeout: DurationSpec
    var isReadOnly: Bool { false }
    static var defaults: [String: any ArgumentValue] {
        [
            "since": DurationSpec.literal(RunbookDuration(milliseconds: 86_400_000)),
            "commandTimeout": DurationSpec.literal(RunbookDuration(milliseconds: 10_000)),
        ]
    }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "bundle for \(zooCfg.display(resolver)) into \(output.display(resolver))/ (logs from \(logDirs?.display(resolver) ?? "-") "
                + "in the last \(since.resolve(resolver.parameters)?.description ?? since.description), at most \(maxLogBytes?.display(resolver) ?? "256 MiB") bytes)"
        ]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        func value(_ template: Template?) -> Result<String?, ActionOutcome> {
            guard let template else { return .success(nil) }
            return context.resolve(template).map { $0.isEmpty ? nil : $0 }
        }
        let resolved: (String, String, String?, String?, String?, String?)
        switch (context.resolve(zooCfg), context.resolve(output), value(server), value(adminPort), value(logDirs), value(maxLogBytes)) {
        case (.success(let a), .success(let b), .success(let c), .success(let d), .success(let e), .success(let f)): resolved = (a, b, c, d, e, f)
        case (.failure(let o), _, _, _, _, _), (_, .failure(let o), _, _, _, _), (_, _, .failure(let o), _, _, _), (_, _, _, .failure(let o), _, _),
            (_, _, _, _, .failure(let o), _), (_, _, _, _, _, .failure(let o)):
            return o
        }
        var endpoint: Endpoint?
        if let text = resolved.2 {
            guard let parsed = Endpoint(parsing: text, defaultPort: 2181) else {
                return .failure(cause: .invalidArgument, message: "server '\(text)' is not host:port")
            }
            endpoint = parsed
        }
        var options = BundleOptions(
            zooCfg: resolved.0, server: endpoint, adminPort: resolved.3.flatMap(Int.init),
            logDirectories: (resolved.4 ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
            since: since.resolve(context.resolver.parameters) ?? RunbookDuration(milliseconds: 86_400_000), outputDirectory: resolved.1,
            maxLogBytes: resolved.5.flatMap(Int64.init) ?? (256 << 20),
            commandTimeout: commandTimeout.resolve(context.resolver.parameters)?.seconds ?? 10)
        options.connector = context.options.services.serverConnector
        let showProgress = isatty(2) == 1
        do {
            let result = try BundleCollector(options: options, runner: context.runner).collect { index, total, name in
                if showProgress { StandardStream.error("\r\u{1B}[K  item \(index)/\(total): \(name)") }
            }
            if showProgress { StandardStream.error("\r\u{1B}[K") }
            var counts: [String: Int] = [:]
            for item in result.items { counts[item.status.rawValue, default: 0] += 1 }
            let summary = counts.sorted { $0.key < $1.key }.map { "\($1) \($0)" }.joined(separator: ", ")
            var facts: [String: FactValue] = [
                "archive": .string(result.archivePath), "checksumFile": .string(result.checksumPath), "items": .int(Int64(result.items.count)),
                "seconds": .double(result.seconds),
            ]
            for (status, count) in counts { facts["items." + status] = .int(Int64(count)) }
            return .success("wrote \(result.archivePath) (\(summary))", facts: facts)
        } catch {
            return .failure(cause: .ioError, message: "\(error)")
        }
    }
}
