//! `mailscope serve` as a live tenant, for the live-mode test binaries: serve started on a state
//! directory of the test's, `mailscope run --target live` against the `live.toml` it wrote, and a
//! test playing the person at the browser.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use mailscope_mocks::directory::{ADELE_PASSWORD, MAIL_DAEMON_SECRET};

pub(crate) struct Serve {
    pub(crate) child: Child,
    pub(crate) state_dir: PathBuf,
}

impl Serve {
    pub(crate) fn start(test: &str, directory: Option<&str>) -> Self {
        Self::start_logging(test, directory, None)
    }

    pub(crate) fn start_args(test: &str, directory: Option<&str>, arguments: &[&str]) -> Self {
        Self::start_full(test, directory, None, arguments)
    }

    pub(crate) fn start_logging(test: &str, directory: Option<&str>, log: Option<&Path>) -> Self {
        Self::start_full(test, directory, log, &[])
    }

    /// Starts serve; with `log`, at `RUST_LOG=trace`, its standard error going to that file.
    #[expect(
        clippy::disallowed_methods,
        reason = "a synchronous test polls for another process's file; there is no runtime to block"
    )]
    pub(crate) fn start_full(
        test: &str,
        directory: Option<&str>,
        log: Option<&Path>,
        arguments: &[&str],
    ) -> Self {
        let state_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("live").join(test);
        let _ = std::fs::remove_dir_all(&state_dir);
        std::fs::create_dir_all(&state_dir).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_mailscope"));
        // Device-code polls at once: the live code path is the same, the 5 s waits are not.
        command
            .args(["serve", "--device-code-interval", "0", "--state-dir"])
            .arg(&state_dir)
            .args(arguments)
            .stdout(Stdio::null());
        if let Some(log) = log {
            command
                .env("RUST_LOG", "trace")
                .stderr(std::fs::File::create(log).unwrap());
        }
        if let Some(text) = directory {
            let file = state_dir.join("directory.toml");
            std::fs::write(&file, text).unwrap();
            command.arg("--directory").arg(file);
        }
        let child = command.spawn().unwrap();
        let started = Instant::now();
        while !state_dir.join("endpoints.json").exists() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "serve wrote no endpoints.json"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, state_dir }
    }

    pub(crate) fn run(&self, config: &str, paths: &[&str], extra: &[&str]) -> Output {
        self.run_with(config, paths, extra, &[])
    }

    pub(crate) fn run_with(
        &self,
        config: &str,
        paths: &[&str],
        extra: &[&str],
        environment: &[(&str, &str)],
    ) -> Output {
        Command::new(env!("CARGO_BIN_EXE_mailscope"))
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
            .args(["run", "--target", "live", "--live-config"])
            .arg(self.state_dir.join(config))
            .args(extra)
            .args(paths)
            .env("MAILSCOPE_CLIENT_SECRET", MAIL_DAEMON_SECRET)
            .env("MAILSCOPE_PASSWORD", ADELE_PASSWORD)
            .envs(environment.iter().copied())
            .output()
            .unwrap()
    }
}

/// Lines of `text` that show a secret: a signed JWT, a base64 SASL response, a refresh token or
/// code, or the simulation's password or client secret.
pub(crate) fn secrets_in(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|line| {
            line.contains(ADELE_PASSWORD)
                || line.contains(MAIL_DAEMON_SECRET)
                || line.contains("dXNlcj")
                || line
                    .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
                    .any(|word| {
                        (word.starts_with("eyJ") && word.matches('.').count() == 2)
                            || (word.starts_with("1.A") && word.len() > 20)
                    })
        })
        .collect()
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn stdout(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `live.toml` as serve wrote it, with `more` appended (more `[facts]`, or settings).
pub(crate) fn live_toml_with(serve: &Serve, name: &str, more: &str) -> String {
    let text = std::fs::read_to_string(serve.state_dir.join("live.toml")).unwrap();
    std::fs::write(serve.state_dir.join(name), format!("{text}\n{more}")).unwrap();
    name.to_owned()
}

/// `live.toml` as serve wrote it, for a person at a browser: the URL is printed and nothing is
/// followed, the sign-in waits `sign_in_timeout` seconds, no token cache; `facts` appended.
pub(crate) fn person_live_toml(serve: &Serve, name: &str, facts: &str) -> String {
    let text = std::fs::read_to_string(serve.state_dir.join("live.toml"))
        .unwrap()
        .replace(
            "browser = \"follow\"",
            "browser = \"print\"\nsign_in_timeout = 30",
        )
        .lines()
        .map(|line| {
            if line.starts_with("token_cache") {
                "token_cache = \"none\""
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(serve.state_dir.join(name), format!("{text}\n{facts}")).unwrap();
    name.to_owned()
}

/// A live run whose sign-in a test plays as a person: `person` gets the authorize URL mailscope
/// printed and the run's standard input.
pub(crate) fn run_with_person(
    serve: &Serve,
    config: &str,
    paths: &[&str],
    person: impl FnOnce(url::Url, &mut std::process::ChildStdin),
) -> Output {
    use std::io::BufRead as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
        .args(["run", "--target", "live", "--live-config"])
        .arg(serve.state_dir.join(config))
        .args(paths)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no authorize URL was printed: {seen}"
        );
        seen.push_str(&line);
        if let Some(start) = line.find("https://")
            && line.contains("/authorize?")
        {
            break url::Url::parse(line[start..].trim()).unwrap();
        }
    };
    person(url, &mut stdin);
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let mut output = child.wait_with_output().unwrap();
    output.stderr = format!("{seen}{rest}").into_bytes();
    output
}

/// Requests `url` as a browser would, without following: the response head and body.
pub(crate) fn browser_get(serve: &Serve, url: &str) -> String {
    let ca = serve.state_dir.join("ca.pem");
    let output = Command::new("curl")
        .args(["-sS", "-i", "--cacert"])
        .arg(&ca)
        .arg(url)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}
