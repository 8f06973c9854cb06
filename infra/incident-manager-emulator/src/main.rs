//! `incident-manager-emulator`: serves the emulator on a free loopback port,
//! announces the port through a file, stops cleanly on SIGTERM/SIGINT.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use incident_manager_emulator::{Config, RUNBOOK_RESOURCE, Runbook, check_target, serve_with_shutdown};
use tokio::net::TcpListener;

const USAGE: &str = "\
usage: incident-manager-emulator --port-file PATH [--host 127.0.0.1] [--port 0]
                                 [--account 111122223333] [--region us-east-1]
                                 [--event-target URL] [--runbook-target URL]
                                 [--runbook-template template.yaml] [--runbook-resource ResponderRunbook]
                                 [--quiet]

Binds HOST:PORT (port 0: a free port), writes the chosen port to PATH once
listening (written to PATH.tmp, then renamed), logs one line per request to
stderr (unless --quiet), exits on SIGTERM or SIGINT.
Targets default to $EMULATOR_EVENT_TARGET / $EMULATOR_RUNBOOK_TARGET, the
template to $EMULATOR_RUNBOOK_TEMPLATE. The runbook target receives the
template's runbook (resource --runbook-resource) rendered as SSM Automation
would; a runbook target needs a template, and a template that cannot be
rendered stops the emulator at start.";

#[derive(Debug)]
struct Args {
    port_file: PathBuf,
    host: String,
    port: u16,
    config: Config,
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let env_target = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut config = Config {
        event_target: env_target("EMULATOR_EVENT_TARGET"),
        runbook_target: env_target("EMULATOR_RUNBOOK_TARGET"),
        log_requests: true,
        ..Config::default()
    };
    let mut template = env_target("EMULATOR_RUNBOOK_TEMPLATE").map(PathBuf::from);
    let mut resource = RUNBOOK_RESOURCE.to_string();
    let mut port_file = None;
    let mut host = "127.0.0.1".to_string();
    let mut port = 0;
    while let Some(flag) = argv.next() {
        if flag == "--quiet" {
            config.log_requests = false;
            continue;
        }
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => {
                let v = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
                (flag, v)
            }
        };
        match name.as_str() {
            "--port-file" => port_file = Some(PathBuf::from(value)),
            "--host" => host = value,
            "--port" => port = value.parse().map_err(|e| format!("--port: {e}"))?,
            "--account" => {
                if value.len() != 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("--account must be 12 digits".to_string());
                }
                config.account = value;
            }
            "--region" => config.region = value,
            "--event-target" => config.event_target = Some(value).filter(|v| !v.is_empty()),
            "--runbook-target" => config.runbook_target = Some(value).filter(|v| !v.is_empty()),
            "--runbook-template" => {
                template = Some(PathBuf::from(value)).filter(|p| !p.as_os_str().is_empty())
            }
            "--runbook-resource" => resource = value,
            other => return Err(format!("unknown option {other}")),
        }
    }
    for target in [&config.event_target, &config.runbook_target]
        .into_iter()
        .flatten()
    {
        check_target(target)?;
    }
    if let Some(path) = &template {
        let runbook = Runbook::from_template(path, &resource)
            .map_err(|e| format!("the runbook cannot be rendered: {e}"))?;
        config.runbook = Some(runbook);
    } else if config.runbook_target.is_some() {
        return Err(
            "--runbook-target needs --runbook-template (the payload is the template's own runbook, rendered)"
                .to_string(),
        );
    }
    Ok(Args {
        port_file: port_file.ok_or("--port-file is required")?,
        host,
        port,
        config,
    })
}

/// Atomic for readers polling the file: they see no file or the whole port.
fn write_port_file(path: &PathBuf, port: u16) -> std::io::Result<()> {
    let mut tmp = path.clone().into_os_string();
    tmp.push(".tmp");
    std::fs::write(&tmp, format!("{port}\n"))?;
    std::fs::rename(&tmp, path)
}

/// Resolves on SIGTERM or SIGINT. Registered before the port is announced,
/// so a script that stops the emulator right after start still gets a
/// clean exit instead of the default signal death.
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
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("incident-manager-emulator: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let signalled = match shutdown_signal() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("incident-manager-emulator: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind((args.host.as_str(), args.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "incident-manager-emulator: cannot bind {}:{}: {e}",
                args.host, args.port
            );
            return ExitCode::FAILURE;
        }
    };
    let port = match listener.local_addr() {
        Ok(a) => a.port(),
        Err(e) => {
            eprintln!("incident-manager-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = write_port_file(&args.port_file, port) {
        eprintln!(
            "incident-manager-emulator: cannot write {}: {e}",
            args.port_file.display()
        );
        return ExitCode::FAILURE;
    }
    let c = &args.config;
    eprintln!(
        "incident-manager-emulator: listening on http://{}:{port} (account {}, region {}, event target {}, runbook target {}, runbook {})",
        args.host,
        c.account,
        c.region,
        c.event_target.as_deref().unwrap_or("off"),
        c.runbook_target.as_deref().unwrap_or("off"),
        c.runbook.as_ref().map_or("none".to_string(), Runbook::describe),
    );

    // Signal -> graceful shutdown; a connection that will not close cannot
    // hold the exit up for more than a few seconds.
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_with_shutdown(listener, args.config, async {
        let _ = rx.await;
    }));
    signalled.await;
    eprintln!("incident-manager-emulator: shutting down");
    let _ = tx.send(());
    match tokio::time::timeout(Duration::from_secs(5), server).await {
        Ok(Ok(Ok(()))) | Err(_) => ExitCode::SUCCESS,
        Ok(Ok(Err(e))) => {
            eprintln!("incident-manager-emulator: {e}");
            ExitCode::FAILURE
        }
        Ok(Err(e)) => {
            eprintln!("incident-manager-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse_args(s.split_whitespace().map(str::to_string))
    }

    #[test]
    fn parses_flags() {
        let a = args("--port-file /tmp/p --account 123456789012 --region eu-west-1 --event-target=http://127.0.0.1:1/e").unwrap();
        assert_eq!(a.port_file, PathBuf::from("/tmp/p"));
        assert_eq!(a.host, "127.0.0.1");
        assert_eq!(a.port, 0);
        assert_eq!(a.config.account, "123456789012");
        assert_eq!(a.config.region, "eu-west-1");
        assert_eq!(a.config.event_target.as_deref(), Some("http://127.0.0.1:1/e"));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(args("--host 127.0.0.1").is_err(), "port file required");
        assert!(args("--port-file p --account 12").is_err());
        assert!(args("--port-file p --runbook-target https://x/").is_err());
        assert!(args("--port-file p --bogus 1").is_err());
        assert!(args("--port-file").is_err());
    }

    const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");

    #[test]
    fn a_runbook_target_needs_a_template_that_renders() {
        let e = args("--port-file p --runbook-target http://127.0.0.1:1/r").unwrap_err();
        assert!(e.contains("--runbook-template"), "{e}");
        let a = args(&format!(
            "--port-file p --runbook-target http://127.0.0.1:1/r --runbook-template {TEMPLATE}"
        ))
        .unwrap();
        assert!(a.config.runbook.is_some());
        let e = args(&format!(
            "--port-file p --runbook-template {TEMPLATE} --runbook-resource RunbookRole"
        ))
        .unwrap_err();
        assert!(
            e.contains("RunbookRole") && e.contains("not AWS::SSM::Document"),
            "{e}"
        );
        let e = args("--port-file p --runbook-template /nonexistent/template.yaml").unwrap_err();
        assert!(e.contains("/nonexistent/template.yaml"), "{e}");
    }
}
