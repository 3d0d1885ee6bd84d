import Foundation
import ZKRunbookEngine
import ZKRunbookJSON5

/// A command-line mistake: printed with the subcommand's usage line, exit 2.
public struct UsageError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var usage: String
    public var description: String {
        let command = usage.split(separator: " ").drop { $0 == "Usage:" }.prefix(2).joined(separator: " ")
        return "error: \(message)\n\(usage)\nTry '\(command) --help'."
    }
}

/// GNU-style arguments: `--name value`, `--name=value`, `--flag`, `-h`, and `--` to end options.
///
/// Hand-written because the agent takes no third-party packages; small because zkrunbook's options are few.
struct ParsedArguments {
    var positionals: [String] = []
    var values: [String: [String]] = [:]
    var flags: Set<String> = []

    /// `valueOptions` take a value; `flagOptions` do not. Anything else starting with '-' is an error.
    init(_ arguments: [String], valueOptions: Set<String>, flagOptions: Set<String>, usage: String) throws(UsageError) {
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositionals || !argument.hasPrefix("-") || argument == "-" {
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositionals = true
                continue
            }
            var name = argument
            var inlineValue: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            if name == "-h" { name = "--help" }
            if valueOptions.contains(name) {
                let isPath = Self.pathOptions.contains(name)
                func resolve(_ value: String) -> String { isPath ? Self.absolute(value) : value }
                if let inlineValue {
                    values[name, default: []].append(resolve(inlineValue))
                } else if index < arguments.count {
                    values[name, default: []].append(resolve(arguments[index]))
                    index += 1
                } else {
                    throw UsageError(message: "\(name) needs a value", usage: usage)
                }
            } else if flagOptions.contains(name) || name == "--help" {
                if inlineValue != nil { throw UsageError(message: "\(name) takes no value", usage: usage) }
                flags.insert(name)
            } else {
                let known = valueOptions.union(flagOptions).union(["--help"])
                let hint = ObjectReader.closest(to: name, among: known).map { "; did you mean \($0)?" } ?? ""
                throw UsageError(message: "unknown option \(name)\(hint)", usage: usage)
            }
        }
    }

    func value(_ name: String) -> String? { values[name]?.last }

    /// Options whose value is a file or folder: made absolute once, here, against the working directory,
    /// so a relative path means the same to a child process (a ZooKeeper JVM, an agent) started elsewhere.
    static let pathOptions: Set<String> = [
        "--dir", "--zoo-cfg", "--logs", "--log-dir", "--output", "--state-dir", "--binary", "--runbooks", "--prometheus", "--tls-ca", "--tls-cert",
        "--tls-key", "--tls-key-password-file", "--tls-pkcs12",
    ]

    static func absolute(_ path: String) -> String {
        guard !path.isEmpty, !path.hasPrefix("/"), path != "-" else { return path }
        let joined = (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (joined as NSString).standardizingPath
    }

    /// `--param k=v` pairs, split at the first '='.
    func parameters(usage: String) throws(UsageError) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        for pair in values["--param"] ?? [] {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw UsageError(message: "--param takes name=value, found '\(pair)'", usage: usage)
            }
            out.append((String(pair[..<equals]), String(pair[pair.index(after: equals)...])))
        }
        return out
    }
}
