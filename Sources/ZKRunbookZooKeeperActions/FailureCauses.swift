import ZKRunbookProcess

/// The failure causes of ZooKeeper work, beside the engine's own.
extension FailureCause {
    /// No member answers at all.
    public static let unreachable = FailureCause(rawValue: "unreachable")
    /// The members answer, but none leads.
    public static let noLeader = FailureCause(rawValue: "no-leader")
    /// Config files could not be copied aside before a rewrite.
    public static let backupFailed = FailureCause(rawValue: "backup-failed")
    /// The backup a restore or rewrite needs is not there.
    public static let backupMissing = FailureCause(rawValue: "backup-missing")
    /// A file was edited by hand since it was backed up: restoring it would lose that edit.
    public static let changedSinceBackup = FailureCause(rawValue: "changed-since-backup")
    /// Writing a backed-up file back failed.
    public static let restoreFailed = FailureCause(rawValue: "restore-failed")
    /// A file read back is not what was written.
    public static let verifyFailed = FailureCause(rawValue: "verify-failed")
    /// ZooKeeper refused a reconfig (NewConfigNoQuorum, ReconfigInProgress, ReconfigDisabled, a newer config).
    public static let reconfigRefused = FailureCause(rawValue: "reconfig-refused")
    /// A server's certificate could not be read over a TLS handshake (the handshake failed, or it did not answer).
    public static let certificateUnread = FailureCause(rawValue: "certificate-unread")
}
