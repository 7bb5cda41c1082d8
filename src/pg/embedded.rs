//! The embedded backend: a private PostgreSQL cluster run from the machine's server
//! binaries, started in about a tenth of a second.
//!
//! Cache: `initdb` runs once per user and server version; the cache lives in
//! `<cache>/<version>/data` (`HARNESS_PG_CACHE`, else `$XDG_CACHE_HOME/harness/pg`,
//! else `~/.cache/harness/pg`); every start copies that directory into a private run
//! directory (`cp -a`: 50 ms for a fresh cluster on an idle disk, up to a second on
//! a busy one) under a shared `flock`; to keep that copy off the start, every start
//! leaves a spare copy in the background for the next one, which takes it by rename
//! (one per cluster the process ran at once, two at most: see [`spares`]; exit
//! waits up to 3 s for a copy in progress). A cold start runs `initdb` straight
//! into its run directory and does not write the cache then. Template databases
//! built by [`super::Server::ensure_template`] reach the cache when their cluster
//! stops ([`Cluster::stop`]), so that the next run starts with them deployed: every
//! database that is not a template is dropped, the server shuts down cleanly, the
//! recycled WAL goes and the data directory is renamed into the cache (copied when
//! the cache is on another file system) under the exclusive lock. That costs a
//! clean shutdown and a rename at the end of the run, where an online copy and a
//! second server to prune it would compete with the examples for the cores. A
//! cluster from a fresh initdb that built no template is stored the same way if the
//! cache is still empty. A run ended by a signal saves nothing. The cache keeps the
//! newest `HARNESS_PG_CACHE_TEMPLATES` (8) templates within
//! `HARNESS_PG_CACHE_MAX_MB` (512). Two runs saving at once: the last swap wins and
//! the loser's templates are rebuilt by a later run; it is a cache.
//! `harness cache clean` empties it.
//!
//! Runtime: the postmaster is started directly (not through `pg_ctl`) with
//! durability off, a unix socket in the run directory and a free port on 127.0.0.1,
//! in its own process group, with `PR_SET_PDEATHSIG` so it never outlives the
//! harness; readiness is read from `postmaster.pid`, as `pg_ctl -w` does, but
//! polled every few milliseconds. As root, the server and its tools run as the
//! `postgres` user (or `nobody`), which owns the directories it writes.

use super::bins::{self, Bins};
use super::cleanup::{self, io_error, Cleanup, RunDir};
use super::fnv1a;
use super::proc::{self, RunAs};
use crate::core::error::pg_text;
use crate::core::{Error, Result};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The superuser every embedded cluster is initialised with (trust authentication).
pub const SUPERUSER: &str = "postgres";

/// Databases kept when a cluster is saved back to the cache.
pub const TEMPLATE_PREFIX: &str = "harness_tpl_";

/// How many templates the cache keeps (the newest); `HARNESS_PG_CACHE_TEMPLATES`.
const CACHED_TEMPLATES: i64 = 8;

/// The templates' total size the cache keeps, in MB; `HARNESS_PG_CACHE_MAX_MB`.
const CACHE_MAX_MB: i64 = 512;

/// A positive whole number from the environment, else `default`.
fn cache_limit(var: &str, default: i64) -> i64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// A running embedded cluster. Dropping the last reference stops it and removes
/// its directory; so does process exit, a fatal signal, or the next run's sweep.
#[derive(Debug)]
pub struct Cluster {
    label: String,
    bins: Bins,
    user: Option<RunAs>,
    cache: Cache,
    run: RunDir,
    postmaster: Mutex<Option<Postmaster>>,
    port: u16,
    log: PathBuf,
    /// Started by a fresh initdb whose output is not in the cache yet.
    unsaved: AtomicBool,
    /// A template database was built in this cluster: the cache gets it at stop.
    templates_built: AtomicBool,
}

#[derive(Debug)]
struct Postmaster {
    child: Child,
}

