//! `pagerduty-standin`: serves the PagerDuty stand-in on a loopback port,
//! announces the port through a file, stops cleanly on SIGTERM/SIGINT.
//! The token and the webhook secrets are never printed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use pagerduty_standin::{Config, WebhookConfig, check_target, serve_with_shutdown};
use tokio::net::TcpListener;

const USAGE: &str = "\
usage: pagerduty-standin [--port-file PATH] [--host 127.0.0.1] [--port 0]
                         [--token TOKEN] [--webhook-target URL]
                         [--webhook-secret SECRET] [--webhook-secret-next SECRET]
                         [--subscription-id ID] [--webhook-timeout SECS]
                         [--note-limit CHARS] [--quiet]

Binds HOST:PORT (port 0: a free port) and serves PagerDuty's REST calls
(services, priorities, incidents, notes) and /_standin/. Once listening it
writes the port to PATH (PATH.tmp, then renamed). Logs one line per request
to stderr unless --quiet. Exits on SIGTERM or SIGINT.
The token defaults to $PAGERDUTY_TOKEN, the target to
$PAGERDUTY_WEBHOOK_TARGET, the secrets to $PAGERDUTY_WEBHOOK_SECRET and
$PAGERDUTY_WEBHOOK_SECRET_NEXT (the environment keeps them out of `ps`).
A webhook target needs a secret: every delivery is signed, with one v1=
value per secret.";

#[derive(Debug)]
struct Args {
    port_file: Option<PathBuf>,
    host: String,
    port: u16,
    config: Config,
}

