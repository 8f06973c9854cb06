//! Plans as code (SPEC §10 "plans as code", §12): `support-plans lint` over
//! 1,000 plan files, the command as a user runs it (process start to exit),
//! against its bar of 1 s. The files are the sample AWS plan under 1,000 ids,
//! half YAML and half JSON, in the layout `export` writes.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

/// Writes `n` plan files under `dir/plans/`, from `sample` (a plan body).
pub fn write_plans(dir: &Path, sample: &Value, n: usize) -> Result<(), String> {
    let plans = dir.join("plans");
    std::fs::create_dir_all(&plans).map_err(|e| format!("{}: {e}", plans.display()))?;
    for i in 0..n {
        let mut body = sample.clone();
        let id = format!("bench-plan-{i:04}");
        body["id"] = json!(id);
        let (text, ext) = if i % 2 == 0 {
            (serde_yaml::to_string(&body).map_err(|e| e.to_string())?, "yaml")
        } else {
            (
                serde_json::to_string_pretty(&body).map_err(|e| e.to_string())?,
                "json",
            )
        };
        let path = plans.join(format!("{id}.{ext}"));
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// `bin lint dir` run `runs` times: each run's wall time in ms. Fails unless
/// every run lints clean (exit 0): a failed run is not a figure.
pub fn time_lint(bin: &Path, dir: &Path, runs: usize) -> Result<Vec<f64>, String> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new(bin)
            .arg("lint")
            .arg(dir)
            .output()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
        if !out.status.success() {
            return Err(format!(
                "{} lint {} exited {:?}: {}",
                bin.display(),
                dir.display(),
                out.status.code(),
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .next()
                    .unwrap_or_default()
            ));
        }
    }
    Ok(times)
}
