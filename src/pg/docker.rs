//! The docker backend: a PostgreSQL container started through `testcontainers`
//! (cargo feature `docker`; without it this backend says so). The container runs
//! with durability off and trust authentication and is removed when the last
//! [`Server`] clone is dropped. Without a reachable daemon: a clear error, no panic.

use super::Server;
use crate::core::{Error, Result};

/// The image used when `--image` is not given.
pub const DEFAULT_IMAGE: &str = "postgres:16-alpine";

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

/// Probes the daemon socket without starting anything: `DOCKER_HOST=unix://...` or
/// `/var/run/docker.sock`, a `GET /_ping` that must answer `OK`.
fn daemon_answers() -> std::result::Result<(), String> {
    use std::io::{Read, Write};
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let path = match host.strip_prefix("unix://") {
        Some(p) => p.to_string(),
        None if host.is_empty() => "/var/run/docker.sock".to_string(),
        None => return Ok(()), // tcp:// and others: let the client find out
    };
    let mut sock = std::os::unix::net::UnixStream::connect(&path)
        .map_err(|e| format!("no Docker daemon answers at {path}: {e}"))?;
    let _ = sock.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    sock.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .map_err(|e| format!("Docker daemon at {path}: {e}"))?;
    let mut reply = String::new();
    let _ = sock.read_to_string(&mut reply);
    if reply.starts_with("HTTP/1.") && reply.contains(" 200 ") {
        Ok(())
    } else {
        Err(format!(
            "the Docker daemon at {path} did not answer its ping"
        ))
    }
}

#[cfg(feature = "docker")]
pub use with_feature::start;

#[cfg(feature = "docker")]
mod with_feature {
    use super::*;
    use crate::pg::Backing;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    use testcontainers::core::{IntoContainerPort, WaitFor};
    use testcontainers::runners::SyncRunner;
    use testcontainers::{Container, GenericImage, ImageExt};

    struct Running {
        image: String,
        container: Mutex<Option<Container<GenericImage>>>,
    }

    impl std::fmt::Debug for Running {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "container of {}", self.image)
        }
    }

    impl Backing for Running {
        fn describe(&self) -> String {
            format!("docker container of {}", self.image)
        }
        fn log_tail(&self, lines: usize) -> Option<String> {
            let guard = self.container.lock().ok()?;
            let bytes = guard.as_ref()?.stderr_to_vec().ok()?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let all: Vec<&str> = text.lines().collect();
            Some(all[all.len().saturating_sub(lines)..].join("\n"))
        }
    }

    /// Starts a container of `image` (default [`DEFAULT_IMAGE`]).
    pub fn start(image: Option<&str>, label: &str) -> Result<Server> {
        let image = image.unwrap_or(DEFAULT_IMAGE).to_string();
        let fail = |why: String| {
            Error::with("Cannot start a PostgreSQL container:", why)
                .wrap_with("While starting the docker backend:", label)
        };
        super::daemon_answers().map_err(fail)?;
        let (name, tag) = split_image(&image);
        let request = GenericImage::new(name, tag)
            .with_exposed_port(5432.tcp())
            .with_wait_for(WaitFor::message_on_stdout(
                "PostgreSQL init process complete",
            ))
            .with_wait_for(WaitFor::message_on_stderr("ready to accept connections"))
            .with_env_var("POSTGRES_HOST_AUTH_METHOD", "trust")
            .with_cmd([
                "postgres",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ])
            .with_startup_timeout(Duration::from_secs(120));
        // The client may panic deep inside on odd environments; a panic is not an answer.
        let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| request.start()))
            .map_err(|_| fail("the Docker client panicked".into()))?
            .map_err(|e| fail(e.to_string()))?;
        let host = started
            .get_host()
            .map_err(|e| fail(e.to_string()))?
            .to_string();
        let port = started
            .get_host_port_ipv4(5432.tcp())
            .map_err(|e| fail(e.to_string()))?;
        let mut config = postgres::Config::new();
        config
            .host(&host)
            .port(port)
            .user("postgres")
            .dbname("postgres");
        let running = Arc::new(Running {
            image,
            container: Mutex::new(Some(started)),
        });
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
}
