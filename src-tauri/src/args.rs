//! The command line. Unknown flags print the usage and exit 2 (clap's usage-error code).

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "switchboard-desktop",
    version,
    about = "Switchboard: the control panel window and the gateway, in one desktop app"
)]
pub struct Args {
    /// Folder holding switchboard.db and gateway.json (default: the OS app-data folder).
    #[arg(long, value_name = "DIR", env = "SWITCHBOARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Also start the simulated providers and list them as `-sandbox` providers.
    #[arg(long)]
    pub sandbox: bool,
    /// Start in the tray without showing the window.
    #[arg(long)]
    pub hidden: bool,
}

pub fn parse() -> Args {
    Args::parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_flags() {
        let a = Args::try_parse_from([
            "switchboard-desktop",
            "--data-dir",
            "/tmp/x",
            "--sandbox",
            "--hidden",
        ])
        .expect("the documented flags were refused");
        assert_eq!(
            a.data_dir,
            Some(PathBuf::from("/tmp/x")),
            "--data-dir was not read"
        );
        assert!(a.sandbox && a.hidden, "--sandbox or --hidden was not read");
    }

    #[test]
    fn unknown_flags_are_a_usage_error() {
        let e = Args::try_parse_from(["switchboard-desktop", "--nope"])
            .expect_err("an unknown flag was accepted");
        assert_eq!(e.exit_code(), 2, "a usage error must exit 2");
    }
}
