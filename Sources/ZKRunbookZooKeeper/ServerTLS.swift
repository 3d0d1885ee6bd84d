import Foundation

/// Which of an ensemble's ports speak TLS, and the credentials zkrunbook shows them: what an ensemble file's
/// `tls` block, the `--tls-*` flags and a conductor's request to a node's agent all come down to.
public struct ServerTLS: Sendable, Hashable {
    public var settings: TLSSettings
    /// The ports that speak TLS (secure client ports, an AdminServer over HTTPS); the others are plaintext.
    /// Empty: every port (`--server` with `--tls-*` flags names only TLS ports).
    public var ports: Set<Int>

    public init(settings: TLSSettings, ports: Set<Int> = []) { (self.settings, self.ports) = (settings, ports) }

    /// True when connections to `port` are made over TLS.
    public func covers(_ port: Int) -> Bool { ports.isEmpty || ports.contains(port) }

    /// The connector that speaks TLS to these ports and plaintext to the rest. Loads the files once (a
    /// missing key or a wrong password fails here, before any server is asked).
    public func connector() throws(ZooKeeperError) -> any ServerConnector {
        PortRoutedConnector(tls: try TLSConnector(settings), tlsPorts: self)
    }
}

/// TLS to the ports `tlsPorts` covers, plaintext elsewhere: an ensemble with a secure client port and an
/// AdminServer over HTTP is reached through one connector.
public struct PortRoutedConnector: ServerConnector {
    public let tls: TLSConnector
    let tlsPorts: ServerTLS
    let plaintext = PlaintextConnector()

    public var isPlaintext: Bool { false }

    public func usesTLS(for endpoint: Endpoint) -> Bool { tlsPorts.covers(endpoint.port) }

    public func peerCertificate(of endpoint: Endpoint) -> PeerCertificate? { tls.peerCertificate(of: endpoint) }

    public func connect(_ endpoint: Endpoint, timeout: Double) -> Result<any ServerConnection, ZooKeeperError> {
        tlsPorts.covers(endpoint.port) ? tls.connect(endpoint, timeout: timeout) : plaintext.connect(endpoint, timeout: timeout)
    }
}
