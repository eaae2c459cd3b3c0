//! One module per subcommand: its arguments and what it does.

pub(crate) mod diagnose;
pub(crate) mod diff;
pub(crate) mod help;
pub(crate) mod report;
pub(crate) mod review;
pub(crate) mod run;
pub(crate) mod serve;
