//! The command line that runs an app, per framework (being written).