fn parse_args(
    mut argv: impl Iterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Args, String> {
    let env = |name: &str| env(name).filter(|v| !v.is_empty());
    let mut token = env("PAGERDUTY_TOKEN");
    let mut target = env("PAGERDUTY_WEBHOOK_TARGET");
    let mut secret = env("PAGERDUTY_WEBHOOK_SECRET");
    let mut secret_next = env("PAGERDUTY_WEBHOOK_SECRET_NEXT");
    let mut subscription = None;
    let mut timeout = None;
    let mut note_limit = pagerduty_standin::DEFAULT_NOTE_LIMIT;
    let mut log_requests = true;
    let mut port_file = None;
    let mut host = "127.0.0.1".to_string();
    let mut port = 0;
    while let Some(flag) = argv.next() {
        match flag.as_str() {
            "--quiet" => {
                log_requests = false;
                continue;
            }
            "-h" | "--help" => return Err(String::new()),
            _ => {}
        }
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => {
                let v = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
                (flag, v)
            }
        };
        let value = Some(value).filter(|v| !v.is_empty());
        match name.as_str() {
            "--port-file" => port_file = value.map(PathBuf::from),
            "--host" => host = value.ok_or("--host needs a value")?,
            "--port" => {
                port = value
                    .unwrap_or_default()
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "--token" => token = value,
            "--webhook-target" => target = value,
            "--webhook-secret" => secret = value,
            "--webhook-secret-next" => secret_next = value,
            "--subscription-id" => subscription = value,
            "--webhook-timeout" => {
                let secs: u64 = value
                    .unwrap_or_default()
                    .parse()
                    .map_err(|e| format!("--webhook-timeout: {e}"))?;
                timeout = Some(Duration::from_secs(secs.max(1)));
            }
            "--note-limit" => {
                note_limit = value
                    .unwrap_or_default()
                    .parse()
                    .map_err(|e| format!("--note-limit: {e}"))?;
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    let token = token.ok_or("a token is required: --token or $PAGERDUTY_TOKEN")?;
    let secrets: Vec<String> = secret.into_iter().chain(secret_next).collect();
    let webhook = match target {
        Some(t) => {
            check_target(&t)?;
            if secrets.is_empty() {
                return Err(
                    "--webhook-target needs --webhook-secret (or $PAGERDUTY_WEBHOOK_SECRET): PagerDuty signs every delivery"
                        .to_string(),
                );
            }
            let mut w = WebhookConfig::new(t, secrets);
            if let Some(s) = subscription {
                w.subscription_id = s;
            }
            if let Some(t) = timeout {
                w.timeout = t;
            }
            Some(w)
        }
        None if !secrets.is_empty() => {
            return Err("a webhook secret was given without --webhook-target".to_string());
        }
        None => None,
    };
    Ok(Args {
        port_file,
        host,
        port,
        config: Config {
            token,
            webhook,
            note_limit,
            log_requests,
        },
    })
}

/// Atomic for readers polling the file: they see no file or the whole port.
fn write_port_file(path: &PathBuf, port: u16) -> std::io::Result<()> {
    let mut tmp = path.clone().into_os_string();
    tmp.push(".tmp");
    std::fs::write(&tmp, format!("{port}\n"))?;
    std::fs::rename(&tmp, path)
}

/// Resolves on SIGTERM or SIGINT; registered before the port is announced.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1), |n| std::env::var(n).ok()) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("pagerduty-standin: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let signalled = match shutdown_signal() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pagerduty-standin: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind((args.host.as_str(), args.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("pagerduty-standin: cannot bind {}:{}: {e}", args.host, args.port);
            return ExitCode::FAILURE;
        }
    };
    let port = match listener.local_addr() {
        Ok(a) => a.port(),
        Err(e) => {
            eprintln!("pagerduty-standin: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.port_file
        && let Err(e) = write_port_file(path, port)
    {
        eprintln!("pagerduty-standin: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    let webhook = args.config.webhook.as_ref().map_or("off".to_string(), |w| {
        format!(
            "{} ({} secret(s), subscription {})",
            w.target,
            w.secrets.len(),
            w.subscription_id
        )
    });
    eprintln!(
        "pagerduty-standin: listening on http://{}:{port} (token set, webhook {webhook}, note limit {})",
        args.host, args.config.note_limit
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_with_shutdown(listener, args.config, async {
        let _ = rx.await;
    }));
    signalled.await;
    eprintln!("pagerduty-standin: shutting down");
    let _ = tx.send(());
    match tokio::time::timeout(Duration::from_secs(5), server).await {
        Ok(Ok(Ok(()))) | Err(_) => ExitCode::SUCCESS,
        Ok(Ok(Err(e))) => {
            eprintln!("pagerduty-standin: {e}");
            ExitCode::FAILURE
        }
        Ok(Err(e)) => {
            eprintln!("pagerduty-standin: server task failed: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str, env: &[(&str, &str)]) -> Result<Args, String> {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        parse_args(line.split_whitespace().map(String::from), move |n| {
            env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn token_and_secrets_come_from_flags_or_environment() {
        let a = args("--token t --webhook-target http://127.0.0.1:1/hooks/pagerduty --webhook-secret a --webhook-secret-next b", &[]).unwrap();
        let w = a.config.webhook.unwrap();
        assert_eq!(w.secrets, ["a", "b"]);
        assert_eq!(a.config.token, "t");
        let a = args(
            "--webhook-target=http://127.0.0.1:1/h",
            &[("PAGERDUTY_TOKEN", "envtok"), ("PAGERDUTY_WEBHOOK_SECRET", "s")],
        )
        .unwrap();
        assert_eq!(a.config.token, "envtok");
        assert_eq!(a.config.webhook.unwrap().secrets, ["s"]);
        // Debug output (and so any log of the config) hides both.
        let shown = format!("{:?}", args("--token t0ps3cret", &[]).unwrap());
        assert!(!shown.contains("t0ps3cret"), "{shown}");
    }

    #[test]
    fn refuses_what_cannot_work() {
        assert!(args("", &[]).unwrap_err().contains("token"));
        assert!(
            args("--token t --webhook-target http://x/h", &[])
                .unwrap_err()
                .contains("secret")
        );
        assert!(args("--token t --webhook-target https://x/h --webhook-secret s", &[]).is_err());
        assert!(args("--token t --webhook-secret s", &[]).is_err());
        assert!(args("--token t --bogus 1", &[]).unwrap_err().contains("--bogus"));
    }
}