impl Cluster {
    /// Finds the binaries, prepares a data directory from the cache (running
    /// `initdb` into it the first time) and starts the server. `label` names the
    /// cluster in messages (`primary`, `hosting`).
    pub fn start(label: &str) -> Result<Arc<Cluster>> {
        let _timing = crate::timings::span("cluster start");
        let started = Instant::now();
        let bins = bins::find()?;
        let user = proc::server_user()?;
        cleanup::sweep_stale();
        let cache = Cache::for_version(&bins.version)?;
        let run = RunDir::create("run")?;
        let data = run.path.join("data");
        let mut fresh = false;
        let result = cache.materialize(&bins, user, &data).and_then(|initdb| {
            fresh = initdb;
            launch(&bins, user, &run, &data, &[])
        });
        let (postmaster, port, log) = match result {
            Ok(ok) => ok,
            Err(e) => {
                run.remove();
                return Err(e.wrap_with("While starting an embedded PostgreSQL cluster:", label));
            }
        };
        let cluster = Arc::new(Cluster {
            label: label.to_string(),
            bins,
            user,
            cache,
            run,
            postmaster: Mutex::new(Some(postmaster)),
            port,
            log,
            unsaved: AtomicBool::new(fresh),
            templates_built: AtomicBool::new(false),
        });
        let as_cleanup: Arc<dyn Cleanup> = cluster.clone();
        cleanup::register(&as_cleanup);
        spares::cluster_started();
        spares::prepare_in_background(&cluster.cache, user);
        log::debug!(target: "harness.pg",
            "embedded {label} cluster on 127.0.0.1:{port} ready in {:?}", started.elapsed());
        Ok(cluster)
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn version(&self) -> &str {
        &self.bins.version
    }

    /// The private run directory (data directory, socket directory, log).
    pub fn dir(&self) -> &Path {
        &self.run.path
    }

    pub fn socket_dir(&self) -> PathBuf {
        self.run.path.join("sock")
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The process id of the postmaster, while it runs.
    pub fn pid(&self) -> Option<u32> {
        let guard = self.postmaster.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(|p| p.child.id())
    }

    /// Connection settings for the superuser over TCP.
    pub fn config(&self) -> postgres::Config {
        let mut config = postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(self.port)
            .user(SUPERUSER)
            .dbname("postgres")
            .connect_timeout(Duration::from_secs(10));
        config
    }

    /// Stops the server and removes its directory. A cluster that built templates,
    /// or came from a fresh initdb, is saved into the cache first (see the module
    /// doc), unless the process ends on a signal; otherwise its data is thrown away.
    pub fn stop(&self) {
        let taken = self
            .postmaster
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(mut pm) = taken {
            let fresh = self.unsaved.swap(false, Ordering::SeqCst);
            let built = self.templates_built.swap(false, Ordering::SeqCst);
            if (fresh || built) && !cleanup::signalled() {
                let _timing = crate::timings::span("template save to cache");
                if let Err(e) = self.save(&mut pm, built) {
                    log::warn!(target: "harness.pg", "{}", e.wrap("While saving the embedded cluster cache"));
                }
            }
            shutdown(&mut pm.child, libc::SIGQUIT);
            spares::cluster_stopped();
        }
        self.run.remove();
    }

    /// Records that a template database was built, for [`Cluster::stop`] to save.
    pub fn templates_changed(&self) {
        self.templates_built.store(true, Ordering::SeqCst);
    }

    /// Keeps only the templates, shuts the server down cleanly, drops recycled WAL
    /// and moves the data directory into the cache: replacing it when templates
    /// were built, else only filling an empty one.
    fn save(&self, pm: &mut Postmaster, built: bool) -> Result<()> {
        prune_to_templates(self.port)?;
        shutdown(&mut pm.child, libc::SIGINT);
        let data = self.run.path.join("data");
        let _ = std::fs::remove_file(data.join("postmaster.opts"));
        trim_wal(&self.bins, self.user, &data)?;
        if built {
            self.cache.replace(&data)
        } else {
            self.cache.store_if_empty(&data)
        }
    }

    /// The last `lines` lines of the server log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }
}

impl Cleanup for Cluster {
    fn cleanup(&self) {
        self.stop();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// After a clean shutdown only the WAL segment holding the last checkpoint is
/// needed; the others are recycled spares, 16 MB each, that every start copies.
fn trim_wal(bins: &Bins, user: Option<RunAs>, data: &Path) -> Result<()> {
    let mut cmd = proc::command(&bins.tool("pg_controldata"), user);
    cmd.arg("-D").arg(data);
    let out = proc::run(cmd, "pg_controldata")?;
    let keep = out.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == "Latest checkpoint's REDO WAL file").then(|| v.trim().to_string())
    });
    let clean = out
        .lines()
        .any(|l| l.starts_with("Database cluster state:") && l.trim_end().ends_with("shut down"));
    let (Some(keep), true) = (keep, clean) else {
        return Ok(());
    };
    let wal = data.join("pg_wal");
    for entry in std::fs::read_dir(&wal)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let segment = name.len() == 24 && name.bytes().all(|b| b.is_ascii_hexdigit());
        if segment && name != keep {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Drops every database but the templates and the system ones, then checkpoints.
fn prune_to_templates(port: u16) -> Result<()> {
    let mut client = postgres::Config::new()
        .host("127.0.0.1")
        .port(port)
        .user(SUPERUSER)
        .dbname("postgres")
        .connect(postgres::NoTls)
        .map_err(|e| Error::with("Failed to connect to the database server:", pg_text(&e)))?;
    // Everything but the templates goes, and templates beyond the newest few (by
    // oid, which grows with creation) so the cache stays small as deploys change.
    // Beyond the newest few, or past the size cap (the newest is always kept).
    let rows = client.query(
        "SELECT datname FROM ( \
           SELECT datname, left(datname, length($1)) = $1 AS is_template, \
                  row_number() OVER w AS newness, \
                  (sum(pg_catalog.pg_database_size(oid)) OVER w)::bigint AS upto \
           FROM pg_catalog.pg_database \
           WHERE datname NOT IN ('postgres', 'template0', 'template1') \
           WINDOW w AS (PARTITION BY left(datname, length($1)) = $1 ORDER BY oid DESC)) AS d \
         WHERE NOT is_template OR newness > $2 OR (newness > 1 AND upto > $3)",
        &[
            &TEMPLATE_PREFIX,
            &cache_limit("HARNESS_PG_CACHE_TEMPLATES", CACHED_TEMPLATES),
            &(cache_limit("HARNESS_PG_CACHE_MAX_MB", CACHE_MAX_MB) << 20),
        ],
    )?;
    for row in rows {
        let name = super::quote_ident(row.get(0));
        // A template refuses DROP until it is unmarked.
        client.batch_execute(&format!("ALTER DATABASE {name} WITH IS_TEMPLATE false"))?;
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    }
    client.batch_execute("CHECKPOINT")?;
    Ok(())
}

/// The per-user, per-version initdb cache.
#[derive(Debug)]
struct Cache {
    dir: PathBuf,
}

/// The root of the cluster cache (one directory per server version under it).
pub fn cache_root() -> Result<PathBuf> {
    Ok(match std::env::var_os("HARNESS_PG_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => match (std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME")) {
            (Some(xdg), _) if !xdg.is_empty() => PathBuf::from(xdg).join("harness/pg"),
            (_, Some(home)) if !home.is_empty() => PathBuf::from(home).join(".cache/harness/pg"),
            _ => cleanup::work_root()?.join("cache"),
        },
    })
}

/// `harness cache clean`: removes the cluster cache (initdb output and saved
/// templates) and its spare copies waiting in the work directory. Safe while other
/// runs start: each version is removed under its exclusive lock, and a spare is
/// renamed away before it is deleted (a start that claimed it first keeps it).
/// Running clusters are not touched (they run from copies). Returns what was removed.
pub fn clean_cache() -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let root = cache_root()?;
    if root.is_dir() {
        for entry in std::fs::read_dir(&root)?.flatten() {
            let cache = Cache { dir: entry.path() };
            if !cache.dir.is_dir() {
                continue;
            }
            let _exclusive = cache.lock(libc::LOCK_EX)?;
            std::fs::remove_dir_all(&cache.dir)
                .map_err(|e| io_error("Cannot remove:", &cache.dir, e))?;
        }
        std::fs::remove_dir_all(&root).map_err(|e| io_error("Cannot remove:", &root, e))?;
        removed.push(root.clone());
    }
    // Spares of this cache: the work root's `cache-<id>` file names the cache
    // directory whose spares are `spare-<id>-*`.
    let work = cleanup::work_root()?;
    let entries: Vec<_> = std::fs::read_dir(&work)?.flatten().collect();
    for marker in &entries {
        let name = marker.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_prefix("cache-") else {
            continue;
        };
        let named = std::fs::read_to_string(marker.path()).unwrap_or_default();
        if !Path::new(named.trim()).starts_with(&root) {
            continue;
        }
        let prefix = format!("spare-{id}-");
        for (n, spare) in entries.iter().enumerate() {
            if !spare.file_name().to_string_lossy().starts_with(&prefix) {
                continue;
            }
            let away = work.join(format!(".clean-{}-{n}", std::process::id()));
            if std::fs::rename(spare.path(), &away).is_ok() {
                let _ = std::fs::remove_dir_all(&away);
                removed.push(spare.path());
            }
        }
        if std::fs::remove_file(marker.path()).is_ok() {
            removed.push(marker.path());
        }
    }
    Ok(removed)
}

