import Foundation
import ZKRunbookEngine

/// `zkrunbook --complete INDEX WORD...`: what the bash completion offers for the word at INDEX of the command
/// line, one candidate per line, from the tables the program runs on: the subcommands, each one's options as
/// its --help lists them (an option followed by a FILE, DIR or PATH placeholder completes a path), the verbs
/// in its arguments (`up|down|…`), runbook names from the lookup path, the `--param` names of the runbook
/// on the line, and run ids from the state directory. The line `__files__` asks the shell for paths.
enum CompletionCommand {
    static let files = "__files__"

    static func run(_ arguments: [String]) -> ExitCode {
        guard let index = arguments.first.flatMap(Int.init) else { return .usage }
        let words = Array(arguments.dropFirst())
        for candidate in candidates(words: words, index: index) { print(candidate) }
        return .success
    }

    /// An option and whether a value follows it, and of what kind, read from a --help line such as
    /// `  --ensemble FILE      an ensemble file`.
    struct Option: Equatable {
        var name: String
        var placeholder: String?
        var takesPath: Bool { placeholder.map { ["FILE", "DIR", "PATH", "FILE|-", "DIR|-"].contains($0) } ?? false }
    }

    /// `--` and lower-case letters, digits and dashes: not a wrapped line's `--zoo-cfg,` or a `--param=…`.
    static func isOptionName(_ name: String) -> Bool { name.dropFirst(2).allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" } }

    static func options(inHelp help: String) -> [Option] {
        var found: [Option] = []
        for line in help.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            // An option's own line starts with two spaces and its name; a wrapped description is indented further.
            guard let first = words.first, line.hasPrefix("  --") else { continue }
            let name = String(first.split(separator: "=").first ?? first)
            guard isOptionName(name) else { continue }
            let second = words.dropFirst().first.map(String.init)
            let placeholder = second.flatMap { $0.first?.isUppercase == true && $0.uppercased() == $0 ? $0 : nil }
            if !found.contains(where: { $0.name == name }) { found.append(Option(name: name, placeholder: placeholder)) }
        }
        // And those only the usage lines show, as `[--nodes 3]` or `[--wait]`.
        var rest = Substring(help)
        while let open = rest.range(of: "[--") {
            let inside = rest[open.upperBound...].prefix { $0 != "]" && $0 != "\n" }
            let parts = inside.split(separator: " ")
            if let head = parts.first {
                let name = "--" + head
                if isOptionName(name), !found.contains(where: { $0.name == name }) {
                    found.append(Option(name: name, placeholder: parts.count > 1 ? String(parts[1]) : nil))
                }
            }
            rest = rest[open.upperBound...]
        }
        return found
    }

    static func candidates(words: [String], index: Int) -> [String] {
        let current = index < words.count ? words[index] : ""
        func matching(_ list: [String]) -> [String] { list.filter { $0.hasPrefix(current) } }
        guard index >= 2, words.count >= 2 else { return matching(Subcommand.all.map(\.name) + ["--version", "--help"]) }
        guard let command = Subcommand.named(words[1]) else { return [] }
        let options = options(inHelp: command.helpText)
        let previous = words[index - 1]
        let before = Array(words[2..<index])
        func value(of option: String) -> String? { before.indices.last { before[$0] == option && $0 + 1 < before.count }.map { before[$0 + 1] } }
        if let option = options.first(where: { $0.name == previous }), option.placeholder != nil {
            if previous == "--param" { return matching(parameterNames(runbook: runbookOnLine(before, options: options)).map { $0 + "=" }) }
            return option.takesPath ? [files] : []
        }
        if current.hasPrefix("-") { return matching(options.map(\.name) + ["--help"]) }
        // The positional: a verb from the command's arguments, a runbook, or a run id.
        let positionals = positionalWords(before, options: options)
        if positionals.isEmpty {
            if command.arguments.contains("|") { return matching(command.arguments.split(separator: "|").map(String.init)) }
            if command.arguments == "RUNBOOK" { return matching(runbookNames()) }
            if command.arguments == "RUN-ID" {
                let layout = StateLayout.standard(explicit: value(of: "--state-dir"))
                return matching(RunHistory(layout: layout).list().map(\.runID))
            }
            if command.arguments.contains("PATH") { return [files] }
        }
        return []
    }

    /// The words that are not options or their values.
    static func positionalWords(_ words: [String], options: [Option]) -> [String] {
        var out: [String] = []
        var skipNext = false
        for word in words {
            if skipNext {
                skipNext = false
                continue
            }
            if word.hasPrefix("-") {
                skipNext = options.first { $0.name == word }?.placeholder != nil
                continue
            }
            out.append(word)
        }
        return out
    }

    static func runbookOnLine(_ words: [String], options: [Option]) -> String? { positionalWords(words, options: options).first }

    static func runbookNames() -> [String] {
        RunbookLocator.standard().all().map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
    }

    static func parameterNames(runbook: String?) -> [String] {
        guard let runbook, let path = try? RunbookLocator.standard().locate(runbook),
            let loaded = try? RunbookLoader(registry: CLI.registry).load(path: path)
        else { return [] }
        return loaded.parameters.map(\.name)
    }
}
