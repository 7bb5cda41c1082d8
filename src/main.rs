//! The `harness` command line. Parsing and dispatch only; each subcommand lives in
//! `cli/`.

fn main() {
    std::process::exit(0);
}
