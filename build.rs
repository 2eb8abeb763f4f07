//! Links the `tau` binary as a position-dependent executable on Linux: a
//! PIE's ~10,000 relative relocations are applied at every start, touching
//! pages that a short run never needs (see benches/README.md, start-up).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
