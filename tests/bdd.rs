//! The executable specification of DMP: `tests/features/*.feature`, in Gherkin, run with the
//! `cucumber` crate. The steps drive the C ABI (`dmp::ffi`'s `extern "C"` functions, with raw
//! pointers and out-parameters, as a C caller would), so the scenarios specify what every
//! binding sees.
//!
//! A failed, skipped or undefined step fails the run (non-zero exit). Run one feature or
//! scenario with cucumber's own options: `cargo test --test bdd -- --name 'replayed'` or
//! `-- --input tests/features/groups.feature`.

#[path = "bdd/abi.rs"]
mod abi;
#[path = "bdd/agents.rs"]
mod agents;
#[path = "bdd/groups.rs"]
mod groups;
#[path = "bdd/pairwise.rs"]
mod pairwise;
#[path = "bdd/world.rs"]
mod world;

use cucumber::World as _;
use cucumber::cli::{self, Parser as _};
use cucumber::writer::Stats as _;

fn main() {
    let features = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/features");
    // `cargo test` hands every test binary its own arguments (a name filter, libtest flags):
    // cucumber takes only its own; with any other, every scenario runs.
    let opts = cli::Opts::<_, _, _, cli::Empty>::try_parse().unwrap_or_else(|e| {
        if !e.use_stderr() {
            e.exit(); // --help, --version
        }
        eprintln!("bdd: ignoring arguments that are not cucumber's; running every scenario");
        cli::Opts::default()
    });
    let writer = futures::executor::block_on(
        world::DmpWorld::cucumber()
            // Steps are synchronous calls into the library: one scenario at a time.
            .max_concurrent_scenarios(1)
            .fail_on_skipped()
            .with_cli(opts)
            .run(features),
    );
    // The scenario count as a plain closing line, which CI reads in any language.
    let scenarios = writer.scenarios_stats();
    println!("bdd: {} passed, {} failed", scenarios.passed, scenarios.failed + scenarios.skipped);
    if writer.execution_has_failed() {
        eprintln!(
            "bdd: {} failed or skipped steps, {} parsing errors, {} hook errors",
            writer.failed_steps(),
            writer.parsing_errors(),
            writer.hook_errors()
        );
        std::process::exit(1);
    }
    if writer.passed_steps() == 0 {
        eprintln!("bdd: no scenario ran");
        std::process::exit(1);
    }
}
