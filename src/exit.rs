//! Process exit codes, defined in one place so scripts and installers can rely on them.
//!
//! Values follow BSD `sysexits.h` where one fits, so they mean the same thing to
//! an admin reading a service log as they do to other Unix tools.

/// Every exit code `stint` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    /// An unexpected failure not covered below.
    Failure = 1,
    /// The command line was malformed (clap also uses 2).
    Usage = 2,
    /// The request was understood and refused: a project the policy
    /// requires, a name no project has, no idle span to decide
    /// (EX_DATAERR).
    Refused = 65,
    /// A requested item (capture id, file) does not exist.
    NotFound = 66,
    /// `doctor` found a required capability missing on this machine.
    Unavailable = 69,
    /// The daemon accepted a request but did not answer in time (hung or
    /// stopped): EX_SOFTWARE, an internal error of the running stint.
    NoAnswer = 70,
    /// The local queue or data directory could not be read or written.
    Storage = 74,
    /// Another stint daemon already runs for this user session.
    AlreadyRunning = 75,
    /// The control channel belongs to another user.
    Denied = 77,
    /// A configuration file or value is invalid.
    Config = 78,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}
