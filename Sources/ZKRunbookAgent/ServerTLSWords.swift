import ZKRunbookZooKeeper

/// `ServerTLS` as protocol words: what a conductor puts on a node agent's command line, and what the CLI
/// reads from an operator's `--tls-*` flags. The files are named, never read here: a password stays in its file.
extension ServerTLS {
    public var arguments: [String] {
        let files: [(AgentOption, String?)] = [
            (.tlsCA, settings.caFile), (.tlsCertificate, settings.certificateFile), (.tlsKey, settings.keyFile),
            (.tlsKeyPasswordFile, settings.keyPasswordFile), (.tlsPKCS12, settings.pkcs12File),
        ]
        var words = files.flatMap { option, path in path.map { [option.rawValue, $0] } ?? [] }
        words += ports.sorted().flatMap { [AgentOption.tlsPort.rawValue, String($0)] }
        if !settings.verifyHostname { words.append(AgentOption.tlsNoVerifyHostname.rawValue) }
        return words
    }

    /// The settings the `--tls-*` options give (`values`: each option's values; `flags`: the flags given);
    /// nil when none is given; a message when they do not make sense together.
    public static func parse(values: [String: [String]], flags: Set<String>) -> Result<ServerTLS?, TLSWordsError> {
        func value(_ option: AgentOption) -> String? { values[option.rawValue]?.last }
        let given = AgentOption.tlsValues.contains { values[$0.rawValue] != nil } || flags.contains(AgentOption.tlsNoVerifyHostname.rawValue)
        guard given else { return .success(nil) }
        var ports: Set<Int> = []
        for text in values[AgentOption.tlsPort.rawValue] ?? [] {
            guard let port = Int(text), (1...65535).contains(port) else { return .failure(TLSWordsError("--tls-port takes a port (1-65535), found '\(text)'")) }
            ports.insert(port)
        }
        if value(.tlsKey) != nil && value(.tlsCertificate) == nil { return .failure(TLSWordsError("--tls-key needs --tls-cert beside it")) }
        if value(.tlsCertificate) != nil && value(.tlsKey) == nil { return .failure(TLSWordsError("--tls-cert needs --tls-key beside it")) }
        if value(.tlsPKCS12) != nil && value(.tlsCertificate) != nil {
            return .failure(TLSWordsError("give --tls-pkcs12 or --tls-cert with --tls-key, not both"))
        }
        let settings = TLSSettings(
            caFile: value(.tlsCA), certificateFile: value(.tlsCertificate), keyFile: value(.tlsKey), keyPasswordFile: value(.tlsKeyPasswordFile),
            pkcs12File: value(.tlsPKCS12), verifyHostname: !flags.contains(AgentOption.tlsNoVerifyHostname.rawValue))
        return .success(ServerTLS(settings: settings, ports: ports))
    }
}

/// `--tls-*` options that do not go together, said as the usage error's message.
public struct TLSWordsError: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
