//! `harness pg ...`: PostgreSQL for people. `harness pg up` starts a throwaway
//! server (embedded cluster by default), prints its connection URL and keeps it
//! until Ctrl-C (or SIGTERM), then removes it.
//!
//! [`PgOptions`] holds the server flags every subcommand that needs a database
//! shares (`run`, `worker`): flatten it into their `Args` with
//! `#[command(flatten)]` and turn it into a [`Clusters`] with
//! [`PgOptions::clusters`].

use crate::pg::{cleanup, BackendKind, Clusters, Options, Server};

/// Where the harness gets PostgreSQL from.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct PgOptions {
    /// embedded (default: a private cluster from the local PostgreSQL binaries),
    /// url (an existing server), or docker (a container; needs the `docker` build feature).
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,
    /// An existing server to use (default: HARNESS_PG_URL, then DATABASE_URL).
    /// The harness creates and drops only databases named `harness_...` there.
    #[arg(long, value_name = "URL")]
    pub pg_url: Option<String>,
    /// The image for --backend docker [default: postgres:16-alpine].
    #[arg(long, value_name = "NAME[:TAG]")]
    pub image: Option<String>,
    /// Also start a second (hosting) cluster, reachable as `pgsql://:5433/<db>`.
    #[arg(long)]
    pub multicluster: bool,
}

impl PgOptions {
    pub fn options(&self) -> Options {
        Options {
            backend: self.backend,
            pg_url: self.pg_url.clone(),
            image: self.image.clone(),
            multicluster: self.multicluster,
        }
    }

    /// The lazily started servers these flags describe.
    pub fn clusters(&self) -> Clusters {
        Clusters::new(self.options())
    }
}

/// `harness pg`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: PgCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum PgCommand {
    /// Start a throwaway PostgreSQL, print its URL, keep it until Ctrl-C.
    #[command(
        long_about = "Start a throwaway PostgreSQL (embedded cluster by default), print its URL\n\
(and the hosting cluster's with --multicluster), keep it until Ctrl-C or SIGTERM,\n\
then remove it. Give the URL to the other commands with --pg-url.",
        after_help = "Example:\n  harness pg up\n  # in another shell, with the URL it printed:\n  harness create empty --owner me --pg-url postgresql://postgres@127.0.0.1:PORT/harness_up_PID"
    )]
    Up(UpArgs),
}

#[derive(clap::Args, Debug)]
pub struct UpArgs {
    #[command(flatten)]
    pub pg: PgOptions,
}

/// Runs `harness pg ...`; returns the exit code.
pub fn run(args: Args) -> i32 {
    match args.command {
        PgCommand::Up(up) => run_up(&up),
    }
}

fn run_up(up: &UpArgs) -> i32 {
    // Ctrl-C must reach us (not kill us) so that we stop the servers in order.
    cleanup::take_signals();
    let clusters = up.pg.clusters();
    let throwaway = format!("harness_up_{}", std::process::id());
    let result = (|| {
        let primary = clusters.primary()?;
        // On a server we do not own, "throwaway" means a database of our own.
        let dbname = if primary.backing().is_some() {
            // The cached cluster holds other suites' templates: not for this user.
            drop_templates(&primary)?;
            "postgres".to_string()
        } else {
            primary.create_database(&throwaway, None)?;
            throwaway.clone()
        };
        let hosting = if up.pg.multicluster {
            Some(clusters.hosting()?)
        } else {
            None
        };
        Ok::<_, crate::core::Error>((primary, dbname, hosting))
    })();
    let (primary, dbname, hosting) = match result {
        Ok(ok) => ok,
        Err(e) => {
            eprintln!("harness pg up: {e}");
            eprint!("{}", clusters.log_tails(30));
            return 1;
        }
    };
    println!("{}", primary.url(&dbname));
    if let Some(hosting) = &hosting {
        println!("{}", hosting.url("postgres"));
    }
    describe("primary", &primary);
    if let Some(hosting) = &hosting {
        describe("hosting (pgsql://:5433/...)", hosting);
    }
    eprintln!("harness pg up: press Ctrl-C to stop and remove it");
    let sig = cleanup::wait_for_signal();
    if primary.backing().is_none() {
        if let Err(e) = primary.drop_database(&throwaway) {
            eprintln!("harness pg up: {e}");
        }
    }
    drop((primary, hosting));
    clusters.shutdown();
    eprintln!("harness pg up: stopped (signal {sig})");
    0
}

/// Drops the harness templates a server started from the cache came with.
fn drop_templates(server: &Server) -> crate::core::Result<()> {
    let rows = server.connect("postgres")?.query(
        "SELECT datname FROM pg_catalog.pg_database WHERE datname LIKE 'harness\\_%'",
        &[],
    )?;
    for row in rows {
        server.drop_template(row.get(0))?;
    }
    Ok(())
}

fn describe(role: &str, server: &Server) {
    let what = server
        .backing()
        .map(|b| b.describe())
        .unwrap_or_else(|| "existing server".into());
    let log = server
        .log_path()
        .map(|p| format!("; log: {}", p.display()))
        .unwrap_or_default();
    eprintln!("harness pg up: {role}: {what}{log}");
}
