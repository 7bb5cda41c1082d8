//! Spare copies of the cache, made in the background after a start so that the
//! next start (in this or another process) takes one by a rename instead of a
//! copy: pg_tmp's trick. A spare is named `spare-<cache id>-<generation>-...` in
//! the work root; one of an older generation is stale and deleted. A copy in
//! progress lives in a locked stage directory, so a killed copier's leftovers go
//! to the sweep. A process keeps as many spares as it has had clusters running at
//! once (at most [`MAX_SPARES`]): a `--multicluster` run starts two clusters a
//! second apart, and with a single spare the second one copied the cache itself.

use super::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

fn prefix(cache: &Cache) -> String {
    format!("spare-{}-", cache.id())
}

/// Moves a current spare to `data`; false when there is none.
pub(super) fn claim(cache: &Cache, data: &Path) -> bool {
    let Ok(root) = cleanup::work_root() else {
        return false;
    };
    let current = format!("{}{}-", prefix(cache), cache.generation());
    for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&prefix(cache)) {
            // Another cache's spare: gone with its cache if nobody took it for a day.
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(24 * 3600));
            if name.starts_with("spare-") && (old || orphaned(&root, &name)) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
            continue;
        }
        if !name.starts_with(&current) {
            let _ = std::fs::remove_dir_all(entry.path());
            continue;
        }
        if std::fs::rename(entry.path(), data).is_ok() {
            if whole(data) {
                return true;
            }
            // A copy of a damaged cache: [`Cache::materialize`] rebuilds it.
            let _ = std::fs::remove_dir_all(data);
        }
    }
    false
}

/// `cache-<id>` in the work root names the cache a spare `spare-<id>-...` copies.
fn marker(root: &Path, id: &str) -> PathBuf {
    root.join(format!("cache-{id}"))
}

/// Whether the cache a spare was copied from is gone (a test's temporary cache).
fn orphaned(root: &Path, spare: &str) -> bool {
    let Some(id) = spare
        .strip_prefix("spare-")
        .and_then(|r| r.split('-').next())
    else {
        return false;
    };
    match std::fs::read_to_string(marker(root, id)) {
        Ok(path) if Path::new(path.trim()).is_dir() => false,
        Ok(_) => {
            let _ = std::fs::remove_file(marker(root, id));
            true
        }
        Err(_) => true,
    }
}

fn count(cache: &Cache, root: &Path) -> usize {
    let current = format!("{}{}-", prefix(cache), cache.generation());
    std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&current))
        .count()
}

static BUSY: AtomicBool = AtomicBool::new(false);

/// The most spares a process keeps for the next run.
pub const MAX_SPARES: usize = 2;

/// Clusters of this process running now, and the most that ever ran at once.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

pub(super) fn cluster_started() {
    let live = LIVE.fetch_add(1, Ordering::SeqCst) + 1;
    PEAK.fetch_max(live, Ordering::SeqCst);
}

pub(super) fn cluster_stopped() {
    let _ = LIVE.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
}

/// How many spares this process leaves: one per cluster it ran at once.
fn wanted() -> usize {
    PEAK.load(Ordering::SeqCst).clamp(1, MAX_SPARES)
}

/// Lets a spare being copied finish before the process exits (bounded): a
/// short run would otherwise use up the spare and never leave one behind.
pub fn wait_for_copy(limit: Duration) {
    let deadline = Instant::now() + limit;
    while BUSY.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Makes spares on a thread of their own until there are as many as [`wanted`],
/// unless a thread of this process is already at it.
pub(super) fn prepare_in_background(cache: &Cache, user: Option<RunAs>) {
    if std::env::var_os("HARNESS_PG_NO_SPARE").is_some() || BUSY.swap(true, Ordering::SeqCst) {
        return;
    }
    let cache = Cache {
        dir: cache.dir.clone(),
    };
    let spawned = std::thread::Builder::new()
        .name("harness-pg-spare".into())
        .spawn(move || loop {
            while let Ok(true) = prepare(&cache, user) {}
            BUSY.store(false, Ordering::SeqCst);
            // A cluster started while this thread was finishing may want one more;
            // with no cache to copy yet (a cold start) there is nothing to do.
            let short = cache.complete()
                && cleanup::work_root().is_ok_and(|root| count(&cache, &root) < wanted());
            if !short || BUSY.swap(true, Ordering::SeqCst) {
                break;
            }
        });
    if spawned.is_err() {
        BUSY.store(false, Ordering::SeqCst);
    }
}

/// Makes one spare unless there are enough; true when it made one.
fn prepare(cache: &Cache, user: Option<RunAs>) -> Result<bool> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let root = cleanup::work_root()?;
    if count(cache, &root) >= wanted() {
        return Ok(false);
    }
    let mark = marker(&root, &cache.id());
    if !mark.exists() {
        std::fs::write(&mark, cache.dir.to_string_lossy().as_bytes())?;
    }
    let stage = RunDir::create("stage")?;
    let data = stage.path.join("data");
    let generation = {
        let _shared = cache.lock(libc::LOCK_SH)?;
        if !cache.complete() {
            stage.remove();
            return Ok(false);
        }
        let mut cmd = Command::new("cp");
        cmd.args(["-a", "--sparse=always"])
            .arg(cache.data())
            .arg(&data);
        // SAFETY: prctl(2) between fork and exec. Not niced: a niced copy starved
        // on a busy machine and the exit waited for it.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                // A copy for a process that is gone is of no use to anyone.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
                Ok(())
            });
        }
        let copied = proc::run(cmd, "cp");
        if let Err(e) = copied {
            stage.remove();
            return Err(e);
        }
        cache.generation()
    };
    if let Some(u) = user {
        let meta = std::fs::metadata(&data)?;
        if meta.uid() != u.uid {
            proc::chown_tree(&data, user)?;
        }
    }
    let name = format!(
        "{}{generation}-{}-{}",
        prefix(cache),
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let renamed = std::fs::rename(&data, root.join(name));
    stage.remove();
    renamed.map_err(|e| io_error("Cannot store a spare cluster:", &data, e))?;
    Ok(true)
}
