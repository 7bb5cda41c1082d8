//! `harness cache clean`: empty the embedded clusters' cache.

/// `harness cache`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: CacheCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum CacheCommand {
    /// Remove the cached cluster (initdb output and saved application templates)
    /// and the spare copies; the next run rebuilds what it needs.
    #[command(
        after_help = "The cache is $HARNESS_PG_CACHE, else $XDG_CACHE_HOME/harness/pg, else\n\
~/.cache/harness/pg. It keeps the newest $HARNESS_PG_CACHE_TEMPLATES templates\n\
(default 8) within $HARNESS_PG_CACHE_MAX_MB MB (default 512).\n\nExample:\n  harness cache clean"
    )]
    Clean,
}

/// Runs `harness cache ...`; returns the exit code.
pub fn run(args: Args) -> i32 {
    match args.command {
        CacheCommand::Clean => match crate::pg::embedded::clean_cache() {
            Ok(removed) => {
                for path in &removed {
                    println!("removed {}", path.display());
                }
                if removed.is_empty() {
                    println!("the cache is empty");
                }
                0
            }
            Err(e) => {
                eprintln!("harness cache clean: {e}");
                1
            }
        },
    }
}