impl Cache {
    fn for_version(version: &str) -> Result<Cache> {
        let dir = cache_root()?.join(version);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| io_error("Cannot create the cluster cache:", &dir, e))?;
        Ok(Cache { dir })
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Whether the cached cluster looks whole.
    fn complete(&self) -> bool {
        whole(&self.data())
    }

    /// The version of the cached cluster's contents: bumped at every replacement, so
    /// spare copies of an older content are never used.
    fn generation(&self) -> u64 {
        std::fs::read_to_string(self.dir.join("generation"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    fn bump_generation(&self) -> Result<()> {
        let tmp = self.unique("generation");
        std::fs::write(&tmp, (self.generation() + 1).to_string())?;
        std::fs::rename(&tmp, self.dir.join("generation"))?;
        Ok(())
    }

    /// A path in the cache directory no other save uses: the process id and a
    /// counter, since one process may stop (and save) several clusters at once
    /// (`harness run -j`). Two saves sharing a staging name once nested one
    /// cluster's copy inside the other's and stored that as the cache.
    fn unique(&self, what: &str) -> PathBuf {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        self.dir.join(format!("{what}-{}-{n}", std::process::id()))
    }

    /// Removes what saves killed midway left: [`Cache::unique`] names whose process
    /// is gone, untouched for an hour (a process of another pid namespace sharing
    /// the cache looks gone while it copies).
    fn sweep_dead_saves(&self) {
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = ["data.new-", "data.old-", "generation-"]
                .iter()
                .find_map(|what| name.strip_prefix(what))
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<i32>().ok());
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(3600));
            if stale && pid.is_some_and(|pid| !proc::alive(pid)) {
                let _ = std::fs::remove_dir_all(entry.path())
                    .or_else(|_| std::fs::remove_file(entry.path()));
            }
        }
    }

