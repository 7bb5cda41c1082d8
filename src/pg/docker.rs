//! The docker backend: a PostgreSQL container started through `testcontainers`
//! (cargo feature `docker`; without it this backend says so). The container runs
//! with durability off and trust authentication. Without a reachable daemon: a clear
//! error, no panic.
//!
//! The image is `--image`, else `$HARNESS_DOCKER_IMAGE`, else [`DEFAULT_IMAGE`]. Where
//! no registry answers, `ci/docker/build-images.sh` builds `harness-pg:15` from
//! Debian's packages; its entry point behaves like the official image's.
//!
//! Every container carries the labels `harness.backend=docker`, `harness.run=<id>`
//! (one per start) and `harness.owner=<host>:<pid>:<start time>`. It is removed when
//! the last [`Server`] clone is dropped, at exit and on SIGINT/SIGTERM/SIGHUP (the
//! [`cleanup`](super::cleanup) registry; a start interrupted before the container
//! answered is covered too: removal goes by label through the daemon's API), and by
//! the next start on the same host after its owner was killed (`kill -9`).

use super::Server;
use crate::core::{Error, Result};

/// The image used when neither `--image` nor `$HARNESS_DOCKER_IMAGE` is given.
pub const DEFAULT_IMAGE: &str = "postgres:16-alpine";

/// The server command of the harness's PostgreSQL containers: durability off, as for
/// the embedded clusters, since their data is thrown away.
pub const SERVER_CMD: [&str; 7] = [
    "postgres",
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
];

/// The environment variable naming the default image.
pub const IMAGE_ENV: &str = "HARNESS_DOCKER_IMAGE";

/// The image to run: `image` (from `--image`), else `$HARNESS_DOCKER_IMAGE`, else
/// [`DEFAULT_IMAGE`].
pub fn image_or_default(image: Option<&str>) -> String {
    match image {
        Some(i) if !i.is_empty() => i.to_string(),
        _ => std::env::var(IMAGE_ENV)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_IMAGE.to_string()),
    }
}

/// Splits `NAME[:TAG]` (a registry port like `host:5000/pg` is not a tag).
pub fn split_image(image: &str) -> (String, String) {
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') && !name.is_empty() => (name.into(), tag.into()),
        _ => (image.into(), "latest".into()),
    }
}

#[cfg(not(feature = "docker"))]
pub fn start(_image: Option<&str>, _label: &str) -> Result<Server> {
    Err(Error::with(
        "The docker backend is not available:",
        "this harness was built without the `docker` cargo feature; rebuild with \
         `cargo build --features docker`, or use the embedded backend (the default) \
         or --pg-url URL",
    ))
}

/// Whether a Docker daemon answers; `Err(reason)` when it does not (or the feature
/// is off), for callers that skip rather than fail.
pub fn available() -> std::result::Result<(), String> {
    if !cfg!(feature = "docker") {
        return Err("built without the `docker` cargo feature".into());
    }
    daemon_answers()
}

/// The daemon's unix socket: `DOCKER_HOST=unix://...` or `/var/run/docker.sock`;
/// `None` for another kind of `DOCKER_HOST` (tcp://...), left to the client.
fn socket_path() -> Option<String> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    match host.strip_prefix("unix://") {
        Some(p) => Some(p.to_string()),
        None if host.is_empty() => Some("/var/run/docker.sock".to_string()),
        None => None,
    }
}

/// One request to the Engine API over its unix socket (HTTP/1.0: the daemon answers
/// unchunked and closes); returns the status code and the body. Used where the
/// async client cannot be (signal and exit hooks) and for the ping.
fn api(path: &str, method: &str, target: &str) -> std::result::Result<(u16, String), String> {
    use std::io::{Read, Write};
    let mut sock = std::os::unix::net::UnixStream::connect(path)
        .map_err(|e| format!("no Docker daemon answers at {path}: {e}"))?;
    let _ = sock.set_read_timeout(Some(std::time::Duration::from_secs(20)));
    sock.write_all(format!("{method} {target} HTTP/1.0\r\nHost: docker\r\n\r\n").as_bytes())
        .map_err(|e| format!("Docker daemon at {path}: {e}"))?;
    let mut reply = Vec::new();
    let _ = sock.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply);
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    let status = head
        .strip_prefix("HTTP/1.")
        .and_then(|r| r.get(2..5))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("the Docker daemon at {path} did not answer"))?;
    Ok((status, body.to_string()))
}

