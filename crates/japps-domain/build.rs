//! Records the git revision japps is built from (`JAPPS_REVISION`), for `japps --version`,
//! the status endpoint and the launcher's version check. Outside a git checkout (a source
//! archive) the builder may set `JAPPS_REVISION` itself; otherwise it is `unknown`.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=JAPPS_REVISION");
    let from_env = std::env::var("JAPPS_REVISION")
        .ok()
        .filter(|rev| !rev.trim().is_empty());
    let revision = from_env.unwrap_or_else(|| git_revision().unwrap_or_else(|| "unknown".into()));
    println!("cargo:rustc-env=JAPPS_REVISION={revision}");
}

fn git_revision() -> Option<String> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(&manifest)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let revision = git(&["rev-parse", "--short=12", "HEAD"])?;
    // Rebuild when HEAD moves: its file, and the branch it points to.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        let dir = Path::new(&manifest).join(dir);
        println!("cargo:rerun-if-changed={}", dir.join("HEAD").display());
        if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={}", dir.join(&reference).display());
        }
    }
    if let Some(common) = git(&["rev-parse", "--git-common-dir"]) {
        let common = Path::new(&manifest).join(common);
        println!(
            "cargo:rerun-if-changed={}",
            common.join("packed-refs").display()
        );
        if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!(
                "cargo:rerun-if-changed={}",
                common.join(reference).display()
            );
        }
    }
    Some(revision)
}
