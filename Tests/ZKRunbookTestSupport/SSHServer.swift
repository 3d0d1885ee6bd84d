import ZKRunbookSandbox

/// The loopback sshd the tests reach sandbox nodes through (the benchmark starts the same one).
public typealias SSHServer = LoopbackSSHServer
