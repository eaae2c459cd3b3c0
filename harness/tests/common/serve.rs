//! `mailscope serve` run for a test, and mail clients nobody here wrote run against it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The simulated user.
pub(crate) const USER: &str = "adele@contoso.onmicrosoft.com";

/// A running `mailscope serve`, stopped when dropped.
pub(crate) struct Serve {
    pub(crate) child: Child,
    pub(crate) state_dir: PathBuf,
    pub(crate) endpoints: serde_json::Value,
}

impl Serve {
    pub(crate) fn start(test: &str) -> Self {
        Self::start_args(test, None, &[])
    }

    /// Starts serve with a directory file holding `directory` (the [tenant], [app], [user] tables).
    pub(crate) fn start_with(test: &str, directory: Option<&str>) -> Self {
        Self::start_args(test, directory, &[])
    }

    /// Starts serve with a directory file and more arguments, in a state directory of `test`'s.
    #[expect(
        clippy::disallowed_methods,
        reason = "a synchronous test polls for another process's file; there is no runtime to block"
    )]
    pub(crate) fn start_args(test: &str, directory: Option<&str>, arguments: &[&str]) -> Self {
        let state_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop").join(test);
        let _ = std::fs::remove_dir_all(&state_dir);
        let mut command = Command::new(env!("CARGO_BIN_EXE_mailscope"));
        command
            .args(["serve", "--state-dir"])
            .arg(&state_dir)
            .args(arguments);
        if let Some(directory) = directory {
            let file = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join("interop")
                .join(format!("{test}-directory.toml"));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, directory).unwrap();
            command.arg("--directory").arg(file);
        }
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let endpoints_file = state_dir.join("endpoints.json");
        let started = Instant::now();
        while !endpoints_file.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "serve wrote no endpoints.json in 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let endpoints = serde_json::from_slice(&std::fs::read(&endpoints_file).unwrap()).unwrap();
        Self {
            child,
            state_dir,
            endpoints,
        }
    }

    pub(crate) fn port(&self, protocol: &str) -> String {
        let address = self.endpoints[protocol].as_str().unwrap();
        address.rsplit_once(':').unwrap().1.to_owned()
    }

    pub(crate) fn ca_file(&self) -> String {
        self.endpoints["ca_file"].as_str().unwrap().to_owned()
    }

    /// A token for `scopes` (space-separated), by the authorization code flow.
    pub(crate) fn token(&self, scopes: &str) -> String {
        self.token_with(scopes, &[])
    }

    /// A token for `scopes` (space-separated), with more arguments for `mailscope token`.
    pub(crate) fn token_with(&self, scopes: &str, arguments: &[&str]) -> String {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mailscope"));
        command
            .args(["token", "--state-dir"])
            .arg(&self.state_dir)
            .args(arguments);
        for scope in scopes.split(' ') {
            command.args(["--scope", scope]);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a client; a missing client is a broken test machine, never a pass.
pub(crate) fn client(program: &str, args: &[&str], stdin: Option<&str>) -> Output {
    run(Command::new(program).args(args), program, stdin)
}

/// Runs a prepared client command (see [`client`]).
pub(crate) fn run(command: &mut Command, program: &str, stdin: Option<&str>) -> Output {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap_or_else(|error| {
        panic!("{program} is not installed ({error}); `make prerequisites` installs it")
    });
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

pub(crate) fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
