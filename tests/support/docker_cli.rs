//! The `docker` command line, for the tests and benchmarks that drive containers,
//! networks and kills themselves (`#[path = ".../support/docker_cli.rs"] mod docker_cli;`).

#![allow(dead_code)]

use std::process::Command;

/// `docker ARGS...`: its stdout, or a message with its stderr.
pub fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// [`docker`], panicking with its message on failure.
pub fn must(args: &[&str]) -> String {
    docker(args).unwrap_or_else(|e| panic!("{e}"))
}
