//! `support-plans`: see `support-plans --help` (SPEC §12).

fn main() {
    eprintln!("support-plans: not yet built (issue 16)");
    std::process::exit(1);
}