    /// Distinguishes caches of one version in different places (HARNESS_PG_CACHE).
    fn id(&self) -> String {
        format!("{:016x}", fnv1a(self.dir.to_string_lossy().as_bytes()))
    }

    fn lock(&self, op: i32) -> Result<File> {
        let path = self.dir.join("lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_error("Cannot open the cache lock:", &path, e))?;
        if !cleanup::flock(&file, op) {
            return Err(Error::with(
                "Cannot lock the cluster cache:",
                path.display(),
            ));
        }
        Ok(file)
    }

    /// Fills `data` with a copy of the cached cluster, or runs initdb into it when
    /// the cache is empty (true then). The cached directory only ever appears by
    /// rename, so it is complete unless damaged since (by hand, or by a bug): then
    /// it is discarded and rebuilt rather than failing every start.
    fn materialize(&self, bins: &Bins, user: Option<RunAs>, data: &Path) -> Result<bool> {
        if spares::claim(self, data) {
            return Ok(false);
        }
        {
            let _shared = self.lock(libc::LOCK_SH)?;
            if self.complete() {
                return copy_tree(&self.data(), data, user).map(|()| false);
            }
        }
        let exclusive = self.lock(libc::LOCK_EX)?;
        if self.complete() {
            return copy_tree(&self.data(), data, user).map(|()| false);
        }
        if let Some(damaged) = self.set_aside()? {
            log::warn!(target: "harness.pg", "discarding a damaged cluster cache: {}", self.data().display());
            self.bump_generation()?;
            let _ = std::fs::remove_dir_all(&damaged);
        }
        // initdb straight into this cluster's directory; the cache is filled later,
        // off the critical path: by the first template save, or at stop (see
        // [`Cluster::stop`]) when the run saved none. Other starters meanwhile run
        // their own initdb rather than wait.
        drop(exclusive);
        initdb(bins, user, data)?;
        Ok(true)
    }

    /// Stores a cleanly shut down cluster as the cache, unless one appeared.
    fn store_if_empty(&self, data: &Path) -> Result<()> {
        let _exclusive = self.lock(libc::LOCK_EX)?;
        if self.complete() {
            return Ok(());
        }
        let staged = self.unique("data.new");
        move_tree(data, &staged)?;
        self.swap_in(&staged)
    }

    /// Swaps `data` (a cleanly shut down cluster) in as the cached cluster.
    fn replace(&self, data: &Path) -> Result<()> {
        let staged = self.unique("data.new");
        move_tree(data, &staged)?;
        let _exclusive = self.lock(libc::LOCK_EX)?;
        self.swap_in(&staged)
    }

    /// Renames `staged` to the cached cluster, the old one (if any) out of the way
    /// first. Under the exclusive lock.
    fn swap_in(&self, staged: &Path) -> Result<()> {
        self.sweep_dead_saves();
        let old = self.set_aside()?;
        std::fs::rename(staged, self.data())
            .map_err(|e| io_error("Cannot store the cluster cache:", staged, e))?;
        self.bump_generation()?;
        if let Some(old) = old {
            let _ = std::fs::remove_dir_all(old);
        }
        Ok(())
    }

    /// Renames the cached cluster, if any, out of the way (under the exclusive
    /// lock); the caller removes what it returns when done.
    fn set_aside(&self) -> Result<Option<PathBuf>> {
        if !self.data().exists() {
            return Ok(None);
        }
        let away = self.unique("data.old");
        std::fs::rename(self.data(), &away)
            .map_err(|e| io_error("Cannot replace the cluster cache:", &away, e))?;
        Ok(Some(away))
    }
}

/// Whether a cluster directory looks whole: its control file is where the server
/// reads it (a damaged cache, or a spare copied from one, lacks it).
fn whole(data: &Path) -> bool {
    data.join("global/pg_control").is_file()
}

/// Moves `from` to `to` (replacing a leftover `to`): a rename, or a copy when
/// they are on different file systems.
fn move_tree(from: &Path, to: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(to);
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    copy_tree(from, to, None).inspect_err(|_| {
        let _ = std::fs::remove_dir_all(to);
    })
}

/// `cp -a`: keeps modes and owners (the server insists on both); sparse, because
/// most of a WAL segment is zeros that need not be written.
fn copy_tree(from: &Path, to: &Path, user: Option<RunAs>) -> Result<()> {
    let mut cmd = Command::new("cp");
    cmd.args(["-a", "--sparse=always"]).arg(from).arg(to);
    proc::run(cmd, "cp")?;
    if let Some(u) = user {
        let meta = std::fs::metadata(to).map_err(|e| io_error("Cannot read:", to, e))?;
        if meta.uid() != u.uid {
            proc::chown_tree(to, user)?;
        }
    }
    Ok(())
}

fn make_private_dir(path: &Path, user: Option<RunAs>) -> Result<()> {
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .map_err(|e| io_error("Cannot create:", path, e))?;
    proc::chown_tree(path, user)
}

fn initdb(bins: &Bins, user: Option<RunAs>, data: &Path) -> Result<()> {
    make_private_dir(data, user)?;
    let attempt = |locale: &[&str]| {
        let mut cmd = proc::command(&bins.tool("initdb"), user);
        cmd.arg("-D")
            .arg(data)
            .args(["-N", "-A", "trust", "-U", SUPERUSER, "-E", "UTF8"])
            .args(locale);
        proc::run(cmd, "initdb")
    };
    // C.UTF-8 matches Debian's default clusters; not every system has that locale.
    if attempt(&["--locale=C.UTF-8"]).is_ok() {
        return Ok(());
    }
    for entry in std::fs::read_dir(data)?.flatten() {
        let _ =
            std::fs::remove_dir_all(entry.path()).or_else(|_| std::fs::remove_file(entry.path()));
    }
    attempt(&["--no-locale"]).map(|_| ())
}

/// A port nobody listens on now. Another process may take it before the server
/// binds it; [`launch`] then retries with another.
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Starts a postmaster on `data`, returns it once it accepts connections.
fn launch(
    bins: &Bins,
    user: Option<RunAs>,
    run: &RunDir,
    data: &Path,
    extra: &[(&str, &str)],
) -> Result<(Postmaster, u16, PathBuf)> {
    let sock = run.path.join("sock");
    if !sock.is_dir() {
        make_private_dir(&sock, user)?;
    }
    let log = run.path.join("server.log");
    let mut last = None;
    for _attempt in 0..5 {
        let port = free_port()?;
        let logfile = File::create(&log).map_err(|e| io_error("Cannot create:", &log, e))?;
        let mut cmd = proc::command(&bins.tool("postgres"), user);
        cmd.arg("-D")
            .arg(data)
            .arg("-p")
            .arg(port.to_string())
            .arg("-k")
            .arg(&sock)
            .args(["-h", "127.0.0.1"]);
        for (k, v) in [
            ("fsync", "off"),
            ("synchronous_commit", "off"),
            ("full_page_writes", "off"),
            ("autovacuum", "off"),
            ("max_connections", "200"),
            ("logging_collector", "off"),
        ]
        .iter()
        .chain(extra)
        {
            cmd.arg("-c").arg(format!("{k}={v}"));
        }
        cmd.stdin(Stdio::null())
            .stdout(logfile.try_clone()?)
            .stderr(logfile);
        let child = proc::spawn_postmaster(cmd)?;
        let mut pm = Postmaster { child };
        match wait_ready(&mut pm.child, data) {
            Ok(()) => return Ok((pm, port, log)),
            Err(e) => {
                shutdown(&mut pm.child, libc::SIGQUIT);
                let text = tail(&log, 30);
                let port_taken = text.contains("could not bind") || text.contains("already in use");
                last = Some(failed_start(e, &log, &text));
                if !port_taken {
                    break;
                }
            }
        }
    }
    Err(last.unwrap_or_else(|| Error::new("Cannot start the PostgreSQL server")))
}

/// Keeps the log of a failed start next to the run directories and says where.
fn failed_start(e: Error, log: &Path, text: &str) -> Error {
    let kept = cleanup::work_root()
        .map(|root| {
            root.join(format!(
                "failed-{}-{}.log",
                std::process::id(),
                chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f")
            ))
        })
        .ok()
        .filter(|dest| std::fs::copy(log, dest).is_ok())
        .unwrap_or_else(|| log.to_path_buf());
    e.wrap_with(
        "Server log:",
        format!("{}\n(full log: {})", text.trim_end(), kept.display()),
    )
}

/// Waits for line 8 of `postmaster.pid` to say `ready` (the postmaster writes it
/// when it accepts connections), or for the server to die.
fn wait_ready(child: &mut Child, data: &Path) -> Result<()> {
    let pidfile = data.join("postmaster.pid");
    let started = Instant::now();
    let timeout = Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Error::with(
                "The PostgreSQL server exited during start-up:",
                status,
            ));
        }
        if let Ok(text) = std::fs::read_to_string(&pidfile) {
            let pid_matches = text.lines().next().map(str::trim) == Some(&child.id().to_string());
            if pid_matches && text.lines().nth(7).map(str::trim) == Some("ready") {
                return Ok(());
            }
        }
        if started.elapsed() > timeout {
            return Err(Error::with(
                "The PostgreSQL server did not become ready in time:",
                format!("{timeout:?}"),
            ));
        }
        let pause = if started.elapsed() < Duration::from_millis(500) {
            2
        } else {
            20
        };
        std::thread::sleep(Duration::from_millis(pause));
    }
}