/// Probes the daemon socket without starting anything: a `GET /_ping` that must
/// answer 200.
fn daemon_answers() -> std::result::Result<(), String> {
    let Some(path) = socket_path() else {
        return Ok(()); // tcp:// and others: let the client find out
    };
    match api(&path, "GET", "/_ping")? {
        (200, _) => Ok(()),
        _ => Err(format!(
            "the Docker daemon at {path} did not answer its ping"
        )),
    }
}

/// `<host>:<pid>:<start time>` of this process: what the `harness.owner` label says,
/// so that a later run can tell whether the owner of a container is still alive
/// (a pid alone is reused).
#[cfg_attr(not(feature = "docker"), allow(dead_code))]
fn owner_label(pid: u32) -> Option<String> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(format!("{}:{pid}:{}", host.trim(), start_time(pid)?))
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count after it.
    let after = stat.rsplit_once(')')?.1;
    after.split_whitespace().nth(19)?.parse().ok()
}

/// `filters={"label":[...]}`, URL-encoded, for the Engine API.
fn label_filter(label: &str) -> String {
    let json = serde_json::json!({ "label": [label] }).to_string();
    let mut out = String::new();
    for b in json.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The ids and labels of the containers (running or not) that carry `label`.
fn labelled(path: &str, label: &str) -> Vec<(String, serde_json::Value)> {
    let target = format!("/containers/json?all=1&filters={}", label_filter(label));
    let Ok((200, body)) = api(path, "GET", &target) else {
        return Vec::new();
    };
    let list: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap_or_default();
    list.into_iter()
        .filter_map(|c| {
            let id = c.get("Id")?.as_str()?.to_string();
            Some((id, c.get("Labels").cloned().unwrap_or_default()))
        })
        .collect()
}

/// Force-removes every container that carries `label` (with its anonymous volumes).
pub fn remove_labelled(label: &str) -> usize {
    let Some(path) = socket_path() else { return 0 };
    let mut removed = 0;
    for (id, _) in labelled(&path, label) {
        if let Ok((204 | 404, _)) = api(&path, "DELETE", &format!("/containers/{id}?force=1&v=1")) {
            removed += 1;
        }
    }
    removed
}

/// Removes the containers of harness processes on this host that are gone (killed
/// before they could clean up): their `harness.owner` names a pid that is no longer
/// that process.
pub fn sweep_dead_owners() {
    let Some(path) = socket_path() else { return };
    let Some(host) = std::fs::read_to_string("/proc/sys/kernel/hostname").ok() else {
        return;
    };
    let host = host.trim();
    for (id, labels) in labelled(&path, "harness.backend=docker") {
        let Some(owner) = labels.get("harness.owner").and_then(|v| v.as_str()) else {
            continue;
        };
        let mut parts = owner.rsplitn(3, ':');
        let (Some(started), Some(pid), Some(owner_host)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if owner_host != host || start_time(pid).map(|t| t.to_string()).as_deref() == Some(started)
        {
            continue;
        }
        log::info!(target: "harness.pg", "removing container {} of a dead run ({owner})", &id[..12.min(id.len())]);
        let _ = api(&path, "DELETE", &format!("/containers/{id}?force=1&v=1"));
    }
}

#[cfg(feature = "docker")]
pub use with_feature::start;

#[cfg(feature = "docker")]
mod with_feature {
    use super::*;
    use crate::pg::cleanup::{self, Cleanup};
    use crate::pg::Backing;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    use testcontainers::core::{IntoContainerPort, WaitFor};
    use testcontainers::runners::SyncRunner;
    use testcontainers::{Container, GenericImage, ImageExt};

    /// Removes the containers of one start by label: registered with the cleanup
    /// hooks before the container exists, so that Ctrl-C during the start (or the
    /// process exiting without dropping its servers) leaves nothing behind.
    struct ByLabel {
        label: String,
    }

    impl Cleanup for ByLabel {
        fn cleanup(&self) {
            remove_labelled(&self.label);
        }
    }

    struct Running {
        image: String,
        container: Mutex<Option<Container<GenericImage>>>,
        _guard: Arc<dyn Cleanup>,
    }

    impl std::fmt::Debug for Running {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "container of {}", self.image)
        }
    }

    impl Backing for Running {
        fn describe(&self) -> String {
            let id = self
                .container
                .lock()
                .ok()
                .and_then(|c| c.as_ref().map(|c| c.id()[..12].to_string()))
                .unwrap_or_default();
            format!("docker container {id} of {}", self.image)
        }
        fn log_tail(&self, lines: usize) -> Option<String> {
            let guard = self.container.lock().ok()?;
            let bytes = guard.as_ref()?.stderr_to_vec().ok()?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let all: Vec<&str> = text.lines().collect();
            Some(all[all.len().saturating_sub(lines)..].join("\n"))
        }
    }

    /// Starts a container of `image` (default: see [`image_or_default`]).
    pub fn start(image: Option<&str>, label: &str) -> Result<Server> {
        let image = image_or_default(image);
        let fail = |why: String| {
            Error::with("Cannot start a PostgreSQL container:", why)
                .wrap_with("While starting the docker backend:", label)
        };
        super::daemon_answers().map_err(fail)?;
        sweep_dead_owners();
        static N: AtomicUsize = AtomicUsize::new(0);
        let pid = std::process::id();
        let run = format!(
            "{pid}-{}-{}",
            N.fetch_add(1, Ordering::SeqCst),
            start_time(pid).unwrap_or_default()
        );
        let guard: Arc<dyn Cleanup> = Arc::new(ByLabel {
            label: format!("harness.run={run}"),
        });
        cleanup::register(&guard);
        let (name, tag) = split_image(&image);
        let request = GenericImage::new(name, tag)
            .with_exposed_port(5432.tcp())
            .with_wait_for(WaitFor::message_on_stdout(
                "PostgreSQL init process complete",
            ))
            .with_wait_for(WaitFor::message_on_stderr("ready to accept connections"))
            .with_env_var("POSTGRES_HOST_AUTH_METHOD", "trust")
            .with_label("harness.backend", "docker")
            .with_label("harness.run", run.as_str())
            .with_label("harness.owner", owner_label(pid).unwrap_or_default())
            .with_cmd(SERVER_CMD.into_iter().chain(["-c", "max_connections=200"]))
            .with_startup_timeout(Duration::from_secs(120));
        // The client may panic deep inside on odd environments; a panic is not an answer.
        let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| request.start()))
            .map_err(|_| fail("the Docker client panicked".into()))
            .and_then(|r| r.map_err(|e| fail(e.to_string())));
        let started = match started {
            Ok(c) => c,
            Err(e) => {
                // A container that never became ready is not left behind.
                guard.cleanup();
                return Err(e);
            }
        };
        let address = started
            .get_host()
            .map_err(|e| e.to_string())
            .and_then(|host| {
                let port = started
                    .get_host_port_ipv4(5432.tcp())
                    .map_err(|e| e.to_string())?;
                Ok((host.to_string(), port))
            });
        let running = Arc::new(Running {
            image,
            container: Mutex::new(Some(started)),
            _guard: guard,
        });
        let (host, port) = address.map_err(fail)?;
        let mut config = postgres::Config::new();
        config
            .host(&host)
            .port(port)
            .user("postgres")
            .dbname("postgres");
        let server = Server::backed(config, running);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match server.connect("postgres") {
                Ok(_) => return Ok(server),
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_split_into_name_and_tag() {
        assert_eq!(
            split_image("postgres:16-alpine"),
            ("postgres".into(), "16-alpine".into())
        );
        assert_eq!(
            split_image("postgres"),
            ("postgres".into(), "latest".into())
        );
        assert_eq!(
            split_image("localhost:5000/pg"),
            ("localhost:5000/pg".into(), "latest".into())
        );
    }

    #[test]
    fn label_filters_are_url_encoded_json() {
        assert_eq!(
            label_filter("harness.run=1-0"),
            "%7B%22label%22%3A%5B%22harness.run%3D1-0%22%5D%7D"
        );
    }

    #[test]
    fn the_owner_label_names_this_process_and_its_start() {
        let pid = std::process::id();
        let label = owner_label(pid).unwrap();
        let started = start_time(pid).unwrap();
        assert!(label.ends_with(&format!(":{pid}:{started}")), "{label}");
    }
}