/// Signals the postmaster and reaps it; SIGKILL after a grace period.
fn shutdown(child: &mut Child, sig: i32) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    proc::signal(child.id() as i32, sig);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The last `lines` lines of a file (empty when unreadable).
pub fn tail(path: &Path, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_string(&mut text);
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub mod spares;

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory shaped like a cluster (its control file and a few thousand
    /// files), so that copying it takes long enough for two saves to overlap.
    fn fake_cluster(parent: &Path, tag: &str) -> PathBuf {
        let data = parent.join(tag).join("data");
        std::fs::create_dir_all(data.join("global")).unwrap();
        std::fs::write(data.join("global/pg_control"), tag).unwrap();
        for d in 0..20 {
            let dir = data.join(format!("base/{d}"));
            std::fs::create_dir_all(&dir).unwrap();
            for f in 0..100 {
                std::fs::write(dir.join(f.to_string()), [0u8; 64]).unwrap();
            }
        }
        data
    }

    /// Two clusters of one process (`harness run -j 2`) stopping together both save
    /// to the cache; the cache must end up as one of them, whole.
    #[test]
    fn saves_at_once_leave_one_whole_cluster() {
        // The run directory lives in /dev/shm, the cache on disk: saves copy.
        let runs =
            tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap());
        let disk = tempfile::tempdir().unwrap();
        let cache = Cache {
            dir: disk.path().to_path_buf(),
        };
        for round in 0..4 {
            let a = fake_cluster(runs.path(), &format!("a{round}"));
            let b = fake_cluster(runs.path(), &format!("b{round}"));
            std::thread::scope(|s| {
                s.spawn(|| cache.replace(&a).unwrap());
                s.spawn(|| cache.replace(&b).unwrap());
            });
            assert!(cache.complete(), "round {round}");
            assert!(!cache.data().join("data").exists(), "round {round}: nested");
            let control = std::fs::read_to_string(cache.data().join("global/pg_control")).unwrap();
            assert!([format!("a{round}"), format!("b{round}")].contains(&control));
            let mut left: Vec<String> = std::fs::read_dir(&cache.dir)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            left.sort();
            assert_eq!(left, ["data", "generation", "lock"], "round {round}");
        }
    }
    /// What a killed save left goes at the next save, once it is an hour old and
    /// its process is gone; a recent one may belong to a copy still running.
    #[test]
    fn the_leftovers_of_killed_saves_are_swept() {
        let disk = tempfile::tempdir().unwrap();
        let cache = Cache {
            dir: disk.path().to_path_buf(),
        };
        let gone = i32::MAX - 1;
        let old = cache.dir.join(format!("data.new-{gone}-0"));
        let recent = cache.dir.join(format!("data.old-{gone}-1"));
        let ours = cache.unique("data.new");
        for dir in [&old, &recent, &ours] {
            std::fs::create_dir_all(dir.join("base")).unwrap();
        }
        let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
        for dir in [&old, &ours] {
            std::fs::File::open(dir)
                .and_then(|d| d.set_modified(two_hours_ago))
                .unwrap();
        }
        cache.sweep_dead_saves();
        assert!(!old.exists());
        assert!(recent.exists() && ours.exists());
    }
}
